/* align.c — Smith-Waterman-Gotoh local alignment (align.h). */
#include "plm/align.h"

#include <math.h>
#include <stdlib.h>

#include "plm/aa.h"

/* NCBI's BLOSUM62 in the order of plm_aa_code (ACDEFGHIKLMNPQRSTVWY),
 * then X. */
static const signed char B62[21][21] = {
	/*A  C   D   E   F   G   H   I   K   L   M   N   P   Q   R   S   T   V   W   Y   X */
	{   4,  0, -2, -1, -2,  0, -2, -1, -1, -1, -1, -2, -1, -1, -1,  1,  0,  0, -3, -2,  0 }, /* A */
	{   0,  9, -3, -4, -2, -3, -3, -1, -3, -1, -1, -3, -3, -3, -3, -1, -1, -1, -2, -2, -2 }, /* C */
	{  -2, -3,  6,  2, -3, -1, -1, -3, -1, -4, -3,  1, -1,  0, -2,  0, -1, -3, -4, -3, -1 }, /* D */
	{  -1, -4,  2,  5, -3, -2,  0, -3,  1, -3, -2,  0, -1,  2,  0,  0, -1, -2, -3, -2, -1 }, /* E */
	{  -2, -2, -3, -3,  6, -3, -1,  0, -3,  0,  0, -3, -4, -3, -3, -2, -2, -1,  1,  3, -1 }, /* F */
	{   0, -3, -1, -2, -3,  6, -2, -4, -2, -4, -3,  0, -2, -2, -2,  0, -2, -3, -2, -3, -1 }, /* G */
	{  -2, -3, -1,  0, -1, -2,  8, -3, -1, -3, -2,  1, -2,  0,  0, -1, -2, -3, -2,  2, -1 }, /* H */
	{  -1, -1, -3, -3,  0, -4, -3,  4, -3,  2,  1, -3, -3, -3, -3, -2, -1,  3, -3, -1, -1 }, /* I */
	{  -1, -3, -1,  1, -3, -2, -1, -3,  5, -2, -1,  0, -1,  1,  2,  0, -1, -2, -3, -2, -1 }, /* K */
	{  -1, -1, -4, -3,  0, -4, -3,  2, -2,  4,  2, -3, -3, -2, -2, -2, -1,  1, -2, -1, -1 }, /* L */
	{  -1, -1, -3, -2,  0, -3, -2,  1, -1,  2,  5, -2, -2,  0, -1, -1, -1,  1, -1, -1, -1 }, /* M */
	{  -2, -3,  1,  0, -3,  0,  1, -3,  0, -3, -2,  6, -2,  0,  0,  1,  0, -3, -4, -2, -1 }, /* N */
	{  -1, -3, -1, -1, -4, -2, -2, -3, -1, -3, -2, -2,  7, -1, -2, -1, -1, -2, -4, -3, -2 }, /* P */
	{  -1, -3,  0,  2, -3, -2,  0, -3,  1, -2,  0,  0, -1,  5,  1,  0, -1, -2, -2, -1, -1 }, /* Q */
	{  -1, -3, -2,  0, -3, -2,  0, -3,  2, -2, -1,  0, -2,  1,  5, -1, -1, -3, -3, -2, -1 }, /* R */
	{   1, -1,  0,  0, -2,  0, -1, -2,  0, -2, -1,  1, -1,  0, -1,  4,  1, -2, -3, -2,  0 }, /* S */
	{   0, -1, -1, -1, -2, -2, -2, -1, -1, -1, -1,  0, -1, -1, -1,  1,  5,  0, -2, -2,  0 }, /* T */
	{   0, -1, -3, -2, -1, -3, -3,  3, -2,  1,  1, -3, -2, -2, -3, -2,  0,  4, -3, -1, -1 }, /* V */
	{  -3, -2, -4, -3,  1, -2, -2, -3, -3, -2, -1, -4, -4, -2, -3, -3, -2, -3, 11,  2, -2 }, /* W */
	{  -2, -2, -3, -2,  3, -3,  2, -1, -2, -1, -1, -2, -3, -1, -2, -2, -2, -1,  2,  7, -1 }, /* Y */
	{   0, -2, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -2, -1, -1,  0,  0, -1, -2, -1, -1 }, /* X */
};

