/* stats.c — integer histograms with exact median, value counts. */
#include <stdlib.h>
#include <string.h>

#include "plm/stats.h"

#define DENSE_MAX ((size_t)1 << 20)

void plm_hist_init(plm_hist *h)
{
	memset(h, 0, sizeof *h);
}

void plm_hist_free(plm_hist *h)
{
	free(h->dense);
	plm_strmap_free(h->sparse);
	memset(h, 0, sizeof *h);
}

int plm_hist_add(plm_hist *h, int64_t x)
{
	if (x >= 0 && (uint64_t)x < DENSE_MAX) {
		if ((size_t)x >= h->ndense) {
			size_t n = h->ndense ? h->ndense : 1024;
			while (n <= (size_t)x)
				n *= 2;
			uint64_t *d = realloc(h->dense, n * sizeof *d);
			if (!d)
				return -1;
			memset(d + h->ndense, 0, (n - h->ndense) * sizeof *d);
			h->dense = d;
			h->ndense = n;
		}
		h->dense[x]++;
	} else {
		int added;
		if (!h->sparse && !(h->sparse = plm_strmap_new()))
			return -1;
		uint64_t *c = plm_strmap_put(h->sparse, &x, sizeof x, &added);
		if (!c)
			return -1;
		++*c;
	}
	h->n++;
	return 0;
}

struct vc {
	int64_t x;
	uint64_t c;
};

static int vc_cmp(const void *a, const void *b)
{
	const struct vc *p = a, *q = b;
	return (p->x > q->x) - (p->x < q->x);
}

/* Walks values in ascending order: negatives from the sparse part, the
 * dense part, then large values from the sparse part. */
struct walk {
	const plm_hist *h;
	const struct vc *sp;
	size_t nsp, si, di;
};

static int walk_next(struct walk *w, int64_t *x, uint64_t *c)
{
	if (w->si < w->nsp && w->sp[w->si].x < 0) {
		*x = w->sp[w->si].x;
		*c = w->sp[w->si++].c;
		return 1;
	}
	while (w->di < w->h->ndense && !w->h->dense[w->di])
		w->di++;
	if (w->di < w->h->ndense) {
		*x = (int64_t)w->di;
		*c = w->h->dense[w->di++];
		return 1;
	}
	if (w->si < w->nsp) {
		*x = w->sp[w->si].x;
		*c = w->sp[w->si++].c;
		return 1;
	}
	return 0;
}

int plm_hist_summary(const plm_hist *h, plm_summary *s)
{
	memset(s, 0, sizeof *s);
	s->n = h->n;
	if (!h->n)
		return 0;
	size_t nsp = h->sparse ? plm_strmap_size(h->sparse) : 0;
	struct vc *sp = malloc((nsp ? nsp : 1) * sizeof *sp);
	if (!sp)
		return -1;
	for (size_t i = 0; i < nsp; i++) {
		memcpy(&sp[i].x, plm_strmap_key(h->sparse, i, NULL), 8);
		sp[i].c = *plm_strmap_val(h->sparse, i);
	}
	qsort(sp, nsp, sizeof *sp, vc_cmp);
	/* 0-based ranks of the middle values. */
	uint64_t lo = (h->n - 1) / 2, hi = h->n / 2, seen = 0;
	int64_t xlo = 0, xhi = 0, x;
	uint64_t c;
	long double sum = 0;
	int first = 1;
	struct walk w = { h, sp, nsp, 0, 0 };
	while (walk_next(&w, &x, &c)) {
		if (first)
			s->min = x;
		first = 0;
		s->max = x;
		if (seen <= lo && lo < seen + c)
			xlo = x;
		if (seen <= hi && hi < seen + c)
			xhi = x;
		seen += c;
		sum += (long double)x * c;
	}
	free(sp);
	s->mean = (double)(sum / h->n);
	s->median = ((double)xlo + (double)xhi) / 2;
	return 0;
}

/* ---- value counts ----------------------------------------------------- */

int plm_counts_init(plm_counts *c)
{
	c->n = 0;
	c->map = plm_strmap_new();
	return c->map ? 0 : -1;
}

void plm_counts_free(plm_counts *c)
{
	plm_strmap_free(c->map);
	c->map = NULL;
}

int plm_counts_add(plm_counts *c, plm_keybuf *kb, const plm_val *v,
		   enum plm_type t)
{
	int added;
	plm_key_reset(kb);
	if (plm_key_add(kb, v, t))
		return -1;
	uint64_t *n = plm_strmap_put(c->map, kb->p, kb->n, &added);
	if (!n)
		return -1;
	++*n;
	c->n++;
	return 0;
}

/* qsort has no context argument in C11: the map being sorted. */
static const plm_strmap *sort_map;

/* Order of kinds: bool, int, str, then nil last. */
static int kind_rank(char tag)
{
	return tag == 'B' ? 0 : tag == 'I' ? 1 : tag == 'S' ? 2 : 3;
}

static int value_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	plm_val va, vb;
	enum plm_type ta, tb;
	size_t pa = 0, pb = 0;
	int ra = kind_rank(a[0]), rb = kind_rank(b[0]);
	if (ra != rb)
		return ra - rb;
	if (plm_key_next(a, an, &pa, &va, &ta) ||
	    plm_key_next(b, bn, &pb, &vb, &tb) || va.nil)
		return 0;
	if (ta != PLM_T_STR)
		return (va.i > vb.i) - (va.i < vb.i);
	size_t m = va.n < vb.n ? va.n : vb.n;
	int d = m ? memcmp(va.s, vb.s, m) : 0;
	if (d)
		return d;
	return (va.n > vb.n) - (va.n < vb.n);
}

static int order_cmp(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	plm_strmap *m = (plm_strmap *)sort_map;
	uint64_t ci = *plm_strmap_val(m, i), cj = *plm_strmap_val(m, j);
	if (ci != cj)
		return ci < cj ? 1 : -1;
	size_t ni, nj;
	const char *ki = plm_strmap_key(m, i, &ni);
	const char *kj = plm_strmap_key(m, j, &nj);
	int d = value_cmp(ki, ni, kj, nj);
	return d ? d : (i > j) - (i < j);
}

size_t *plm_counts_order(const plm_counts *c)
{
	size_t n = plm_strmap_size(c->map);
	size_t *o = malloc((n ? n : 1) * sizeof *o);
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = i;
	sort_map = c->map;
	qsort(o, n, sizeof *o, order_cmp);
	sort_map = NULL;
	return o;
}
