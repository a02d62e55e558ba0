/* fields.c — fixed output fields and key numbering (include/plm/fields.h). */
#include "plm/fields.h"

#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"

int plm_schema_fields(plm_schema *out, const plm_schema *in,
		      const plm_fieldspec *spec, size_t n, int has_seed,
		      uint64_t seed)
{
	plm_schema_init(out);
	if (in && in->meta_len) {
		if (!(out->meta = malloc(in->meta_len)))
			return -1;
		memcpy(out->meta, in->meta, in->meta_len);
		out->meta_len = in->meta_len;
	}
	for (size_t i = 0; i < n; i++)
		if (plm_schema_add(out, spec[i].name, spec[i].type,
				   spec[i].dim) < 0)
			goto fail;
	if (plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), has_seed, seed))
		goto fail;
	return 0;
fail:
	plm_schema_free(out);
	return -1;
}

long plm_intern(plm_strmap *m, const void *k, size_t n, int *added)
{
	int a;
	uint64_t *v = plm_strmap_put(m, k, n, &a);
	if (!v)
		return -1;
	if (a)
		*v = plm_strmap_size(m) - 1;
	if (added)
		*added = a;
	return (long)*v;
}
