/* esm_attn.h — the fused attention kernel, included by esm_kernels.c once
 * per instruction set after esm_kernels.h, with K(name) naming the copy
 * and the register tile given by
 *   AT_R   query vectors (of W rows each) processed together
 *   AT_NJ  keys per tile of q k^T
 *   AT_DT  head dimensions per tile of P v
 * Not a public header.
 *
 * Lanes are queries throughout, so every step is lane-wise (no
 * horizontal sums) and each row's arithmetic is its own lane's: rows in
 * pieces equal rows at once, bit for bit.  Per (sequence, head) k gets
 * its bias and rotary embedding, row-major [L][hd]; v is read in place,
 * without its bias: each row's softmax weights sum to 1, so the bias is
 * added to the output.  Per group of AT_R * W query rows (q transposed,
 * qt[d][r]) and block of PLM_ESMK_KBLOCK keys:
 *   s[j][r] = sum_d k[j][d] qt[d][r]            (k broadcast)
 *   m, l    online softmax: running max and sum per lane
 *   acc[d][r] += v[j][d] p[j][r]                (v broadcast)
 * and at the end out[i][d] = acc[d][lane i] / l[lane i] + bv[d].
 *
 * The functions here are compiled with fp-contract=fast so that a*b + c
 * becomes one FMA where the target has it; they use their own copy of
 * the helpers of esm_vec.h (inlining across differing optimisation options
 * is refused). */

#pragma GCC push_options
#pragma GCC optimize("fp-contract=fast")

#define V(name) K(a##name)
#include "esm_vec.h"
#undef V

/* kr [L][hd]: k of head h with bias and rotary. */
static void K(attn_pack)(const plm_esmk_attn *a, int h, float *kr)
{
	const int hd = a->hd, h2 = hd / 2;
	const size_t H3 = 3 * (size_t)a->H;
	const float *bk = a->bqkv + a->H + h * hd;
	for (size_t j = 0; j < a->L; j++) {
		const float *k = a->qkv + j * H3 + a->H + h * hd;
		const float *cs = a->cs + j * h2, *sn = a->sn + j * h2;
		float *o = kr + j * hd;
		for (int d = 0; d < h2; d++) {
			float k1 = k[d] + bk[d], k2 = k[d + h2] + bk[d + h2];
			o[d] = k1 * cs[d] - k2 * sn[d];
			o[d + h2] = k2 * cs[d] + k1 * sn[d];
		}
	}
}

/* qt [hd][AT_R * W]: query rows g .. g + AT_R W of head h, transposed,
 * with bias, 1/sqrt(hd) and rotary (as transformers: the scale before
 * the rotation); rows >= i1 repeat row i1 - 1. */
static void K(attn_q)(const plm_esmk_attn *a, int h, size_t g, size_t i1,
		      float *qt)
{
	const int hd = a->hd, h2 = hd / 2, n = AT_R * W;
	const float *b = a->bqkv + h * hd;
	const float scale = 1.0f / sqrtf((float)hd);
	for (int t = 0; t < n; t++) {
		const size_t i = g + t < i1 ? g + t : i1 - 1;
		const float *x = a->qkv + i * 3 * (size_t)a->H + h * hd;
		const float *cs = a->cs + i * h2, *sn = a->sn + i * h2;
		for (int d = 0; d < h2; d++) {
			float q1 = (x[d] + b[d]) * scale;
			float q2 = (x[d + h2] + b[d + h2]) * scale;
			qt[d * n + t] = q1 * cs[d] - q2 * sn[d];
			qt[(d + h2) * n + t] = q2 * cs[d] + q1 * sn[d];
		}
	}
}

/* s[n][r] = k[n] . qt[:, r] for the nj <= AT_NJ keys at kp; m[r] =
 * max(m[r], s[n][r]).  Inlined with nj constant: the tile of AT_NJ keys,
 * and the keys left over one by one. */
static inline __attribute__((always_inline)) void
K(attn_stile)(const float *qt, int hd, const float *kp, const int nj,
	      float *s, vf *m)
{
	vf t[AT_NJ][AT_R];
#pragma GCC unroll 16
	for (int n = 0; n < nj; n++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			t[n][r] = K(asplat)(0.0f);
	for (int d = 0; d < hd; d++) {
		vf qv[AT_R];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			qv[r] = K(aload)(qt + ((size_t)d * AT_R + r) * W);
#pragma GCC unroll 16
		for (int n = 0; n < nj; n++) {
			vf kb = K(asplat)(kp[n * hd + d]);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++)
				t[n][r] += kb * qv[r];
		}
	}
#pragma GCC unroll 16
	for (int n = 0; n < nj; n++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++) {
			K(astore)(s + ((size_t)n * AT_R + r) * W, t[n][r]);
			m[r] = K(amax)(m[r], t[n][r]);
		}
}

/* s[j][r] = k[j0 + j] . qt[:, r] for j < nb; mx[r] = max(mx[r], s[j][r]). */
static void K(attn_scores)(const float *qt, int hd, const float *kr,
			   size_t j0, size_t nb, float *s, vf *mx)
{
	size_t j = 0;
	vf m[AT_R];
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		m[r] = mx[r];
	for (; j + AT_NJ <= nb; j += AT_NJ)
		K(attn_stile)(qt, hd, kr + (j0 + j) * hd, AT_NJ,
			      s + j * AT_R * W, m);
	for (; j < nb; j++)
		K(attn_stile)(qt, hd, kr + (j0 + j) * hd, 1, s + j * AT_R * W, m);
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		mx[r] = m[r];
}

