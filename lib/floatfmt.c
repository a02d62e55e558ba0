/* floatfmt.c — float text that round-trips, and f16/bf16 conversions.
 *
 * plm_fmt_f32/f64 print the fewest significant digits whose decimal parses
 * back to the same bits.  Round-tripping is monotone in the digit count
 * (the p+1-digit rounding is never farther from x than the p-digit one),
 * so a short search between the guaranteed bounds (6..9 digits for f32,
 * 15..17 for f64) finds the minimum with two or three snprintf calls.
 * Fewer digits than the lower bound never help for normal numbers: at 6
 * (15) digits the decimal grid is coarser than the float grid, so a shorter
 * decimal that round-trips is exactly what %g prints after dropping
 * trailing zeros.  Subnormals carry fewer bits and are searched from one
 * digit up. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/stream.h"

static uint32_t f32_bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

static float bits_f32(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}

static uint64_t f64_bits(double x)
{
	uint64_t u;
	memcpy(&u, &x, 8);
	return u;
}

/* nan, inf, -inf; else 0. */
static int fmt_special(char *buf, int nan, int inf, int neg)
{
	if (nan) {
		memcpy(buf, "nan", 4);
		return 3;
	}
	if (inf) {
		if (neg) {
			memcpy(buf, "-inf", 5);
			return 4;
		}
		memcpy(buf, "inf", 4);
		return 3;
	}
	return 0;
}

static int f32_roundtrips(char *buf, float x, int prec, int *len)
{
	*len = snprintf(buf, 32, "%.*g", prec, (double)x);
	return f32_bits(strtof(buf, NULL)) == f32_bits(x);
}

int plm_fmt_f32(char *buf, float x)
{
	int len;

	if (isnan(x) || isinf(x))
		return fmt_special(buf, isnan(x), isinf(x), signbit(x));
	if (x != 0 && fabsf(x) < FLT_MIN) {
		/* subnormal: fewer bits, so maybe fewer digits than 6 */
		for (int p = 1; p < 9; p++)
			if (f32_roundtrips(buf, x, p, &len))
				return len;
		return snprintf(buf, 32, "%.9g", (double)x);
	}
	if (f32_roundtrips(buf, x, 7, &len)) {
		int l6;
		char tmp[32];
		if (f32_roundtrips(tmp, x, 6, &l6)) {
			memcpy(buf, tmp, (size_t)l6 + 1);
			return l6;
		}
		return len;
	}
	if (f32_roundtrips(buf, x, 8, &len))
		return len;
	return snprintf(buf, 32, "%.9g", (double)x);
}

static int f64_roundtrips(char *buf, double x, int prec, int *len)
{
	*len = snprintf(buf, 32, "%.*g", prec, x);
	return f64_bits(strtod(buf, NULL)) == f64_bits(x);
}

int plm_fmt_f64(char *buf, double x)
{
	int len;

	if (isnan(x) || isinf(x))
		return fmt_special(buf, isnan(x), isinf(x), signbit(x));
	if (x != 0 && fabs(x) < DBL_MIN) {
		for (int p = 1; p < 17; p++)
			if (f64_roundtrips(buf, x, p, &len))
				return len;
		return snprintf(buf, 32, "%.17g", x);
	}
	if (f64_roundtrips(buf, x, 16, &len)) {
		int l15;
		char tmp[32];
		if (f64_roundtrips(tmp, x, 15, &l15)) {
			memcpy(buf, tmp, (size_t)l15 + 1);
			return l15;
		}
		return len;
	}
	return snprintf(buf, 32, "%.17g", x);
}

/* ---- half precision (IEEE 754 binary16) -------------------------------- */

float plm_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;

	if (e == 0) {
		/* zero or subnormal: m * 2^-24, exact in f32 */
		float v = (float)m * 0x1p-24f;
		return sign ? -v : v;
	}
	if (e == 31)
		return bits_f32(sign | 0x7f800000 | (m << 13));
	return bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t plm_f32_to_f16(float f)
{
	uint32_t x = f32_bits(f);
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
		float v = rintf(bits_f32(ax) * 0x1p24f);
		return sign | (uint16_t)v;
	}
	uint32_t h = ((((ax >> 23) - 112) << 10) | ((ax >> 13) & 0x3ff));
	uint32_t rem = ax & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
		h++;                    /* may carry into the exponent: fine */
	return sign | (uint16_t)h;
}

/* ---- bfloat16: the top half of an f32 --------------------------------- */

float plm_bf16_to_f32(uint16_t h)
{
	return bits_f32((uint32_t)h << 16);
}

uint16_t plm_f32_to_bf16(float f)
{
	uint32_t x = f32_bits(f);

	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((x >> 16) | 0x40);    /* quiet NaN */
	x += 0x7fff + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}
