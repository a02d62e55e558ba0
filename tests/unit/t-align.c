/* t-align.c — Smith-Waterman-Gotoh scores against Biopython's
 * PairwiseAligner (tests/data/align/pairs.tsv, made by make-pairs.py),
 * identities of constructed alignments, the band (whole band = unbanded,
 * a narrow band never scores more), the k-mer diagonal finder, and the
 * two ways of counting the path (direction bytes followed back, or counts
 * carried through the matrix past ws.trace_max) giving the same. */
#include "plm/align.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char X50[] =
	"YKNTARICGENSIPVEWIAHQKGPGDFYYRFFAAHHGGLMHVHGHPLANQ";
static const char Y50[] =
	"GFKDMLYWAYMDLNLSMGSSGCKANPAVQNPWARCGYHEIRNTNTKREWN";

static int self(const char *s)
{
	int t = 0;
	for (; *s; s++)
		t += plm_blosum62(*s, *s);
	return t;
}

static void test_oracle(void)
{
	const char *top = getenv("PLM_TOP");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/align/pairs.tsv",
		 top ? top : "..");
	FILE *f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	if (!f)
		return;
	static char line[4096];
	plm_align_ws ws = { 0 };
	int n = 0, same = 0, band_same = 0, band_le = 0, worse = 0;
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	while (fgets(line, sizeof line, f)) {
		char *a = strtok(line, "\t"), *b = strtok(NULL, "\t");
		char *s = strtok(NULL, "\t\n");
		if (!a || !b || !s)
			continue;
		size_t la = strlen(a), lb = strlen(b);
		plm_aln r, w, q;
		long lo, hi;
		plm_align_local(a, la, b, lb, 11, 1, &ws, &r);
		plm_align_band(a, la, b, lb, -(long)la - 5, (long)lb + 5, 11,
			       1, &ws, &w);
		plm_align_diag(a, la, b, lb, 3, &ws, &lo, &hi);
		plm_align_band(a, la, b, lb, lo, hi, 11, 1, &ws, &q);
		n++;
		same += r.score == atoi(s);
		band_same += w.score == r.score && w.ident == r.ident &&
			     w.cols == r.cols;
		band_le += q.score <= r.score;
		worse += q.score < r.score;
	}
	fclose(f);
	plm_align_ws_free(&ws);
	is_int(n, 120, "120 pairs read");
	is_int(same, n, "every score equals Biopython's");
	is_int(band_same, n, "a band holding every diagonal: the same alignment");
	is_int(band_le, n, "the k-mer band never scores more");
	ok(worse < n / 4, "the k-mer band scores less for %d of %d", worse, n);
}

