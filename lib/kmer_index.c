/* kmer_index.c — inverted k-mer index for near-duplicate pairs (see
 * kmer_index.h for the measure and the search). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/kmer_index.h"

static int8_t aa[256];
static pthread_once_t aa_once = PTHREAD_ONCE_INIT;

static void aa_init(void)
{
	static const char letters[] = "ACDEFGHIKLMNPQRSTVWY";
	memset(aa, -1, sizeof aa);
	for (int i = 0; i < 20; i++) {
		aa[(unsigned char)letters[i]] = (int8_t)i;
		aa[(unsigned char)letters[i] + 32] = (int8_t)i;
	}
}

static uint32_t pow20(int k)
{
	uint32_t m = 1;
	while (k--)
		m *= 20;
	return m;
}

/* murmur3's 32-bit finaliser: spreads codes so that "0 mod scale" is an
 * unbiased sample of k-mers. */
static inline uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

static inline int sampled(uint32_t code, uint32_t scale)
{
	return scale <= 1 || mix32(code) % scale == 0;
}

/* Distinct k-mer codes of s into out[] (room for n); mark/gen dedupe.
 * Returns the count. */
static size_t kmers(const char *s, size_t n, int k, uint32_t m, uint32_t *mark,
		    uint32_t gen, uint32_t *out)
{
	uint32_t code = 0;
	int valid = 0;
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		int a = aa[(unsigned char)s[i]];
		if (a < 0) {
			valid = 0;
			code = 0;
			continue;
		}
		code = (code * 20 + (uint32_t)a) % m;
		if (++valid < k)
			continue;
		if (mark[code] != gen) {
			mark[code] = gen;
			out[c++] = code;
		}
	}
	return c;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static size_t sorted_set(const char *s, size_t n, int k, uint32_t **out)
{
	uint32_t m = pow20(k), code = 0, *v = malloc((n ? n : 1) * sizeof *v);
	size_t c = 0, u = 0;
	int valid = 0;
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int a = aa[(unsigned char)s[i]];
		if (a < 0) {
			valid = 0;
			code = 0;
			continue;
		}
		code = (code * 20 + (uint32_t)a) % m;
		if (++valid >= k)
			v[c++] = code;
	}
	qsort(v, c, sizeof *v, u32_cmp);
	for (size_t i = 0; i < c; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	*out = v;
	return u;
}

double plm_kmer_sim(const char *a, size_t la, const char *b, size_t lb, int k)
{
	uint32_t *x, *y;
	pthread_once(&aa_once, aa_init);
	size_t nx = sorted_set(a, la, k, &x), ny = sorted_set(b, lb, k, &y), s = 0;
	for (size_t i = 0, j = 0; i < nx && j < ny;) {
		if (x[i] == y[j]) {
			s++;
			i++;
			j++;
		} else if (x[i] < y[j]) {
			i++;
		} else {
			j++;
		}
	}
	free(x);
	free(y);
	size_t mn = nx < ny ? nx : ny;
	return mn ? (double)s / (double)mn : -1;
}

typedef struct index {
	const char *const *seq;
	const uint32_t *len;
	size_t n;
	const uint8_t *cls;
	const unsigned char *want;
	size_t ncls;
	const plm_kmer_opts *o;
	uint32_t m;            /* 20^k */
	uint32_t *off;         /* m + 1 */
	uint32_t *post;
	uint32_t *nk;          /* distinct k-mers per sequence */
	uint8_t *full;         /* fully indexed (short) */
} index_t;

typedef struct worker {
	index_t *ix;
	int id, nth;
	uint32_t *acc, *touched, *qmark, *tmark, *codes;
	size_t codes_cap;
	uint32_t qgen, tgen;
	plm_kmer_pair *pairs;
	size_t np, pcap;
	plm_kmer_stats st;
	int oom;
} worker;

