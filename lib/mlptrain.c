/* mlptrain.c — mlp-train's data loading, evaluation and training loop
 * (include/plm/mlptrain.h, man/mlp-train.1).
 *
 * Loading keeps the features of the train and val rows as f32 in one
 * array per split, the labels as indices into a string map, and hashes
 * ids and content for the checkpoint's digests.  The training loop takes
 * minibatches in a seeded order (its own RNG stream; dropout has another,
 * so changing one does not change the other), evaluates the val rows
 * after every epoch and keeps the best weights by the monitored value. */
#include "plm/mlptrain.h"

#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "plm/cli.h"
#include "plm/map.h"
#include "plm/metrics.h"
#include "plm/mlpckpt.h"
#include "plm/recin.h"
#include "plm/rng.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- loading ------------------------------------------------------------ */

struct priv {
	size_t cap[2];
	uint32_t *lab[2];          /* single-label: label index */
	uint32_t *mlo[2], *mln[2]; /* multi-label: offset/count into mll */
	uint32_t *mll;
	size_t nmll, capmll;
	plm_strmap *labels;        /* label text → first-seen index */
	plm_strmap *other;         /* refused split names → count */
	XXH3_state_t *dig[2];
	int yt, yt_set;
	uint64_t first_other;      /* record number of the first refused */
};

struct ld {
	plm_mlpdata *D;
	struct priv *P;
	const plm_mlpdata_spec *s;
	char *err;
	size_t errlen;
	int xi, yi, ii, si;
	enum plm_type yt, it;
};

static int grow(void **p, size_t n)
{
	void *q = realloc(*p, n ? n : 1);
	if (!q)
		return -1;
	*p = q;
	return 0;
}

#define OOM(L) fail((L)->err, (L)->errlen, "out of memory")
#define CHUNK_BYTES ((size_t)4 << 20)   /* first feature chunk per split */
#define WORK_BYTES ((size_t)64 << 20)   /* per work buffer, beyond a batch */

/* The input's meta.prov split_digest (the last entry that has one). */
static int prov_digest(const plm_schema *sc, char out[33])
{
	out[0] = 0;
	if (!sc->meta || !sc->meta_len)
		return 0;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	size_t off = 0;
	if (msgpack_unpack_next(&u, (const char *)sc->meta, sc->meta_len,
				&off) != MSGPACK_UNPACK_SUCCESS ||
	    u.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&u);
		return 0;
	}
	const msgpack_object_map *m = &u.data.via.map;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;
		const msgpack_object *v = &m->ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 4 ||
		    memcmp(k->via.str.ptr, "prov", 4) ||
		    v->type != MSGPACK_OBJECT_ARRAY)
			continue;
		for (uint32_t e = 0; e < v->via.array.size; e++) {
			const msgpack_object *en = &v->via.array.ptr[e];
			if (en->type != MSGPACK_OBJECT_MAP)
				continue;
			for (uint32_t j = 0; j < en->via.map.size; j++) {
				const msgpack_object *ek = &en->via.map.ptr[j].key;
				const msgpack_object *ev = &en->via.map.ptr[j].val;
				if (ek->type == MSGPACK_OBJECT_STR &&
				    ek->via.str.size == 12 &&
				    !memcmp(ek->via.str.ptr, "split_digest", 12) &&
				    ev->type == MSGPACK_OBJECT_STR &&
				    ev->via.str.size == 32)
					memcpy(out, ev->via.str.ptr, 32), out[32] = 0;
			}
		}
	}
	msgpack_unpacked_destroy(&u);
	return 0;
}

