/* gemm_bf16.c — plm_gemm_bf16 (plm/gemm.h): bfloat16 inputs, float32
 * accumulation, in vdpbf16ps's order.
 *
 * Operands are packed as pairs: a 32-bit word holds bf16(X(k)) in its low
 * and bf16(X(k+1)) in its high half for even k, which is the operand
 * layout of vdpbf16ps.  An A panel holds, per pair, the words of MR rows;
 * a B panel those of NR columns.  For a block of NC columns and a slice
 * of KP pairs, B is packed; for a block of MC rows, A (rounded from
 * float32 on the way); the micro-kernel then runs each MR x NR tile over
 * the slice, from zero on the first slice and from the stored tile after,
 * so an element stays one chain over the pairs in order.  The portable
 * kernel runs the same tiles through plm_bf16_dot2. */
#include "gemm_impl.h"
#include "plm/gemm.h"
#include "plm/isa.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_X86 1
#include <immintrin.h>
#endif

#define MR 12
#define NR 32
#define KP 256          /* pairs per slice: a 32 KiB B micro-panel */
#define MC 240
#define NC 2048

/* A float's bits with a subnormal replaced by a zero of its sign. */
static float flush(float x)
{
	union { float f; uint32_t u; } v = { x };
	if (!(v.u & 0x7f800000u))
		v.u &= 0x80000000u;
	return v.f;
}

float plm_bf16_dot2(float c, plm_bf16 a0, plm_bf16 a1, plm_bf16 b0,
		    plm_bf16 b1)
{
	c = flush(c);
	c = flush(fmaf(flush(plm_bf16_to_f32(a1)), flush(plm_bf16_to_f32(b1)),
		       c));
	return flush(fmaf(flush(plm_bf16_to_f32(a0)),
			  flush(plm_bf16_to_f32(b0)), c));
}

typedef void (*kern_fn)(size_t kp, const uint32_t *a, const uint32_t *b,
			float *c, size_t ldc, int first);

static void kern_base(size_t kp, const uint32_t *a, const uint32_t *b,
		      float *c, size_t ldc, int first)
{
	for (int r = 0; r < MR; r++)
		for (int j = 0; j < NR; j++) {
			float s = first ? 0.0f : c[r * ldc + j];
			for (size_t p = 0; p < kp; p++) {
				uint32_t x = a[p * MR + r], y = b[p * NR + j];
				s = plm_bf16_dot2(s, (plm_bf16)x,
						  (plm_bf16)(x >> 16),
						  (plm_bf16)y,
						  (plm_bf16)(y >> 16));
			}
			c[r * ldc + j] = s;
		}
}

#ifdef HAVE_X86
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define KD(r) __m512 c##r##0, c##r##1;
#define KZ(r) c##r##0 = _mm512_setzero_ps(); c##r##1 = _mm512_setzero_ps();
#define KL(r) c##r##0 = _mm512_loadu_ps(c + r * ldc); \
	c##r##1 = _mm512_loadu_ps(c + r * ldc + 16);
#define KF(r) { __m512bh t = (__m512bh)_mm512_set1_epi32((int)a[r]); \
	c##r##0 = _mm512_dpbf16_ps(c##r##0, t, b0); \
	c##r##1 = _mm512_dpbf16_ps(c##r##1, t, b1); }
