/* kmer_index.c — inverted k-mer indices for near-duplicate pairs across
 * splits (see kmer_index.h for the measure and the search).
 *
 * Cost model.  Walking an index costs, per query k-mer, the length of its
 * posting list, which grows with the number of indexed sequences: querying
 * everything against everything grows as N².  Only pairs across forbidden
 * splits matter, so one side S of every forbidden pair (the lightest vertex
 * cover of the split graph: "test" by default) is indexed and the other
 * side Q queries it: work ∝ |Q| × |S| / 20^k instead of N² / 20^k.
 *
 * Which k-mers each side holds keeps every count as exact (or as sampled)
 * as in the symmetric design, so the pairs found do not depend on S:
 *   SSHORT  short S records, all k-mers; every record with a partner in S
 *           queries it with all its k-mers: exact counts;
 *   SLONG   long S records, sampled k-mers; long records query it with
 *           their sampled k-mers only (an unsampled k-mer cannot match):
 *           the shared sampled count, then exact verification;
 *   QSHORT  short Q records, all k-mers; long S records query it with all
 *           their k-mers: exact (a short record cannot find a long one
 *           reliably from sampled k-mers, so the long side asks).
 * A pair with both records in S is met from both sides and kept once (the
 * larger index asks, or the long one when lengths differ in class). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/aa.h"
#include "plm/alloc.h"
#include "plm/kmer_index.h"

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

static inline int bit_get(const uint64_t *b, uint32_t i)
{
	return (int)(b[i >> 6] >> (i & 63)) & 1;
}

/* Distinct k-mer codes of s into out[] (room for n), setting their bits in
 * mark (all clear on entry; the caller clears them with unmark()).  The
 * code rolls: the oldest residue is subtracted instead of taking a
 * remainder per residue. */
static size_t kmers(const char *s, size_t n, int k, uint32_t m, uint64_t *mark,
		    uint32_t *out)
{
	uint32_t code = 0;
	int valid = 0;
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		int a = plm_aa_code[(unsigned char)s[i]];
		if (a < 0) {
			valid = 0;
			code = 0;
			continue;
		}
		code = code * 20 + (uint32_t)a;
		if (valid == k)
			code -= (uint32_t)plm_aa_code[(unsigned char)s[i - (size_t)k]] * m;
		else if (++valid < k)
			continue;
		uint64_t bit = 1ULL << (code & 63);
		if (!(mark[code >> 6] & bit)) {
			mark[code >> 6] |= bit;
			out[c++] = code;
		}
	}
	return c;
}