static int bind_fields(struct ld *L, const plm_schema *sc, const char *src)
{
	const plm_mlpdata_spec *s = L->s;
	plm_mlpdata *D = L->D;
	char tn[64];
	L->xi = plm_schema_find(sc, s->x);
	L->yi = plm_schema_find(sc, s->y);
	L->ii = plm_schema_find(sc, s->id);
	L->si = plm_schema_find(sc, s->split);
	if (L->xi < 0)
		return fail(L->err, L->errlen, "%s: no field '%s' in input "
			    "(the features, --x)", src, s->x);
	if (L->yi < 0)
		return fail(L->err, L->errlen, "%s: no field '%s' in input "
			    "(the label, --y)", src, s->y);
	if (L->ii < 0)
		return fail(L->err, L->errlen, "%s: no field '%s' in input "
			    "(the record id, --id)", src, s->id);
	if (L->si < 0)
		return fail(L->err, L->errlen, "%s: no field '%s' in input "
			    "(the split, --split-field)", src, s->split);
	const plm_field *fx = &sc->f[L->xi];
	if (fx->type != PLM_T_F32 && fx->type != PLM_T_F16 &&
	    fx->type != PLM_T_BF16)
		return fail(L->err, L->errlen, "%s: field '%s' is %s: the "
			    "features must be f32[N], f16[N] or bf16[N]", src,
			    s->x, plm_type_name(fx->type, fx->dim, tn, sizeof tn));
	if (D->d && fx->dim != D->d)
		return fail(L->err, L->errlen, "%s: field '%s' is %s but "
			    "earlier records had %u features: mixed dimensions",
			    src, s->x,
			    plm_type_name(fx->type, fx->dim, tn, sizeof tn), D->d);
	D->d = fx->dim;
	D->xt = fx->type;
	L->yt = sc->f[L->yi].type;
	if (L->yt != PLM_T_STR && (s->multilabel || L->yt != PLM_T_INT))
		return fail(L->err, L->errlen, "%s: field '%s' is %s: the "
			    "label must be %s", src, s->y,
			    plm_type_name(L->yt, sc->f[L->yi].dim, tn, sizeof tn),
			    s->multilabel ? "str (comma-separated names)"
					  : "int or str");
	if (L->P->yt_set && (int)L->yt != L->P->yt)
		return fail(L->err, L->errlen, "%s: field '%s' changes type "
			    "between sections", src, s->y);
	L->P->yt = L->yt;
	L->P->yt_set = 1;
	L->it = sc->f[L->ii].type;
	if (L->it != PLM_T_STR && L->it != PLM_T_INT)
		return fail(L->err, L->errlen, "%s: field '%s' (the id) must "
			    "be str or int", src, s->id);
	if (sc->f[L->si].type != PLM_T_STR)
		return fail(L->err, L->errlen, "%s: field '%s' (the split) "
			    "must be str", src, s->split);
	char dg[33];
	prov_digest(sc, dg);
	if (dg[0] && D->split_digest[0] && strcmp(dg, D->split_digest))
		return fail(L->err, L->errlen, "%s: the input comes from two "
			    "different splits (split_digest %s and %s)", src,
			    D->split_digest, dg);
	if (dg[0])
		memcpy(D->split_digest, dg, 33);
	return 0;
}

/* Text of an int or str value. */
static size_t val_text(const plm_val *v, enum plm_type t, char *buf,
		       size_t len, const char **p)
{
	if (t == PLM_T_STR) {
		*p = v->s;
		return v->n;
	}
	*p = buf;
	return (size_t)snprintf(buf, len, "%lld", (long long)v->i);
}

static int label_index(struct ld *L, const char *p, size_t n, uint32_t *out)
{
	int added;
	uint64_t *slot = plm_strmap_put(L->P->labels, p, n, &added);
	if (!slot)
		return OOM(L);
	if (added)
		*slot = plm_strmap_size(L->P->labels) - 1;
	*out = (uint32_t)*slot;
	return 0;
}

static void digest_part(XXH3_state_t *st, const void *p, size_t n)
{
	uint64_t len = n;   /* little-endian host (see mlpckpt.c) */
	XXH3_128bits_update(st, &len, 8);
	XXH3_128bits_update(st, p, n);
}

static int other_split(struct ld *L, const plm_val *sv, uint64_t rec)
{
	int added;
	uint64_t *c = plm_strmap_put(L->P->other, sv->s, sv->n, &added);
	if (!c)
		return OOM(L);
	if (!L->P->first_other)
		L->P->first_other = rec;
	++*c;
	return 0;
}

