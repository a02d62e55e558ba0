/* rng.c — xoshiro256** (Blackman & Vigna) seeded with splitmix64. */
#include <string.h>

#include "plm/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void plm_rng_seed(plm_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t plm_rng_next(plm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Lemire's nearly-divisionless method: multiply into 128 bits, reject the
 * small biased band. */
uint64_t plm_rng_below(plm_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)plm_rng_next(r) * n;
	uint64_t lo = (uint64_t)m;
	if (lo < n) {
		uint64_t t = -n % n;
		while (lo < t) {
			m = (unsigned __int128)plm_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double plm_rng_double(plm_rng *r)
{
	return (plm_rng_next(r) >> 11) * 0x1.0p-53;
}

void plm_rng_shuffle(plm_rng *r, void *base, size_t n, size_t sz)
{
	unsigned char *b = base, tmp[256];
	if (n < 2)
		return;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = plm_rng_below(r, i + 1);
		if (j == i)
			continue;
		/* swap in chunks so any element size works */
		for (size_t off = 0; off < sz; off += sizeof tmp) {
			size_t c = sz - off < sizeof tmp ? sz - off : sizeof tmp;
			memcpy(tmp, b + i * sz + off, c);
			memcpy(b + i * sz + off, b + j * sz + off, c);
			memcpy(b + j * sz + off, tmp, c);
		}
	}
}
