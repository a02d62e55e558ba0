/* gemm.c — the matrix product of include/plm/gemm.h.
 *
 * The usual cache blocking (BLIS order): for a block of NC columns and a
 * slice of KC of the inner dimension, B is packed into NR-wide panels; for
 * a block of MC rows, A into MR-high panels; a register micro-kernel then
 * computes each MR x NR tile over the slice.  The kernel starts its
 * accumulators from zero on the first slice and from the stored tile on
 * the next ones, so across slices an element stays one FMA chain over k in
 * order: blocking, tiling and threading change which element is computed
 * where, never how.  Partial tiles (the edges of C) run through a padded
 * copy with the same kernel; zero padding touches only padding lanes. */
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

/* The k slice: the AVX-512 kernel's B micro-panel (32 columns x KC
 * floats, 32 KiB) stays in a 48 KiB L1 next to the A panel it streams;
 * at KC 384 it did not, and products with K >= 2560 ran at half speed. */
#define KC 256

/* c[MR x NR] (+)= a-panel * b-panel over kc: the a panel holds MR floats
 * per k, the b panel NR floats per k at a stride of bs floats (NR for a
 * panel packed per call, PLM_GEMM_PW_NR for a pre-packed weight). */
typedef void (*kern_fn)(size_t kc, const float *a, const float *b, size_t bs,
			float *c, size_t ldc, int first);

typedef struct {
	const char *name;
	kern_fn kern;
	int mr, nr;             /* tile */
	int mc, nc;             /* block: multiples of mr, nr */
} kernel;

/* ---- micro-kernels: c[MR x NR] (+)= a-panel * b-panel over kc ---- */

#define MR_B 4
#define NR_B 4
static void kern_base(size_t kc, const float *a, const float *b, size_t bs,
		      float *c, size_t ldc, int first)
{
	float acc[MR_B][NR_B];
	for (int r = 0; r < MR_B; r++)
		for (int j = 0; j < NR_B; j++)
			acc[r][j] = first ? 0.0f : c[r * ldc + j];
	for (size_t k = 0; k < kc; k++, a += MR_B, b += bs)
		for (int r = 0; r < MR_B; r++)
			for (int j = 0; j < NR_B; j++)
				acc[r][j] = fmaf(a[r], b[j], acc[r][j]);
	for (int r = 0; r < MR_B; r++)
		for (int j = 0; j < NR_B; j++)
			c[r * ldc + j] = acc[r][j];
}

#ifdef HAVE_X86
/* The SIMD kernels, one body for both widths: a tile row r is two vectors
 * c<r>0 and c<r>1 held in registers; ROWS(X) applies X to each row, and V
 * (the vector type), W (its floats) and PS(op) (its intrinsics) are
 * defined around each kernel. */
#define KD(r) V c##r##0, c##r##1;
#define KZ(r) c##r##0 = PS(setzero_ps)(); c##r##1 = PS(setzero_ps)();
#define KL(r) c##r##0 = PS(loadu_ps)(c + r * ldc); \
	c##r##1 = PS(loadu_ps)(c + r * ldc + W);
#define KF(r) { V t = PS(set1_ps)(a[r]); \
	c##r##0 = PS(fmadd_ps)(t, b0, c##r##0); \
	c##r##1 = PS(fmadd_ps)(t, b1, c##r##1); }
