/* bins.c — length bins and largest-remainder quotas (bins.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/bins.h"
#include "plm/alloc.h"

static int add_edge(plm_bins *b, size_t *cap, int64_t e)
{
	if (PLM_GROW(b->edge, *cap, b->n + 2))
		return -1;
	b->edge[b->n++] = e;    /* n counts edges until the end */
	return 0;
}

int plm_bins_parse(plm_bins *b, const char *spec, char *err, size_t errlen)
{
	size_t cap = 0;
	const char *p = spec;
	b->n = 0;
	b->edge = NULL;
	for (;;) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		char tmp[32], *end;
		if (len == 0 || len >= sizeof tmp) {
			snprintf(err, errlen, "edges '%s': bad edge '%.*s'", spec,
				 (int)(len > 20 ? 20 : len), p);
			goto fail;
		}
		memcpy(tmp, p, len);
		tmp[len] = 0;
		errno = 0;
		long long v = strtoll(tmp, &end, 10);
		if (*end || errno || v < 0) {
			snprintf(err, errlen, "edges '%s': '%s' is not a length (an integer >= 0)",
				 spec, tmp);
			goto fail;
		}
		if (b->n && v <= b->edge[b->n - 1]) {
			snprintf(err, errlen, "edges '%s': not strictly increasing at '%s'",
				 spec, tmp);
			goto fail;
		}
		if (add_edge(b, &cap, v)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (!q)
			break;
		p = q + 1;
	}
	if (b->n < 2) {
		snprintf(err, errlen, "edges '%s': need at least two edges (one bin)", spec);
		goto fail;
	}
	b->n--;
	return 0;
fail:
	plm_bins_free(b);
	return -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

int plm_lenhist_add(plm_lenhist *h, int64_t len)
{
	if (len < PLM_LENHIST_DENSE) {
		if ((size_t)len >= h->cap) {
			size_t nc = h->cap ? h->cap : 1024;
			while (nc <= (size_t)len)
				nc *= 2;
			uint64_t *c = realloc(h->c, nc * sizeof *c);
			if (!c)
				return -1;
			memset(c + h->cap, 0, (nc - h->cap) * sizeof *c);
			h->c = c;
			h->cap = nc;
		}
		h->c[len]++;
	} else {
		if (PLM_GROW(h->big, h->bigcap, h->nbig + 1))
			return -1;
		h->big[h->nbig++] = len;
		h->big_sorted = 0;
	}
	h->n++;
	return 0;
}

int64_t plm_lenhist_rank(plm_lenhist *h, uint64_t r)
{
	uint64_t acc = 0;
	for (size_t i = 0; i < h->cap; i++) {
		acc += h->c[i];
		if (acc > r)
			return (int64_t)i;
	}
	if (!h->big_sorted) {
		qsort(h->big, h->nbig, sizeof *h->big, cmp_i64);
		h->big_sorted = 1;
	}
	return h->big[r - acc];
}

static long bin_of(const plm_bins *b, int64_t x, int clamp)
{
	long k = plm_bins_find(b, x);
	if (k >= 0 || !clamp)
		return k;
	return k == -1 ? 0 : (long)b->n - 1;
}

void plm_lenhist_bin(plm_lenhist *h, const plm_bins *b, int clamp,
		     uint64_t *count, uint64_t *outside)
{
	uint64_t out = 0;
	memset(count, 0, b->n * sizeof *count);
	for (size_t i = 0; i < h->cap + h->nbig; i++) {
		int64_t x = i < h->cap ? (int64_t)i : h->big[i - h->cap];
		uint64_t c = i < h->cap ? h->c[i] : 1;
		if (!c)
			continue;
		long k = bin_of(b, x, clamp);
		if (k < 0)
			out += c;
		else
			count[k] += c;
	}
	if (outside)
		*outside = out;
}

void plm_lenhist_free(plm_lenhist *h)
{
	free(h->c);
	free(h->big);
	memset(h, 0, sizeof *h);
}

int plm_bins_quantiles(plm_bins *b, plm_lenhist *h, size_t nbins,
		       char *err, size_t errlen)
{
	size_t cap = 0;
	uint64_t n = h->n;
	b->n = 0;
	b->edge = NULL;
	if (n == 0 || nbins == 0) {
		snprintf(err, errlen, n ? "zero bins asked" : "no reference lengths");
		return -1;
	}
	if (add_edge(b, &cap, 0))
		goto oom;
	for (size_t k = 1; k <= nbins; k++) {
		int64_t e;
		if (k < nbins) {
			e = plm_lenhist_rank(h, (uint64_t)((unsigned __int128)k * n / nbins));
		} else if ((e = plm_lenhist_rank(h, n - 1)) == INT64_MAX) {
			/* Bins are half open: no int64 edge lies above it. */
			plm_bins_free(b);
			snprintf(err, errlen, "reference length %lld is too large "
				 "for a bin (at most %lld)", (long long)INT64_MAX,
				 (long long)INT64_MAX - 1);
			return -1;
		} else {
			e++;
		}
		if (e > b->edge[b->n - 1] && add_edge(b, &cap, e))
			goto oom;
	}
	if (b->n < 2) {         /* every reference length is 0 */
		if (add_edge(b, &cap, 1))
			goto oom;
	}
	b->n--;
	return 0;
oom:
	plm_bins_free(b);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void plm_bins_free(plm_bins *b)
{
	free(b->edge);
	b->edge = NULL;
	b->n = 0;
}

long plm_bins_find(const plm_bins *b, int64_t x)
{
	if (x < b->edge[0])
		return -1;
	if (x >= b->edge[b->n])
		return -2;
	/* Largest i with edge[i] <= x. */
	size_t lo = 0, hi = b->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->edge[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return (long)lo;
}

char *plm_bins_format(const plm_bins *b, char *buf, size_t len)
{
	size_t o = 0;
	if (len)
		buf[0] = 0;
	for (size_t i = 0; i <= b->n && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%lld", i ? "," : "",
				 (long long)b->edge[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return buf;
}

int plm_quota_lr(const uint64_t *count, size_t n, uint64_t total,
		 uint64_t *quota)
{
	typedef unsigned __int128 u128;
	u128 sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += count[i];
	if (sum == 0)
		return -1;
	uint64_t given = 0;
	for (size_t i = 0; i < n; i++) {
		quota[i] = (uint64_t)((u128)total * count[i] / sum);
		given += quota[i];
	}
	/* total - given < n: hand out one each, largest remainder first.
	 * Remainders are compared exactly as integers (total*count mod sum);
	 * O(n) per pass is fine for the few hundred bins a user asks for. */
	while (given < total) {
		size_t best = n;
		u128 best_r = 0;
		for (size_t i = 0; i < n; i++) {
			u128 r = (u128)total * count[i] % sum;
			/* a bin already topped up has quota > its floor */
			if ((uint64_t)((u128)total * count[i] / sum) != quota[i])
				continue;
			if (best == n || r > best_r) {
				best = i;
				best_r = r;
			}
		}
		quota[best]++;
		given++;
	}
	return 0;
}