static int build(index_t *ix, plm_kmer_stats *st)
{
	const plm_kmer_opts *o = ix->o;
	uint32_t *mark = calloc(ix->m, sizeof *mark);
	uint32_t *codes = NULL, gen = 0;
	size_t cap = 0;
	uint64_t total = 0;
	ix->off = calloc((size_t)ix->m + 1, sizeof *ix->off);
	ix->nk = calloc(ix->n ? ix->n : 1, sizeof *ix->nk);
	ix->full = calloc(ix->n ? ix->n : 1, 1);
	if (!mark || !ix->off || !ix->nk || !ix->full)
		goto oom;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ix->n; i++) {
			if (ix->cls[i] == 0xff)
				continue;
			if (ix->len[i] > cap) {
				free(codes);
				cap = ix->len[i] * 2;
				codes = malloc(cap * sizeof *codes);
				if (!codes)
					goto oom;
			}
			size_t c = kmers(ix->seq[i], ix->len[i], o->k, ix->m, mark, ++gen, codes);
			if (pass == 0) {
				ix->nk[i] = (uint32_t)c;
				ix->full[i] = o->scale <= 1 || c <= o->short_max;
				st->empty += c == 0;
			}
			for (size_t j = 0; j < c; j++) {
				if (!ix->full[i] && !sampled(codes[j], o->scale))
					continue;
				if (pass == 0) {
					ix->off[codes[j] + 1]++;
					total++;
				} else {
					ix->post[ix->off[codes[j]]++] = (uint32_t)i;
				}
			}
		}
		if (pass == 0) {
			if (total > UINT32_MAX)
				goto big;
			for (uint32_t c = 0; c < ix->m; c++)
				ix->off[c + 1] += ix->off[c];
			ix->post = malloc((total ? total : 1) * sizeof *ix->post);
			if (!ix->post)
				goto oom;
			memset(mark, 0, (size_t)ix->m * sizeof *mark);
			gen = 0;
		}
	}
	/* the fill advanced off[c] to the start of c + 1: shift back */
	memmove(ix->off + 1, ix->off, (size_t)ix->m * sizeof *ix->off);
	ix->off[0] = 0;
	st->postings = total;
	st->bytes = ((size_t)ix->m + 1) * 4 + total * 4 + ix->n * 5;
	free(mark);
	free(codes);
	return 0;
big:
	free(mark);
	free(codes);
	return -2;
oom:
	free(mark);
	free(codes);
	return -1;
}

static uint32_t verify(worker *w, uint32_t t)
{
	index_t *ix = w->ix;
	const char *s = ix->seq[t];
	uint32_t code = 0, shared = 0, m = ix->m;
	int valid = 0, k = ix->o->k;
	if (++w->tgen == 0) {
		memset(w->tmark, 0, (size_t)m * sizeof *w->tmark);
		w->tgen = 1;
	}
	w->st.verified++;
	for (size_t i = 0; i < ix->len[t]; i++) {
		int a = aa[(unsigned char)s[i]];
		if (a < 0) {
			valid = 0;
			code = 0;
			continue;
		}
		code = (code * 20 + (uint32_t)a) % m;
		if (++valid < k || w->tmark[code] == w->tgen)
			continue;
		w->tmark[code] = w->tgen;
		shared += w->qmark[code] == w->qgen;
	}
	return shared;
}

static int emit(worker *w, uint32_t q, uint32_t t, double sim)
{
	if (w->np == w->pcap) {
		size_t nc = w->pcap ? 2 * w->pcap : 256;
		plm_kmer_pair *p = realloc(w->pairs, nc * sizeof *p);
		if (!p)
			return -1;
		w->pairs = p;
		w->pcap = nc;
	}
	w->pairs[w->np++] = (plm_kmer_pair){ q < t ? q : t, q < t ? t : q, sim };
	return 0;
}

static int query(worker *w, uint32_t q)
{
	index_t *ix = w->ix;
	const plm_kmer_opts *o = ix->o;
	if (ix->len[q] > w->codes_cap) {
		free(w->codes);
		w->codes_cap = ix->len[q] * 2;
		w->codes = malloc(w->codes_cap * sizeof *w->codes);
		if (!w->codes)
			return -1;
	}
	if (++w->qgen == 0) {
		memset(w->qmark, 0, (size_t)ix->m * sizeof *w->qmark);
		w->qgen = 1;
	}
	size_t c = kmers(ix->seq[q], ix->len[q], o->k, ix->m, w->qmark, w->qgen, w->codes);
	const unsigned char *want = ix->want + (size_t)ix->cls[q] * ix->ncls;
	size_t nt = 0;
	int skipped = 0;
	for (size_t j = 0; j < c; j++) {
		uint32_t b = ix->off[w->codes[j]], e = ix->off[w->codes[j] + 1];
		if (o->max_occ && e - b > o->max_occ) {
			skipped = 1;
			w->st.frequent++;
			continue;
		}
		w->st.hits += e - b;
		for (uint32_t p = b; p < e; p++) {
			uint32_t t = ix->post[p];
			if (t == q || !want[ix->cls[t]])
				continue;
			if (w->acc[t]++ == 0)
				w->touched[nt++] = t;
		}
	}
	for (size_t j = 0; j < nt; j++) {
		uint32_t t = w->touched[j], cnt = w->acc[t];
		w->acc[t] = 0;
		int qf = ix->full[q], tf = ix->full[t];
		if ((qf && !tf) || (qf == tf && t < q))
			continue;   /* this pair is found from t's side */
		uint32_t mn = ix->nk[q] < ix->nk[t] ? ix->nk[q] : ix->nk[t];
		if (!mn)
			continue;
		uint32_t shared;
		if (tf && !skipped) {
			shared = cnt;             /* t fully indexed: exact */
		} else {
			double expect = o->min_sim * mn / (tf ? 1 : o->scale);
			uint32_t thr = (uint32_t)(expect / 4);
			if (cnt < (thr ? thr : 1))
				continue;
			shared = verify(w, t);
		}
		double sim = (double)shared / mn;
		if (sim >= o->min_sim && emit(w, q, t, sim))
			return -1;
	}
	return 0;
}

