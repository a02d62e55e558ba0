/* esm_attn.h — the fused attention kernel, included by esm_kernels.c once
 * per instruction set after esm_kernels.h, with K(name) naming the copy
 * and the register tile given by
 *   AT_R   query rows processed together
 *   AT_NV  key vectors (of W) per tile of q k^T
 *   AT_DT  head dimensions per tile of P v
 * Not a public header.
 *
 * Lanes are keys throughout.  Per (sequence, head) k and v are packed
 * transposed, [hd][Lk] (Lk = L rounded up to W, the pad keys zero), with
 * the bias and the rotary embedding applied.  Per group of AT_R query
 * rows and block of PLM_ESMK_KBLOCK keys:
 *   s[r][j] = sum_d q[r][d] kt[d][j]            (q broadcast, kt vectors)
 *   m, l    online softmax: running max and sum per row
 *   acc[r][d] += p[r][j] * vt[d][j]             (W partial sums per lane)
 * and at the end out[r][d] = sum over lanes of acc[r][d] / l[r], the lane
 * sums taken 16 vectors at once by a shuffle tree.
 *
 * The functions here are compiled with fp-contract=fast so that a*b + c
 * becomes one FMA where the target has it; they use their own helpers
 * (inlining across differing optimisation options is refused). */

#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")

static inline vf K(ald)(const float *p)
{
	vf v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void K(ast)(float *p, vf v)
{
	memcpy(p, &v, sizeof v);
}

static inline vf K(asplat)(float x)
{
	return (vf){ 0 } + x;
}

static inline vf K(amax)(vf a, vf b)
{
	vi m = a > b;
	return (vf)((m & (vi)a) | (~m & (vi)b));
}

/* e^x for x <= 0 (vexp of esm_kernels.h without the upper clamp). */
static inline vf K(aexp)(vf x)
{
	const vf magic = K(asplat)(12582912.0f);
	x = K(amax)(x, K(asplat)(-87.3f));
	vf n = (x * 1.44269504088896341f + magic) - magic;
	vf r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	vf p = K(asplat)(1.9875691500e-4f);
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	vi e = (__builtin_convertvector(n, vi) + 127) << 23;
	return p * (vf)e;
}

/* r[i] = sum of the lanes of a[i], i < 16 (W = 16): pairwise halving. */
static inline vf K(lanesums)(const vf *a)
{
	vf b[8], c[4], d[2];
	for (int p = 0; p < 8; p++)
		b[p] = __builtin_shufflevector(a[2 * p], a[2 * p + 1],
				0, 1, 2, 3, 4, 5, 6, 7,
				16, 17, 18, 19, 20, 21, 22, 23) +
		       __builtin_shufflevector(a[2 * p], a[2 * p + 1],
				8, 9, 10, 11, 12, 13, 14, 15,
				24, 25, 26, 27, 28, 29, 30, 31);
	for (int p = 0; p < 4; p++)
		c[p] = __builtin_shufflevector(b[2 * p], b[2 * p + 1],
				0, 1, 2, 3, 8, 9, 10, 11,
				16, 17, 18, 19, 24, 25, 26, 27) +
		       __builtin_shufflevector(b[2 * p], b[2 * p + 1],
				4, 5, 6, 7, 12, 13, 14, 15,
				20, 21, 22, 23, 28, 29, 30, 31);
	for (int p = 0; p < 2; p++)
		d[p] = __builtin_shufflevector(c[2 * p], c[2 * p + 1],
				0, 1, 4, 5, 8, 9, 12, 13,
				16, 17, 20, 21, 24, 25, 28, 29) +
		       __builtin_shufflevector(c[2 * p], c[2 * p + 1],
				2, 3, 6, 7, 10, 11, 14, 15,
				18, 19, 22, 23, 26, 27, 30, 31);
	return __builtin_shufflevector(d[0], d[1],
			0, 2, 4, 6, 8, 10, 12, 14,
			16, 18, 20, 22, 24, 26, 28, 30) +
	       __builtin_shufflevector(d[0], d[1],
			1, 3, 5, 7, 9, 11, 13, 15,
			17, 19, 21, 23, 25, 27, 29, 31);
}

/* kt, vt [hd][Lk] (row stride Lp): k with bias and rotary, v with bias,
 * transposed, keys L .. Lk zero. */
static void K(attn_pack)(const plm_esmk_attn *a, int h, size_t Lk, size_t Lp,
			 float *kt, float *vt)
{
	const int hd = a->hd, h2 = hd / 2;
	const size_t H3 = 3 * (size_t)a->H;
	const float *bk = a->bqkv + a->H + h * hd, *bv = bk + a->H;
	for (size_t j = 0; j < a->L; j++) {
		const float *k = a->qkv + j * H3 + a->H + h * hd, *v = k + a->H;
		const float *cs = a->cs + j * h2, *sn = a->sn + j * h2;
		for (int d = 0; d < h2; d++) {
			float k1 = k[d] + bk[d], k2 = k[d + h2] + bk[d + h2];
			kt[d * Lp + j] = k1 * cs[d] - k2 * sn[d];
			kt[(d + h2) * Lp + j] = k2 * cs[d] + k1 * sn[d];
		}
		for (int d = 0; d < hd; d++)
			vt[d * Lp + j] = v[d] + bv[d];
	}
	for (int d = 0; d < hd; d++)
		for (size_t j = a->L; j < Lk; j++)
			kt[d * Lp + j] = vt[d * Lp + j] = 0.0f;
}

/* q row i of head h: bias, 1/sqrt(hd), rotary (as transformers: the
 * scale before the rotation). */
static void K(attn_q)(const plm_esmk_attn *a, int h, size_t i, float *q)
{
	const int hd = a->hd, h2 = hd / 2;
	const float *x = a->qkv + i * 3 * (size_t)a->H + h * hd;
	const float *b = a->bqkv + h * hd;
	const float *cs = a->cs + i * h2, *sn = a->sn + i * h2;
	const float scale = 1.0f / sqrtf((float)hd);
	for (int d = 0; d < h2; d++) {
		float q1 = (x[d] + b[d]) * scale;
		float q2 = (x[d + h2] + b[d + h2]) * scale;
		q[d] = q1 * cs[d] - q2 * sn[d];
		q[d + h2] = q2 * cs[d] + q1 * sn[d];
	}
}

/* s[r][0 .. nb) = q[r] . kt[:, j0 ..], nb a multiple of W. */
static void K(attn_scores)(const float *q, int hd, const float *kt, size_t Lp,
			   size_t j0, size_t nb, float *s, size_t ls)
{
	size_t j = 0;
	for (; j + AT_NV * W <= nb; j += AT_NV * W) {
		vf t[AT_R][AT_NV];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
#pragma GCC unroll 16
			for (int n = 0; n < AT_NV; n++)
				t[r][n] = K(asplat)(0.0f);
		const float *kp = kt + j0 + j;
		for (int d = 0; d < hd; d++, kp += Lp) {
			vf kv[AT_NV];
#pragma GCC unroll 16
			for (int n = 0; n < AT_NV; n++)
				kv[n] = K(ald)(kp + n * W);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++) {
				vf qb = K(asplat)(q[r * hd + d]);
#pragma GCC unroll 16
				for (int n = 0; n < AT_NV; n++)
					t[r][n] += qb * kv[n];
			}
		}
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
#pragma GCC unroll 16
			for (int n = 0; n < AT_NV; n++)
				K(ast)(s + r * ls + j + n * W, t[r][n]);
	}
	for (; j < nb; j += W) {
		vf t[AT_R];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			t[r] = K(asplat)(0.0f);
		const float *kp = kt + j0 + j;
		for (int d = 0; d < hd; d++, kp += Lp) {
			vf kv = K(ald)(kp);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++)
				t[r] += K(asplat)(q[r * hd + d]) * kv;
		}
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			K(ast)(s + r * ls + j, t[r]);
	}
}

