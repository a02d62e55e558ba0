/* floatfmt.c — float text that round-trips.
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

#include "plm/float.h"
#include "plm/stream.h"

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

/* Does x printed with prec digits parse back to the same bits?  x is a
 * float (widened, exactly) when f32, else a double. */
static int roundtrips(char *buf, double x, int f32, int prec, int *len)
{
	*len = snprintf(buf, 32, "%.*g", prec, x);
	if (f32)
		return plm_f32_bits(strtof(buf, NULL)) == plm_f32_bits((float)x);
	return plm_f64_bits(strtod(buf, NULL)) == plm_f64_bits(x);
}

/* The search for both widths: lo digits is the lower bound for normal
 * numbers (6 or 15), max always round-trips (9 or 17). */
static int fmt_shortest(char *buf, double x, int f32, int subnormal, int lo,
			int max)
{
	int len;

	if (isnan(x) || isinf(x))
		return fmt_special(buf, isnan(x), isinf(x), signbit(x));
	if (subnormal) {
		/* fewer bits, so maybe fewer digits than lo */
		for (int p = 1; p < max; p++)
			if (roundtrips(buf, x, f32, p, &len))
				return len;
		return snprintf(buf, 32, "%.*g", max, x);
	}
	if (roundtrips(buf, x, f32, lo + 1, &len)) {
		int shorter;
		char tmp[32];
		if (roundtrips(tmp, x, f32, lo, &shorter)) {
			memcpy(buf, tmp, (size_t)shorter + 1);
			return shorter;
		}
		return len;
	}
	for (int p = lo + 2; p < max; p++)
		if (roundtrips(buf, x, f32, p, &len))
			return len;
	return snprintf(buf, 32, "%.*g", max, x);
}

int plm_fmt_f32(char *buf, float x)
{
	return fmt_shortest(buf, x, 1, x != 0 && fabsf(x) < FLT_MIN, 6, 9);
}

int plm_fmt_f64(char *buf, double x)
{
	return fmt_shortest(buf, x, 0, x != 0 && fabs(x) < DBL_MIN, 15, 17);
}