static void unmark(uint64_t *mark, const uint32_t *codes, size_t c)
{
	for (size_t j = 0; j < c; j++)
		mark[codes[j] >> 6] = 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted distinct codes (plm_kmer_sim: independent of the index code). */
static size_t sorted_set(const char *s, size_t n, int k, uint32_t **out)
{
	plm_kmer_roll r = plm_kmer_roll_start(k);
	uint32_t *v = malloc((n ? n : 1) * sizeof *v);
	size_t c = 0, u = 0;
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (plm_kmer_roll_push(&r, plm_aa_code[(unsigned char)s[i]]))
			v[c++] = (uint32_t)r.code;
	qsort(v, c, sizeof *v, u32_cmp);
	for (size_t i = 0; i < c; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	*out = v;
	return u;
}

uint32_t plm_kmer_short_max(uint32_t scale, double min_sim)
{
	double s = ceil(8.0 * (double)scale / min_sim);
	return s > 4e9 ? 4000000000U : (uint32_t)s;
}

double plm_kmer_sim(const char *a, size_t la, const char *b, size_t lb, int k)
{
	uint32_t *x, *y;
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

enum { SSHORT, SLONG, QSHORT, NIX };

typedef struct kidx {
	uint32_t nt;           /* indexed records */
	uint32_t *gid;         /* local id -> record */
	uint32_t *off;         /* m + 1 */
	uint32_t *post;        /* local ids */
	uint32_t *nk;          /* local id -> distinct k-mers */
	uint8_t *cls;          /* local id -> class */
	uint64_t *used;        /* codes with postings: skips off[] misses */
	uint64_t total;
	uint32_t min_nk;       /* least nk of the indexed records */
	int sampled, full;     /* holds sampled k-mers / all k-mers */
	int rc;                /* build: 0, -1 out of memory, -2 too large */
} kidx;

typedef struct ctx {
	const char *const *seq;
	const uint32_t *len;
	size_t n;
	const uint8_t *cls;
	const unsigned char *want;
	size_t ncls;
	const plm_kmer_opts *o;
	int k;
	uint32_t m;            /* 20^k */
	size_t words;          /* bitmap words over the codes */
	size_t maxlen;
	uint64_t *samp;        /* sampled codes */
	uint32_t *nk;          /* distinct k-mers per record */
	unsigned char in_s[256], part_s[256], part_q[256];
	kidx ix[NIX];
	/* the pairs go to fn in batches, one worker at a time */
	plm_kmer_pair_fn *fn;
	void *arg;
	pthread_mutex_t lock;
	int stop;              /* fn failed (under lock) */
} ctx;

static inline int is_full(const ctx *c, size_t i)
{
	return c->o->scale <= 1 || c->nk[i] <= c->o->short_max;
}

static inline int in_s(const ctx *c, size_t i)
{
	return c->cls[i] != 0xff && c->in_s[c->cls[i]];
}

static int member(const ctx *c, int which, size_t i)
{
	if (c->cls[i] == 0xff || !c->nk[i])
		return 0;
	switch (which) {
	case SSHORT: return in_s(c, i) && is_full(c, i);
	case SLONG: return in_s(c, i) && !is_full(c, i);
	default: return !in_s(c, i) && is_full(c, i) && c->part_s[c->cls[i]];
	}
}

typedef struct worker {
	ctx *c;
	int id, nth, which;    /* which: index to build (build_run) */
	uint64_t *qmark, *tmark;
	uint32_t *codes, *scodes, *tcodes, *touched, *ranges, *present;
	/* hits per target: 16 bits (half the cache lines of 32), or 32 for
	 * a query with more than 65,535 distinct k-mers in the index (acc32,
	 * only where a sequence is that long) */
	uint16_t *acc;
	uint32_t *acc32;
	plm_kmer_pair *pairs;  /* PAIR_BATCH waiting for fn */
	size_t np;
	plm_kmer_stats st;
	int oom, stopped;
} worker;

/* Pairs a worker holds before handing them on: bounds the memory of the
 * search whatever the number of pairs. */
#define PAIR_BATCH 4096

/* (Re)allocates the hit counters for maxnt targets; -1 when out of
 * memory. */
static int acc_alloc(worker *w, uint32_t maxnt)
{
	free(w->acc);
	free(w->acc32);
	w->acc32 = NULL;
	w->acc = calloc((size_t)maxnt + 1, sizeof *w->acc);
	if (w->c->maxlen > UINT16_MAX)
		w->acc32 = calloc((size_t)maxnt + 1, sizeof *w->acc32);
	return w->acc && (w->c->maxlen <= UINT16_MAX || w->acc32) ? 0 : -1;
}

static int worker_init(worker *w, ctx *c, uint32_t maxnt)
{
	w->c = c;
	w->qmark = calloc(c->words, sizeof *w->qmark);
	w->tmark = calloc(c->words, sizeof *w->tmark);
	w->codes = malloc((c->maxlen + 1) * sizeof *w->codes);
	w->scodes = malloc((c->maxlen + 1) * sizeof *w->scodes);
	w->tcodes = malloc((c->maxlen + 1) * sizeof *w->tcodes);
	w->ranges = malloc((2 * c->maxlen + 2) * sizeof *w->ranges);
	w->present = malloc((c->maxlen + 1) * sizeof *w->present);
	w->touched = malloc(((size_t)maxnt + 1) * sizeof *w->touched);
	w->pairs = malloc(PAIR_BATCH * sizeof *w->pairs);
	return w->qmark && w->tmark && w->codes && w->scodes && w->tcodes &&
	       w->ranges && w->present && !acc_alloc(w, maxnt) && w->touched &&
	       w->pairs ? 0 : -1;
}

static void worker_free(worker *w)
{
	free(w->qmark);
	free(w->tmark);
	free(w->codes);
	free(w->scodes);
	free(w->tcodes);
	free(w->ranges);
	free(w->present);
	free(w->acc);
	free(w->acc32);
	free(w->touched);
	free(w->pairs);
}

/* Runs fn on every worker, w[0] on the calling thread. */
static void run_all(worker *w, int nth, void *(*fn)(void *))
{
	pthread_t th[256];
	int started = 1;
	for (int t = 1; t < nth; t++) {
		if (pthread_create(&th[t], NULL, fn, &w[t]))
			break;
		started++;
	}
	/* threads that could not start: their share runs here */
	for (int t = started; t < nth; t++)
		fn(&w[t]);
	fn(&w[0]);
	for (int t = 1; t < started; t++)
		pthread_join(th[t], NULL);
}

/* Pass 0: distinct k-mers per involved record, blocks of 256 dealt
 * round-robin. */
static void *count_run(void *arg)
{
	worker *w = arg;
	ctx *c = w->c;
	for (size_t b = (size_t)w->id * 256; b < c->n; b += (size_t)w->nth * 256)
		for (size_t i = b; i < b + 256 && i < c->n; i++) {
			if (c->cls[i] == 0xff)
				continue;
			size_t k = kmers(c->seq[i], c->len[i], c->k, c->m, w->qmark, w->codes);
			unmark(w->qmark, w->codes, k);
			c->nk[i] = (uint32_t)k;
		}
	return NULL;
}

/* Builds index w->which (CSR: count, prefix sums, fill). */
static void *build_run(void *arg)
{
	worker *w = arg;
	ctx *c = w->c;
	kidx *ix = &c->ix[w->which];
	uint32_t nt = 0;
	for (size_t i = 0; i < c->n; i++)
		nt += member(c, w->which, i);
	ix->nt = nt;
	ix->rc = -1;
	ix->gid = malloc(((size_t)nt + 1) * sizeof *ix->gid);
	ix->nk = malloc(((size_t)nt + 1) * sizeof *ix->nk);
	ix->cls = malloc((size_t)nt + 1);
	ix->off = calloc((size_t)c->m + 1, sizeof *ix->off);
	ix->used = calloc(c->words, sizeof *ix->used);
	if (!ix->gid || !ix->nk || !ix->cls || !ix->off || !ix->used)
		return NULL;
	nt = 0;
	ix->min_nk = UINT32_MAX;
	for (size_t i = 0; i < c->n; i++)
		if (member(c, w->which, i)) {
			if (c->nk[i] < ix->min_nk)
				ix->min_nk = c->nk[i];
			ix->nk[nt] = c->nk[i];
			ix->cls[nt] = c->cls[i];
			ix->gid[nt++] = (uint32_t)i;
		}
	for (int pass = 0; pass < 2; pass++) {
		uint64_t total = 0;
		for (uint32_t t = 0; t < nt; t++) {
			uint32_t g = ix->gid[t];
			size_t k = kmers(c->seq[g], c->len[g], c->k, c->m, w->qmark, w->codes);
			unmark(w->qmark, w->codes, k);
			for (size_t j = 0; j < k; j++) {
				uint32_t code = w->codes[j];
				if (ix->sampled && !bit_get(c->samp, code))
					continue;
				if (pass == 0) {
					ix->off[code + 1]++;
					ix->used[code >> 6] |= 1ULL << (code & 63);
				} else
					ix->post[ix->off[code]++] = t;
				total++;
			}
		}
		if (pass == 0) {
			if (total > UINT32_MAX) {
				ix->rc = -2;
				return NULL;
			}
			for (uint32_t x = 0; x < c->m; x++)
				ix->off[x + 1] += ix->off[x];
			ix->post = malloc((total ? total : 1) * sizeof *ix->post);
			if (!ix->post)
				return NULL;
			ix->total = total;
		}
	}
	/* the fill advanced off[x] to the start of x + 1: shift back */
	memmove(ix->off + 1, ix->off, (size_t)c->m * sizeof *ix->off);
	ix->off[0] = 0;
	ix->rc = 0;
	return NULL;
}

/* Distinct k-mers of record t also in the query's set (qmark). */
static uint32_t verify(worker *w, uint32_t t)
{
	ctx *c = w->c;
	size_t k = kmers(c->seq[t], c->len[t], c->k, c->m, w->tmark, w->tcodes);
	uint32_t shared = 0;
	for (size_t j = 0; j < k; j++)
		shared += (uint32_t)bit_get(w->qmark, w->tcodes[j]);
	unmark(w->tmark, w->tcodes, k);
	w->st.verified++;
	return shared;
}

/* Hands the worker's pairs to fn; -1 once fn has failed (for any
 * worker: the search stops). */
static int flush(worker *w)
{
	ctx *c = w->c;
	int rc;
	pthread_mutex_lock(&c->lock);
	if (!c->stop && w->np && c->fn(c->arg, w->pairs, w->np))
		c->stop = 1;
	rc = c->stop ? -1 : 0;
	pthread_mutex_unlock(&c->lock);
	w->np = 0;
	if (rc)
		w->stopped = 1;
	return rc;
}

static int emit(worker *w, uint32_t q, uint32_t t, double sim)
{
	if (w->np == PAIR_BATCH && flush(w))
		return -1;
	w->pairs[w->np++] = (plm_kmer_pair){ q < t ? q : t, q < t ? t : q, sim };
	return 0;
}

/* The first i in [lo, hi) with v[i] >= x (v ascending there), or hi. */
static uint32_t first_at_least(const uint32_t *v, uint32_t lo, uint32_t hi,
			       uint32_t x)
{
	while (lo < hi) {
		uint32_t m = lo + (hi - lo) / 2;
		if (v[m] < x)
			lo = m + 1;
		else
			hi = m;
	}
	return lo;
}

/* Walks index which with the query's codes; counts hits per target, then
 * judges each target touched.  Two stages so that the misses overlap: the
 * posting ranges of the codes present (off[] prefetched ahead), then the
 * postings (each list's start prefetched ahead). */
static int walk(worker *w, int which, uint32_t q, const uint32_t *codes, size_t nc)
{
	ctx *c = w->c;
	const plm_kmer_opts *o = c->o;
	const kidx *ix = &c->ix[which];
	const unsigned char *want = c->want + (size_t)c->cls[q] * c->ncls;
	const uint32_t *off = ix->off, *post = ix->post;
	uint32_t *pc = w->present, *rg = w->ranges;
	size_t nr = 0, nt = 0;
	int skipped = 0;
	for (size_t j = 0; j < nc; j++)
		if (bit_get(ix->used, codes[j]))
			pc[nr++] = codes[j];
	for (size_t j = 0; j < nr; j++)
		__builtin_prefetch(&off[pc[j]]);
	int qs = in_s(c, q), qf = is_full(c, q);
	/* both in S: a pair met from both sides is kept where the query is
	 * the earlier record (see below), so targets before the query are not
	 * counted; postings are in record order: each list is cut to the
	 * targets after it */
	int half = qs && (which == SLONG || (which == SSHORT && qf));
	/* the first target after q */
	uint32_t after = half ? first_at_least(ix->gid, 0, ix->nt, q + 1) : 0;
	size_t nn = 0;
	for (size_t j = 0; j < nr; j++) {
		uint32_t b = off[pc[j]], e = off[pc[j] + 1];
		if (o->max_occ && e - b > o->max_occ) {
			skipped = 1;
			w->st.frequent++;
			continue;
		}
		if (half && (b = first_at_least(post, b, e, after)) == e)
			continue;
		rg[2 * nn] = b;
		rg[2 * nn + 1] = e;
		nn++;
	}
	/* a target's count is at most the query's k-mers walked */
	int big = nn > UINT16_MAX;
	for (size_t j = 0; j < nn; j++) {
		if (j + 4 < nn)
			__builtin_prefetch(&post[rg[2 * j + 8]]);
		uint32_t b = rg[2 * j], e = rg[2 * j + 1];
		w->st.hits += e - b;
		if (big) {
			for (uint32_t p = b; p < e; p++) {
				uint32_t t = post[p];
				if (w->acc32[t]++ == 0)
					w->touched[nt++] = t;
			}
			continue;
		}
		for (uint32_t p = b; p < e; p++) {
			uint32_t t = post[p];
			if (w->acc[t]++ == 0)
				w->touched[nt++] = t;
		}
	}
	int exact = ix->full && !skipped;
	uint32_t nkq = c->nk[q];
	/* the least count any target needs (the threshold grows with mn):
	 * most targets are met by one chance shared k-mer */
	uint32_t lo = 1;
	if (!exact) {
		uint32_t mn = nkq < ix->min_nk ? nkq : ix->min_nk;
		lo = (uint32_t)(o->min_sim * mn / (ix->sampled ? o->scale : 1) / 4);
		lo = lo ? lo : 1;
	}
	for (size_t j = 0; j < nt; j++) {
		uint32_t lt = w->touched[j], cnt;
		if (big)
			cnt = w->acc32[lt], w->acc32[lt] = 0;
		else
			cnt = w->acc[lt], w->acc[lt] = 0;
		if (cnt < lo || !want[ix->cls[lt]])
			continue;
		uint32_t mn = nkq < ix->nk[lt] ? nkq : ix->nk[lt];
		/* an exact count below the threshold needs nothing more */
		if (exact && (double)cnt / mn < o->min_sim)
			continue;
		uint32_t t = ix->gid[lt];
		if (t == q)
			continue;
		/* both in S: met from both sides, kept from one */
		if (qs && t < q && (which == SLONG || (which == SSHORT && qf)))
			continue;
		uint32_t shared;
		if (exact) {
			shared = cnt;
		} else {
			double expect = o->min_sim * mn / (ix->sampled ? o->scale : 1);
			uint32_t thr = (uint32_t)(expect / 4);   /* >= lo */
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

static int query(worker *w, uint32_t q)
{
	ctx *c = w->c;
	uint8_t cl = c->cls[q];
	int qs = c->in_s[cl], qf = is_full(c, q);
	int a = c->part_s[cl] && c->ix[SSHORT].nt;
	int b = c->part_s[cl] && !qf && c->ix[SLONG].nt;
	int d = qs && !qf && c->part_q[cl] && c->ix[QSHORT].nt;
	if (!a && !b && !d)
		return 0;
	size_t nc = kmers(c->seq[q], c->len[q], c->k, c->m, w->qmark, w->codes);
	int rc = 0;
	if (a)
		rc |= walk(w, SSHORT, q, w->codes, nc);
	if (b && !rc) {
		size_t ns = 0;
		for (size_t j = 0; j < nc; j++)
			if (bit_get(c->samp, w->codes[j]))
				w->scodes[ns++] = w->codes[j];
		rc |= walk(w, SLONG, q, w->scodes, ns);
	}
	if (d && !rc)
		rc |= walk(w, QSHORT, q, w->codes, nc);
	unmark(w->qmark, w->codes, nc);
	return rc;
}

static void *query_run(void *arg)
{
	worker *w = arg;
	ctx *c = w->c;
	/* blocks of 64 queries dealt round-robin keep the threads even */
	for (size_t b = (size_t)w->id * 64; b < c->n; b += (size_t)w->nth * 64)
		for (size_t q = b; q < b + 64 && q < c->n; q++) {
			if (c->cls[q] == 0xff || !c->nk[q])
				continue;
			if (query(w, (uint32_t)q)) {
				w->oom = !w->stopped;
				return NULL;
			}
		}
	flush(w);
	return NULL;
}

/* The indexed side: the cover of the forbidden split graph with the least
 * sequence (brute force over up to 16 involved splits; beyond that every
 * involved split is indexed, which is the symmetric search). */
static void choose_side(ctx *c)
{
	uint64_t wt[256] = { 0 };
	int inv[256], ni = 0;
	size_t ncls = c->ncls;
	for (size_t i = 0; i < c->n; i++)
		if (c->cls[i] != 0xff)
			wt[c->cls[i]] += c->len[i] + 1;
	for (size_t a = 0; a < ncls; a++)
		for (size_t b = 0; b < ncls; b++)
			if (c->want[a * ncls + b]) {
				inv[ni++] = (int)a;
				break;
			}
	uint32_t best = (1u << (ni < 16 ? ni : 16)) - 1;
	if (ni <= 16) {
		uint64_t bw = UINT64_MAX;
		for (uint32_t mask = 0; mask < (1u << ni); mask++) {
			uint64_t sum = 0;
			int ok = 1;
			for (int x = 0; x < ni && ok; x++) {
				if (mask >> x & 1) {
					sum += wt[inv[x]];
					continue;
				}
				for (int y = 0; y < ni; y++)
					if (!(mask >> y & 1) && c->want[inv[x] * ncls + inv[y]])
						ok = 0;
			}
			if (ok && sum < bw) {
				bw = sum;
				best = mask;
			}
		}
	}
	for (int x = 0; x < ni; x++)
		c->in_s[inv[x]] = ni > 16 || (best >> x & 1);
	for (int x = 0; x < ni; x++)
		for (int y = 0; y < ni; y++)
			if (c->want[inv[x] * ncls + inv[y]]) {
				if (c->in_s[inv[y]])
					c->part_s[inv[x]] = 1;
				else
					c->part_q[inv[x]] = 1;
			}
}

static int pair_cmp(const void *pa, const void *pb)
{
	const plm_kmer_pair *a = pa, *b = pb;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

int plm_kmer_pairs_fn(const char *const *seq, const uint32_t *len, size_t n,
		      const uint8_t *cls, const unsigned char *want,
		      size_t ncls, const plm_kmer_opts *o,
		      plm_kmer_pair_fn *fn, void *arg, plm_kmer_stats *st,
		      char *err, size_t errlen)
{
	ctx c = { .seq = seq, .len = len, .n = n, .cls = cls, .want = want,
		  .ncls = ncls, .o = o, .k = o->k, .fn = fn, .arg = arg };
	int nth = o->threads < 1 ? 1 : o->threads > 256 ? 256 : o->threads;
	int rc = -1;
	worker *w = calloc((size_t)nth + NIX, sizeof *w);
	memset(st, 0, sizeof *st);
	if (pthread_mutex_init(&c.lock, NULL)) {
		free(w);
		snprintf(err, errlen, "cannot make a lock");
		return -1;
	}
	if (o->k < 3 || o->k > 6 || n > UINT32_MAX - 1 || ncls > 255) {
		snprintf(err, errlen, "k must be 3..6, at most 4294967294 sequences and 255 splits");
		goto done;
	}
	if (!w)
		goto oom;
	c.m = pow20(o->k);
	c.words = ((size_t)c.m + 63) / 64;
	for (size_t i = 0; i < n; i++)
		if (cls[i] != 0xff && len[i] > c.maxlen)
			c.maxlen = len[i];
	c.samp = calloc(c.words, sizeof *c.samp);
	c.nk = calloc(n ? n : 1, sizeof *c.nk);
	if (!c.samp || !c.nk)
		goto oom;
	for (uint32_t x = 0; x < c.m; x++)
		if (o->scale <= 1 || mix32(x) % o->scale == 0)
			c.samp[x >> 6] |= 1ULL << (x & 63);
	choose_side(&c);
	c.ix[SLONG].sampled = 1;
	c.ix[SSHORT].full = c.ix[QSHORT].full = 1;

	/* distinct k-mers per record, then the three indices */
	for (int t = 0; t < nth; t++) {
		w[t].id = t;
		w[t].nth = nth;
		if (worker_init(&w[t], &c, 0))
			goto oom;
	}
	run_all(w, nth, count_run);
	for (size_t i = 0; i < n; i++)
		st->empty += cls[i] != 0xff && !c.nk[i];
	worker *bw = w + nth;
	for (int x = 0; x < NIX; x++) {
		bw[x].which = x;
		bw[x].id = x;
		bw[x].nth = NIX;
		if (worker_init(&bw[x], &c, 0))
			goto oom;
	}
	/* one thread per index (they differ in size; at most three) */
	run_all(bw, nth > 1 ? NIX : 1, build_run);
	for (int x = 1; nth == 1 && x < NIX; x++)
		build_run(&bw[x]);
	uint32_t maxnt = 0;
	for (int x = 0; x < NIX; x++) {
		worker_free(&bw[x]);
		memset(&bw[x], 0, sizeof bw[x]);
		if (c.ix[x].rc == -2) {
			snprintf(err, errlen, "index too large (over 2^32 entries): raise the sampling scale");
			goto done;
		}
		if (c.ix[x].rc)
			goto oom;
		if (c.ix[x].nt > maxnt)
			maxnt = c.ix[x].nt;
		st->postings += c.ix[x].total;
		st->bytes += ((size_t)c.m + 1) * 4 + c.words * 8 +
			     c.ix[x].total * 4 + (size_t)c.ix[x].nt * 9;
		st->indexed += c.ix[x].nt;
	}
	st->bytes += c.words * 8 + n * 4;

	for (int t = 0; t < nth; t++) {
		free(w[t].touched);
		w[t].touched = malloc(((size_t)maxnt + 1) * sizeof *w[t].touched);
		if (acc_alloc(&w[t], maxnt) || !w[t].touched)
			goto oom;
		st->bytes += c.words * 16 +
			     (size_t)maxnt * (w[t].acc32 ? 10 : 6) +
			     c.maxlen * 12 + PAIR_BATCH * sizeof *w[t].pairs;
	}
	run_all(w, nth, query_run);
	for (int t = 0; t < nth; t++) {
		if (w[t].oom)
			goto oom;
		st->hits += w[t].st.hits;
		st->verified += w[t].st.verified;
		st->frequent += w[t].st.frequent;
	}
	if (c.stop) {
		snprintf(err, errlen, "stopped by the caller");
		goto done;
	}
	rc = 0;
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	for (int t = 0; w && t < nth + NIX; t++)
		worker_free(&w[t]);
	free(w);
	for (int x = 0; x < NIX; x++) {
		free(c.ix[x].gid);
		free(c.ix[x].off);
		free(c.ix[x].post);
		free(c.ix[x].nk);
		free(c.ix[x].cls);
		free(c.ix[x].used);
	}
	free(c.samp);
	free(c.nk);
	pthread_mutex_destroy(&c.lock);
	return rc;
}

/* The array form: the pairs collected, then sorted. */
struct collect {
	plm_kmer_pair *p;
	size_t n, cap;
	int oom;
};

static int collect(void *arg, const plm_kmer_pair *p, size_t n)
{
	struct collect *a = arg;
	if (PLM_GROW(a->p, a->cap, a->n + n))
		return a->oom = -1;
	memcpy(a->p + a->n, p, n * sizeof *p);
	a->n += n;
	return 0;
}

int plm_kmer_pairs(const char *const *seq, const uint32_t *len, size_t n,
		   const uint8_t *cls, const unsigned char *want, size_t ncls,
		   const plm_kmer_opts *o, plm_kmer_pair **out, size_t *nout,
		   plm_kmer_stats *st, char *err, size_t errlen)
{
	struct collect a = { 0 };
	*out = NULL;
	*nout = 0;
	if (plm_kmer_pairs_fn(seq, len, n, cls, want, ncls, o, collect, &a,
			      st, err, errlen)) {
		if (a.oom)
			snprintf(err, errlen, "out of memory");
		free(a.p);
		return -1;
	}
	if (a.n)
		qsort(a.p, a.n, sizeof *a.p, pair_cmp);
	*out = a.p ? a.p : malloc(sizeof *a.p);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*nout = a.n;
	return 0;
}