/* acc[r][d] += p[r][0 .. nb) * vt[d][j0 ..], lane-wise. */
static void K(attn_pv)(const float *p, size_t ls, int hd, const float *vt,
		       size_t Lp, size_t j0, size_t nb, float *acc)
{
	int d = 0;
	for (; d + AT_DT <= hd; d += AT_DT) {
		vf o[AT_R][AT_DT];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
#pragma GCC unroll 16
			for (int e = 0; e < AT_DT; e++)
				o[r][e] = K(ald)(acc + ((size_t)r * hd + d + e) * W);
		for (size_t j = 0; j < nb; j += W) {
			vf vv[AT_DT];
#pragma GCC unroll 16
			for (int e = 0; e < AT_DT; e++)
				vv[e] = K(ald)(vt + (size_t)(d + e) * Lp + j0 + j);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++) {
				vf pv = K(ald)(p + r * ls + j);
#pragma GCC unroll 16
				for (int e = 0; e < AT_DT; e++)
					o[r][e] += pv * vv[e];
			}
		}
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
#pragma GCC unroll 16
			for (int e = 0; e < AT_DT; e++)
				K(ast)(acc + ((size_t)r * hd + d + e) * W, o[r][e]);
	}
	for (; d < hd; d++) {
		vf o[AT_R];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			o[r] = K(ald)(acc + ((size_t)r * hd + d) * W);
		for (size_t j = 0; j < nb; j += W) {
			vf vv = K(ald)(vt + (size_t)d * Lp + j0 + j);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++)
				o[r] += K(ald)(p + r * ls + j) * vv;
		}
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			K(ast)(acc + ((size_t)r * hd + d) * W, o[r]);
	}
}