static int add_row(struct ld *L, const plm_val *row, uint64_t rec)
{
	plm_mlpdata *D = L->D;
	struct priv *P = L->P;
	const plm_mlpdata_spec *s = L->s;
	const plm_val *sv = &row[L->si];
	if (sv->nil)
		return fail(L->err, L->errlen, "record %llu: field '%s' (the "
			    "split) is missing", (unsigned long long)rec,
			    s->split);
	int k = sv->n == strlen(s->train) && !memcmp(sv->s, s->train, sv->n)
		? 0 : sv->n == strlen(s->val) && !memcmp(sv->s, s->val, sv->n)
		? 1 : -1;
	if (k < 0)
		return other_split(L, sv, rec);
	const char *miss = row[L->xi].nil ? s->x : row[L->yi].nil ? s->y
			 : row[L->ii].nil ? s->id : NULL;
	if (miss)
		return fail(L->err, L->errlen, "record %llu: field '%s' is "
			    "missing (nil)", (unsigned long long)rec, miss);
	if (D->n[k] == P->cap[k]) {
		/* the first chunk is sized by bytes, not rows: 1024 rows of
		 * f32[16777216] would be 64 GiB for one record */
		size_t row = (size_t)D->d * sizeof(float);
		size_t c = P->cap[k] ? 2 * P->cap[k]
			 : row >= CHUNK_BYTES ? 1 : CHUNK_BYTES / row;
		if (c > SIZE_MAX / row)
			c = P->cap[k] + 1;
		if (grow((void **)&D->x[k], c * row))
			return fail(L->err, L->errlen, "record %llu: out of "
				    "memory for %zu records of %u features "
				    "('%s', %zu bytes each)",
				    (unsigned long long)rec, c, D->d, s->x, row);
		if (
		    grow((void **)&P->lab[k], c * sizeof(uint32_t)) ||
		    grow((void **)&D->ids[k], c * sizeof(uint64_t)) ||
		    grow((void **)&P->mlo[k], c * sizeof(uint32_t)) ||
		    grow((void **)&P->mln[k], c * sizeof(uint32_t)))
			return OOM(L);
		P->cap[k] = c;
	}
	size_t i = D->n[k]++;
	float *x = D->x[k] + i * D->d;
	plm_vec_to_f32(&row[L->xi], D->xt, D->d, x);
	for (uint32_t j = 0; j < D->d; j++)
		if (!isfinite(x[j]))
			return fail(L->err, L->errlen, "record %llu: feature %u "
				    "of '%s' is not finite",
				    (unsigned long long)rec, j, s->x);
	char ib[32], lb[32];
	const char *ip, *lp;
	size_t in = val_text(&row[L->ii], L->it, ib, sizeof ib, &ip);
	size_t ln = val_text(&row[L->yi], L->yt, lb, sizeof lb, &lp);
	D->ids[k][i] = plm_key_hash(ip, in);
	digest_part(P->dig[k], ip, in);
	digest_part(P->dig[k], row[L->xi].s, row[L->xi].n);
	digest_part(P->dig[k], lp, ln);
	if (!s->multilabel)
		return label_index(L, lp, ln, &P->lab[k][i]);
	/* multi-label: comma-separated names; "" = none */
	P->mlo[k][i] = (uint32_t)P->nmll;
	P->mln[k][i] = 0;
	for (size_t st = 0; st < ln;) {
		const char *c = memchr(lp + st, ',', ln - st);
		size_t e = c ? (size_t)(c - lp) : ln;
		if (e == st)
			return fail(L->err, L->errlen, "record %llu: empty name "
				    "in label '%.*s'", (unsigned long long)rec,
				    (int)ln, lp);
		if (P->nmll == P->capmll) {
			size_t cm = P->capmll ? 2 * P->capmll : 1024;
			if (grow((void **)&P->mll, cm * sizeof *P->mll))
				return OOM(L);
			P->capmll = cm;
		}
		if (label_index(L, lp + st, e - st, &P->mll[P->nmll]))
			return -1;
		P->nmll++;
		P->mln[k][i]++;
		st = c ? e + 1 : ln;
	}
	return 0;
}

static int read_rows(struct ld *L, int nfile, char **files)
{
	const plm_val *row;
	plm_recin *r = plm_recin_open(nfile, files, L->err, L->errlen);
	if (!r)
		return -1;
	int rc = bind_fields(L, plm_recin_schema(r), plm_recin_name(r));
	while (!rc && (rc = plm_recin_next(r, &row)) != PLM_EOF) {
		if (rc == PLM_ERR) {
			fail(L->err, L->errlen, "%s", plm_recin_error(r));
			rc = -1;
		} else if (rc == PLM_HEADER) {
			rc = bind_fields(L, plm_recin_schema(r), plm_recin_name(r));
		} else {
			rc = add_row(L, row, plm_recin_recno(r));
		}
	}
	plm_recin_close(r);
	return rc == PLM_EOF ? 0 : -1;
}

