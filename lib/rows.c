/* rows.c — in-memory copies of rows, and value keys (see rows.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/rows.h"

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

static int has_bytes(enum plm_type t)
{
	return t == PLM_T_STR || plm_type_elsize(t) > 0;
}

int plm_rows_init(plm_rows *r, const plm_schema *s)
{
	memset(r, 0, sizeof *r);
	r->nf = s->n;
	r->type = malloc((s->n ? s->n : 1) * sizeof *r->type);
	if (!r->type)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		r->type[i] = s->f[i].type;
	return 0;
}

void plm_rows_free(plm_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->data[i]);
	free(r->data);
	free(r->v);
	free(r->type);
	memset(r, 0, sizeof *r);
}

/* Copy row into dst, its bytes into one new block (*blk, NULL if none). */
static int copy_row(const plm_rows *r, plm_val *dst, char **blk,
		    size_t *nbytes, const plm_val *row)
{
	/* Each value starts 8-aligned so vectors can be read in place. */
	size_t total = 0;
	for (size_t j = 0; j < r->nf; j++)
		if (!row[j].nil && has_bytes(r->type[j]))
			total += ALIGN8(row[j].n);
	char *p = NULL;
	if (total && !(p = malloc(total)))
		return -1;
	*blk = p;
	*nbytes = total;
	for (size_t j = 0; j < r->nf; j++) {
		dst[j] = row[j];
		if (row[j].nil || !has_bytes(r->type[j])) {
			dst[j].s = NULL;
			continue;
		}
		if (row[j].n)
			memcpy(p, row[j].s, row[j].n);
		dst[j].s = p ? p : "";
		p += ALIGN8(row[j].n);
	}
	return 0;
}

long plm_rows_add(plm_rows *r, const plm_val *row)
{
	if (r->n == r->cap) {
		/* r->cap moves only when both arrays have grown */
		size_t cap = r->cap, nf = r->nf ? r->nf : 1;
		if (PLM_GROW(r->data, cap, r->n + 1) ||
		    cap > SIZE_MAX / nf || PLM_GROW(r->v, r->vcap, cap * nf))
			return -1;
		r->cap = cap;
	}
	size_t nb;
	if (copy_row(r, r->v + r->n * r->nf, &r->data[r->n], &nb, row))
		return -1;
	r->bytes += nb;
	return (long)r->n++;
}

int plm_rows_set(plm_rows *r, size_t i, const plm_val *row)
{
	/* Build the copy aside first so a failure leaves row i intact. */
	plm_val tmp[r->nf ? r->nf : 1];
	char *blk;
	size_t nb, old = 0;
	if (copy_row(r, tmp, &blk, &nb, row))
		return -1;
	const plm_val *cur = plm_rows_get(r, i);
	for (size_t j = 0; j < r->nf; j++)
		if (!cur[j].nil && has_bytes(r->type[j]))
			old += ALIGN8(cur[j].n);
	free(r->data[i]);
	r->data[i] = blk;
	memcpy(r->v + i * r->nf, tmp, r->nf * sizeof *tmp);
	r->bytes = r->bytes - old + nb;
	return 0;
}

/* ---- keys ------------------------------------------------------------- */

int plm_key_type_ok(enum plm_type t)
{
	return t == PLM_T_STR || t == PLM_T_INT || t == PLM_T_BOOL;
}

static int key_grow(plm_keybuf *k, size_t more)
{
	if (more > SIZE_MAX - k->n)
		return -1;
	return PLM_GROW(k->p, k->cap, k->n + more);
}

int plm_key_add(plm_keybuf *k, const plm_val *v, enum plm_type t)
{
	if (!plm_key_type_ok(t))
		return -1;
	if (v->nil) {
		if (key_grow(k, 1))
			return -1;
		k->p[k->n++] = 'N';
		return 0;
	}
	if (t == PLM_T_STR) {
		if (v->n > UINT32_MAX || key_grow(k, 5 + v->n))
			return -1;
		uint32_t len = (uint32_t)v->n;
		k->p[k->n] = 'S';
		memcpy(k->p + k->n + 1, &len, 4);
		if (v->n)
			memcpy(k->p + k->n + 5, v->s, v->n);
		k->n += 5 + v->n;
	} else if (t == PLM_T_INT) {
		if (key_grow(k, 9))
			return -1;
		k->p[k->n] = 'I';
		memcpy(k->p + k->n + 1, &v->i, 8);
		k->n += 9;
	} else {
		if (key_grow(k, 2))
			return -1;
		k->p[k->n] = 'B';
		k->p[k->n + 1] = v->i ? 1 : 0;
		k->n += 2;
	}
	return 0;
}

void plm_key_free(plm_keybuf *k)
{
	free(k->p);
	memset(k, 0, sizeof *k);
}

int plm_key_next(const char *key, size_t n, size_t *pos, plm_val *v,
		 enum plm_type *t)
{
	size_t p = *pos;
	memset(v, 0, sizeof *v);
	if (p >= n)
		return -1;
	switch (key[p]) {
	case 'N':
		v->nil = 1;
		*t = PLM_T_STR;
		*pos = p + 1;
		return 0;
	case 'S': {
		uint32_t len;
		if (n - p < 5)
			return -1;
		memcpy(&len, key + p + 1, 4);
		if (n - p - 5 < len)
			return -1;
		v->s = key + p + 5;
		v->n = len;
		*t = PLM_T_STR;
		*pos = p + 5 + len;
		return 0;
	}
	case 'I':
		if (n - p < 9)
			return -1;
		memcpy(&v->i, key + p + 1, 8);
		*t = PLM_T_INT;
		*pos = p + 9;
		return 0;
	case 'B':
		if (n - p < 2)
			return -1;
		v->i = key[p + 1];
		*t = PLM_T_BOOL;
		*pos = p + 2;
		return 0;
	}
	return -1;
}

const char *plm_val_text(const plm_val *v, enum plm_type t, char *buf,
			 size_t len)
{
	if (!len)
		return buf;
	if (v->nil)
		snprintf(buf, len, "\\N");
	else if (t == PLM_T_INT)
		snprintf(buf, len, "%" PRId64, v->i);
	else if (t == PLM_T_BOOL)
		snprintf(buf, len, "%s", v->i ? "true" : "false");
	else if (t == PLM_T_STR) {
		if (v->n < len) {
			memcpy(buf, v->s, v->n);
			buf[v->n] = 0;
		} else {
			snprintf(buf, len, "%.*s...", (int)(len > 4 ? len - 4 : 0), v->s);
		}
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}
