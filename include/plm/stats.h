/* stats.h — exact summaries of a stream of integers, and value counts.
 *
 * plm_hist counts each distinct value (a dense array of counters for
 * 0 <= x < 1<<20, grown on demand up to the largest value seen, and a
 * plm_strmap for values outside that range), so min, max, mean and the
 * exact median come out without storing one number per record.  Memory:
 * 8 bytes per counter up to the largest value below 1<<20 (at most 8 MiB),
 * plus about 50 bytes per distinct value outside it.
 *
 * plm_counts counts encoded values (rows.h keys) and sorts them by count
 * (descending), then by value (ints numerically, str bytewise, nil
 * last). */
#ifndef PLM_STATS_H
#define PLM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "plm/map.h"
#include "plm/rows.h"

typedef struct plm_hist {
	uint64_t *dense;        /* dense[x] = count of x, x < ndense */
	size_t ndense;
	plm_strmap *sparse;     /* 8-byte little-endian int64 → count */
	uint64_t n;             /* values added */
} plm_hist;

typedef struct plm_summary {
	uint64_t n;
	int64_t min, max;
	double mean, median;    /* median: mean of the two middle values
	                         * when n is even (as numpy, Python) */
} plm_summary;

void plm_hist_init(plm_hist *h);
void plm_hist_free(plm_hist *h);
/* 0 or -1 (no memory). */
int plm_hist_add(plm_hist *h, int64_t x);
/* Fills s; n = 0 leaves the rest zero.  0 or -1 (no memory). */
int plm_hist_summary(const plm_hist *h, plm_summary *s);

typedef struct plm_counts {
	plm_strmap *map;        /* encoded value → count */
	uint64_t n;             /* values added */
} plm_counts;

int plm_counts_init(plm_counts *c);
void plm_counts_free(plm_counts *c);
/* Count v (type t: str, int or bool).  0 or -1 (no memory / bad type). */
int plm_counts_add(plm_counts *c, plm_keybuf *kb, const plm_val *v,
		   enum plm_type t);
/* Indices into the map (plm_strmap_key/val) in report order: malloc'd
 * array of plm_strmap_size entries (NULL only when out of memory and the
 * map is non-empty). */
size_t *plm_counts_order(const plm_counts *c);

#endif
