/* align.c — Smith-Waterman-Gotoh local alignment (align.h). */
#include "plm/align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* A path's score, and what it has aligned: identical columns << 32 |
 * columns. */
typedef struct {
	int32_t s;
	uint64_t t, u;          /* u: residues of a << 32 | residues of b */
} cell;

#define NEG (INT32_MIN / 2)
#define COL 1ull
#define IDCOL ((1ull << 32) | 1ull)
#define RA (1ull << 32)
#define RB 1ull

int plm_align_local(const char *a, size_t la, const char *b, size_t lb,
		    int open, int extend, plm_align_ws *ws, plm_aln *out)
{
	return plm_align_band(a, la, b, lb, -(long)la, (long)lb, open, extend,
			      ws, out);
}

/* *buf holds at least need bytes (*cap: what it holds); -1 when out of
 * memory. */
static int grow(void **buf, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	void *p = realloc(*buf, need);
	if (!p)
		return -1;
	*buf = p;
	*cap = need;
	return 0;
}

/* Row i's columns j (1-based) in the band, dlo <= (j - 1) - i <= dhi,
 * as jlo..jhi: 1; 0 when the row has none; -1 when no later row has any
 * either. */
static inline int band_row(size_t i, long dlo, long dhi, size_t lb, long *jlo,
			   long *jhi)
{
	long lo = (long)i + dlo + 1, hi = (long)i + dhi + 1;
	if (lo < 1)
		lo = 1;
	if (hi > (long)lb)
		hi = (long)lb;
	*jlo = lo, *jhi = hi;
	if (lo <= hi)
		return 1;
	return lo > (long)lb ? -1 : 0;
}

static int band_carry(const char *a, size_t la, const char *b, size_t lb,
		      long dlo, long dhi, int open, int extend,
		      plm_align_ws *ws, plm_aln *out)
{
	if (grow(&ws->cells, &ws->cap, (lb + 1) * (2 * sizeof(cell) + 1)))
		return -1;
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
		long jlo, jhi;
		int in = band_row(i, dlo, dhi, lb, &jlo, &jhi);
		if (in < 0)
			break;
		if (!in)
			continue;
		int ai = code(a[i]);
		const signed char *row = B62[ai];
		/* identical: a standard residue equal to a's */
		int same = ai < 20 ? ai : -1;
		/* the cell up-left of the first; the one to its left */
		int32_t ds = h[jlo - 1].s, ls = 0, fs = NEG;
		uint64_t dt = h[jlo - 1].t, lt = 0, ft = 0;
		uint64_t du = h[jlo - 1].u, lu = 0, fu = 0;
		for (long j = jlo; j <= jhi; j++) {
			int32_t us = h[j].s;
			uint64_t ut = h[j].t, uu = h[j].u;
			/* gap in b: from the cell above, or extended */
			int32_t es = e[j].s - ge, eo = us - go;
			uint64_t et = e[j].t, eu = e[j].u;
			if (eo >= es)
				es = eo, et = ut, eu = uu;
			et += COL;
			eu += RA;
			e[j].s = es, e[j].t = et, e[j].u = eu;
			/* gap in a: from the cell to the left, or extended */
			int32_t fo = ls - go;
			fs -= ge;
			if (fo >= fs)
				fs = fo, ft = lt, fu = lu;
			ft += COL;
			fu += RB;
			int bj = bc[j - 1];
			int32_t cs = ds + row[bj];
			uint64_t ct = dt + (bj == same ? IDCOL : COL);
			uint64_t cu = du + (RA | RB);
			if (es > cs)
				cs = es, ct = et, cu = eu;
			if (fs > cs)
				cs = fs, ct = ft, cu = fu;
			if (cs <= 0)
				cs = 0, ct = 0, cu = 0;
			ds = us, dt = ut, du = uu;
			h[j].s = ls = cs;
			h[j].t = lt = ct;
			h[j].u = lu = cu;
			if (cs > best.s)
				best.s = cs, best.t = ct, best.u = cu;
		}
		/* the cell right of the band was never in it: it stays empty,
		 * its e unreachable, for the next row */
	}
	out->score = best.s;
	out->cols = (uint32_t)best.t;
	out->alen_a = (uint32_t)(best.u >> 32);
	out->alen_b = (uint32_t)best.u;
	out->ident = (uint32_t)(best.t >> 32);
	return 0;
}

/* The direction of each cell, in one byte: how the best path into it
 * arrives (H_ZERO: the empty path; H_DIAG: a column of a[i] against b[j];
 * H_E, H_F: the gap in b, in a, ending there), then whether that gap in
 * b (E_OPEN) and that gap in a (F_OPEN) open here rather than extend. */
enum { H_ZERO = 0, H_DIAG = 1, H_E = 2, H_F = 3, E_OPEN = 4, F_OPEN = 8 };