/* Records of other splits: one error naming every split and its count. */
static int refuse_others(struct ld *L)
{
	plm_strmap *o = L->P->other;
	size_t n = plm_strmap_size(o), len = 0;
	if (!n)
		return 0;
	char list[512];
	list[0] = 0;
	for (size_t i = 0; i < n && len < sizeof list - 64; i++) {
		size_t kn;
		const char *k = plm_strmap_key(o, i, &kn);
		unsigned long long c = *plm_strmap_val(o, i);
		len += (size_t)snprintf(list + len, sizeof list - len,
					"%s%llu record%s of split '%.*s'",
					i ? ", " : "", c, c == 1 ? "" : "s",
					(int)(kn > 64 ? 64 : kn), k);
	}
	size_t kn;
	const char *k = plm_strmap_key(o, 0, &kn);
	return fail(L->err, L->errlen, "record %llu: refused %s: only the "
		    "'%s' and '%s' splits may reach training, early stopping "
		    "and the standardisation (filter first, e.g. rec-filter "
		    "'%s!=%.*s')", (unsigned long long)L->P->first_other, list,
		    L->s->train, L->s->val, L->s->split,
		    (int)(kn > 64 ? 64 : kn), k);
}

/* ---- classes ------------------------------------------------------------ */

static const plm_strmap *sort_map;
static int sort_int;

static int cmp_label(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	size_t ni, nj;
	const char *si = plm_strmap_key(sort_map, i, &ni);
	const char *sj = plm_strmap_key(sort_map, j, &nj);
	if (sort_int) {
		long long x = strtoll(si, NULL, 10), y = strtoll(sj, NULL, 10);
		return x < y ? -1 : x > y;
	}
	int c = memcmp(si, sj, ni < nj ? ni : nj);
	return c ? c : ni < nj ? -1 : ni > nj;
}

/* Classes = the labels of the training rows, sorted (ints numerically);
 * of[label index] = class.  -2 for a usage error (--pos). */
static int make_classes(struct ld *L, uint32_t **ofp)
{
	plm_mlpdata *D = L->D;
	struct priv *P = L->P;
	const plm_mlpdata_spec *s = L->s;
	size_t nl = plm_strmap_size(P->labels);
	unsigned char *seen = calloc(nl ? nl : 1, 1);
	uint32_t *idx = malloc((nl ? nl : 1) * sizeof *idx);
	uint32_t *of = malloc((nl ? nl : 1) * sizeof *of);
	*ofp = of;
	if (!seen || !idx || !of) {
		free(seen);
		free(idx);
		return OOM(L);
	}
	for (size_t i = 0; i < D->n[0]; i++) {
		if (!s->multilabel)
			seen[P->lab[0][i]] = 1;
		else
			for (uint32_t j = 0; j < P->mln[0][i]; j++)
				seen[P->mll[P->mlo[0][i] + j]] = 1;
	}
	uint32_t k = 0;
	for (size_t i = 0; i < nl; i++)
		if (seen[i])
			idx[k++] = (uint32_t)i;
	sort_map = P->labels;
	sort_int = P->yt == PLM_T_INT;
	qsort(idx, k, sizeof *idx, cmp_label);
	int rc = 0;
	D->nclass = k;
	D->classes = calloc(k ? k : 1, sizeof *D->classes);
	if (!D->classes)
		rc = OOM(L);
	for (size_t i = 0; i < nl; i++)
		of[i] = UINT32_MAX;
	for (uint32_t c = 0; !rc && c < k; c++) {
		D->classes[c] = strdup(plm_strmap_key(P->labels, idx[c], NULL));
		if (!D->classes[c])
			rc = OOM(L);
		of[idx[c]] = c;
	}
	for (size_t i = 0; !rc && i < nl; i++)
		if (!seen[i])
			rc = fail(L->err, L->errlen, "label '%s' occurs in the "
				  "%s records but not in the %s records",
				  plm_strmap_key(P->labels, i, NULL), s->val,
				  s->train);
	if (!rc && !s->multilabel && k < 2)
		rc = fail(L->err, L->errlen, "the %s records have %u class%s: "
			  "need at least 2", s->train, k, k == 1 ? "" : "es");
	if (!rc && s->multilabel && k < 1)
		rc = fail(L->err, L->errlen, "the %s records have no labels",
			  s->train);
	D->pos = -1;
	if (!rc && !s->multilabel && k == 2) {
		D->pos = 1;
		if (s->pos) {
			D->pos = !strcmp(s->pos, D->classes[1]) ? 1
			       : !strcmp(s->pos, D->classes[0]) ? 0 : -1;
			if (D->pos < 0) {
				fail(L->err, L->errlen, "--pos '%s' is not a "
				     "class (%s, %s)", s->pos, D->classes[0],
				     D->classes[1]);
				rc = -2;
			}
		}
	} else if (!rc && s->pos) {
		fail(L->err, L->errlen, "--pos applies to two classes only");
		rc = -2;
	}
	D->head = s->multilabel ? PLM_HEAD_MULTILABEL
		: k == 2 ? PLM_HEAD_BINARY : PLM_HEAD_MULTI;
	free(seen);
	free(idx);
	return rc;
}

