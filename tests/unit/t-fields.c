/* t-fields.c — fixed output fields and key numbering (plm/fields.h). */
#include <string.h>

#include "tap.h"
#include "plm/cli.h"
#include "plm/fields.h"

static const plm_fieldspec cols[] = {
	{ "a", PLM_T_STR, 0 },
	{ "sim", PLM_T_FLOAT, 0 },
	{ "emb", PLM_T_F32, 4 },
};

static void test_fields(void)
{
	plm_schema in, out, want;
	plm_schema_init(&in);
	plm_schema_add(&in, "id", PLM_T_STR, 0);
	plm_schema_add_prov(&in, "up", "1", 0, NULL, 0, 0);

	ok(plm_schema_fields(&out, &in, cols, 3, 1, 7) == 0, "fields made");
	is_int(out.n, 3, "three fields, not the input's");
	is_str(out.f[0].name, "a", "first field");
	ok(out.f[2].type == PLM_T_F32 && out.f[2].dim == 4, "type and dim");
	/* the same meta as deriving from the input: its prov, then ours */
	plm_schema_derive(&want, &in, 1, 7);
	ok(out.meta_len == want.meta_len &&
	   !memcmp(out.meta, want.meta, out.meta_len),
	   "meta: the input's prov goes on, this tool's entry appended");
	plm_schema_free(&want);
	plm_schema_free(&out);

	ok(plm_schema_fields(&out, NULL, cols, 1, 0, 0) == 0, "no input");
	is_int(out.n, 1, "one field");
	ok(out.meta_len > 0, "prov entry alone");
	plm_schema_free(&out);
	plm_schema_free(&in);
}

static void test_intern(void)
{
	plm_strmap *m = plm_strmap_new();
	int added = -1;
	is_int(plm_intern(m, "train", 5, &added), 0, "first key is 0");
	is_int(added, 1, "new");
	is_int(plm_intern(m, "test", 4, &added), 1, "second key is 1");
	is_int(plm_intern(m, "train", 5, &added), 0, "again: the same number");
	is_int(added, 0, "not new");
	is_int(plm_intern(m, "", 0, NULL), 2, "the empty key, added NULL");
	size_t n;
	const char *k = plm_strmap_key(m, 1, &n);
	ok(n == 4 && !memcmp(k, "test", 4), "number 1 names 'test'");
	plm_strmap_free(m);
}

int main(int argc, char **argv)
{
	plm_init("t-fields", argc, argv);
	test_fields();
	test_intern();
	return done_testing();
}