static void *run(void *arg)
{
	worker *w = arg;
	index_t *ix = w->ix;
	/* blocks of 64 queries dealt round-robin keep the threads even */
	for (size_t b = (size_t)w->id * 64; b < ix->n; b += (size_t)w->nth * 64)
		for (size_t q = b; q < b + 64 && q < ix->n; q++) {
			if (ix->cls[q] == 0xff || !ix->nk[q])
				continue;
			if (query(w, (uint32_t)q)) {
				w->oom = 1;
				return NULL;
			}
		}
	return NULL;
}

static int pair_cmp(const void *pa, const void *pb)
{
	const plm_kmer_pair *a = pa, *b = pb;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

int plm_kmer_pairs(const char *const *seq, const uint32_t *len, size_t n,
		   const uint8_t *cls, const unsigned char *want, size_t ncls,
		   const plm_kmer_opts *o, plm_kmer_pair **out, size_t *nout,
		   plm_kmer_stats *st, char *err, size_t errlen)
{
	pthread_once(&aa_once, aa_init);
	index_t ix = { seq, len, n, cls, want, ncls, o, pow20(o->k), 0, 0, 0, 0 };
	int nth = o->threads < 1 ? 1 : o->threads, rc = -1;
	worker *w = calloc((size_t)nth, sizeof *w);
	pthread_t *th = calloc((size_t)nth, sizeof *th);
	memset(st, 0, sizeof *st);
	*out = NULL;
	*nout = 0;
	if (o->k < 3 || o->k > 6 || n > UINT32_MAX - 1) {
		snprintf(err, errlen, "k must be 3..6 and at most 4294967294 sequences");
		goto done;
	}
	if (!w || !th)
		goto oom;
	int b = build(&ix, st);
	if (b == -2) {
		snprintf(err, errlen, "index too large (over 2^32 entries): raise the sampling scale");
		goto done;
	}
	if (b)
		goto oom;
	for (int t = 0; t < nth; t++) {
		w[t].ix = &ix;
		w[t].id = t;
		w[t].nth = nth;
		w[t].acc = calloc(n ? n : 1, sizeof *w[t].acc);
		w[t].touched = malloc((n ? n : 1) * sizeof *w[t].touched);
		w[t].qmark = calloc(ix.m, sizeof *w[t].qmark);
		w[t].tmark = calloc(ix.m, sizeof *w[t].tmark);
		if (!w[t].acc || !w[t].touched || !w[t].qmark || !w[t].tmark)
			goto oom;
		st->bytes += (size_t)ix.m * 8 + n * 8;
	}
	for (int t = 1; t < nth; t++)
		if (pthread_create(&th[t], NULL, run, &w[t])) {
			nth = t;
			break;
		}
	run(&w[0]);
	for (int t = 1; t < nth; t++)
		pthread_join(th[t], NULL);
	size_t total = 0;
	for (int t = 0; t < nth; t++) {
		if (w[t].oom)
			goto oom;
		total += w[t].np;
		st->hits += w[t].st.hits;
		st->verified += w[t].st.verified;
		st->frequent += w[t].st.frequent;
	}
	*out = malloc((total ? total : 1) * sizeof **out);
	if (!*out)
		goto oom;
	for (int t = 0; t < nth; t++) {
		if (w[t].np)
			memcpy(*out + *nout, w[t].pairs, w[t].np * sizeof **out);
		*nout += w[t].np;
	}
	qsort(*out, *nout, sizeof **out, pair_cmp);
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	for (int t = 0; w && t < (o->threads < 1 ? 1 : o->threads); t++) {
		free(w[t].acc);
		free(w[t].touched);
		free(w[t].qmark);
		free(w[t].tmark);
		free(w[t].codes);
		free(w[t].pairs);
	}
	free(w);
	free(th);
	free(ix.off);
	free(ix.post);
	free(ix.nk);
	free(ix.full);
	return rc;
}
