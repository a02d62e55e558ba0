/* fields.c — fixed output fields and key numbering (include/plm/fields.h). */
#include "plm/fields.h"

#include <stdio.h>
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

#define LIST_MAX 300    /* bytes of field names in a message */

static int vnofield(char *err, size_t errlen, const plm_schema *s,
		    const char *fmt, va_list ap)
{
	int n = vsnprintf(err, errlen, fmt, ap);
	size_t len = n < 0 ? 0 : (size_t)n, start;
	if (len >= errlen)
		return -1;
	if (!s->n) {
		snprintf(err + len, errlen - len, " (no fields)");
		return -1;
	}
	n = snprintf(err + len, errlen - len, " (fields: ");
	start = len = len + (size_t)(n < 0 ? 0 : n);
	for (size_t i = 0; i < s->n && len < errlen; i++) {
		if (len - start > LIST_MAX) {
			n = snprintf(err + len, errlen - len, ", ...");
			len += (size_t)(n < 0 ? 0 : n);
			break;
		}
		n = snprintf(err + len, errlen - len, "%s%s", i ? ", " : "",
			     s->f[i].name);
		len += (size_t)(n < 0 ? 0 : n);
	}
	if (len < errlen)
		snprintf(err + len, errlen - len, ")");
	return -1;
}

int plm_nofield(char *err, size_t errlen, const plm_schema *s,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnofield(err, errlen, s, fmt, ap);
	va_end(ap);
	return -1;
}

void plm_die_nofield(const plm_schema *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vnofield(msg, sizeof msg, s, fmt, ap);
	va_end(ap);
	plm_die("%s", msg);
}
