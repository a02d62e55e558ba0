/* mlpdata.c — mlp-train's data loading (include/plm/mlpdata.h): a record
 * stream into feature and target matrices, the classes, the digests of
 * the data, and the standardisation fitted on the train rows.
 *
 * Loading keeps the features of the train and val rows as f32 in one
 * array per split, the labels as indices into a string map, and hashes
 * ids and content for the checkpoint's digests. */
#include "plm/fields.h"
#include "plm/mlpdata.h"

#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "plm/alloc.h"
#include "plm/err.h"
#include "plm/map.h"
#include "plm/mlpckpt.h"
#include "plm/recin.h"

/* ---- loading ------------------------------------------------------------ */

/* A row's label: single-label, an index into labels; multi-label, a run
 * of mll. */
struct lrow {
	uint32_t lab;              /* single-label: label index */
	uint32_t mlo, mln;         /* multi-label: offset/count into mll */
};

struct priv {
	size_t xcap[2], idcap[2], lcap[2], qcap[2];
	struct lrow *lr[2];
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
	int xi, yi, ii, si, qi, qhex;   /* qi: sequence (qhex: seq_hash) */
	enum plm_type yt, it;
};

#define OOM(L) plm_errf((L)->err, (L)->errlen, "out of memory")
#define CHUNK_BYTES ((size_t)4 << 20)   /* first feature chunk per split */

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
	const struct { int *at; const char *name, *what; } want[] = {
		{ &L->xi, s->x, "the features, --x" },
		{ &L->yi, s->y, "the label, --y" },
		{ &L->ii, s->id, "the record id, --id" },
		{ &L->si, s->split, "the split, --split-field" },
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		*want[i].at = plm_schema_find(sc, want[i].name);
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		if (*want[i].at < 0)
			return plm_nofield(L->err, L->errlen, sc, "%s: no field '%s' in "
				    "input (%s)", src, want[i].name,
				    want[i].what);
	const plm_field *fx = &sc->f[L->xi];
	if (fx->type != PLM_T_F32 && fx->type != PLM_T_F16 &&
	    fx->type != PLM_T_BF16)
		return plm_errf(L->err, L->errlen, "%s: field '%s' is %s: the "
			    "features must be f32[N], f16[N] or bf16[N]", src,
			    s->x, plm_type_name(fx->type, fx->dim, tn, sizeof tn));
	if (D->d && fx->dim != D->d)
		return plm_errf(L->err, L->errlen, "%s: field '%s' is %s but "
			    "earlier records had %u features: mixed dimensions",
			    src, s->x,
			    plm_type_name(fx->type, fx->dim, tn, sizeof tn), D->d);
	D->d = fx->dim;
	D->xt = fx->type;
	L->yt = sc->f[L->yi].type;
	if (L->yt != PLM_T_STR && (s->multilabel || L->yt != PLM_T_INT))
		return plm_errf(L->err, L->errlen, "%s: field '%s' is %s: the "
			    "label must be %s", src, s->y,
			    plm_type_name(L->yt, sc->f[L->yi].dim, tn, sizeof tn),
			    s->multilabel ? "str (comma-separated names)"
					  : "int or str");
	if (L->P->yt_set && (int)L->yt != L->P->yt)
		return plm_errf(L->err, L->errlen, "%s: field '%s' changes type "
			    "between sections", src, s->y);
	L->P->yt = L->yt;
	L->P->yt_set = 1;
	L->it = sc->f[L->ii].type;
	if (L->it != PLM_T_STR && L->it != PLM_T_INT)
		return plm_errf(L->err, L->errlen, "%s: field '%s' (the id) must "
			    "be str or int", src, s->id);
	if (sc->f[L->si].type != PLM_T_STR)
		return plm_errf(L->err, L->errlen, "%s: field '%s' (the split) "
			    "must be str", src, s->split);
	/* the seen set: the sequence, else its hash */
	L->qi = plm_schema_find(sc, s->seq ? s->seq : "seq");
	L->qhex = 0;
	if (L->qi < 0 || sc->f[L->qi].type != PLM_T_STR) {
		L->qi = plm_schema_find(sc, "seq_hash");
		L->qhex = 1;
		if (L->qi >= 0 && sc->f[L->qi].type != PLM_T_STR)
			L->qi = -1;
	}
	if (L->qi >= 0 && !D->seq_field)
		D->seq_field = L->qhex ? "seq_hash" : s->seq ? s->seq : "seq";
	char dg[33];
	prov_digest(sc, dg);
	if (dg[0] && D->split_digest[0] && strcmp(dg, D->split_digest))
		return plm_errf(L->err, L->errlen, "%s: the input comes from two "
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

/* Room for one more row of split k.  The first feature chunk is sized
 * by bytes, not rows: 1024 rows of f32[16777216] would be 64 GiB for one
 * record. */
static int room(struct ld *L, int k, uint64_t rec)
{
	plm_mlpdata *D = L->D;
	struct priv *P = L->P;
	size_t n = D->n[k], row = (size_t)D->d * sizeof(float);
	size_t want = n ? n + 1 : row >= CHUNK_BYTES ? 1 : CHUNK_BYTES / row;
	if (want > SIZE_MAX / row ||
	    PLM_GROW(D->x[k], P->xcap[k], want * D->d))
		return plm_errf(L->err, L->errlen, "record %llu: out of memory "
			    "for %zu records of %u features ('%s', %zu bytes "
			    "each)", (unsigned long long)rec, want, D->d,
			    L->s->x, row);
	if (PLM_GROW(D->ids[k], P->idcap[k], n + 1) ||
	    PLM_GROW(P->lr[k], P->lcap[k], n + 1))
		return OOM(L);
	return 0;
}

static int add_row(struct ld *L, const plm_val *row, uint64_t rec)
{
	plm_mlpdata *D = L->D;
	struct priv *P = L->P;
	const plm_mlpdata_spec *s = L->s;
	const plm_val *sv = &row[L->si];
	if (sv->nil)
		return plm_errf(L->err, L->errlen, "record %llu: field '%s' (the "
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
		return plm_errf(L->err, L->errlen, "record %llu: field '%s' is "
			    "missing (nil)", (unsigned long long)rec, miss);
	if (room(L, k, rec))
		return -1;
	size_t i = D->n[k]++;
	float *x = D->x[k] + i * D->d;
	plm_vec_to_f32(&row[L->xi], D->xt, D->d, x);
	for (uint32_t j = 0; j < D->d; j++)
		if (!isfinite(x[j]))
			return plm_errf(L->err, L->errlen, "record %llu: feature %u "
				    "of '%s' is not finite",
				    (unsigned long long)rec, j, s->x);
	char ib[32], lb[32];
	const char *ip, *lp;
	size_t in = val_text(&row[L->ii], L->it, ib, sizeof ib, &ip);
	size_t ln = val_text(&row[L->yi], L->yt, lb, sizeof lb, &lp);
	D->ids[k][i] = plm_key_hash(ip, in);
	if (L->qi >= 0 && !row[L->qi].nil) {
		plm_h128 h;
		if (!L->qhex)
			h = plm_seq_hash(row[L->qi].s, row[L->qi].n);
		else if (plm_h128_parse(row[L->qi].s, row[L->qi].n, &h))
			return plm_errf(L->err, L->errlen, "record %llu: field "
				    "'seq_hash' is not 32 hex digits",
				    (unsigned long long)rec);
		if (PLM_GROW(D->seqs[k], P->qcap[k], D->nseq[k] + 1))
			return OOM(L);
		D->seqs[k][D->nseq[k]++] = h;
	}
	digest_part(P->dig[k], ip, in);
	digest_part(P->dig[k], row[L->xi].s, row[L->xi].n);
	digest_part(P->dig[k], lp, ln);
	if (!s->multilabel)
		return label_index(L, lp, ln, &P->lr[k][i].lab);
	/* multi-label: comma-separated names; "" = none */
	P->lr[k][i].mlo = (uint32_t)P->nmll;
	P->lr[k][i].mln = 0;
	for (size_t st = 0; st < ln;) {
		const char *c = memchr(lp + st, ',', ln - st);
		size_t e = c ? (size_t)(c - lp) : ln;
		if (e == st)
			return plm_errf(L->err, L->errlen, "record %llu: empty name "
				    "in label '%.*s'", (unsigned long long)rec,
				    (int)ln, lp);
		if (PLM_GROW(P->mll, P->capmll, P->nmll + 1))
			return OOM(L);
		if (label_index(L, lp + st, e - st, &P->mll[P->nmll]))
			return -1;
		P->nmll++;
		P->lr[k][i].mln++;
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
			plm_errf(L->err, L->errlen, "%s", plm_recin_error(r));
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
	return plm_errf(L->err, L->errlen, "record %llu: refused %s: only the "
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
			seen[P->lr[0][i].lab] = 1;
		else
			for (uint32_t j = 0; j < P->lr[0][i].mln; j++)
				seen[P->mll[P->lr[0][i].mlo + j]] = 1;
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
			rc = plm_errf(L->err, L->errlen, "label '%s' occurs in the "
				  "%s records but not in the %s records",
				  plm_strmap_key(P->labels, i, NULL), s->val,
				  s->train);
	if (!rc && !s->multilabel && k < 2)
		rc = plm_errf(L->err, L->errlen, "the %s records have %u class%s: "
			  "need at least 2", s->train, k, k == 1 ? "" : "es");
	if (!rc && s->multilabel && k < 1)
		rc = plm_errf(L->err, L->errlen, "the %s records have no labels",
			  s->train);
	D->pos = -1;
	if (!rc && !s->multilabel && k == 2) {
		D->pos = 1;
		if (s->pos) {
			D->pos = !strcmp(s->pos, D->classes[1]) ? 1
			       : !strcmp(s->pos, D->classes[0]) ? 0 : -1;
			if (D->pos < 0) {
				plm_errf(L->err, L->errlen, "--pos '%s' is not a "
				     "class (%s, %s)", s->pos, D->classes[0],
				     D->classes[1]);
				rc = -2;
			}
		}
	} else if (!rc && s->pos) {
		plm_errf(L->err, L->errlen, "--pos applies to two classes only");
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
			for (uint32_t j = 0; j < P->lr[k][i].mln; j++)
				t[i * K + of[P->mll[P->lr[k][i].mlo + j]]] = 1;
			continue;
		}
		uint32_t c = of[P->lr[k][i].lab];
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
		cnt[of[P->lr[0][i].lab]]++;
	for (size_t i = 0; i < n; i++)
		w[i] = (float)(D->n[0] / (D->nclass * cnt[of[P->lr[k][i].lab]]));
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
		return plm_errf(err, errlen, "out of memory");
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
		return plm_errf(err, errlen, "no records of split '%s' to train on",
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
		D->nseq[k] = plm_h128_sort_unique(D->seqs[k], D->nseq[k]);
	}
	return 0;
}

void plm_mlpdata_free(plm_mlpdata *D)
{
	struct priv *P = D->priv;
	for (int k = 0; k < 2; k++) {
		PLM_FREE(D->x[k], D->t[k], D->w[k], D->ids[k], D->seqs[k]);
		if (P) {
			free(P->lr[k]);
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
