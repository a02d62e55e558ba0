/* kmer_index.h — near-duplicate pairs by k-mer containment, through an
 * inverted index instead of all pairs (leak-check).
 *
 * Measure.  K(s) is the set of distinct k-mers of s over the 20 standard
 * amino acids (case-insensitive; a k-mer holding any other letter is not
 * counted).  sim(a, b) = |K(a) ∩ K(b)| / min(|K(a)|, |K(b)|): the share of
 * the smaller k-mer set found in the larger one (containment of the shorter
 * sequence in the longer).  Undefined (the pair is never reported) when
 * either set is empty.  Under point substitutions at identity p a k-mer
 * survives with probability about p^k (k = 5: 0.95 at p = 0.99, 0.59 at
 * 0.9, 0.17 at 0.7).
 *
 * Search.  Only pairs across forbidden splits are wanted, so not every
 * sequence is indexed: the splits are divided into an indexed side S (the
 * cover of the forbidden split graph with the least sequence: "test" for
 * train:test,val:test) and a querying side Q, and work grows as |Q| × |S|
 * instead of N².  A sequence with at most short_max distinct k-mers is
 * "short", otherwise "long".  Three inverted indices (k-mer -> sequences):
 *   - short S sequences, all k-mers: every sequence with a forbidden
 *     partner in S queries it with all its k-mers; the count is
 *     |K(a) ∩ K(b)| exactly;
 *   - long S sequences, sampled k-mers only (FracMinHash: those whose mixed
 *     code is 0 mod scale): long sequences query it with their sampled
 *     k-mers; a pair becomes a candidate when the shared sampled count
 *     reaches a quarter of what a pair exactly at min_sim would expect (at
 *     least 1), and candidates are verified exactly;
 *   - short Q sequences, all k-mers: long S sequences query it (exact), so
 *     a short sequence never has to find a long one from sampled k-mers.
 * Memory: 4 bytes per indexed k-mer plus 4 bytes × (20^k + 1) per non-empty
 * index.  A pair within S is met from both sides and reported once.
 * K-mers held by more than max_occ sequences of one index (low-complexity
 * runs) are not used to find candidates; pairs whose count may be short
 * because of that are verified exactly.  The pairs found and their sims do
 * not depend on the thread count.  Each unordered pair is reported once,
 * with its exact sim. */
#ifndef PLM_KMER_INDEX_H
#define PLM_KMER_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_kmer_opts {
	int k;                 /* 3..6 */
	uint32_t scale;        /* >= 1; 1 = index every k-mer */
	uint32_t short_max;    /* fully indexed up to this many k-mers */
	uint32_t max_occ;      /* 0 = no limit */
	double min_sim;        /* report pairs with sim >= min_sim (> 0) */
	int threads;           /* >= 1 */
} plm_kmer_opts;

typedef struct plm_kmer_pair {
	uint32_t a, b;         /* a < b: indices into the sequence arrays */
	double sim;
} plm_kmer_pair;

typedef struct plm_kmer_stats {
	uint64_t postings;     /* index entries */
	uint64_t hits;         /* posting entries walked */
	uint64_t verified;     /* candidate pairs checked exactly */
	uint64_t frequent;     /* k-mers skipped for max_occ */
	uint64_t empty;        /* sequences without any k-mer */
	uint64_t indexed;      /* sequences in the indices */
	size_t bytes;          /* index memory */
} plm_kmer_stats;

/* The short_max of leak-check and seq-cluster: a sequence is fully
 * indexed while a pair at min_sim would share fewer than 8 sampled k-mers
 * with it (below that, sampling loses pairs): ceil(8 scale / min_sim),
 * at most 4e9.  The pairs found depend on it: tools whose results must
 * agree use this one value. */
uint32_t plm_kmer_short_max(uint32_t scale, double min_sim);

/* Exact sim of two sequences (for tests and checks); -1 when undefined. */
double plm_kmer_sim(const char *a, size_t la, const char *b, size_t lb, int k);

/* Pairs (a, b) with cls[a] != 0xff, cls[b] != 0xff and
 * want[cls[a] * ncls + cls[b]] != 0 (want must be symmetric) whose sim is at
 * least o->min_sim.  *out is malloc'd, sorted by (a, b): 16 bytes per
 * pair, up to 1.5 times that while it grows (plm_kmer_pairs_fn below does
 * without).  Sequences are seq[i][0..len[i]).  0, or -1 + err. */
int plm_kmer_pairs(const char *const *seq, const uint32_t *len, size_t n,
		   const uint8_t *cls, const unsigned char *want, size_t ncls,
		   const plm_kmer_opts *o, plm_kmer_pair **out, size_t *nout,
		   plm_kmer_stats *st, char *err, size_t errlen);

/* Takes the pairs found; nonzero stops the search. */
typedef int plm_kmer_pair_fn(void *arg, const plm_kmer_pair *p, size_t n);

/* The same pairs handed to fn as they are found, in batches of at most
 * 4096, in an order that depends on the threads: the caller sorts them if
 * it needs an order (with a total order on (a, b), the sorted result is
 * that of plm_kmer_pairs).  fn is called by one thread at a time (under a
 * lock), from any of the workers.  The pairs cost 16 bytes × 4096 per
 * thread instead of 16 bytes per pair.  0; -1 + err ("stopped by the
 * caller" when fn returned nonzero). */
int plm_kmer_pairs_fn(const char *const *seq, const uint32_t *len, size_t n,
		      const uint8_t *cls, const unsigned char *want,
		      size_t ncls, const plm_kmer_opts *o,
		      plm_kmer_pair_fn *fn, void *arg, plm_kmer_stats *st,
		      char *err, size_t errlen);

#endif
