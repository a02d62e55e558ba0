/* float.h — the bits of a float, and the 16-bit float formats.
 *
 * f16 is IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits); bf16 is
 * bfloat16, the top half of a float32.  Narrowing rounds to nearest, ties
 * to even; a value beyond the f16 range becomes infinity; NaN stays NaN
 * (made quiet, the top of its payload kept).  Widening is exact.
 *
 * All are pure functions of their argument, static inline so that the
 * conversion loops of the stream reader, the cache and the model loader
 * compile to straight code. */
#ifndef PLM_FLOAT_H
#define PLM_FLOAT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t plm_f32_bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

static inline float plm_bits_f32(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}

static inline uint64_t plm_f64_bits(double x)
{
	uint64_t u;
	memcpy(&u, &x, 8);
	return u;
}

static inline float plm_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;

	if (e == 0) {
		/* zero or subnormal: m * 2^-24, exact in f32 */
		float v = (float)m * 0x1p-24f;
		return sign ? -v : v;
	}
	if (e == 31)
		return plm_bits_f32(sign | 0x7f800000 | (m << 13));
	return plm_bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

static inline uint16_t plm_f32_to_f16(float f)
{
	uint32_t x = plm_f32_bits(f);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	uint32_t ax = x & 0x7fffffff;

	if (ax > 0x7f800000)            /* NaN: keep it quiet, keep payload top */
		return sign | 0x7e00 | ((ax >> 13) & 0x3ff);
	if (ax >= 0x477ff000)           /* >= 65520 rounds to inf (ties to even) */
		return sign | 0x7c00;
	if (ax < 0x38800000) {
		/* below 2^-14: a subnormal half (or zero).  Scaling by 2^24 is
		 * exact; rintf rounds to nearest even; 1024 carries into the
		 * smallest normal, which is the right encoding too. */
		float v = rintf(plm_bits_f32(ax) * 0x1p24f);
		return sign | (uint16_t)v;
	}
	uint32_t h = ((((ax >> 23) - 112) << 10) | ((ax >> 13) & 0x3ff));
	uint32_t rem = ax & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;                    /* may carry into the exponent: fine */
	return sign | (uint16_t)h;
}

static inline float plm_bf16_to_f32(uint16_t h)
{
	return plm_bits_f32((uint32_t)h << 16);
}

static inline uint16_t plm_f32_to_bf16(float f)
{
	uint32_t x = plm_f32_bits(f);

	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);    /* quiet NaN */
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

#endif
