/* kmer.h — composition features over the 20 standard amino acids
 * (kmer-feat): a baseline that needs no model weights.
 *
 * Alphabet, in this order: ACDEFGHIKLMNPQRSTVWY (index 0..19); lower case
 * letters count as their upper-case residue.  Any other byte (X, B, Z, U,
 * O, '*', '-') is skipped: it is not a residue for the composition, and a
 * k-mer window holding it is not counted.
 *
 * Blocks, always in this order, each normalised on its own to
 * frequencies (count / counted windows, computed in double, stored as
 * float; a block with no window is all zeros):
 *   aac   20 values: residue a
 *   dpc   400 values: dipeptide a b at index 20 * a + b
 *   kmer  k-mers of length k: the k-mer's base-20 number
 *         x = sum a_i * 20^(k-1-i) (first residue most significant) is the
 *         index when dim is 0 (20^k values, k <= 4); else it is hashed into
 *         dim buckets: ((x * 0x9E3779B97F4A7C15) mod 2^64 >> 32) mod dim
 *         (k <= 14). */
#ifndef PLM_KMER_H
#define PLM_KMER_H

#include <stddef.h>
#include <stdint.h>

#define PLM_KMER_MAX_K 14
#define PLM_KMER_MAX_PLAIN_K 4

typedef struct plm_kmer_spec {
	int aac, dpc;       /* blocks on/off */
	int k;              /* 0: no k-mer block */
	uint32_t dim;       /* k-mer buckets; 0 = 20^k, not hashed */
} plm_kmer_spec;

typedef struct plm_kmer_stats {
	uint64_t skipped;   /* non-standard residues seen */
	int empty;          /* blocks of this sequence with no window */
} plm_kmer_stats;

/* Residue index 0..19, or -1. */
int plm_aa_index(int c);
/* Total number of values, or 0 with err for an impossible spec. */
uint32_t plm_kmer_dim(const plm_kmer_spec *s, char *err, size_t errlen);
/* Features of seq[0..n) into out[plm_kmer_dim(s)].  st may be NULL. */
void plm_kmer_feat(const plm_kmer_spec *s, const char *seq, size_t n,
		   float *out, plm_kmer_stats *st);

#endif