/* The band's cells row by row, the scores alone (h, e: 4 bytes each per
 * column of b) and a direction byte per cell; then the path followed back
 * from the best cell.  The same choices as band_carry's, so the same
 * path: a diagonal first, then a gap in b, then a gap in a, each only
 * when strictly better; a gap opens rather than extends on a tie. */
__attribute__((noinline))
static int band_trace(const char *a, size_t la, const char *b, size_t lb,
		      long dlo, long dhi, size_t ncell, int open, int extend,
		      plm_align_ws *ws, plm_aln *out)
{
	size_t need = (lb + 1) * (2 * sizeof(int32_t) + 1) +
		      (la + 1) * sizeof(size_t) + ncell;
	if (grow(&ws->trace, &ws->tcap, need))
		return -1;
	size_t *roff = ws->trace;       /* row i's first cell in dir */
	int32_t *h = (int32_t *)(roff + la + 1), *e = h + (lb + 1);
	unsigned char *bc = (unsigned char *)(e + (lb + 1));
	unsigned char *dir = bc + (lb + 1);
	for (size_t j = 0; j < lb; j++)
		bc[j] = (unsigned char)code(b[j]);
	for (size_t j = 0; j <= lb; j++)
		h[j] = 0, e[j] = NEG;
	const int32_t go = open + extend, ge = extend;
	int32_t best = 0;
	size_t bi = 0, bj = 0, nc = 0;
	for (size_t i = 0; i < la; i++) {
		roff[i] = nc;
		long jlo, jhi;
		int in = band_row(i, dlo, dhi, lb, &jlo, &jhi);
		if (in < 0)
			break;
		if (!in)
			continue;
		const signed char *row = B62[code(a[i])];
		unsigned char *d = dir + nc;
		int32_t ds = h[jlo - 1], ls = 0, fs = NEG;
		int32_t rbest = 0;
		for (long j = jlo; j <= jhi; j++) {
			int32_t us = h[j];
			int32_t es = e[j] - ge, eo = us - go;
			int eopen = eo >= es;
			es = eopen ? eo : es;
			e[j] = es;
			int32_t fo = ls - go;
			fs -= ge;
			int fopen = fo >= fs;
			fs = fopen ? fo : fs;
			int32_t cs = ds + row[bc[j - 1]];
			int t1 = es > cs;
			cs = t1 ? es : cs;
			int t2 = fs > cs;
			cs = t2 ? fs : cs;
			int t3 = cs > 0;
			cs = t3 ? cs : 0;
			int src = ((1 + t1) | 3 * t2) & -t3;
			d[j - jlo] = (unsigned char)(src | eopen << 2 | fopen << 3);
			ds = us;
			h[j] = ls = cs;
			rbest = cs > rbest ? cs : rbest;
		}
		nc += (size_t)(jhi - jlo + 1);
		if (rbest > best) {
			/* its first cell of the row's best */
			long rj = jlo;
			while (h[rj] != rbest)
				rj++;
			best = rbest, bi = i, bj = (size_t)rj;
		}
	}
	out->score = best;
	if (!best)
		return 0;
	/* back from the best cell: state 0 the best path into (i, j), 1 the
	 * gap in b ending there, 2 the gap in a */
	uint32_t cols = 0, ident = 0, ra = 0, rb = 0;
	size_t i = bi, j = bj;
	int st = 0;
	for (;;) {
		long jlo = (long)i + dlo + 1 < 1 ? 1 : (long)i + dlo + 1;
		unsigned d = dir[roff[i] + (j - (size_t)jlo)];
		if (st == 0) {
			int src = d & 3;
			if (src == H_E) {
				st = 1;
				continue;
			}
			if (src == H_F) {
				st = 2;
				continue;
			}
			int ai = code(a[i]);
			cols++, ra++, rb++;
			ident += ai < 20 && ai == bc[j - 1];
			if (!i || j == 1)
				break;
			long plo = (long)i + dlo < 1 ? 1 : (long)i + dlo;
			if (!(dir[roff[i - 1] + (j - 1 - (size_t)plo)] & 3))
				break;
			i--, j--;
		} else if (st == 1) {
			cols++, ra++;
			if (d & E_OPEN)
				st = 0;
			i--;
		} else {
			cols++, rb++;
			if (d & F_OPEN)
				st = 0;
			j--;
		}
	}
	out->cols = cols;
	out->ident = ident;
	out->alen_a = ra;
	out->alen_b = rb;
	return 0;
}

int plm_align_band(const char *a, size_t la, const char *b, size_t lb,
		   long dlo, long dhi, int open, int extend, plm_align_ws *ws,
		   plm_aln *out)
{
	*out = (plm_aln){ 0, 0, 0, 0, 0, 0.0 };
	if (!la || !lb || dlo > dhi)
		return 0;
	/* the band's cells, at most */
	long lo = dlo < -(long)la ? -(long)la : dlo;
	long hi = dhi > (long)lb ? (long)lb : dhi;
	size_t w = lo <= hi ? (size_t)(hi - lo + 1) : 0;
	if (w > lb)
		w = lb;
	size_t max = ws->trace_max ? ws->trace_max : PLM_ALIGN_TRACE_MAX;
	int rc = w && la <= max / w ?
		 band_trace(a, la, b, lb, dlo, dhi, la * w, open, extend, ws,
			    out) :
		 band_carry(a, la, b, lb, dlo, dhi, open, extend, ws, out);
	if (!rc && out->score > 0)
		out->bits = (0.267 * out->score - log(0.041)) / log(2.0);
	return rc;
}