/* Targets in the layout plm_mlp_loss wants, and balanced row weights
 * n / (K n_c) as scikit-learn. */
static int targets(struct ld *L, const uint32_t *of, int k)
{
	plm_mlpdata *D = L->D;
	struct priv *P = L->P;
	size_t n = D->n[k], K = D->head == PLM_HEAD_MULTILABEL ? D->nclass : 1;
	float *t = malloc((n ? n : 1) * K * sizeof *t);
	if (!(D->t[k] = t))
		return OOM(L);
	for (size_t i = 0; i < n; i++) {
		if (D->head == PLM_HEAD_MULTILABEL) {
			memset(t + i * K, 0, K * sizeof *t);
			for (uint32_t j = 0; j < P->mln[k][i]; j++)
				t[i * K + of[P->mll[P->mlo[k][i] + j]]] = 1;
			continue;
		}
		uint32_t c = of[P->lab[k][i]];
		t[i] = D->head == PLM_HEAD_BINARY ? (float)(c == (uint32_t)D->pos)
						  : (float)c;
	}
	if (!L->s->class_weight || D->head == PLM_HEAD_MULTILABEL)
		return 0;
	double *cnt = calloc(D->nclass, sizeof *cnt);
	float *w = malloc((n ? n : 1) * sizeof *w);
	if (!cnt || !w) {
		free(cnt);
		free(w);
		return OOM(L);
	}
	for (size_t i = 0; i < D->n[0]; i++)
		cnt[of[P->lab[0][i]]]++;
	for (size_t i = 0; i < n; i++)
		w[i] = (float)(D->n[0] / (D->nclass * cnt[of[P->lab[k][i]]]));
	free(cnt);
	D->w[k] = w;
	return 0;
}

static plm_h128 digest_end(XXH3_state_t *st)
{
	XXH128_hash_t h = XXH3_128bits_digest(st);
	plm_h128 r = { h.high64, h.low64 };
	return r;
}

int plm_mlpdata_load(plm_mlpdata *D, const plm_mlpdata_spec *s, int nfile,
		     char **files, char *err, size_t errlen)
{
	memset(D, 0, sizeof *D);
	D->pos = -1;
	struct priv *P = calloc(1, sizeof *P);
	if (!P)
		return fail(err, errlen, "out of memory");
	D->priv = P;
	struct ld L = { .D = D, .P = P, .s = s, .err = err, .errlen = errlen };
	P->labels = plm_strmap_new();
	P->other = plm_strmap_new();
	P->dig[0] = XXH3_createState();
	P->dig[1] = XXH3_createState();
	if (!P->labels || !P->other || !P->dig[0] || !P->dig[1])
		return OOM(&L);
	XXH3_128bits_reset(P->dig[0]);
	XXH3_128bits_reset(P->dig[1]);
	if (read_rows(&L, nfile, files) || refuse_others(&L))
		return -1;
	if (!D->n[0])
		return fail(err, errlen, "no records of split '%s' to train on",
			    s->train);
	D->label_str = P->yt == PLM_T_STR;
	uint32_t *of = NULL;
	int rc = make_classes(&L, &of);
	if (!rc)
		rc = targets(&L, of, 0);
	if (!rc)
		rc = targets(&L, of, 1);
	free(of);
	if (rc)
		return rc;
	for (int k = 0; k < 2; k++) {
		D->digest[k] = digest_end(P->dig[k]);
		plm_id_sort(D->ids[k], D->n[k]);
	}
	return 0;
}

