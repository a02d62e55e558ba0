/* sample.c — reservoirs and quota tables (see sample.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/fields.h"
#include "plm/sample.h"

int plm_reservoir_init(plm_reservoir *rs, const plm_schema *s, uint64_t k)
{
	memset(rs, 0, sizeof *rs);
	rs->k = k;
	return plm_rows_init(&rs->rows, s);
}

void plm_reservoir_free(plm_reservoir *rs)
{
	plm_rows_free(&rs->rows);
	free(rs->pos);
	memset(rs, 0, sizeof *rs);
}

int plm_reservoir_offer(plm_reservoir *rs, plm_rng *rng, const plm_val *row,
			uint64_t pos)
{
	uint64_t i = rs->seen++;
	if (i < rs->k) {
		long slot = plm_rows_add(&rs->rows, row);
		if (slot < 0)
			return -1;
		/* pos grows alongside rows (same capacity). */
		if (rs->pos_cap < rs->rows.cap) {
			uint64_t *p = realloc(rs->pos, rs->rows.cap * sizeof *p);
			if (!p)
				return -1;
			rs->pos = p;
			rs->pos_cap = rs->rows.cap;
		}
		rs->pos[slot] = pos;
		return 0;
	}
	uint64_t j = plm_rng_below(rng, i + 1);
	if (j >= rs->k)
		return 0;
	if (plm_rows_set(&rs->rows, j, row))
		return -1;
	rs->pos[j] = pos;
	return 0;
}