/* Online softmax step of one row of a block: s[0 .. nb) becomes
 * e^(s - m') where m' = max(*m, max s), keys >= valid masked to 0;
 * returns the factor e^(m - m') the row's earlier sums need. */
static float K(attn_softmax)(float *s, size_t nb, size_t valid, float *m,
			     float *l)
{
	for (size_t j = valid; j < nb; j++)
		s[j] = -INFINITY;
	vf vm = K(asplat)(-INFINITY);
	for (size_t j = 0; j < nb; j += W)
		vm = K(amax)(vm, K(ald)(s + j));
	float mx = *m;
	for (int k = 0; k < W; k++)
		mx = vm[k] > mx ? vm[k] : mx;
	const float alpha = *m == -INFINITY ? 0.0f : expf(*m - mx);
	const vf vmx = K(asplat)(mx);
	vf sum = K(asplat)(0.0f);
	for (size_t j = 0; j < nb; j += W) {
		vf e = K(aexp)(K(ald)(s + j) - vmx);
		K(ast)(s + j, e);
		sum += e;
	}
	for (size_t j = valid; j < nb; j++)
		s[j] = 0.0f;
	float t = 0.0f;
	for (int k = 0; k < W; k++)
		t += sum[k];
	/* the pad lanes added at most W e^-87.3: nothing at float32 next
	 * to the row's largest term, 1 */
	*l = *l * alpha + t;
	*m = mx;
	return alpha;
}

static void K(attention)(const plm_esmk_attn *a, int h, size_t i0, size_t i1,
			 float *ws)
{
	const int hd = a->hd, H = a->H;
	const size_t L = a->L, Lk = (L + W - 1) / W * W;
	const size_t BK = Lk < PLM_ESMK_KBLOCK ? Lk : PLM_ESMK_KBLOCK;
	/* Row stride of kt and vt: one vector more than the keys, so that a
	 * power-of-two length does not put every row in the same cache
	 * sets. */
	const size_t Lp = Lk + W;
	float *kt = ws, *vt = kt + (size_t)hd * Lp;
	float *acc = vt + (size_t)hd * Lp;            /* [AT_R][hd][W] */
	float *s = acc + (size_t)AT_R * hd * W;       /* [AT_R][BK] */
	float *q = s + (size_t)AT_R * BK;             /* [AT_R][hd] */
	if (i0 >= i1)
		return;
	K(attn_pack)(a, h, Lk, Lp, kt, vt);
	for (size_t g = i0; g < i1; g += AT_R) {
		/* a short last group repeats its last row */
		for (int r = 0; r < AT_R; r++)
			K(attn_q)(a, h, g + r < i1 ? g + r : i1 - 1, q + r * hd);
		float m[AT_R], l[AT_R];
		for (int r = 0; r < AT_R; r++)
			m[r] = -INFINITY, l[r] = 0.0f;
		memset(acc, 0, (size_t)AT_R * hd * W * sizeof *acc);
		for (size_t j0 = 0; j0 < Lk; j0 += BK) {
			const size_t nb = Lk - j0 < BK ? Lk - j0 : BK;
			const size_t valid = L - j0 < nb ? L - j0 : nb;
			K(attn_scores)(q, hd, kt, Lp, j0, nb, s, BK);
			for (int r = 0; r < AT_R; r++) {
				float al = K(attn_softmax)(s + r * BK, nb, valid,
							   &m[r], &l[r]);
				if (j0 == 0 || al == 1.0f)
					continue;
				const vf va = K(asplat)(al);
				float *ar = acc + (size_t)r * hd * W;
				for (int d = 0; d < hd; d++)
					K(ast)(ar + d * W, K(ald)(ar + d * W) * va);
			}
			K(attn_pv)(s, BK, hd, vt, Lp, j0, nb, acc);
		}
		for (int r = 0; r < AT_R && g + r < i1; r++) {
			float *o = a->out + (g + r) * (size_t)H + h * hd;
			const float *ar = acc + (size_t)r * hd * W;
			const vf inv = K(asplat)(1.0f / l[r]);
			for (int d = 0; d < hd; d += W) {
				vf part[W];
				for (int e = 0; e < W; e++)
					part[e] = d + e < hd ?
						K(ald)(ar + (d + e) * W) :
						K(asplat)(0.0f);
				vf sum = K(lanesums)(part) * inv;
				for (int e = 0; e < W && d + e < hd; e++)
					o[d + e] = sum[e];
			}
		}
	}
}

#pragma GCC pop_options