static void test_identity(void)
{
	plm_align_ws ws = { 0 };
	plm_aln r;
	char a[128], b[128];

	plm_align_local(X50, 50, X50, 50, 11, 1, &ws, &r);
	is_int(r.score, self(X50), "self: the diagonal's score");
	ok(r.ident == 50 && r.cols == 50, "self: 50 of 50 identical");

	/* X + WWW + Y against X + Y: one gap of 3 (11 + 3) */
	snprintf(a, sizeof a, "%s%s", X50, Y50);
	snprintf(b, sizeof b, "%sWWW%s", X50, Y50);
	plm_align_local(a, 100, b, 103, 11, 1, &ws, &r);
	is_int(r.score, self(X50) + self(Y50) - 14, "gap of 3 costs 14");
	ok(r.ident == 100 && r.cols == 103, "gap columns count: %u of %u",
	   r.ident, r.cols);
	ok(r.alen_a == 100 && r.alen_b == 103, "residues aligned: %u of a, "
	   "%u of b", r.alen_a, r.alen_b);
	/* the order of the arguments does not matter */
	plm_aln r2;
	plm_align_local(b, 103, a, 100, 11, 1, &ws, &r2);
	ok(r2.score == r.score && r2.ident == r.ident && r2.cols == r.cols,
	   "symmetric");

	/* every 4th residue of Y changed from 0 (to W, or to A where it was
	 * W): the alignment starts after the first, 12 changed in 49 */
	memcpy(b, Y50, 51);
	for (int i = 0; i < 50; i += 4)
		b[i] = b[i] == 'W' ? 'A' : 'W';
	plm_align_local(Y50, 50, b, 50, 11, 1, &ws, &r);
	ok(r.ident == 37 && r.cols == 49, "substituted: %u of %u identical",
	   r.ident, r.cols);
	ok(r.alen_a == 49 && r.alen_b == 49, "49 residues of each aligned");
	ok(r.bits > 78.9 && r.bits < 79.1, "bits (0.267 S - ln 0.041) / ln 2: %.2f (S %d)",
	   r.bits, r.score);
	/* a long sequence (past 2^16 residues, beyond 16-bit counts): a
	 * gapped copy of X + Y at the start of 70,000 residues gives what it
	 * gives alone (the rest, repeats of a 7-residue word, aligns worse) */
	{
		size_t L = 70000;
		char *big = malloc(L + 1);
		for (size_t i = 0; i < L; i++)
			big[i] = "GPGSGNS"[i % 7];
		memcpy(big, b, 103);
		snprintf(b, sizeof b, "%sWWW%s", X50, Y50);
		memcpy(big, b, 103);
		plm_align_local(a, 100, b, 103, 11, 1, &ws, &r);
		plm_align_local(a, 100, big, L, 11, 1, &ws, &r2);
		ok(r2.score == r.score && r2.ident == r.ident &&
		   r2.cols == r.cols && r2.alen_a == r.alen_a &&
		   r2.alen_b == r.alen_b, "70,000 residues: "
		   "%u of %u, %u + %u residues, as short (%u of %u)", r2.ident,
		   r2.cols, r2.alen_a, r2.alen_b, r.ident, r.cols);
		plm_align_local(big, L, a, 100, 11, 1, &ws, &r2);
		ok(r2.score == r.score && r2.ident == r.ident &&
		   r2.cols == r.cols, "and as the first sequence");
		free(big);
		snprintf(a, sizeof a, "%s%s", X50, Y50);
	}
	/* X50 inside a longer sequence: all of a, 50 of b */
	snprintf(a, sizeof a, "%s%s", Y50, X50);
	plm_align_local(X50, 50, a, 100, 11, 1, &ws, &r);
	ok(r.alen_a == 50 && r.alen_b == 50 && r.cols == 50,
	   "contained: 50 and 50 residues (%u, %u)", r.alen_a, r.alen_b);

	/* case and X: lower case is the same residue; X matches nothing */
	plm_align_local("acdefghik", 9, "ACDEFGHIK", 9, 11, 1, &ws, &r);
	ok(r.ident == 9 && r.cols == 9, "case folded");
	is_int(plm_blosum62('X', 'X'), -1, "X against X: -1");
	is_int(plm_blosum62('B', 'x'), -1, "other letters score as X");
	is_int(plm_blosum62('W', 'W'), 11, "W against W: 11");
	plm_align_local("XXXX", 4, "XXXX", 4, 11, 1, &ws, &r);
	ok(r.score == 0 && r.cols == 0 && r.bits == 0, "X only: no alignment");
	plm_align_local("", 0, "ACD", 3, 11, 1, &ws, &r);
	ok(r.score == 0 && r.cols == 0, "empty: no alignment");
	plm_align_ws_free(&ws);
}

static void test_diag(void)
{
	plm_align_ws ws = { 0 };
	char b[128];
	long lo, hi;
	/* b = 7 residues, then X50: every shared k-mer on diagonal 7 */
	snprintf(b, sizeof b, "MMMMMMM%s", X50);
	long h = plm_align_diag(X50, 50, b, 57, 5, &ws, &lo, &hi);
	is_int(h, 46, "46 shared 5-mers");
	ok(lo == 7 - PLM_ALIGN_SLACK && hi == 7 + PLM_ALIGN_SLACK,
	   "band around diagonal 7: %ld..%ld", lo, hi);
	plm_aln r;
	plm_align_band(X50, 50, b, 57, lo, hi, 11, 1, &ws, &r);
	ok(r.ident == 50 && r.cols == 50, "the banded alignment finds it");
	/* a band that misses it */
	plm_align_band(X50, 50, b, 57, 20, 30, 11, 1, &ws, &r);
	ok(r.score < self(X50) / 2, "a band away from it: %d", r.score);
	h = plm_align_diag(X50, 50, Y50, 50, 5, &ws, &lo, &hi);
	ok(h == 0 && lo == -50 && hi == 50, "no shared k-mer: every diagonal");
	h = plm_align_diag("ACD", 3, "ACD", 3, 5, &ws, &lo, &hi);
	is_int(h, 0, "shorter than k: none");
	plm_align_ws_free(&ws);
}

