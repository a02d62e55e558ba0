/* Unit tests for lib/h128set.c: membership, payloads, the zero key, and
 * the memory bound map.h promises (32 bytes per key plus a constant). */
#include <stdlib.h>

#include "plm/h128set.h"
#include "plm/rng.h"
#include "tap.h"

/* The constant of the bound: 256 tables at their minimum size plus the
 * struct; generous so the test checks the per-key slope, not noise. */
#define CONST_BYTES ((size_t)128 << 10)

static plm_h128 rand_key(plm_rng *r)
{
	plm_h128 h = { plm_rng_next(r), plm_rng_next(r) };
	return h;
}

static void test_basic(void)
{
	plm_h128set *s = plm_h128set_new(0);
	uint32_t *v;
	plm_h128 a = plm_seq_hash("MKV", 3), b = plm_seq_hash("MKL", 3);
	ok(s != NULL, "new");
	is_int(plm_h128set_size(s), 0, "empty");
	ok(plm_h128set_get(s, a) == NULL, "absent in empty set");
	is_int(plm_h128set_add(s, a, &v), 1, "add new");
	is_int(*v, 0, "new payload is 0");
	*v = 7;
	is_int(plm_h128set_add(s, a, &v), 0, "add again: present");
	is_int(*v, 7, "payload kept");
	ok(plm_h128set_get(s, b) == NULL, "other key absent");
	is_int(plm_h128set_add(s, b, NULL), 1, "add second, no payload pointer");
	is_int(plm_h128set_size(s), 2, "size 2");

	/* The all-zero key is the empty-slot marker inside the tables: it
	 * must still behave as an ordinary key. */
	plm_h128 z = { 0, 0 };
	ok(plm_h128set_get(s, z) == NULL, "zero key absent");
	is_int(plm_h128set_add(s, z, &v), 1, "zero key added");
	*v = 42;
	is_int(plm_h128set_add(s, z, &v), 0, "zero key present");
	ok(plm_h128set_get(s, z) && *plm_h128set_get(s, z) == 42, "zero key payload");
	is_int(plm_h128set_size(s), 3, "size 3");
	/* Keys differing only in hi or only in lo are distinct. */
	plm_h128 h1 = { 1, 0 }, h2 = { 0, 1 };
	is_int(plm_h128set_add(s, h1, NULL), 1, "{1,0} added");
	is_int(plm_h128set_add(s, h2, NULL), 1, "{0,1} added");
	is_int(plm_h128set_size(s), 5, "size 5");
	plm_h128set_free(s);
	plm_h128set_free(NULL);
}

static void test_many(size_t n, size_t expect)
{
	plm_h128set *s = plm_h128set_new(expect);
	plm_rng r;
	plm_rng_seed(&r, 1);
	int add_ok = 1, bound_ok = 1;
	size_t worst_n = 0;
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t *v;
		add_ok &= plm_h128set_add(s, rand_key(&r), &v) == 1;
		*v = (uint32_t)i;
		/* Check the bound after every insert beyond the constant's
		 * reach (cheap: bytes is a sum over 256 tables). */
		if (!expect && i >= 4096 && (i & 1023) == 0) {
			size_t b = plm_h128set_bytes(s);
			double per = (double)b / (i + 1);
			if (per > worst) {
				worst = per;
				worst_n = i + 1;
			}
			bound_ok &= b <= 32 * (i + 1) + CONST_BYTES;
		}
	}
	ok(add_ok, "%zu distinct keys added (expect %zu)", n, expect);
	is_int(plm_h128set_size(s), n, "size %zu", n);
	bound_ok &= plm_h128set_bytes(s) <= 32 * n + CONST_BYTES;
	ok(bound_ok, "bytes <= 32 per key + %zu (worst with constant %.2f at %zu)",
	   CONST_BYTES, worst, worst_n);
	diag("%zu keys: %zu bytes, %.2f per key", n, plm_h128set_bytes(s),
	     (double)plm_h128set_bytes(s) / n);

	plm_rng_seed(&r, 1);
	int found = 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t *v = plm_h128set_get(s, rand_key(&r));
		found &= v && *v == (uint32_t)i;
	}
	ok(found, "every key found with its payload");
	int dup = 1;
	plm_rng_seed(&r, 1);
	for (size_t i = 0; i < n; i += 7)
		dup &= plm_h128set_add(s, rand_key(&r), NULL) == 0;
	ok(dup, "re-adding reports present");
	plm_rng_seed(&r, 2);
	int absent = 1;
	for (size_t i = 0; i < n; i++)
		absent &= plm_h128set_get(s, rand_key(&r)) == NULL;
	ok(absent, "other keys absent");
	is_int(plm_h128set_size(s), n, "size unchanged");
	plm_h128set_free(s);
}

int main(void)
{
	test_basic();
	test_many(1000, 0);
	test_many(300000, 0);
	test_many(2000000, 0);
	test_many(300000, 300000);
	return done_testing();
}
