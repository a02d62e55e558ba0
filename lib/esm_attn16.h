/* esm_attn16.h — the attention of --precision bf16, included by
 * esm_kernels.c after esm_kernels.h (whose helpers it uses), once for the
 * portable kernel and once for AVX512-BF16, with K(name) naming the copy,
 * the tile sizes AT_R, AT_NJ, AT_DT of esm_attn.h and DOT2(c, a, b): per
 * lane, c after the pair words a and b in vdpbf16ps's order
 * (plm_bf16_dot2), and FMA(a, b, c), a fused a * b + c per lane.  Not a
 * public header.  Head dimensions up to 512.
 *
 * The same online softmax as esm_attn.h, lanes again being queries, with
 * bfloat16 operands and float32 sums in both products:
 *   s[j][r] = chain over pairs of d of k[j][d] q[d][r]   (q, k rounded;
 *             q carries log2 e, so s is in log2 units)
 *   p[j][r] = bf16(2^(s[j][r] - m[r])), l[r] += p[j][r]
 *   acc[d][r] = chain over pairs of j of v[j][d] p[j][r] (v rounded)
 * and out = acc / l + bias of v.  p is rounded before it is summed, so
 * the weights the output uses sum to l exactly.
 *
 * Unlike esm_attn.h this is compiled without fp-contract (the build's
 * default): every float operation outside DOT2 rounds the same in both
 * copies, and DOT2 is exact in both, so the portable and the AVX512-BF16
 * kernels give the same bits (t-esm). */

