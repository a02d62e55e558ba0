/* aa.h — the 20 standard amino acids as codes 0..19, and k-mer codes.
 *
 * plm_aa_code[c] is the code of byte c in "ACDEFGHIKLMNPQRSTVWY" (either
 * case), -1 for any other byte: a constant table, safe from any thread.
 *
 * plm_kmer_roll reads a sequence one residue code at a time (a < 0 for
 * any other letter) and tells when it holds a k-mer: k standard residues
 * in a row since the start or the last other letter.  Its code is then
 * that k-mer as a base-20 number, first residue most significant, below
 * 20^k. */
#ifndef PLM_AA_H
#define PLM_AA_H

#include <stdint.h>

extern const signed char plm_aa_code[256];

typedef struct plm_kmer_roll {
	uint64_t code, mod;    /* the last residues' code; 20^k */
	int k, run;            /* run: standard residues in a row */
} plm_kmer_roll;

/* k >= 1; the code is exact while 20^(k+1) fits in 64 bits (k <= 13). */
static inline plm_kmer_roll plm_kmer_roll_start(int k)
{
	plm_kmer_roll r = { 0, 1, k, 0 };
	for (int i = 0; i < k; i++)
		r.mod *= 20;
	return r;
}

/* Adds residue code a; 1 when the last k residues are a k-mer. */
static inline int plm_kmer_roll_push(plm_kmer_roll *r, int a)
{
	if (a < 0) {
		r->run = 0;
		r->code = 0;
		return 0;
	}
	r->code = (r->code * 20 + (uint64_t)a) % r->mod;
	return ++r->run >= r->k;
}

#endif
