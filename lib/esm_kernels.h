/* esm_kernels.h — kernel bodies, included by esm_kernels.c once per
 * instruction set with K(name) giving each copy its own names.  Not a
 * public header. */

#define V(name) K(name)
#include "esm_vec.h"
#undef V

/* erfc(z) for z >= 0, fractional error < 1.2e-7 (Numerical Recipes'
 * Chebyshev fit, erfcc). */
static inline vf K(verfc)(vf z)
{
	vf t = 1.0f / (1.0f + 0.5f * z);
	vf p = K(splat)(0.17087277f);
	p = p * t - 0.82215223f;
	p = p * t + 1.48851587f;
	p = p * t - 1.13520398f;
	p = p * t + 0.27886807f;
	p = p * t - 0.18628806f;
	p = p * t + 0.09678418f;
	p = p * t + 0.37409196f;
	p = p * t + 1.00002368f;
	p = p * t - 1.26551223f;
	return t * K(exp)(p - z * z);
}

/* gelu(v) = v/2 (1 + erf(v / sqrt 2)); 1 + erf(x) is computed as 2 -
 * erfc(x) or erfc(-x), so that it keeps its relative precision for
 * negative v. */
static inline vf K(vgelu)(vf v)
{
	vf e = K(verfc)(K(max)(v, -v) * 0.70710678118654752f);
	return 0.5f * v * K(sel)(v >= 0.0f, 2.0f - e, e);
}

/* x = gelu(x + b), rows of n at a stride of ldx floats. */
static void K(bias_gelu)(float *x, size_t ldx, const float *b, size_t rows,
			 int n)
{
	K(map_bias)(x, ldx, b, rows, n, K(vgelu));
}

/* x += y + b (y + b first), rows of n at strides ldx, ldy. */
static void K(residual)(float *x, size_t ldx, const float *y, size_t ldy,
			const float *b, size_t rows, int n)
{
	for (size_t r = 0; r < rows; r++) {
		float *o = x + r * ldx;
		const float *a = y + r * ldy;
		int i = 0;
		for (; i + W <= n; i += W)
			K(store)(o + i, K(load)(o + i) +
				 (K(load)(a + i) + K(load)(b + i)));
		for (; i < n; i++)
			o[i] += a[i] + b[i];
	}
}

static inline double K(hsum)(vd v)
{
	double s = 0;
	for (int i = 0; i < W / 2; i++)
		s += v[i];
	return s;
}

/* out[r] = (in[r] - mean) / sqrt(var + eps) * w + b, statistics in
 * double; in and out may alias. */
static void K(layernorm)(float *out, const float *in, const float *w,
			const float *b, size_t rows, int H, float eps)
{
	for (size_t r = 0; r < rows; r++) {
		const float *x = in + r * (size_t)H;
		float *y = out + r * (size_t)H;
		vd s = { 0 }, ss = { 0 };
		int i = 0;
		double sum = 0, sq = 0;
		for (; i + W <= H; i += W) {
			vf v = K(load)(x + i);
			vh lo, hi;
			memcpy(&lo, &v, sizeof lo);
			memcpy(&hi, (char *)&v + sizeof lo, sizeof hi);
			s += __builtin_convertvector(lo, vd) +
			     __builtin_convertvector(hi, vd);
		}
		for (int j = i; j < H; j++)
			sum += x[j];
		sum += K(hsum)(s);
		const double mean = sum / H;
		const vd vm = (vd){ 0 } + mean;
		for (i = 0; i + W <= H; i += W) {
			vf v = K(load)(x + i);
			vh lo, hi;
			memcpy(&lo, &v, sizeof lo);
			memcpy(&hi, (char *)&v + sizeof lo, sizeof hi);
			vd a = __builtin_convertvector(lo, vd) - vm;
			vd c = __builtin_convertvector(hi, vd) - vm;
			ss += a * a + c * c;
		}
		for (int j = i; j < H; j++)
			sq += (x[j] - mean) * (x[j] - mean);
		sq += K(hsum)(ss);
		const float fm = (float)mean;
		const float rstd = (float)(1.0 / sqrt(sq / H + eps));
		for (i = 0; i + W <= H; i += W)
			K(store)(y + i, (K(load)(x + i) - fm) * rstd * K(load)(w + i) +
				     K(load)(b + i));
		for (; i < H; i++)
			y[i] = (x[i] - fm) * rstd * w[i] + b[i];
	}
}
