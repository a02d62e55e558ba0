/* esm_vec.h — the vector helpers (vf: W = 16 floats) of the kernel bodies,
 * included by esm_kernels.h and by esm_attn.h, with V(name) naming each
 * copy: the attention is compiled with fp-contract=fast and the other
 * kernels are not, and GCC does not inline across differing optimisation
 * options, so each needs its own copy of the same text.  Not a public
 * header. */

static inline vf V(load)(const float *p)
{
	vf v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void V(store)(float *p, vf v)
{
	memcpy(p, &v, sizeof v);
}

/* Not (vf){ 0 } + x: that is a scalar add (0 + -0 is +0) and a broadcast
 * from a register, which takes the port of the second FMA unit; this is
 * a broadcast load, or an FMA's embedded one. */
static inline vf V(splat)(float x)
{
	_Static_assert(W == 16, "splat writes 16 lanes");
	return (vf){ x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x };
}

static inline vf V(sel)(vi m, vf a, vf b)          /* m ? a : b */
{
	return (vf)((m & (vi)a) | (~m & (vi)b));
}

static inline vf V(max)(vf a, vf b)
{
	return V(sel)(a > b, a, b);
}

/* e^x for x <= 88 (clamped below at -87.3, where it is 2^-126 instead of
 * less; NaN is taken as -87.3): Cody-Waite reduction x = n ln2 + r,
 * |r| <= ln2/2, and cephes' degree-7 minimax polynomial for e^r. */
static inline vf V(exp)(vf x)
{
	const vf magic = V(splat)(12582912.0f);            /* 1.5 * 2^23 */
	x = V(max)(x, V(splat)(-87.3f));
	vf n = (x * 1.44269504088896341f + magic) - magic;   /* round */
	vf r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	vf p = V(splat)(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	vi e = (__builtin_convertvector(n, vi) + 127) << 23;
	return p * (vf)e;
}

/* x = f(x + b) elementwise, rows of n at a stride of ldx (f is inlined:
 * a helper of the same copy). */
static inline __attribute__((always_inline)) void
V(map_bias)(float *x, size_t ldx, const float *b, size_t rows, int n,
	    vf (*f)(vf))
{
	for (size_t r = 0; r < rows; r++) {
		float *y = x + r * ldx;
		int i = 0;
		for (; i + W <= n; i += W)
			V(store)(y + i, f(V(load)(y + i) + V(load)(b + i)));
		if (i < n) {
			float t[W] = { 0 }, u[W] = { 0 };
			memcpy(t, y + i, (size_t)(n - i) * 4);
			memcpy(u, b + i, (size_t)(n - i) * 4);
			V(store)(t, f(V(load)(t) + V(load)(u)));
			memcpy(y + i, t, (size_t)(n - i) * 4);
		}
	}
}