#define KS(r) _mm512_storeu_ps(c + r * ldc, c##r##0); \
	_mm512_storeu_ps(c + r * ldc + 16, c##r##1);
/* 12 rows x 2 zmm = 24 accumulators; vdpbf16ps ignores MXCSR and always
 * rounds to nearest even with DAZ and FTZ, as plm_bf16_dot2. */
__attribute__((target("avx512f,avx512bf16")))
static void kern_avx512bf16(size_t kp, const uint32_t *a, const uint32_t *b,
			    float *c, size_t ldc, int first)
{
	ROWS(KD)
	if (first) {
		ROWS(KZ)
	} else {
		ROWS(KL)
	}
	for (size_t p = 0; p < kp; p++, a += MR, b += NR) {
		__m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
		__m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
		ROWS(KF)
	}
	ROWS(KS)
}
#endif

/* Row segment conversion: w[p] = bf16(s[2p]) | bf16(s[2p+1]) << 16 for
 * the n floats at s, zero from float n on, kp words in all. */
typedef void (*cvt_fn)(uint32_t *w, const float *s, size_t n, size_t kp);

static void cvt_base(uint32_t *w, const float *s, size_t n, size_t kp)
{
	for (size_t p = 0; p < kp; p++) {
		size_t k = 2 * p;
		uint32_t lo = k < n ? plm_f32_to_bf16(s[k]) : 0;
		uint32_t hi = k + 1 < n ? plm_f32_to_bf16(s[k + 1]) : 0;
		w[p] = lo | hi << 16;
	}
}

#ifdef HAVE_X86
/* vcvtne2ps2bf16 rounds to nearest even and quiets a NaN as
 * plm_f32_to_bf16 does; a subnormal float becomes a zero where
 * plm_f32_to_bf16 gives a subnormal bfloat16, which vdpbf16ps reads as
 * zero: the products are the same. */
__attribute__((target("avx512f,avx512bf16")))
static void cvt_avx512bf16(uint32_t *w, const float *s, size_t n, size_t kp)
{
	size_t p = 0;
	for (; 2 * p + 32 <= n && p + 16 <= kp; p += 16) {
		__m512 lo = _mm512_loadu_ps(s + 2 * p);
		__m512 hi = _mm512_loadu_ps(s + 2 * p + 16);
		_mm512_storeu_si512(w + p, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
	}
	cvt_base(w + p, s + 2 * p, n > 2 * p ? n - 2 * p : 0, kp - p);
}
#endif

typedef struct {
	const char *name;
	kern_fn kern;
	cvt_fn cvt;
} kernel;

static const kernel kernels[] = {
	{ "base", kern_base, cvt_base },
#ifdef HAVE_X86
	{ "avx512bf16", kern_avx512bf16, cvt_avx512bf16 },
#endif
};

static atomic_long sel = -1;

const char *plm_gemm_bf16_isa(void)
{
	return kernels[PLM_ISA_CURRENT(&sel, kernels)].name;
}

int plm_gemm_bf16_select(const char *isa)
{
	return PLM_ISA_FORCE(&sel, kernels, isa);
}

/* ---- packing: pair p of element x is bf16(x(2p)) | bf16(x(2p+1)) << 16,
 * zero past K and past the last row ---- */

/* Rows i0 .. i0+m of A, pairs p0 .. p0+kp, into panels of MR rows, each
 * row converted on its own (tmp: MR * kp words) and then interleaved. */
static void pack_a(cvt_fn cvt, uint32_t *dst, uint32_t *tmp, const float *A,
		   size_t lda, size_t K, size_t i0, size_t m, size_t p0,
		   size_t kp)
{
	const size_t k0 = 2 * p0, n = K - k0;
	for (size_t q = 0; q < m; q += MR, dst += kp * MR) {
		size_t rows = m - q < MR ? m - q : MR;
		for (size_t r = 0; r < MR; r++)
			if (r < rows)
				cvt(tmp + r * kp, A + (i0 + q + r) * lda + k0, n,
				    kp);
			else
				memset(tmp + r * kp, 0, kp * sizeof *tmp);
		for (size_t p = 0; p < kp; p++)
			for (size_t r = 0; r < MR; r++)
				dst[p * MR + r] = tmp[r * kp + p];
	}
}

static void pack_b(uint32_t *dst, const plm_bf16 *B, size_t ldb, size_t K,
		   size_t n0, size_t n, size_t p0, size_t kp)
{
	for (size_t q = 0; q < n; q += NR, dst += kp * NR) {
		size_t cols = n - q < NR ? n - q : NR;
		for (size_t j = 0; j < NR; j++) {
			const plm_bf16 *s = j < cols ? B + (n0 + q + j) * ldb : NULL;
			for (size_t p = 0; p < kp; p++) {
				size_t k = 2 * (p0 + p);
				uint32_t lo = 0, hi = 0;
				if (s) {
					lo = s[k];
					hi = k + 1 < K ? s[k + 1] : 0;
				}
				dst[p * NR + j] = lo | hi << 16;
			}
		}
	}
}

typedef struct {
	kern_fn kern;
	cvt_fn cvt;
	size_t M, N, K;
	const float *A;
	const plm_bf16 *B;
	size_t lda, ldb, ldc;
	float *C;
	int split_n;
	_Atomic int oom;
} job;

/* One MR x NR tile at (i, n) with mv x nv of it inside C. */
static void tile(const job *j, const uint32_t *a, const uint32_t *b,
		 size_t kp, size_t i, size_t n, size_t mv, size_t nv, int first)
{
	float *c = j->C + i * j->ldc + n, t[MR * NR];
	if (mv == MR && nv == NR) {
		j->kern(kp, a, b, c, j->ldc, first);
		return;
	}
	if (!first) {
		/* the lanes outside C are computed and dropped: zeros, not
		 * whatever the stack held */
		memset(t, 0, sizeof t);
		for (size_t r = 0; r < mv; r++)
			memcpy(t + r * NR, c + r * j->ldc, nv * sizeof *c);
	}
	j->kern(kp, a, b, t, NR, first);
	for (size_t r = 0; r < mv; r++)
		memcpy(c + r * j->ldc, t + r * NR, nv * sizeof *c);
}

static size_t min(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void part(void *v, size_t lo, size_t hi)
{
	job *j = v;
	size_t i0, i1, n0, n1;
	plm_gemm_range(j->split_n, lo, hi, MR, NR, j->M, j->N, &i0, &i1, &n0,
		       &n1);
	const size_t P = (j->K + 1) / 2, kpmax = min(P, KP);
	uint32_t *ap = aligned_alloc(64, MC * kpmax * 4);
	uint32_t *bp = aligned_alloc(64, NC * kpmax * 4);
	uint32_t *tmp = malloc(MR * kpmax * 4);
	if (!ap || !bp || !tmp) {
		j->oom = 1;
		goto out;
	}
	for (size_t jc = n0; jc < n1; jc += NC) {
		size_t nc = min(n1 - jc, NC);
		for (size_t pc = 0; pc < P; pc += KP) {
			size_t kp = min(P - pc, KP);
			pack_b(bp, j->B, j->ldb, j->K, jc, nc, pc, kp);
			for (size_t ic = i0; ic < i1; ic += MC) {
				size_t mc = min(i1 - ic, MC);
				pack_a(j->cvt, ap, tmp, j->A, j->lda, j->K, ic,
				       mc, pc, kp);
				for (size_t jr = 0; jr < nc; jr += NR)
					for (size_t ir = 0; ir < mc; ir += MR)
						tile(j, ap + ir * kp, bp + jr * kp,
						     kp, ic + ir, jc + jr,
						     min(mc - ir, MR),
						     min(nc - jr, NR), pc == 0);
			}
		}
	}
out:
	free(ap);
	free(bp);
	free(tmp);
}

void plm_gemm_bf16(plm_pool *pool, size_t M, size_t N, size_t K,
		   const float *A, size_t lda, const plm_bf16 *B, size_t ldb,
		   float *C, size_t ldc)
{
	const kernel *cur = &kernels[PLM_ISA_CURRENT(&sel, kernels)];
	if (M == 0 || N == 0)
		return;
	if (K == 0) {
		plm_gemm_empty(M, N, C, ldc, NULL);
		return;
	}
	job j = { cur->kern, cur->cvt, M, N, K, A, B, lda, ldb, ldc, C, 0, 0 };
	size_t mp = (M + MR - 1) / MR, np = (N + NR - 1) / NR;
	plm_gemm_fork(pool, M, N, K, mp, np, part, &j, &j.split_n);
	if (j.oom)
		/* No room for the packing blocks: the definition, directly. */
		for (size_t i = 0; i < M; i++)
			for (size_t n = 0; n < N; n++) {
				const float *a = A + i * lda;
				const plm_bf16 *b = B + n * ldb;
				float c = 0.0f;
				for (size_t k = 0; k < K; k += 2)
					c = plm_bf16_dot2(c, plm_f32_to_bf16(a[k]),
							  k + 1 < K ? plm_f32_to_bf16(a[k + 1]) : 0,
							  b[k], k + 1 < K ? b[k + 1] : 0);
				C[i * ldc + n] = c;
			}
}

/* ---- pre-packed weights: the slice of KP pairs at pair pc lies at
 * pc * Npad words, as pack_b lays out the whole of N ---- */

size_t plm_gemm_bf16_pw_size(size_t N, size_t K)
{
	return (N + NR - 1) / NR * NR * ((K + 1) / 2);
}

void plm_gemm_bf16_pw_pack(uint32_t *dst, const plm_bf16 *B, size_t ldb,
			   size_t N, size_t K)
{
	const size_t P = (K + 1) / 2, Npad = (N + NR - 1) / NR * NR;
	for (size_t pc = 0; pc < P; pc += KP)
		pack_b(dst + pc * Npad, B, ldb, K, 0, N, pc, min(P - pc, KP));
}

typedef struct {
	const kernel *kn;
	size_t M, N, K;
	const float *A;
	const uint32_t *Bp;
	size_t lda, ldc;
	float *C;
	const plm_gemm_epi *epi;
	int split_n;
	_Atomic int oom;
} pwjob;

static void pw_part(void *v, size_t lo, size_t hi)
{
	pwjob *j = v;
	size_t i0, i1, n0, n1;
	plm_gemm_range(j->split_n, lo, hi, MR, NR, j->M, j->N, &i0, &i1, &n0,
		       &n1);
	if (i0 >= i1 || n0 >= n1)
		return;
	const size_t P = (j->K + 1) / 2, kpmax = min(P, KP);
	const size_t Npad = (j->N + NR - 1) / NR * NR;
	job t = { .kern = j->kn->kern, .C = j->C, .ldc = j->ldc };
	uint32_t *ap = aligned_alloc(64, MC * kpmax * 4);
	uint32_t *tmp = malloc(MR * kpmax * 4);
	if (!ap || !tmp) {
		j->oom = 1;
		goto out;
	}
	for (size_t ic = i0; ic < i1; ic += MC) {
		size_t mc = min(i1 - ic, MC);
		for (size_t pc = 0; pc < P; pc += KP) {
			size_t kp = min(P - pc, KP);
			const uint32_t *slice = j->Bp + pc * Npad;
			pack_a(j->kn->cvt, ap, tmp, j->A, j->lda, j->K, ic, mc,
			       pc, kp);
			for (size_t jr = n0; jr < n1; jr += NR)
				for (size_t ir = 0; ir < mc; ir += MR) {
					size_t mv = min(mc - ir, MR);
					size_t nv = min(n1 - jr, NR);
					tile(&t, ap + ir * kp, slice + jr * kp,
					     kp, ic + ir, jr, mv, nv, pc == 0);
					if (j->epi && pc + kp == P)
						j->epi->fn(j->epi->arg,
							   j->C + (ic + ir) * j->ldc + jr,
							   j->ldc, ic + ir, mv, jr, nv);
				}
		}
	}
out:
	free(ap);
	free(tmp);
}

void plm_gemm_bf16_pw(plm_pool *pool, size_t M, size_t N, size_t K,
		      const float *A, size_t lda, const uint32_t *Bp,
		      float *C, size_t ldc, const plm_gemm_epi *epi)
{
	const kernel *cur = &kernels[PLM_ISA_CURRENT(&sel, kernels)];
	if (M == 0 || N == 0)
		return;
	if (K == 0) {
		plm_gemm_empty(M, N, C, ldc, epi);
		return;
	}
	pwjob j = { cur, M, N, K, A, Bp, lda, ldc, C, epi, 0, 0 };
	size_t mp = (M + MR - 1) / MR, np = (N + NR - 1) / NR;
	plm_gemm_fork(pool, M, N, K, mp, np, pw_part, &j, &j.split_n);
	if (j.oom) {
		const size_t P = (K + 1) / 2, Npad = np * NR;
		for (size_t i = 0; i < M; i++)
			for (size_t n = 0; n < N; n++) {
				const float *a = A + i * lda;
				float c = 0.0f;
				for (size_t p = 0; p < P; p++) {
					size_t p0 = p / KP * KP, kp = min(P - p0, KP);
					uint32_t w = Bp[p0 * Npad + n / NR * NR * kp +
							(p - p0) * NR + n % NR];
					size_t k = 2 * p;
					c = plm_bf16_dot2(c, plm_f32_to_bf16(a[k]),
							  k + 1 < K ? plm_f32_to_bf16(a[k + 1]) : 0,
							  (plm_bf16)w, (plm_bf16)(w >> 16));
				}
				C[i * ldc + n] = c;
			}
		if (epi)
			epi->fn(epi->arg, C, ldc, 0, M, 0, N);
	}
}