static uint64_t rng = 88172645463325252ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* a: random residues (a few X, lower case, low-complexity runs); b: a
 * copy with substitutions, insertions and deletions, or unrelated */
static size_t make_pair(char *a, char *b, size_t max)
{
	static const char aa[] = "ACDEFGHIKLMNPQRSTVWYacdwXXB";
	size_t la = 1 + rnd((unsigned)max), lb = 0;
	for (size_t i = 0; i < la; i++)
		a[i] = rnd(10) ? aa[rnd(20)] : aa[rnd(27)];
	if (rnd(4) == 0)        /* a low-complexity run */
		for (size_t i = rnd((unsigned)la), n = rnd(30); i < la && n;
		     i++, n--)
			a[i] = "GS"[n % 2];
	unsigned sub = rnd(60), indel = rnd(15);
	int unrelated = rnd(5) == 0;
	for (size_t i = 0; i < la && lb < max; i++) {
		if (unrelated) {
			b[lb++] = aa[rnd(20)];
			continue;
		}
		if (rnd(100) < indel) {
			if (rnd(2))
				continue;       /* deleted */
			for (unsigned n = 1 + rnd(5); n && lb < max; n--)
				b[lb++] = aa[rnd(20)];
		}
		if (lb < max)
			b[lb++] = rnd(100) < sub ? aa[rnd(20)] : a[i];
	}
	if (!lb)
		b[lb++] = 'A';
	a[la] = 0, b[lb] = 0;
	return la;
}

/* every field (not memcmp: the struct's padding is not set) */
static int aln_eq(const plm_aln *r, const plm_aln *q)
{
	return r->score == q->score && r->cols == q->cols &&
	       r->ident == q->ident && r->alen_a == q->alen_a &&
	       r->alen_b == q->alen_b && r->bits == q->bits;
}

static void test_paths(void)
{
	plm_align_ws wt = { 0 }, wc = { 0 };
	wc.trace_max = 1;       /* always the carried counts */
	static char a[700], b[700];
	int n = 0, same = 0, band_same = 0, diag_same = 0, some = 0;
	for (int it = 0; it < 3000; it++) {
		size_t la = make_pair(a, b, 600), lb = strlen(b);
		plm_aln r, q;
		plm_align_local(a, la, b, lb, 11, 1, &wt, &r);
		plm_align_local(a, la, b, lb, 11, 1, &wc, &q);
		n++;
		same += aln_eq(&r, &q);
		some += r.cols > 0;
		/* a random band: narrow, wide, off either end */
		long lo = (long)rnd((unsigned)(la + lb + 40)) - (long)la - 20;
		long hi = lo + (long)rnd(rnd(2) ? 20 : 400);
		plm_align_band(a, la, b, lb, lo, hi, 11, 1, &wt, &r);
		plm_align_band(a, la, b, lb, lo, hi, 11, 1, &wc, &q);
		band_same += aln_eq(&r, &q);
		plm_align_diag(a, la, b, lb, 4, &wt, &lo, &hi);
		plm_align_band(a, la, b, lb, lo, hi, 11, 1, &wt, &r);
		plm_align_band(a, la, b, lb, lo, hi, 11, 1, &wc, &q);
		diag_same += aln_eq(&r, &q);
	}
	ok(some > n / 2, "%d of %d pairs align", some, n);
	is_int(same, n, "unbanded: traced path == carried counts");
	is_int(band_same, n, "random bands: traced path == carried counts");
	is_int(diag_same, n, "k-mer bands: traced path == carried counts");
	plm_align_ws_free(&wt);
	plm_align_ws_free(&wc);
}

int main(void)
{
	test_oracle();
	test_paths();
	test_identity();
	test_diag();
	return done_testing();
}