static inline int code(int c)
{
	int x = plm_aa_code[(unsigned char)c];
	return x < 0 ? 20 : x;
}

int plm_blosum62(int x, int y)
{
	return B62[code(x)][code(y)];
}

/* A path's score and what it has aligned. */
typedef struct {
	int32_t s;
	uint32_t id, n;
} cell;

#define NEG (INT32_MIN / 2)

int plm_align_local(const char *a, size_t la, const char *b, size_t lb,
		    int open, int extend, plm_align_ws *ws, plm_aln *out)
{
	return plm_align_band(a, la, b, lb, -(long)la, (long)lb, open, extend,
			      ws, out);
}

int plm_align_band(const char *a, size_t la, const char *b, size_t lb,
		   long dlo, long dhi, int open, int extend, plm_align_ws *ws,
		   plm_aln *out)
{
	*out = (plm_aln){ 0, 0, 0, 0.0 };
	if (!la || !lb || dlo > dhi)
		return 0;
	if (ws->cap < lb + 1) {
		size_t sz = (lb + 1) * (2 * sizeof(cell) + 1);
		void *p = realloc(ws->cells, sz);
		if (!p)
			return -1;
		ws->cells = p;
		ws->cap = lb + 1;
	}
	/* h: row i-1 (then i) of the best path into each cell; e: the best
	 * ending in a gap in b (a residue of a against nothing).  Cells out
	 * of the band are the empty path (h) and unreachable (e). */
	cell *h = ws->cells, *e = h + (lb + 1);
	unsigned char *bc = (unsigned char *)(e + (lb + 1));
	for (size_t j = 0; j < lb; j++)
		bc[j] = (unsigned char)code(b[j]);
	for (size_t j = 0; j <= lb; j++) {
		h[j] = (cell){ 0, 0, 0 };
		e[j] = (cell){ NEG, 0, 0 };
	}
	const int32_t go = open + extend, ge = extend;
	cell best = { 0, 0, 0 };
	for (size_t i = 0; i < la; i++) {
		/* columns j (1-based) with dlo <= (j - 1) - i <= dhi */
		long jlo = (long)i + dlo + 1, jhi = (long)i + dhi + 1;
		if (jlo < 1)
			jlo = 1;
		if (jhi > (long)lb)
			jhi = (long)lb;
		if (jlo > jhi) {
			if (jlo > (long)lb)
				break;
			continue;
		}
		int ai = code(a[i]);
		const signed char *row = B62[ai];
		/* the cell up-left of the first; the one to its left */
		cell diag = h[jlo - 1], left = { 0, 0, 0 }, f = { NEG, 0, 0 };
		for (long j = jlo; j <= jhi; j++) {
			cell up = h[j];
			/* gap in b: from the cell above */
			cell eo = { up.s - go, up.id, up.n + 1 };
			cell ee = { e[j].s - ge, e[j].id, e[j].n + 1 };
			e[j] = ee.s > eo.s ? ee : eo;
			/* gap in a: from the cell to the left */
			cell fo = { left.s - go, left.id, left.n + 1 };
			cell fe = { f.s - ge, f.id, f.n + 1 };
			f = fe.s > fo.s ? fe : fo;
			int bj = bc[j - 1];
			cell m = { diag.s + row[bj],
				   diag.id + (ai == bj && ai < 20), diag.n + 1 };
			cell c = m;
			if (e[j].s > c.s)
				c = e[j];
			if (f.s > c.s)
				c = f;
			if (c.s <= 0)
				c = (cell){ 0, 0, 0 };
			diag = up;
			h[j] = left = c;
			if (c.s > best.s)
				best = c;
		}
		/* the cell right of the band was never in it: it stays empty,
		 * its e unreachable, for the next row */
	}
	out->score = best.s;
	out->cols = best.n;
	out->ident = best.id;
	out->bits = best.s > 0 ?
		(0.267 * best.s - log(0.041)) / log(2.0) : 0.0;
	return 0;
}