/* acc[d][r] += sum_j vp[j ld + d] p[j][r] for the nd <= AT_DT dimensions
 * at acc (row d of it), j < nb.  Inlined with nd constant, as above. */
static inline __attribute__((always_inline)) void
K(attn_pvtile)(const float *p, const float *vp, size_t ld, size_t nb,
	       const int nd, float *acc)
{
	vf o[AT_DT][AT_R];
#pragma GCC unroll 16
	for (int e = 0; e < nd; e++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			o[e][r] = K(aload)(acc + ((size_t)e * AT_R + r) * W);
	for (size_t j = 0; j < nb; j++, vp += ld) {
		vf pv[AT_R];
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			pv[r] = K(aload)(p + (j * AT_R + r) * W);
#pragma GCC unroll 16
		for (int e = 0; e < nd; e++) {
			vf vb = K(asplat)(vp[e]);
#pragma GCC unroll 16
			for (int r = 0; r < AT_R; r++)
				o[e][r] += vb * pv[r];
		}
	}
#pragma GCC unroll 16
	for (int e = 0; e < nd; e++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++)
			K(astore)(acc + ((size_t)e * AT_R + r) * W, o[e][r]);
}

/* acc[d][r] += sum_j v[j0 + j][d] p[j][r], j < nb (v rows of stride ld,
 * no bias). */
static void K(attn_pv)(const float *p, int hd, const float *v, size_t ld,
		       size_t j0, size_t nb, float *acc)
{
	int d = 0;
	for (; d + AT_DT <= hd; d += AT_DT)
		K(attn_pvtile)(p, v + j0 * ld + d, ld, nb, AT_DT,
			       acc + (size_t)d * AT_R * W);
	for (; d < hd; d++)
		K(attn_pvtile)(p, v + j0 * ld + d, ld, nb, 1,
			       acc + (size_t)d * AT_R * W);
}

/* s[j][r] = e^(s[j][r] - m[r]), l[r] += sum_j s[j][r] (j in order). */
static void K(attn_exp)(float *s, size_t nb, const vf *m, vf *l)
{
	vf t[AT_R];
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		t[r] = l[r];
	for (size_t j = 0; j < nb; j++)
#pragma GCC unroll 16
		for (int r = 0; r < AT_R; r++) {
			float *sp = s + (j * AT_R + r) * W;
			vf e = K(aexp)(K(aload)(sp) - m[r]);
			K(astore)(sp, e);
			t[r] += e;
		}
#pragma GCC unroll 16
	for (int r = 0; r < AT_R; r++)
		l[r] = t[r];
}

static void K(attention)(const plm_esmk_attn *a, int h, size_t i0, size_t i1,
			 float *ws)
{
	const int hd = a->hd, H = a->H, n = AT_R * W;
	const size_t L = a->L, BK = PLM_ESMK_KBLOCK;
	float *qt = ws;                               /* [hd][AT_R][W] */
	float *acc = qt + (size_t)hd * n;             /* [hd][AT_R][W] */
	float *s = acc + (size_t)hd * n;              /* [BK][AT_R][W] */
	float *kr = s + BK * n;                       /* [L][hd] */
	const float *v = a->qkv + 2 * (size_t)H + (size_t)h * hd;
	const float *bv = a->bqkv + 2 * H + h * hd;
	if (i0 >= i1)
		return;
	K(attn_pack)(a, h, kr);
	for (size_t g = i0; g < i1; g += n) {
		K(attn_q)(a, h, g, i1, qt);
		vf m[AT_R], l[AT_R];
		for (int r = 0; r < AT_R; r++)
			m[r] = K(asplat)(-INFINITY), l[r] = K(asplat)(0.0f);
		memset(acc, 0, (size_t)hd * n * sizeof *acc);
		for (size_t j0 = 0; j0 < L; j0 += BK) {
			const size_t nb = L - j0 < BK ? L - j0 : BK;
			vf mx[AT_R], al[AT_R];
			for (int r = 0; r < AT_R; r++)
				mx[r] = m[r];
			K(attn_scores)(qt, hd, kr, j0, nb, s, mx);
			if (j0) {
				/* mx >= m: al in (0, 1] */
				for (int r = 0; r < AT_R; r++) {
					al[r] = K(aexp)(m[r] - mx[r]);
					l[r] *= al[r];
				}
				for (int d = 0; d < hd; d++)
					for (int r = 0; r < AT_R; r++) {
						float *ap = acc + ((size_t)d * AT_R + r) * W;
						K(astore)(ap, K(aload)(ap) * al[r]);
					}
			}
			for (int r = 0; r < AT_R; r++)
				m[r] = mx[r];
			K(attn_exp)(s, nb, m, l);
			K(attn_pv)(s, hd, v, 3 * (size_t)H, j0, nb, acc);
		}
		vf inv[AT_R];
		for (int r = 0; r < AT_R; r++)
			inv[r] = 1.0f / l[r];
		for (int d = 0; d < hd; d++)
			for (int r = 0; r < AT_R; r++) {
				float *ap = acc + ((size_t)d * AT_R + r) * W;
				K(astore)(ap, K(aload)(ap) * inv[r] + bv[d]);
			}
		const size_t nr = i1 - g < (size_t)n ? i1 - g : (size_t)n;
		for (size_t t = 0; t < nr; t++) {
			float *o = a->out + (g + t) * (size_t)H + h * hd;
			for (int d = 0; d < hd; d++)
				o[d] = acc[(size_t)d * n + t];
		}
	}
}

#pragma GCC pop_options