void plm_mlpdata_free(plm_mlpdata *D)
{
	struct priv *P = D->priv;
	for (int k = 0; k < 2; k++) {
		free(D->x[k]);
		free(D->t[k]);
		free(D->w[k]);
		free(D->ids[k]);
		if (P) {
			free(P->lab[k]);
			free(P->mlo[k]);
			free(P->mln[k]);
			if (P->dig[k])
				XXH3_freeState(P->dig[k]);
		}
	}
	for (uint32_t c = 0; D->classes && c < D->nclass; c++)
		free(D->classes[c]);
	free(D->classes);
	if (P) {
		free(P->mll);
		plm_strmap_free(P->labels);
		plm_strmap_free(P->other);
		free(P);
	}
	memset(D, 0, sizeof *D);
}

/* ---- standardisation ---------------------------------------------------- */

int plm_mlpdata_standardize(plm_mlpdata *D, plm_mlp *m)
{
	uint32_t d = D->d;
	size_t n = D->n[0];
	double *mu = calloc(d, sizeof *mu), *ss = calloc(d, sizeof *ss);
	if (!mu || !ss || plm_mlp_alloc_norm(m)) {
		free(mu);
		free(ss);
		return -1;
	}
	/* row by row (cache-friendly), each column summed in row order */
	for (size_t i = 0; i < n; i++) {
		const float *x = D->x[0] + i * d;
		for (uint32_t j = 0; j < d; j++)
			mu[j] += x[j];
	}
	for (uint32_t j = 0; j < d; j++)
		mu[j] /= (double)n;
	for (size_t i = 0; i < n; i++) {
		const float *x = D->x[0] + i * d;
		for (uint32_t j = 0; j < d; j++) {
			double e = x[j] - mu[j];
			ss[j] += e * e;
		}
	}
	for (uint32_t j = 0; j < d; j++) {
		double sd = sqrt(ss[j] / (double)n);
		m->mean[j] = (float)mu[j];
		m->std[j] = sd > 0 && (float)sd > 0 ? (float)sd : 1.0f;
	}
	free(mu);
	free(ss);
	plm_mlp_scale(m, D->x[0], D->n[0]);
	plm_mlp_scale(m, D->x[1], D->n[1]);
	return 0;
}

/* ---- evaluation --------------------------------------------------------- */

static const char *const mon_names[] = { "loss", "auroc", "f1" };

int plm_monitor_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, mon_names[i]))
			return i;
	return -1;
}

const char *plm_monitor_name(enum plm_monitor k) { return mon_names[k]; }

static int eval_multi(const plm_mlp *m, const float *pr, const float *t,
		      size_t n, plm_epoch *e)
{
	uint32_t K = m->dim[m->nl];
	double *p = malloc((n ? n : 1) * K * sizeof *p);
	uint32_t *y = malloc((n ? n : 1) * sizeof *y);
	uint32_t *pd = malloc((n ? n : 1) * sizeof *pd);
	int bad = !p || !y || !pd;
	plm_metrics mt;
	if (!bad) {
		for (size_t i = 0; i < n * K; i++)
			p[i] = pr[i];
		for (size_t i = 0; i < n; i++) {
			y[i] = (uint32_t)t[i];
			pd[i] = plm_argmax(p + i * K, K);
		}
		plm_mc d = { .n = n, .k = K, .y = y, .pred = pd, .prob = p };
		bad = plm_mc_prepare(&d) || plm_metrics_multi(&d, NULL, &mt);
		plm_mc_free(&d);
	}
	free(p);
	free(y);
	free(pd);
	if (bad)
		return -1;
	e->acc = mt.v[PLM_M_ACCURACY];
	e->f1 = mt.v[PLM_M_F1_MACRO];
	e->prec = mt.v[PLM_M_PRECISION_MACRO];
	e->rec = mt.v[PLM_M_RECALL_MACRO];
	e->auroc = mt.v[PLM_M_AUROC_OVR];
	return 0;
}

/* Binary, or multi-label pooled over all (row, label) pairs. */
static int eval_binary(const float *pr, const float *t, size_t nn,
		       plm_epoch *e)
{
	double *s = malloc((nn ? nn : 1) * sizeof *s);
	unsigned char *y = malloc(nn ? nn : 1);
	plm_metrics mt;
	int bad = !s || !y;
	if (!bad) {
		for (size_t i = 0; i < nn; i++) {
			s[i] = pr[i];
			y[i] = t[i] > 0.5f;
		}
		bad = plm_binary_eval(s, y, nn, 0.5, 10, &mt);
	}
	free(s);
	free(y);
	if (bad)
		return -1;
	e->acc = mt.v[PLM_M_ACCURACY];
	e->f1 = mt.v[PLM_M_F1];
	e->prec = mt.v[PLM_M_PRECISION];
	e->rec = mt.v[PLM_M_RECALL];
	e->auroc = mt.v[PLM_M_AUROC];
	return 0;
}