/* k-mer occurrences as (code << 32 | position), sorted */
static size_t kmer_pos(const char *s, size_t l, int k, uint64_t *out)
{
	size_t n = 0;
	uint32_t code = 0, run = 0, mod = 1;
	for (int i = 0; i < k; i++)
		mod *= 20;
	for (size_t i = 0; i < l; i++) {
		int c = plm_aa_code[(unsigned char)s[i]];
		if (c < 0) {
			run = 0, code = 0;
			continue;
		}
		code = (code * 20 + (uint32_t)c) % mod;
		if (++run >= (uint32_t)k)
			out[n++] = (uint64_t)code << 32 | (uint64_t)(i + 1 - k);
	}
	return n;
}

static int u64_cmp(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
	return a < b ? -1 : a > b;
}

static int long_cmp(const void *pa, const void *pb)
{
	long a = *(const long *)pa, b = *(const long *)pb;
	return a < b ? -1 : a > b;
}

long plm_align_diag(const char *a, size_t la, const char *b, size_t lb, int k,
		    plm_align_ws *ws, long *dlo, long *dhi)
{
	*dlo = -(long)la, *dhi = (long)lb;
	if (k < 1 || k > 6 || la < (size_t)k || lb < (size_t)k)
		return 0;
	size_t need = (la + lb) * sizeof(uint64_t) + 2 * PLM_ALIGN_MAXHITS *
		      sizeof(long);
	if (ws->dcap < need) {
		void *p = realloc(ws->diag, need);
		if (!p)
			return -1;
		ws->diag = p;
		ws->dcap = need;
	}
	uint64_t *pa = ws->diag, *pb = pa + la;
	long *d = (long *)(pb + lb);
	size_t na = kmer_pos(a, la, k, pa), nb = kmer_pos(b, lb, k, pb);
	qsort(pa, na, sizeof *pa, u64_cmp);
	qsort(pb, nb, sizeof *pb, u64_cmp);
	size_t nd = 0;
	for (size_t i = 0, j = 0; i < na && j < nb;) {
		uint64_t ca = pa[i] >> 32, cb = pb[j] >> 32;
		if (ca != cb) {
			ca < cb ? i++ : j++;
			continue;
		}
		size_t i2 = i, j2 = j;
		while (i2 < na && pa[i2] >> 32 == ca)
			i2++;
		while (j2 < nb && pb[j2] >> 32 == ca)
			j2++;
		/* a k-mer repeated in both (a low-complexity run) says little
		 * about the diagonal */
		if ((i2 - i) * (j2 - j) <= 16)
			for (size_t x = i; x < i2; x++)
				for (size_t y = j; y < j2; y++)
					if (nd < PLM_ALIGN_MAXHITS)
						d[nd++] = (long)(uint32_t)pb[y] -
							  (long)(uint32_t)pa[x];
		i = i2, j = j2;
	}
	if (!nd)
		return 0;
	qsort(d, nd, sizeof *d, long_cmp);
	/* the window of diagonals holding the most hits */
	long w = 48 + (long)((la < lb ? la : lb) / 10);
	size_t bi = 0, bn = 0;
	for (size_t i = 0, j = 0; i < nd; i++) {
		while (d[i] - d[j] > w)
			j++;
		if (i - j + 1 > bn)
			bn = i - j + 1, bi = j;
	}
	*dlo = d[bi] - PLM_ALIGN_SLACK;
	*dhi = d[bi + bn - 1] + PLM_ALIGN_SLACK;
	return (long)bn;
}

void plm_align_ws_free(plm_align_ws *ws)
{
	free(ws->diag);
	ws->diag = NULL;
	ws->dcap = 0;
	free(ws->cells);
	ws->cells = NULL;
	ws->cap = 0;
}
