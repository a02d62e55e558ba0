/* bins.h — length bins: half-open intervals [edge[i], edge[i+1]) over
 * integer lengths, edges from a list or from quantiles of a reference,
 * and integer quotas per bin (largest remainder) that sum to a total. */
#ifndef PLM_BINS_H
#define PLM_BINS_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_bins {
	size_t n;               /* bins; edges holds n + 1 values */
	int64_t *edge;          /* strictly increasing */
} plm_bins;

/* "0,100,200" (at least two edges, strictly increasing, each >= 0).
 * 0, or -1 with a message in err. */
int plm_bins_parse(plm_bins *b, const char *spec, char *err, size_t errlen);
/* A length distribution: counts per length, dense up to the longest
 * length seen below 2^22, longer lengths kept in a list.  Memory: 8
 * bytes per distinct length up to the longest (about 280 KB for
 * proteins up to titin), not per record. */
typedef struct plm_lenhist {
	uint64_t *c;            /* c[len] for len < cap */
	size_t cap;
	int64_t *big;           /* lengths >= PLM_LENHIST_DENSE, unsorted */
	size_t nbig, bigcap;
	int big_sorted;
	uint64_t n;             /* lengths added */
} plm_lenhist;

#define PLM_LENHIST_DENSE ((int64_t)1 << 22)

/* len >= 0.  0, or -1 when out of memory. */
int plm_lenhist_add(plm_lenhist *h, int64_t len);
/* The r-th smallest length added (0-based, r < h->n). */
int64_t plm_lenhist_rank(plm_lenhist *h, uint64_t r);
/* Counts of the lengths in each bin of b into count[b->n]; lengths
 * outside the edges go to the end bins when clamp, else are counted in
 * *outside (may be NULL). */
void plm_lenhist_bin(plm_lenhist *h, const plm_bins *b, int clamp,
		     uint64_t *count, uint64_t *outside);
void plm_lenhist_free(plm_lenhist *h);

/* Edges from the reference lengths in h: edge 0 is 0, edge k
 * (0 < k < nbins) is the floor(k * n / nbins)-th smallest length
 * (0-based), the last edge is the largest length + 1.  Equal edges (ties)
 * are merged, so there may be fewer than nbins bins.  0, or -1 + err
 * (no lengths, a length of INT64_MAX: the last edge would not fit, out
 * of memory). */
int plm_bins_quantiles(plm_bins *b, plm_lenhist *h, size_t nbins,
		       char *err, size_t errlen);
void plm_bins_free(plm_bins *b);
/* Bin of length x: its index, -1 when x < edge[0], -2 when x >= edge[n]. */
long plm_bins_find(const plm_bins *b, int64_t x);
/* The edges as "0,100,200" into buf (truncated to len); returns buf. */
char *plm_bins_format(const plm_bins *b, char *buf, size_t len);

/* quota[i] = floor(total * count[i] / sum) plus one for the bins with the
 * largest remainders until the quotas sum to total exactly (Hamilton's
 * method); equal remainders go to the lower bin index first.  sum of
 * counts must be > 0.  0, or -1 when all counts are 0. */
int plm_quota_lr(const uint64_t *count, size_t n, uint64_t total,
		 uint64_t *quota);

#endif