static int pick_cmp(const void *a, const void *b)
{
	const plm_pick *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

int plm_reservoir_order(const plm_reservoir *rs, size_t nres, plm_pick **out,
			size_t *n)
{
	size_t total = 0;
	for (size_t r = 0; r < nres; r++)
		total += rs[r].rows.n;
	plm_pick *p = malloc((total ? total : 1) * sizeof *p);
	if (!p)
		return -1;
	size_t m = 0;
	for (size_t r = 0; r < nres; r++)
		for (size_t s = 0; s < rs[r].rows.n; s++) {
			p[m].pos = rs[r].pos[s];
			p[m].res = (uint32_t)r;
			p[m].slot = (uint32_t)s;
			m++;
		}
	qsort(p, m, sizeof *p, pick_cmp);
	*out = p;
	*n = m;
	return 0;
}

/* ---- quota tables ----------------------------------------------------- */

void plm_quota_free(plm_quota *q)
{
	for (size_t i = 0; i < q->nf; i++)
		free(q->name[i]);
	free(q->name);
	free(q->type);
	plm_strmap_free(q->map);
	free(q->quota);
	memset(q, 0, sizeof *q);
}

/* Stratum fields = every field but "quota"; idx[] their indices. */
static int quota_fields(plm_quota *q, const plm_schema *s, const char *path,
			int *qi, int *idx, char *err, size_t errlen)
{
	*qi = plm_schema_find(s, "quota");
	if (*qi < 0 || s->f[*qi].type != PLM_T_INT) {
		snprintf(err, errlen, "%s: %s", path, *qi < 0 ?
			 "no 'quota' field (want stratum fields + quota:int)" :
			 "field 'quota' must be int");
		return -1;
	}
	if (s->n < 2) {
		snprintf(err, errlen, "%s: no stratum fields besides 'quota'",
			 path);
		return -1;
	}
	q->name = calloc(s->n, sizeof *q->name);
	q->type = calloc(s->n, sizeof *q->type);
	if (!q->name || !q->type)
		goto oom;
	for (size_t i = 0; i < s->n; i++) {
		if ((int)i == *qi)
			continue;
		char tn[64];
		if (!plm_key_type_ok(s->f[i].type)) {
			snprintf(err, errlen, "%s: stratum field '%s' is %s; "
				 "strata are str, int or bool fields", path,
				 s->f[i].name, plm_type_name(s->f[i].type,
				 s->f[i].dim, tn, sizeof tn));
			return -1;
		}
		if (!(q->name[q->nf] = strdup(s->f[i].name)))
			goto oom;
		q->type[q->nf] = s->f[i].type;
		idx[q->nf++] = (int)i;
	}
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

static int quota_row(plm_quota *q, const plm_val *row, int qi, const int *idx,
		     plm_keybuf *kb, const char *path, uint64_t recno,
		     char *err, size_t errlen)
{
	char lab[256];
	if (row[qi].nil || row[qi].i < 0) {
		snprintf(err, errlen, "%s: record %" PRIu64 ": quota %s", path,
			 recno, row[qi].nil ? "is missing" : "is negative");
		return -1;
	}
	plm_key_reset(kb);
	for (size_t j = 0; j < q->nf; j++)
		if (plm_key_add(kb, &row[idx[j]], q->type[j]))
			goto oom;
	int added;
	uint64_t *slot = plm_strmap_put(q->map, kb->p, kb->n, &added);
	if (!slot)
		goto oom;
	if (!added) {
		snprintf(err, errlen, "%s: record %" PRIu64 ": stratum %s is "
			 "listed twice (first at record %" PRIu64 ")", path,
			 recno, plm_quota_label(q, *slot, lab, sizeof lab),
			 *slot + 1);
		return -1;
	}
	*slot = q->n;
	if (q->n % 64 == 0) {
		uint64_t *p = realloc(q->quota, (q->n + 64) * sizeof *p);
		if (!p)
			goto oom;
		q->quota = p;
	}
	q->quota[q->n++] = (uint64_t)row[qi].i;
	q->total += (uint64_t)row[qi].i;
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	return -1;
}

int plm_quota_load(plm_quota *q, const char *path, char *err, size_t errlen)
{
	memset(q, 0, sizeof *q);
	plm_reader *r = plm_reader_open(path, err, errlen);
	if (!r)
		return -1;
	const plm_schema *s = plm_reader_schema(r);
	plm_keybuf kb = { 0 };
	int qi, rc = -1;
	int *idx = calloc(s->n ? s->n : 1, sizeof *idx);
	if (!idx || !(q->map = plm_strmap_new())) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (quota_fields(q, s, path, &qi, idx, err, errlen))
		goto out;
	for (;;) {
		const plm_val *row;
		int k = plm_reader_next(r, &row);
		if (k == PLM_EOF)
			break;
		if (k == PLM_ERR) {
			snprintf(err, errlen, "%s", plm_reader_error(r));
			goto out;
		}
		if (k == PLM_HEADER) {
			snprintf(err, errlen, "%s: record %" PRIu64 ": the fields "
				 "change; a quota table has one header", path,
				 plm_reader_recno(r) + 1);
			goto out;
		}
		if (quota_row(q, row, qi, idx, &kb, path, plm_reader_recno(r),
			      err, errlen))
			goto out;
	}
	rc = 0;
out:
	plm_key_free(&kb);
	free(idx);
	plm_reader_close(r);
	if (rc)
		plm_quota_free(q);
	return rc;
}

int plm_quota_bind(const plm_quota *q, const plm_schema *in, int *idx,
		   char *err, size_t errlen)
{
	for (size_t j = 0; j < q->nf; j++) {
		int i = plm_schema_find(in, q->name[j]);
		char a[64], b[64];
		if (i < 0) {
			plm_nofield(err, errlen, in, "no field '%s' (a stratum field of "
				 "the quota table) in the input", q->name[j]);
			return -1;
		}
		if (in->f[i].type != q->type[j]) {
			snprintf(err, errlen, "field '%s' is %s in the input but "
				 "%s in the quota table", q->name[j],
				 plm_type_name(in->f[i].type, in->f[i].dim, a,
				 sizeof a), plm_type_name(q->type[j], 0, b,
				 sizeof b));
			return -1;
		}
		idx[j] = i;
	}
	return 0;
}

long plm_quota_find(const plm_quota *q, const int *idx, const plm_val *row,
		    plm_keybuf *kb)
{
	plm_key_reset(kb);
	for (size_t j = 0; j < q->nf; j++)
		if (plm_key_add(kb, &row[idx[j]], q->type[j]))
			return -2;
	uint64_t *v = plm_strmap_get(q->map, kb->p, kb->n);
	return v ? (long)*v : -1;
}

const char *plm_quota_label(const plm_quota *q, size_t stratum, char *buf,
			    size_t len)
{
	size_t kn, pos = 0, used = 0;
	const char *key = plm_strmap_key(q->map, stratum, &kn);
	buf[0] = 0;
	for (size_t j = 0; j < q->nf && used < len; j++) {
		plm_val v;
		enum plm_type t;
		char text[128];
		if (plm_key_next(key, kn, &pos, &v, &t))
			break;
		int w = snprintf(buf + used, len - used, "%s%s=%s",
				 j ? "," : "", q->name[j],
				 plm_val_text(&v, t, text, sizeof text));
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}
