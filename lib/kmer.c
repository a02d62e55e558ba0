/* kmer.c — amino-acid, dipeptide and k-mer composition (kmer.h). */
#include <stdio.h>
#include <string.h>

#include "plm/kmer.h"

static const char alphabet[] = "ACDEFGHIKLMNPQRSTVWY";
static signed char aa_tab[256];
static int aa_ready;

static void aa_init(void)
{
	memset(aa_tab, -1, sizeof aa_tab);
	for (int i = 0; i < 20; i++) {
		aa_tab[(unsigned char)alphabet[i]] = (signed char)i;
		aa_tab[(unsigned char)alphabet[i] + 32] = (signed char)i;
	}
	aa_ready = 1;
}

int plm_aa_index(int c)
{
	if (!aa_ready)
		aa_init();
	return aa_tab[(unsigned char)c];
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
		snprintf(err, errlen, "--dim needs a k-mer length (-k K)");
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
	uint64_t mod = pow20(k), x = 0, windows = 0;
	int run = 0;
	for (size_t i = 0; i < n; i++) {
		int a = aa_tab[(unsigned char)seq[i]];
		if (a < 0) {
			run = 0;
			x = 0;
			continue;
		}
		x = (x * 20 + (uint64_t)a) % mod;
		if (++run < k)
			continue;
		uint64_t b = x;
		if (hash)
			b = ((x * 0x9E3779B97F4A7C15ull) >> 32) % nb;
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
	if (!aa_ready)
		aa_init();
	st->skipped = 0;
	st->empty = 0;
	for (size_t i = 0; i < n; i++)
		st->skipped += aa_tab[(unsigned char)seq[i]] < 0;
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
