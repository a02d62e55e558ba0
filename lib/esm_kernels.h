/* esm_kernels.h — kernel bodies, included by esm_kernels.c once per
 * instruction set with K(name) giving each copy its own names.  Not a
 * public header. */


static inline vf K(load)(const float *p)
{
	vf v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void K(store)(float *p, vf v)
{
	memcpy(p, &v, sizeof v);
}

static inline vf K(splat)(float x)
{
	return (vf){ 0 } + x;
}

static inline vf K(sel)(vi m, vf a, vf b)          /* m ? a : b */
{
	return (vf)((m & (vi)a) | (~m & (vi)b));
}

static inline vf K(vmax)(vf a, vf b)
{
	return K(sel)(a > b, a, b);
}

static inline vf K(vmin)(vf a, vf b)
{
	return K(sel)(a < b, a, b);
}

/* e^x for x <= 88 (clamped below at -87.3, where it is 2^-126 instead of
 * less): Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, and cephes'
 * degree-7 minimax polynomial for e^r. */
static inline vf K(vexp)(vf x)
{
	const vf magic = K(splat)(12582912.0f);            /* 1.5 * 2^23 */
	x = K(vmin)(K(vmax)(x, K(splat)(-87.3f)), K(splat)(88.0f));
	vf n = (x * 1.44269504088896341f + magic) - magic;   /* round */
	vf r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	vf p = K(splat)(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	vi e = (__builtin_convertvector(n, vi) + 127) << 23;
	return p * (vf)e;
}

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
	return t * K(vexp)(p - z * z);
}

/* gelu(v) = v/2 (1 + erf(v / sqrt 2)); 1 + erf(x) is computed as 2 -
 * erfc(x) or erfc(-x), so that it keeps its relative precision for
 * negative v. */
static inline vf K(vgelu)(vf v)
{
	vf e = K(verfc)(K(vmax)(v, -v) * 0.70710678118654752f);
	return 0.5f * v * K(sel)(v >= 0.0f, 2.0f - e, e);
}

static void K(bias_gelu)(float *x, const float *b, size_t rows, int n)
{
	for (size_t r = 0; r < rows; r++) {
		float *y = x + r * (size_t)n;
		int i = 0;
		for (; i + W <= n; i += W)
			K(store)(y + i, K(vgelu)(K(load)(y + i) + K(load)(b + i)));
		if (i < n) {
			float t[W] = { 0 }, u[W] = { 0 };
			memcpy(t, y + i, (size_t)(n - i) * 4);
			memcpy(u, b + i, (size_t)(n - i) * 4);
			K(store)(t, K(vgelu)(K(load)(t) + K(load)(u)));
			memcpy(y + i, t, (size_t)(n - i) * 4);
		}
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

/* Row-wise softmax of s[rows, n] (row stride ld). */
static void K(softmax)(float *s, size_t rows, size_t n, size_t ld)
{
	for (size_t r = 0; r < rows; r++) {
		float *y = s + r * ld;
		size_t i = 0;
		vf vm = K(splat)(-INFINITY);
		for (; i + W <= n; i += W)
			vm = K(vmax)(vm, K(load)(y + i));
		float mx = -INFINITY;
		for (int k = 0; k < W; k++)
			mx = vm[k] > mx ? vm[k] : mx;
		for (; i < n; i++)
			mx = y[i] > mx ? y[i] : mx;
		vf vs = { 0 };
		for (i = 0; i + W <= n; i += W) {
			vf e = K(vexp)(K(load)(y + i) - mx);
			K(store)(y + i, e);
			vs += e;
		}
		double sum = 0;
		if (i < n) {
			float t[W];
			for (int k = 0; k < W; k++)
				t[k] = -INFINITY;
			memcpy(t, y + i, (n - i) * 4);
			vf e = K(vexp)(K(load)(t) - mx);
			for (size_t k = 0; k < n - i; k++) {
				y[i + k] = e[k];
				sum += e[k];
			}
		}
		for (int k = 0; k < W; k++)
			sum += vs[k];
		const float inv = (float)(1.0 / sum);
		for (i = 0; i + W <= n; i += W)
			K(store)(y + i, K(load)(y + i) * inv);
		for (; i < n; i++)
			y[i] *= inv;
	}
}
