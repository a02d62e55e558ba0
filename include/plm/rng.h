/* rng.h — seeded pseudo-random numbers: xoshiro256** seeded through
 * splitmix64.  Deterministic across machines; the seed goes in meta.prov.
 * Each user holds its own state (no hidden global generator). */
#ifndef PLM_RNG_H
#define PLM_RNG_H

#include <stdint.h>

typedef struct plm_rng {
	uint64_t s[4];
} plm_rng;

#define PLM_DEFAULT_SEED 11

void plm_rng_seed(plm_rng *r, uint64_t seed);
uint64_t plm_rng_next(plm_rng *r);
/* Uniform in [0, n), unbiased (Lemire's method).  n > 0. */
uint64_t plm_rng_below(plm_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits. */
double plm_rng_double(plm_rng *r);
/* Fisher–Yates over n elements of size sz. */
void plm_rng_shuffle(plm_rng *r, void *base, size_t n, size_t sz);

#endif
