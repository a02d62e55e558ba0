/* align.h — local alignment of two protein sequences (Smith-Waterman with
 * affine gaps, Gotoh), for the identity of the best local alignment.
 *
 * Scores: NCBI's BLOSUM62; a letter outside the 20 standard amino acids
 * scores as X; a gap of g residues costs
 * open + g * extend (BLAST's and MMseqs2's 11 and 1).  The alignment is
 * the one ending at the first cell (in row-major order) of the best
 * score; along it the path taken at each cell prefers the match, then the
 * gap in b, then the gap in a.  Identity = identical columns / columns
 * (gaps included), as MMseqs2's pident.  Bit score = (lambda S - ln K) /
 * ln 2 with BLAST's gapped BLOSUM62 11/1 parameters (lambda 0.267, K
 * 0.041).  Cost: la * lb cells; memory 49 bytes * (lb + 1) in ws. */
#ifndef PLM_ALIGN_H
#define PLM_ALIGN_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_aln {
	int32_t score;          /* raw, >= 0 */
	uint32_t cols, ident;   /* 0, 0 when score is 0 */
	uint32_t alen_a, alen_b;        /* residues of a, of b, aligned */
	double bits;
} plm_aln;

/* Scratch space, reused between calls; zero-initialise, free with
 * plm_align_ws_free. */
typedef struct plm_align_ws {
	void *cells, *diag, *trace;
	size_t cap, dcap, tcap;
	size_t trace_max;       /* 0: PLM_ALIGN_TRACE_MAX */
} plm_align_ws;

/* The most cells an alignment keeps a direction byte for; a larger one
 * carries what its paths have aligned through the matrix instead (the
 * same result, slower). */
#define PLM_ALIGN_TRACE_MAX ((size_t)1 << 24)

/* plm_align_diag: a k-mer held more often by a is left out; the margin
 * added to the band */
#define PLM_ALIGN_MAXREP 4
#define PLM_ALIGN_SLACK 16

/* BLOSUM62 score of residues x and y (any bytes). */
int plm_blosum62(int x, int y);

/* The best local alignment of a and b; 0, or -1 when out of memory. */
int plm_align_local(const char *a, size_t la, const char *b, size_t lb,
		    int open, int extend, plm_align_ws *ws, plm_aln *out);

/* The same, with the path kept within the band of diagonals
 * dlo <= j - i <= dhi (i in a, j in b, from 0): cost la * (dhi - dlo + 1)
 * cells at most.  The score is at most the unbanded one. */
int plm_align_band(const char *a, size_t la, const char *b, size_t lb,
		   long dlo, long dhi, int open, int extend, plm_align_ws *ws,
		   plm_aln *out);

/* The band where a and b's shared k-mers (20 standard letters; a k-mer
 * held more than PLM_ALIGN_MAXREP times by a, a low-complexity run, is
 * left out) lie densest: of the windows of diagonals j - i at most
 * 48 + min(la, lb) / 10 wide, the first (lowest) holding the most hits,
 * cut to its outermost hits and widened by PLM_ALIGN_SLACK on each side.
 * Returns the hits in it; 0 when there is none, the band then being every
 * diagonal; -1 when out of memory.  Cost: la + lb, memory 20 bytes per
 * residue of the two. */
long plm_align_diag(const char *a, size_t la, const char *b, size_t lb, int k,
		    plm_align_ws *ws, long *dlo, long *dhi);

void plm_align_ws_free(plm_align_ws *ws);

#endif