/* The bfloat16 of finite x (nearest even) in the high half of a word. */
static inline vu K(rne_hi)(vf x)
{
	vu u = (vu)x;
	return (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
}

/* The same for any x, a NaN quieted: plm_f32_to_bf16 lane-wise. */
static inline vu K(bf16_hi)(vf x)
{
	vu u = (vu)x;
	vu nan = (vu)((u & 0x7fffffffu) > 0x7f800000u);
	return (nan & ((u | 0x00400000u) & 0xffff0000u)) | (~nan & K(rne_hi)(x));
}

static inline vi K(loadw)(const uint32_t *p)
{
	vi v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void K(storew)(uint32_t *p, vu v)
{
	memcpy(p, &v, sizeof v);
}

static inline vi K(splatw)(uint32_t x)
{
	_Static_assert(W == 16, "splatw writes 16 lanes");
	int y = (int)x;
	return (vi){ y, y, y, y, y, y, y, y, y, y, y, y, y, y, y, y };
}

static inline uint32_t K(pair16)(float lo, float hi)
{
	return (uint32_t)plm_f32_to_bf16(lo) |
	       (uint32_t)plm_f32_to_bf16(hi) << 16;
}

/* e^x for x <= 0 to about 3e-6 relative (the weights are then rounded
 * to bfloat16, 2^-9): x clamped below at -87.3 (NaN too), x = n ln2 + r,
 * a degree-4 fit of e^r on [-ln2/2, ln2/2].  Every multiply-add is an
 * explicit FMA, so both copies compute the same bits. */
static inline vf K(exp16)(vf x)
{
	const vf magic = K(splat)(12582912.0f);            /* 1.5 * 2^23 */
	x = K(max)(x, K(splat)(-87.3f));
	vf n = FMA(x, K(splat)(1.44269504088896341f), magic) - magic;
	vf r = FMA(n, K(splat)(-0.693359375f), x);
	r = FMA(n, K(splat)(2.12194440e-4f), r);
	vf p = FMA(K(splat)(0.04141705483198166f), r,
		   K(splat)(0.16790661215782166f));
	p = FMA(p, r, K(splat)(0.5000485181808472f));
	p = FMA(p, r, K(splat)(0.999963641166687f));
	p = FMA(p, r, K(splat)(0.9999991655349731f));
	vi e = (__builtin_convertvector(n, vi) + 127) << 23;
	return p * (vf)e;
}

/* 2^x for x <= 0 the same way: clamped at -126, x = n + r, |r| <= 1/2,
 * a degree-4 fit of 2^r (2.7e-6 relative).  The scores are in log2 units
 * (q carries log2 e), so the weights need no multiply by log2 e. */
static inline vf K(exp2_16)(vf x)
{
	const vf magic = K(splat)(12582912.0f);
	x = K(max)(x, K(splat)(-126.0f));
	vf n = (x + magic) - magic;
	vf r = x - n;
	vf p = FMA(K(splat)(0.009560510516166687f), r,
		   K(splat)(0.05591703951358795f));
	p = FMA(p, r, K(splat)(0.24024981260299683f));
	p = FMA(p, r, K(splat)(0.6931219696998596f));
	p = FMA(p, r, K(splat)(0.9999991655349731f));
	vi e = (__builtin_convertvector(n, vi) + 127) << 23;
	return p * (vf)e;
}

/* gelu(v) = v/2 (1 + erf(v / sqrt 2)) as esm_kernels.h (Numerical
 * Recipes' erfc) with exp16: about 3e-6 relative, for --precision bf16,
 * whose next product rounds it to bfloat16 (2^-9). */
static inline vf K(gelu16)(vf v)
{
	vf z = K(max)(v, -v) * 0.70710678118654752f;
	vf t = 1.0f / FMA(K(splat)(0.5f), z, K(splat)(1.0f));
	vf p = K(splat)(0.17087277f);
	p = FMA(p, t, K(splat)(-0.82215223f));
	p = FMA(p, t, K(splat)(1.48851587f));
	p = FMA(p, t, K(splat)(-1.13520398f));
	p = FMA(p, t, K(splat)(0.27886807f));
	p = FMA(p, t, K(splat)(-0.18628806f));
	p = FMA(p, t, K(splat)(0.09678418f));
	p = FMA(p, t, K(splat)(0.37409196f));
	p = FMA(p, t, K(splat)(1.00002368f));
	p = FMA(p, t, K(splat)(-1.26551223f));
	vf e = t * K(exp16)(FMA(-z, z, p));
	return 0.5f * v * K(sel)(v >= 0.0f, 2.0f - e, e);
}

/* x = gelu16(x + b), rows of n at a stride of ldx. */
static void K(bias_gelu16)(float *x, size_t ldx, const float *b, size_t rows,
			   int n)
{
	K(map_bias)(x, ldx, b, rows, n, K(gelu16));
}

/* One row of q or k of head h: x + bias (times scale for q), then the
 * rotary embedding at cs, sn, into row[hd]; then as pairs into w[hd/2]. */
static void K(a16_row)(const float *x, const float *b, float scale,
		       const float *cs, const float *sn, int hd, float *row,
		       uint32_t *w)
{
	const int h2 = hd / 2;
	if (h2 % W == 0) {
		const vf sc = K(splat)(scale);
		for (int d = 0; d < h2; d += W) {
			vf x1 = (K(load)(x + d) + K(load)(b + d)) * sc;
			vf x2 = (K(load)(x + d + h2) + K(load)(b + d + h2)) * sc;
			vf c = K(load)(cs + d), s = K(load)(sn + d);
			K(store)(row + d, x1 * c - x2 * s);
			K(store)(row + d + h2, x2 * c + x1 * s);
		}
		for (int d = 0; d < hd; d += 2 * W) {
			vu lo = K(bf16_hi)(K(load)(row + d));
			vu hi = K(bf16_hi)(K(load)(row + d + W));
			/* words d/2 .. d/2 + W: the bfloat16 in memory order */
			typedef unsigned short vs __attribute__((vector_size(W * 2)));
			vs a = __builtin_convertvector(lo >> 16, vs);
			vs c = __builtin_convertvector(hi >> 16, vs);
			memcpy((char *)(w + d / 2), &a, sizeof a);
			memcpy((char *)(w + d / 2) + sizeof a, &c, sizeof c);
		}
		return;
	}
	for (int d = 0; d < h2; d++) {
		float x1 = (x[d] + b[d]) * scale;
		float x2 = (x[d + h2] + b[d + h2]) * scale;
		row[d] = x1 * cs[d] - x2 * sn[d];
		row[d + h2] = x2 * cs[d] + x1 * sn[d];
	}
	for (int d = 0; d < h2; d++)
		w[d] = K(pair16)(row[2 * d], row[2 * d + 1]);
}

/* Per (sequence, head): kr[j][dp] = k[j] with bias and rotary, pairs of
 * dimensions 2dp, 2dp+1; v16[jp][d] = v[2jp][d], v[2jp+1][d] (no bias;
 * a missing v[L] is 0).  row: hd floats of scratch. */
static void K(a16_pack)(const plm_esmk_attn *a, int h, uint32_t *kr,
			uint32_t *v16, float *row)
{
	const int hd = a->hd, h2 = hd / 2;
	const size_t H3 = 3 * (size_t)a->H;
	const float *bk = a->bqkv + a->H + h * hd;
	for (size_t j = 0; j < a->L; j++)
		K(a16_row)(a->qkv + j * H3 + a->H + h * hd, bk, 1.0f,
			   a->cs + j * h2, a->sn + j * h2, hd, row, kr + j * h2);
	const float *v = a->qkv + 2 * (size_t)a->H + h * hd;
	for (size_t j = 0; j < a->L; j += 2) {
		const float *v0 = v + j * H3, *v1 = v0 + H3;
		uint32_t *o = v16 + j / 2 * hd;
		const int two = j + 1 < a->L;
		int d = 0;
		for (; d + W <= hd; d += W) {
			vu lo = K(bf16_hi)(K(load)(v0 + d));
			vu hi = two ? K(bf16_hi)(K(load)(v1 + d)) : (vu){ 0 };
			K(storew)(o + d, lo >> 16 | hi);
		}
		for (; d < hd; d++)
			o[d] = K(pair16)(v0[d], two ? v1[d] : 0.0f);
	}
}

/* qt[dp][t]: query rows g .. g + AT_R W of head h as pairs, with bias,
 * log2(e)/sqrt(hd) (scores in log2 units) and rotary as esm_attn.h;
 * rows >= i1 repeat row i1 - 1. */
static void K(a16_q)(const plm_esmk_attn *a, int h, size_t g, size_t i1,
		     uint32_t *qt, float *row)
{
	const int hd = a->hd, h2 = hd / 2, n = AT_R * W;
	const float scale = (float)(1.4426950408889634 / sqrt((double)hd));
	uint32_t w[256];
	for (int t = 0; t < n; t++) {
		const size_t i = g + t < i1 ? g + t : i1 - 1;
		K(a16_row)(a->qkv + i * 3 * (size_t)a->H + h * hd,
			   a->bqkv + h * hd, scale, a->cs + i * h2,
			   a->sn + i * h2, hd, row, w);
		for (int d = 0; d < h2; d++)
			qt[d * n + t] = w[d];
	}
}

static inline __attribute__((always_inline)) void
K(a16_stile)(const uint32_t *qt, int hp, const uint32_t *kp, const int nj,
	     float *s, vf *m)
{
	vf t[AT_NJ][AT_R];
#pragma GCC unroll 16
	for (int n = 0; n < nj; n++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			t[n][r] = K(splat)(0.0f);
	for (int d = 0; d < hp; d++) {
		vi qv[AT_R];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			qv[r] = K(loadw)(qt + ((size_t)d * AT_R + r) * W);
#pragma GCC unroll 16
		for (int n = 0; n < nj; n++) {
			vi kb = K(splatw)(kp[n * hp + d]);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++)
				t[n][r] = DOT2(t[n][r], kb, qv[r]);
		}
	}
#pragma GCC unroll 16
	for (int n = 0; n < nj; n++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++) {
			K(store)(s + ((size_t)n * AT_R + r) * W, t[n][r]);
			m[r] = K(max)(m[r], t[n][r]);
		}
}

/* s[j][r] = k[j0 + j] . q[:, r] for j < nb; mx[r] = max(mx[r], s[j][r]). */
static void K(a16_scores)(const uint32_t *qt, int hp, const uint32_t *kr,
			  size_t j0, size_t nb, float *s, vf *mx)
{
	size_t j = 0;
	vf m[AT_R];
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		m[r] = mx[r];
	for (; j + AT_NJ <= nb; j += AT_NJ)
		K(a16_stile)(qt, hp, kr + (j0 + j) * hp, AT_NJ,
			     s + j * AT_R * W, m);
	for (; j < nb; j++)
		K(a16_stile)(qt, hp, kr + (j0 + j) * hp, 1, s + j * AT_R * W, m);
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		mx[r] = m[r];
}

/* acc[e][r] += chain over jp < np of v16[jp][e] p16[jp][r], for the nd
 * dimensions at vp (rows of ld words) and acc. */
static inline __attribute__((always_inline)) void
K(a16_pvtile)(const uint32_t *p16, const uint32_t *vp, size_t ld, size_t np,
	      const int nd, float *acc)
{
	vf o[AT_DT][AT_R];
#pragma GCC unroll 16
	for (int e = 0; e < nd; e++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			o[e][r] = K(load)(acc + ((size_t)e * AT_R + r) * W);
	for (size_t j = 0; j < np; j++, vp += ld) {
		vi pv[AT_R];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			pv[r] = K(loadw)(p16 + (j * AT_R + r) * W);
#pragma GCC unroll 16
		for (int e = 0; e < nd; e++) {
			vi vb = K(splatw)(vp[e]);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++)
				o[e][r] = DOT2(o[e][r], vb, pv[r]);
		}
	}
#pragma GCC unroll 16
	for (int e = 0; e < nd; e++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			K(store)(acc + ((size_t)e * AT_R + r) * W, o[e][r]);
}

static void K(a16_pv)(const uint32_t *p16, int hd, const uint32_t *v16,
		      size_t jp0, size_t np, float *acc)
{
	int d = 0;
	for (; d + AT_DT <= hd; d += AT_DT)
		K(a16_pvtile)(p16, v16 + jp0 * hd + d, (size_t)hd, np, AT_DT,
			      acc + (size_t)d * AT_R * W);
	for (; d < hd; d++)
		K(a16_pvtile)(p16, v16 + jp0 * hd + d, (size_t)hd, np, 1,
			      acc + (size_t)d * AT_R * W);
}

/* p16[jp][r] = the pair bf16(e^(s[2jp][r] - m[r])), bf16(e^(s[2jp+1][r] -
 * m[r])) (0 past nb); l[r] += both, in order. */
static void K(a16_exp)(const float *s, uint32_t *p16, size_t nb,
		       const vf *m, vf *l)
{
	vf t[AT_R];
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		t[r] = l[r];
	for (size_t j = 0; j < nb; j += 2)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++) {
			const float *sp = s + (j * AT_R + r) * W;
			vu e0 = K(rne_hi)(K(exp2_16)(K(load)(sp) - m[r])), e1 = { 0 };
			if (j + 1 < nb)
				e1 = K(rne_hi)(K(exp2_16)(K(load)(sp + AT_R * W) - m[r]));
			t[r] += (vf)e0;
			t[r] += (vf)e1;
			K(storew)(p16 + (j / 2 * AT_R + r) * W, e0 >> 16 | e1);
		}
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		l[r] = t[r];
}

static void K(attention16)(const plm_esmk_attn *a, int h, size_t i0,
			   size_t i1, float *ws)
{
	const int hd = a->hd, hp = hd / 2, n = AT_R * W;
	const size_t L = a->L, BK = PLM_ESMK_KBLOCK;
	uint32_t *qt = (uint32_t *)(void *)ws;        /* [hd/2][AT_R][W] */
	float *acc = ws + (size_t)hp * n;             /* [hd][AT_R][W] */
	float *s = acc + (size_t)hd * n;              /* [BK][AT_R][W] */
	uint32_t *p16 = (uint32_t *)(void *)(s + BK * n); /* [BK/2][AT_R][W] */
	uint32_t *kr = p16 + BK / 2 * n;              /* [L][hd/2] */
	uint32_t *v16 = kr + L * hp;                  /* [(L+1)/2][hd] */
	float *row = (float *)(void *)(v16 + (L + 1) / 2 * hd); /* [hd] */
	const float *bv = a->bqkv + 2 * a->H + h * hd;
	if (i0 >= i1)
		return;
	K(a16_pack)(a, h, kr, v16, row);
	for (size_t g = i0; g < i1; g += n) {
		K(a16_q)(a, h, g, i1, qt, row);
		vf m[AT_R], l[AT_R];
		for (int r = 0; r < AT_R; r++)
			m[r] = K(splat)(-INFINITY), l[r] = K(splat)(0.0f);
		memset(acc, 0, (size_t)hd * n * sizeof *acc);
		for (size_t j0 = 0; j0 < L; j0 += BK) {
			const size_t nb = L - j0 < BK ? L - j0 : BK;
			vf mx[AT_R], al[AT_R];
			for (int r = 0; r < AT_R; r++)
				mx[r] = m[r];
			K(a16_scores)(qt, hp, kr, j0, nb, s, mx);
			if (j0) {
				for (int r = 0; r < AT_R; r++) {
					al[r] = K(exp2_16)(m[r] - mx[r]);
					l[r] *= al[r];
				}
				for (int d = 0; d < hd; d++)
					for (int r = 0; r < AT_R; r++) {
						float *ap = acc + ((size_t)d * AT_R + r) * W;
						K(store)(ap, K(load)(ap) * al[r]);
					}
			}
			for (int r = 0; r < AT_R; r++)
				m[r] = mx[r];
			K(a16_exp)(s, p16, nb, m, l);
			K(a16_pv)(p16, hd, v16, j0 / 2, (nb + 1) / 2, acc);
		}
		vf inv[AT_R];
		for (int r = 0; r < AT_R; r++)
			inv[r] = 1.0f / l[r];
		const size_t nr = i1 - g < (size_t)n ? i1 - g : (size_t)n;
		for (size_t t = 0; t < nr; t++) {
			float *o = a->out + (g + t) * (size_t)a->H + h * hd;
			const float it = inv[t / W][t % W];
			for (int d = 0; d < hd; d++)
				o[d] = acc[(size_t)d * n + t] * it + bv[d];
		}
	}
}