/* The code of each k-mer of s starting at 0..l-k (UINT32_MAX where it
 * holds a letter outside the 20). */
static void kmer_codes(const char *s, size_t l, int k, uint32_t *out)
{
	uint32_t code = 0, run = 0, mod = 1;
	for (int i = 0; i < k; i++)
		mod *= 20;
	for (size_t i = 0; i < l; i++) {
		int c = plm_aa_code[(unsigned char)s[i]];
		if (c < 0) {
			run = 0, code = 0;
		} else {
			code = (code * 20 + (uint32_t)c) % mod;
			run++;
		}
		if (i + 1 >= (size_t)k)
			out[i + 1 - k] = run >= (uint32_t)k ? code : UINT32_MAX;
	}
}

long plm_align_diag(const char *a, size_t la, const char *b, size_t lb, int k,
		    plm_align_ws *ws, long *dlo, long *dhi)
{
	*dlo = -(long)la, *dhi = (long)lb;
	if (k < 1 || k > 6 || la < (size_t)k || lb < (size_t)k)
		return 0;
	size_t na = la - k + 1, nb = lb - k + 1, slots = 16;
	while (slots < 2 * na)
		slots *= 2;
	/* a's k-mers in an open-addressing table (code, first position),
	 * repeats chained through nxt; then the hits per diagonal */
	size_t need = (na + nb + 2 * slots + na + la + lb + 1) *
		      sizeof(uint32_t);
	if (grow(&ws->diag, &ws->dcap, need))
		return -1;
	uint32_t *ca = ws->diag, *cb = ca + na, *tcode = cb + nb;
	uint32_t *tpos = tcode + slots, *nxt = tpos + slots;
	uint32_t *hist = nxt + na;
	kmer_codes(a, la, k, ca);
	kmer_codes(b, lb, k, cb);
	memset(tcode, 0xff, slots * sizeof *tcode);
	memset(hist, 0, (la + lb + 1) * sizeof *hist);
	size_t mask = slots - 1;
	for (size_t i = na; i-- > 0;) {
		if (ca[i] == UINT32_MAX)
			continue;
		size_t h = (ca[i] * 2654435761u) & mask;
		while (tcode[h] != UINT32_MAX && tcode[h] != ca[i])
			h = (h + 1) & mask;
		nxt[i] = tcode[h] == ca[i] ? tpos[h] : UINT32_MAX;
		tcode[h] = ca[i];
		tpos[h] = (uint32_t)i;
	}
	long nd = 0;
	for (size_t j = 0; j < nb; j++) {
		if (cb[j] == UINT32_MAX)
			continue;
		size_t h = (cb[j] * 2654435761u) & mask;
		while (tcode[h] != UINT32_MAX && tcode[h] != cb[j])
			h = (h + 1) & mask;
		if (tcode[h] == UINT32_MAX)
			continue;
		/* a k-mer repeated in a (a low-complexity run) says little
		 * about the diagonal */
		uint32_t n = 0;
		for (uint32_t i = tpos[h]; i != UINT32_MAX && n <= PLM_ALIGN_MAXREP;
		     i = nxt[i])
			n++;
		if (n > PLM_ALIGN_MAXREP)
			continue;
		for (uint32_t i = tpos[h]; i != UINT32_MAX; i = nxt[i]) {
			hist[(long)j - (long)i + (long)la]++;
			nd++;
		}
	}
	if (!nd)
		return 0;
	/* the window of diagonals holding the most hits: the first of the
	 * densest, then its outermost hits */
	long w = 48 + (long)((la < lb ? la : lb) / 10), nh = (long)(la + lb + 1);
	long best = -1, at = 0, sum = 0;
	for (long d = 0; d < nh; d++) {
		sum += hist[d];
		if (d - w - 1 >= 0)
			sum -= hist[d - w - 1];
		if (sum > best)
			best = sum, at = d;
	}
	long lo = at - w < 0 ? 0 : at - w, hi = at;
	while (!hist[lo])
		lo++;
	while (!hist[hi])
		hi--;
	*dlo = lo - (long)la - PLM_ALIGN_SLACK;
	*dhi = hi - (long)la + PLM_ALIGN_SLACK;
	return best;
}

void plm_align_ws_free(plm_align_ws *ws)
{
	free(ws->trace);
	ws->trace = NULL;
	ws->tcap = 0;
	free(ws->diag);
	ws->diag = NULL;
	ws->dcap = 0;
	free(ws->cells);
	ws->cells = NULL;
	ws->cap = 0;
}