#define KS(r) PS(storeu_ps)(c + r * ldc, c##r##0); \
	PS(storeu_ps)(c + r * ldc + W, c##r##1);
#define KERNEL(ROWS, MR)						\
	ROWS(KD)							\
	if (first) {							\
		ROWS(KZ)						\
	} else {							\
		ROWS(KL)						\
	}								\
	for (size_t k = 0; k < kc; k++, a += MR, b += bs) {		\
		V b0 = PS(loadu_ps)(b), b1 = PS(loadu_ps)(b + W);		\
		ROWS(KF)						\
	}								\
	ROWS(KS)

/* AVX2: 6 rows x 2 ymm = 12 accumulators. */
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define V __m256
#define W 8
#define PS(op) _mm256_##op
__attribute__((target("avx2,fma")))
static void kern_avx2(size_t kc, const float *a, const float *b, size_t bs,
		      float *c, size_t ldc, int first)
{
	KERNEL(ROWS6, 6)
}
#undef V
#undef W
#undef PS

/* AVX-512: 12 rows x 2 zmm = 24 accumulators. */
#define ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) \
	X(10) X(11)
#define V __m512
#define W 16
#define PS(op) _mm512_##op
__attribute__((target("avx512f,avx2,fma")))
static void kern_avx512(size_t kc, const float *a, const float *b,
			size_t bs, float *c, size_t ldc, int first)
{
	KERNEL(ROWS12, 12)
}
#undef V
#undef W
#undef PS
#endif

static const kernel kernels[] = {
	{ "base", kern_base, MR_B, NR_B, 64, 256 },
#ifdef HAVE_X86
	{ "avx2", kern_avx2, 6, 16, 96, 512 },
	{ "avx512", kern_avx512, 12, 32, 240, 2048 },
#endif
};

static atomic_long sel = -1;

const char *plm_gemm_isa(void)
{
	return kernels[PLM_ISA_CURRENT(&sel, kernels)].name;
}

int plm_gemm_select(const char *isa)
{
	return PLM_ISA_FORCE(&sel, kernels, isa);
}

/* ---- packing ---- */

/* Rows i0 .. i0+m of A, columns k0 .. k0+kc, into panels of mr rows:
 * panel p holds, for each k, the mr values A(i0 + p mr + r, k0 + k). */
static void pack(float *dst, const float *A, size_t rs, size_t cs,
		 size_t i0, size_t m, size_t k0, size_t kc, int mr)
{
	for (size_t p = 0; p < m; p += (size_t)mr, dst += kc * (size_t)mr) {
		size_t rows = m - p < (size_t)mr ? m - p : (size_t)mr;
		for (size_t r = 0; r < rows; r++) {
			const float *s = A + (i0 + p + r) * rs + k0 * cs;
			float *d = dst + r;
			if (cs == 1)
				for (size_t k = 0; k < kc; k++)
					d[k * (size_t)mr] = s[k];
			else
				for (size_t k = 0; k < kc; k++)
					d[k * (size_t)mr] = s[k * cs];
		}
		for (size_t r = rows; r < (size_t)mr; r++)
			for (size_t k = 0; k < kc; k++)
				dst[k * (size_t)mr + r] = 0.0f;
	}
}

/* ---- one thread's rectangle ---- */

typedef struct {
	const kernel *kn;
	size_t M, N, K;
	const float *A, *B;
	size_t a_rs, a_cs, b_rs, b_cs;
	float *C;
	size_t ldc;
	int split_n;            /* parts are column panels, else row panels */
	_Atomic int oom;
} job;

static void *xalloc(size_t n)
{
	return aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
}

static void rect(const job *j, size_t i0, size_t i1, size_t n0, size_t n1,
		 float *ap, float *bp)
{
	const kernel *kn = j->kn;
	const size_t mr = (size_t)kn->mr, nr = (size_t)kn->nr;
	float tile[12 * 32];
	for (size_t jc = n0; jc < n1; jc += (size_t)kn->nc) {
		size_t nc = n1 - jc < (size_t)kn->nc ? n1 - jc : (size_t)kn->nc;
		for (size_t pc = 0; pc < j->K; pc += KC) {
			size_t kc = j->K - pc < KC ? j->K - pc : KC;
			int first = pc == 0;
			pack(bp, j->B, j->b_rs, j->b_cs, jc, nc, pc, kc, kn->nr);
			for (size_t ic = i0; ic < i1; ic += (size_t)kn->mc) {
				size_t mc = i1 - ic < (size_t)kn->mc ?
					    i1 - ic : (size_t)kn->mc;
				pack(ap, j->A, j->a_rs, j->a_cs, ic, mc, pc, kc,
				     kn->mr);
				for (size_t jr = 0; jr < nc; jr += nr) {
					const float *b = bp + jr * kc;
					size_t nv = nc - jr < nr ? nc - jr : nr;
					for (size_t ir = 0; ir < mc; ir += mr) {
						const float *a = ap + ir * kc;
						size_t mv = mc - ir < mr ?
							    mc - ir : mr;
						float *c = j->C + (ic + ir) *
							   j->ldc + jc + jr;
						if (mv == mr && nv == nr) {
							kn->kern(kc, a, b, nr, c,
								 j->ldc, first);
							continue;
						}
						if (!first) {
							/* lanes outside C: zeros */
							memset(tile, 0, sizeof tile);
							for (size_t r = 0; r < mv; r++)
								memcpy(tile + r * nr,
								       c + r * j->ldc,
								       nv * sizeof *c);
						}
						kn->kern(kc, a, b, nr, tile, nr,
							 first);
						for (size_t r = 0; r < mv; r++)
							memcpy(c + r * j->ldc,
							       tile + r * nr,
							       nv * sizeof *c);
					}
				}
			}
		}
	}
}

static void part(void *v, size_t lo, size_t hi)
{
	job *j = v;
	const kernel *kn = j->kn;
	size_t i0, i1, n0, n1;
	plm_gemm_range(j->split_n, lo, hi, (size_t)kn->mr, (size_t)kn->nr, j->M,
		       j->N, &i0, &i1, &n0, &n1);
	if (i0 >= i1 || n0 >= n1)
		return;
	size_t kc = j->K < KC ? j->K : KC;
	size_t ncap = (size_t)kn->nc < n1 - n0 ? (size_t)kn->nc : n1 - n0;
	ncap = (ncap + (size_t)kn->nr - 1) / (size_t)kn->nr * (size_t)kn->nr;
	size_t mcap = (size_t)kn->mc < i1 - i0 ? (size_t)kn->mc : i1 - i0;
	mcap = (mcap + (size_t)kn->mr - 1) / (size_t)kn->mr * (size_t)kn->mr;
	float *ap = xalloc(mcap * kc), *bp = xalloc(ncap * kc);
	if (!ap || !bp)
		j->oom = 1;
	else
		rect(j, i0, i1, n0, n1, ap, bp);
	free(ap);
	free(bp);
}

void plm_gemm(plm_pool *pool, size_t M, size_t N, size_t K,
	      const float *A, size_t a_rs, size_t a_cs,
	      const float *B, size_t b_rs, size_t b_cs,
	      float *C, size_t ldc)
{
	const kernel *cur = &kernels[PLM_ISA_CURRENT(&sel, kernels)];
	if (M == 0 || N == 0)
		return;
	if (K == 0) {
		plm_gemm_empty(M, N, C, ldc, NULL);
		return;
	}
	job j = { cur, M, N, K, A, B, a_rs, a_cs, b_rs, b_cs, C, ldc, 0, 0 };
	size_t mp = (M + (size_t)cur->mr - 1) / (size_t)cur->mr;
	size_t np = (N + (size_t)cur->nr - 1) / (size_t)cur->nr;
	plm_gemm_fork(pool, M, N, K, mp, np, part, &j, &j.split_n);
	if (j.oom) {
		/* Out of memory for the packing buffers (a few hundred KiB):
		 * the portable path needs none. */
		for (size_t i = 0; i < M; i++)
			for (size_t n = 0; n < N; n++) {
				float c = 0.0f;
				for (size_t k = 0; k < K; k++)
					c = fmaf(A[i * a_rs + k * a_cs],
						 B[n * b_rs + k * b_cs], c);
				C[i * ldc + n] = c;
			}
	}
}

/* ---- pre-packed weights (plm_gemm_pw) ----
 *
 * Layout: for each k slice [k0, k0 + kc) of KC (the last one shorter), at
 * offset k0 * Npad, the column panels of PLM_GEMM_PW_NR columns, panel q
 * at q * PLM_GEMM_PW_NR * kc, holding for each k the panel's columns
 * (zero past N).  Every kernel reads it: its NR divides PLM_GEMM_PW_NR, and
 * it reads its NR columns at a stride of PLM_GEMM_PW_NR per k. */

size_t plm_gemm_pw_size(size_t N, size_t K)
{
	return (N + PLM_GEMM_PW_NR - 1) / PLM_GEMM_PW_NR * PLM_GEMM_PW_NR * K;
}

void plm_gemm_pw_pack(float *dst, const float *B, size_t ldb, size_t N,
		      size_t K)
{
	const size_t np = (N + PLM_GEMM_PW_NR - 1) / PLM_GEMM_PW_NR;
	for (size_t k0 = 0; k0 < K; k0 += KC) {
		size_t kc = K - k0 < KC ? K - k0 : KC;
		for (size_t q = 0; q < np; q++, dst += kc * PLM_GEMM_PW_NR)
			for (size_t c = 0; c < PLM_GEMM_PW_NR; c++) {
				size_t n = q * PLM_GEMM_PW_NR + c;
				const float *s = B + n * ldb + k0;
				for (size_t k = 0; k < kc; k++)
					dst[k * PLM_GEMM_PW_NR + c] =
						n < N ? s[k] : 0.0f;
			}
	}
}

void plm_gemm_pw_unpack(float *B, size_t ldb, const float *src, size_t N,
			size_t K)
{
	const size_t np = (N + PLM_GEMM_PW_NR - 1) / PLM_GEMM_PW_NR;
	for (size_t k0 = 0; k0 < K; k0 += KC) {
		size_t kc = K - k0 < KC ? K - k0 : KC;
		for (size_t q = 0; q < np; q++, src += kc * PLM_GEMM_PW_NR)
			for (size_t c = 0; c < PLM_GEMM_PW_NR; c++) {
				size_t n = q * PLM_GEMM_PW_NR + c;
				if (n >= N)
					break;
				for (size_t k = 0; k < kc; k++)
					B[n * ldb + k0 + k] =
						src[k * PLM_GEMM_PW_NR + c];
			}
	}
}

typedef struct {
	const kernel *kn;
	size_t M, N, K, np;
	const float *A, *Bp;
	size_t lda, ldc;
	float *C;
	const plm_gemm_epi *epi;
	int split_n;            /* parts are PLM_GEMM_PW_NR column panels */
	_Atomic int oom;
} pwjob;

/* Rows [i0, i1) by columns [n0, n1) (n0 a multiple of PLM_GEMM_PW_NR):
 * per block of mc rows and k slice, A is packed once and every column
 * panel of the slice streams past it. */
static void pw_rect(const pwjob *j, size_t i0, size_t i1, size_t n0,
		    size_t n1, float *ap)
{
	const kernel *kn = j->kn;
	const size_t mr = (size_t)kn->mr, nr = (size_t)kn->nr;
	const size_t Npad = j->np * PLM_GEMM_PW_NR;
	float tile[12 * 32];
	for (size_t ic = i0; ic < i1; ic += (size_t)kn->mc) {
		size_t mc = i1 - ic < (size_t)kn->mc ? i1 - ic : (size_t)kn->mc;
		for (size_t pc = 0; pc < j->K; pc += KC) {
			size_t kc = j->K - pc < KC ? j->K - pc : KC;
			int first = pc == 0;
			const float *slice = j->Bp + pc * Npad;
			pack(ap, j->A, j->lda, 1, ic, mc, pc, kc, kn->mr);
			for (size_t jr = n0; jr < n1; jr += nr) {
				const float *b = slice + jr / PLM_GEMM_PW_NR *
						 PLM_GEMM_PW_NR * kc +
						 jr % PLM_GEMM_PW_NR;
				size_t nv = n1 - jr < nr ? n1 - jr : nr;
				for (size_t ir = 0; ir < mc; ir += mr) {
					const float *a = ap + ir * kc;
					size_t mv = mc - ir < mr ? mc - ir : mr;
					float *c = j->C + (ic + ir) * j->ldc + jr;
					if (mv == mr && nv == nr) {
						kn->kern(kc, a, b, PLM_GEMM_PW_NR,
							 c, j->ldc, first);
						if (j->epi && pc + kc == j->K)
							j->epi->fn(j->epi->arg, c,
								   j->ldc, ic + ir,
								   mv, jr, nv);
						continue;
					}
					if (!first) {
						memset(tile, 0, sizeof tile);
						for (size_t r = 0; r < mv; r++)
							memcpy(tile + r * nr,
							       c + r * j->ldc,
							       nv * sizeof *c);
					}
					kn->kern(kc, a, b, PLM_GEMM_PW_NR, tile,
						 nr, first);
					for (size_t r = 0; r < mv; r++)
						memcpy(c + r * j->ldc,
						       tile + r * nr,
						       nv * sizeof *c);
					if (j->epi && pc + kc == j->K)
						j->epi->fn(j->epi->arg, c, j->ldc,
							   ic + ir, mv, jr, nv);
				}
			}
		}
	}
}

static void pw_part(void *v, size_t lo, size_t hi)
{
	pwjob *j = v;
	const kernel *kn = j->kn;
	size_t i0, i1, n0, n1;
	plm_gemm_range(j->split_n, lo, hi, (size_t)kn->mr, PLM_GEMM_PW_NR, j->M,
		       j->N, &i0, &i1, &n0, &n1);
	if (i0 >= i1 || n0 >= n1)
		return;
	size_t kc = j->K < KC ? j->K : KC;
	size_t mcap = (size_t)kn->mc < i1 - i0 ? (size_t)kn->mc : i1 - i0;
	mcap = (mcap + (size_t)kn->mr - 1) / (size_t)kn->mr * (size_t)kn->mr;
	float *ap = xalloc(mcap * kc);
	if (!ap)
		j->oom = 1;
	else
		pw_rect(j, i0, i1, n0, n1, ap);
	free(ap);
}

void plm_gemm_pw(plm_pool *pool, size_t M, size_t N, size_t K,
		 const float *A, size_t lda, const float *Bp, float *C,
		 size_t ldc, const plm_gemm_epi *epi)
{
	const kernel *cur = &kernels[PLM_ISA_CURRENT(&sel, kernels)];
	if (M == 0 || N == 0)
		return;
	if (K == 0) {
		plm_gemm_empty(M, N, C, ldc, epi);
		return;
	}
	const size_t np = (N + PLM_GEMM_PW_NR - 1) / PLM_GEMM_PW_NR;
	pwjob j = { cur, M, N, K, np, A, Bp, lda, ldc, C, epi, 0, 0 };
	size_t mp = (M + (size_t)cur->mr - 1) / (size_t)cur->mr;
	plm_gemm_fork(pool, M, N, K, mp, np, pw_part, &j, &j.split_n);
	if (j.oom) {
		const size_t Npad = np * PLM_GEMM_PW_NR;
		for (size_t i = 0; i < M; i++)
			for (size_t n = 0; n < N; n++) {
				float c = 0.0f;
				for (size_t k = 0; k < K; k++) {
					size_t k0 = k / KC * KC;
					size_t kc = K - k0 < KC ? K - k0 : KC;
					c = fmaf(A[i * lda + k],
						 Bp[k0 * Npad + n / PLM_GEMM_PW_NR *
						    PLM_GEMM_PW_NR * kc +
						    (k - k0) * PLM_GEMM_PW_NR +
						    n % PLM_GEMM_PW_NR], c);
				}
				C[i * ldc + n] = c;
			}
		if (epi)
			epi->fn(epi->arg, C, ldc, 0, M, 0, N);
	}
}
