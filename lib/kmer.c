/* kmer.c — amino-acid, dipeptide and k-mer composition (kmer.h). */
#include <stdio.h>
#include <string.h>

#include "plm/aa.h"
#include "plm/kmer.h"

/* A = 0, C = 1, ... Y = 19 at the upper and the lower case letter. */
const signed char plm_aa_code[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, 0, -1, 1, 2, 3, 4, 5, 6, 7, -1, 8, 9, 10, 11, -1,
	12, 13, 14, 15, 16, -1, 17, 18, -1, 19, -1, -1, -1, -1, -1, -1,
	-1, 0, -1, 1, 2, 3, 4, 5, 6, 7, -1, 8, 9, 10, 11, -1,
	12, 13, 14, 15, 16, -1, 17, 18, -1, 19, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

int plm_aa_index(int c)
{
	return plm_aa_code[(unsigned char)c];
}

static uint64_t pow20(int k)
{
	uint64_t p = 1;
	while (k-- > 0)
		p *= 20;
	return p;
}

uint32_t plm_kmer_dim(const plm_kmer_spec *s, char *err, size_t errlen)
{
	uint64_t d = (s->aac ? 20 : 0) + (s->dpc ? 400 : 0);
	if (s->k < 0 || s->k > PLM_KMER_MAX_K) {
		snprintf(err, errlen, "k must be 1..%d", PLM_KMER_MAX_K);
		return 0;
	}
	if (s->k && !s->dim && s->k > PLM_KMER_MAX_PLAIN_K) {
		snprintf(err, errlen, "k = %d gives 20^%d values: give --dim D "
			 "to hash them (k <= %d without)", s->k, s->k,
			 PLM_KMER_MAX_PLAIN_K);
		return 0;
	}
	if (s->k)
		d += s->dim ? s->dim : pow20(s->k);
	if (!s->k && s->dim) {
		snprintf(err, errlen, "--dim needs a k-mer length (--kmer K)");
		return 0;
	}
	if (!d || d > (1u << 24)) {
		snprintf(err, errlen, d ? "too many values (%llu)" :
			 "no feature block chosen", (unsigned long long)d);
		return 0;
	}
	return (uint32_t)d;
}

/* Counts the k-mers of seq into cnt[nb] (hashed when hash != 0); returns
 * the number of windows counted. */
static uint64_t count_kmers(const char *seq, size_t n, int k, uint32_t nb,
			    int hash, float *cnt)
{
	plm_kmer_roll r = plm_kmer_roll_start(k);
	uint64_t windows = 0;
	for (size_t i = 0; i < n; i++) {
		if (!plm_kmer_roll_push(&r, plm_aa_code[(unsigned char)seq[i]]))
			continue;
		uint64_t b = r.code;
		if (hash)
			b = ((b * 0x9E3779B97F4A7C15ull) >> 32) % nb;
		cnt[b] += 1.0f;
		windows++;
	}
	return windows;
}

/* counts (exact small integers in float) → frequencies */
static void normalise(float *v, uint32_t nb, uint64_t total, int *empty)
{
	if (!total) {
		++*empty;
		return;
	}
	for (uint32_t i = 0; i < nb; i++)
		if (v[i] != 0.0f)
			v[i] = (float)((double)v[i] / (double)total);
}

void plm_kmer_feat(const plm_kmer_spec *s, const char *seq, size_t n,
		   float *out, plm_kmer_stats *st)
{
	plm_kmer_stats dummy;
	if (!st)
		st = &dummy;
	st->skipped = 0;
	st->empty = 0;
	for (size_t i = 0; i < n; i++)
		st->skipped += plm_aa_code[(unsigned char)seq[i]] < 0;
	/* float counts are exact up to 2^24 windows: sequences are far
	 * shorter than that */
	if (s->aac) {
		memset(out, 0, 20 * sizeof *out);
		normalise(out, 20, count_kmers(seq, n, 1, 20, 0, out),
			  &st->empty);
		out += 20;
	}
	if (s->dpc) {
		memset(out, 0, 400 * sizeof *out);
		normalise(out, 400, count_kmers(seq, n, 2, 400, 0, out),
			  &st->empty);
		out += 400;
	}
	if (s->k) {
		uint32_t nb = s->dim ? s->dim : (uint32_t)pow20(s->k);
		memset(out, 0, nb * sizeof *out);
		normalise(out, nb, count_kmers(seq, n, s->k, nb, s->dim != 0,
					       out), &st->empty);
	}
}