int plm_mlp_eval(const plm_mlp *m, plm_mlp_work *wk, const float *x,
		 const float *t, const float *w, size_t n, plm_epoch *e)
{
	uint32_t K = m->dim[m->nl];
	size_t maxb = plm_mlp_work_maxb(wk);
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1;
	float *pr = malloc((n ? n : 1) * K * sizeof *pr);
	if (!pr)
		return -1;
	double sl = 0, sw = 0;
	for (size_t s = 0; s < n; s += maxb) {
		size_t B = n - s < maxb ? n - s : maxb;
		const float *z = plm_mlp_forward(m, wk, x + s * m->dim[0], B,
						 NULL);
		double bw = 0;
		for (size_t i = 0; i < B; i++)
			bw += w ? w[s + i] : 1.0;
		sl += bw * plm_mlp_loss(m, z, B, t + s * tk, w ? w + s : NULL,
					NULL);
		sw += bw;
		memcpy(pr + s * K, z, B * K * sizeof *pr);
	}
	e->val_loss = sl / sw;
	plm_mlp_probs(m, pr, n);
	int rc = m->head == PLM_HEAD_MULTI ? eval_multi(m, pr, t, n, e)
					   : eval_binary(pr, t, n * K, e);
	free(pr);
	return rc;
}

/* ---- training ----------------------------------------------------------- */

struct opt_job {
	plm_optim *opt;
	float *p;
	const float *g;
	double lr;
};

static void opt_part(void *arg, size_t lo, size_t hi)
{
	const struct opt_job *j = arg;
	/* parts are in units of 1024 parameters */
	size_t n = j->opt->n;
	hi = hi * 1024 < n ? hi * 1024 : n;
	plm_optim_range(j->opt, j->p, j->g, j->lr, lo * 1024, hi);
}

/* The monitored value of an epoch, as "higher is better"; NAN when
 * undefined. */
static double score_of(enum plm_monitor k, const plm_epoch *e)
{
	switch (k) {
	case PLM_MON_AUROC:
		return e->auroc;
	case PLM_MON_F1:
		return e->f1;
	default:
		return -e->val_loss;
	}
}

struct loop {
	float *xb, *tb, *wb, *dz, *grad, *best;
	uint32_t *order;
	plm_mlp_work *w;
};

static void loop_free(struct loop *b)
{
	free(b->xb);
	free(b->tb);
	free(b->wb);
	free(b->dz);
	free(b->grad);
	free(b->best);
	free(b->order);
	plm_mlp_work_free(b->w);
}

/* One pass over the train rows in the order given; returns the mean of
 * the batch losses weighted by batch size. */
static double epoch(plm_mlp *m, const plm_mlpdata *D, const plm_fit_opts *o,
		    struct loop *b, plm_optim *opt, double lr, plm_rng *rd)
{
	uint32_t d = m->dim[0], K = m->dim[m->nl];
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1, n = D->n[0];
	size_t bs = o->batch;
	const float *tw = D->w[0];
	double sum = 0;
	struct opt_job oj = { opt, m->param, b->grad, lr };
	for (size_t s = 0; s < n; s += bs) {
		size_t B = n - s < bs ? n - s : bs;
		for (size_t i = 0; i < B; i++) {
			size_t r = b->order[s + i];
			memcpy(b->xb + i * d, D->x[0] + r * d, d * sizeof *b->xb);
			memcpy(b->tb + i * tk, D->t[0] + r * tk,
			       tk * sizeof *b->tb);
			if (tw)
				b->wb[i] = tw[r];
		}
		const float *z = plm_mlp_forward(m, b->w, b->xb, B, rd);
		double l = plm_mlp_loss(m, z, B, b->tb, tw ? b->wb : NULL,
					b->dz);
		plm_mlp_backward(m, b->w, b->xb, B, b->dz, b->grad);
		plm_optim_begin(opt);
		size_t parts = (m->nparam + 1023) / 1024;
		plm_pool_run(plm_mlp_work_pool(b->w), m->nparam >= (1u << 16)
			     ? o->threads : 1, opt_part, &oj, parts);
		sum += l * (double)B;
	}
	return sum / (double)n;
}

int plm_mlp_fit(plm_mlp *m, const plm_mlpdata *D, const plm_fit_opts *o,
		plm_fit_result *res, char *err, size_t errlen)
{
	uint32_t d = m->dim[0], K = m->dim[m->nl];
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1;
	size_t n = D->n[0], bs = o->batch < (n ? n : 1) ? o->batch : (n ? n : 1);
	/* work rows: a batch, or more for evaluation while they stay
	 * within WORK_BYTES (the rows of the widest layer) */
	size_t dmax = 0;
	for (uint32_t l = 0; l <= m->nl; l++)
		if (m->dim[l] > dmax)
			dmax = m->dim[l];
	size_t ev = WORK_BYTES / (dmax * sizeof(float));
	ev = ev < 1 ? 1 : ev > 256 ? 256 : ev;
	size_t maxb = bs > ev ? bs : ev;
	struct loop b = { 0 };
	plm_optim opt = o->opt;
	b.w = plm_mlp_work_new(m, maxb, o->threads);
	b.xb = malloc(bs * d * sizeof *b.xb);
	b.tb = malloc(bs * tk * sizeof *b.tb);
	b.wb = malloc(bs * sizeof *b.wb);
	b.dz = malloc(bs * K * sizeof *b.dz);
	b.grad = malloc(m->nparam * sizeof *b.grad);
	b.best = malloc(m->nparam * sizeof *b.best);
	b.order = malloc((n ? n : 1) * sizeof *b.order);
	if (!b.w || !b.xb || !b.tb || !b.wb || !b.dz || !b.grad || !b.best ||
	    !b.order || plm_optim_init(&opt, m->nparam)) {
		loop_free(&b);
		plm_optim_free(&opt);
		return fail(err, errlen, "out of memory for training: %zu "
			    "parameters, batches of %zu rows of %u features",
			    m->nparam, bs, d);
	}
	for (size_t i = 0; i < n; i++)
		b.order[i] = (uint32_t)i;
	plm_rng rs, rd;
	plm_rng_seed(&rs, o->seed + 1);
	plm_rng_seed(&rd, o->seed + 2);
	res->epochs = res->best_epoch = 0;
	res->best_val_loss = res->best_score = NAN;
	int bad = 0, rc = 0;
	for (int e = 0; e < o->epochs && !rc; e++) {
		double t0 = plm_now(), lr = plm_sched_lr(&o->sched, e);
		if (o->shuffle)
			plm_rng_shuffle(&rs, b.order, n, sizeof *b.order);
		plm_epoch ep = { e + 1, epoch(m, D, o, &b, &opt, lr, &rd), NAN,
				 NAN, NAN, NAN, NAN, NAN, lr, 0 };
		if (!isfinite(ep.train_loss)) {
			rc = fail(err, errlen, "epoch %d: the training loss is "
				  "%g: training diverged (try a lower --lr)",
				  e + 1, ep.train_loss);
			break;
		}
		if (D->n[1] && plm_mlp_eval(m, b.w, D->x[1], D->t[1], D->w[1],
					    D->n[1], &ep)) {
			rc = fail(err, errlen, "out of memory");
			break;
		}
		ep.seconds = plm_now() - t0;
		res->epochs = (uint32_t)e + 1;
		int stop = o->on_epoch && o->on_epoch(o->ctx, &ep);
		if (D->n[1]) {
			double sc = score_of(o->monitor, &ep);
			/* strict improvement; an undefined value never
			 * improves (but a first defined one does) */
			if (!isnan(sc) && (!res->best_epoch ||
					   isnan(res->best_score) ||
					   sc > res->best_score)) {
				res->best_score = sc;
				res->best_val_loss = ep.val_loss;
				res->best_epoch = (uint32_t)e + 1;
				memcpy(b.best, m->param,
				       m->nparam * sizeof *b.best);
				bad = 0;
			} else if (o->patience > 0 && ++bad >= o->patience) {
				stop = 1;
			}
		}
		if (stop)
			break;
	}
	if (!rc && o->patience > 0 && res->best_epoch)
		memcpy(m->param, b.best, m->nparam * sizeof *b.best);
	if (o->monitor == PLM_MON_LOSS && !isnan(res->best_score))
		res->best_score = -res->best_score;
	loop_free(&b);
	plm_optim_free(&opt);
	return rc;
}
