/* t-gemm-bf16.c — plm_gemm_bf16: the reference step plm_bf16_dot2 is
 * vdpbf16ps bit for bit (where the CPU has it), and every kernel gives
 * the chain of steps bit for bit for every shape, position and thread
 * count. */
#include "plm/gemm.h"
#include "plm/pool.h"
#include "gemmtest.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx512f,avx512bf16")))
static void hw_dot(float *c, const uint32_t *a, const uint32_t *b)
{
	__m512 v = _mm512_loadu_ps(c);
	v = _mm512_dpbf16_ps(v, (__m512bh)_mm512_loadu_si512(a),
			     (__m512bh)_mm512_loadu_si512(b));
	_mm512_storeu_ps(c, v);
}
#define HAVE_HW 1
#endif

static uint64_t rs = 88172645463325252ull;
static uint32_t r32(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 11);
}

static float rnd(void)
{
	double u = (double)r32() / 2097152.0 / 2048.0;
	double e = (double)(r32() % 9) - 4;
	return (float)((u - 0.5) * pow(2.0, e));
}

static uint32_t bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

static float fbits(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}

/* A bf16 pair word: random bits (class 0), moderate exponents (1) or
 * around 1 (2), so that the additions round in every way. */
static uint32_t word(int cls)
{
	uint32_t x = r32() ^ r32() << 11;
	if (cls == 1)
		x = (x & 0x807f807fu) | (120u + r32() % 16) << 7 |
		    (120u + r32() % 16) << 23;
	else if (cls == 2)
		x = (x & 0x80ff80ffu) | 0x3f003f00u;
	return x;
}

static void ref(size_t M, size_t N, size_t K, const float *A, size_t lda,
		const plm_bf16 *B, size_t ldb, float *C, size_t ldc)
{
	for (size_t i = 0; i < M; i++)
		for (size_t n = 0; n < N; n++) {
			float c = 0.0f;
			for (size_t k = 0; k < K; k += 2) {
				plm_bf16 a1 = k + 1 < K ? plm_f32_to_bf16(A[i * lda + k + 1]) : 0;
				plm_bf16 b1 = k + 1 < K ? B[n * ldb + k + 1] : 0;
				c = plm_bf16_dot2(c, plm_f32_to_bf16(A[i * lda + k]), a1,
						  B[n * ldb + k], b1);
			}
			C[i * ldc + n] = c;
		}
}

static const char *const isas[] = { "base", "avx512bf16" };

typedef struct {
	size_t N, K, lda, ldb, ldc;
	const float *A;
	const plm_bf16 *B;
	const uint32_t *Bp;     /* B pre-packed (variant 1) */
} prod;

static void run(void *ctx, plm_pool *pool, int v, size_t row0, size_t m,
		float *C)
{
	const prod *p = ctx;
	if (v == 1)
		plm_gemm_bf16_pw(pool, m, p->N, p->K, p->A + row0 * p->lda,
				 p->lda, p->Bp, C, p->ldc, NULL);
	else
		plm_gemm_bf16(pool, m, p->N, p->K, p->A + row0 * p->lda,
			      p->lda, p->B, p->ldb, C, p->ldc);
}

int main(void)
{
	/* rounding to bfloat16 */
	ok(plm_f32_to_bf16(1.0f) == 0x3f80 && plm_f32_to_bf16(-2.0f) == 0xc000,
	   "bf16 of 1 and -2");
	ok(plm_f32_to_bf16(fbits(0x3f808000u)) == 0x3f80 &&
	   plm_f32_to_bf16(fbits(0x3f818000u)) == 0x3f82 &&
	   plm_f32_to_bf16(fbits(0x3f808001u)) == 0x3f81,
	   "bf16 rounds to nearest, ties to even");
	ok(plm_f32_to_bf16(fbits(0x7f7fffffu)) == 0x7f80 &&
	   (plm_f32_to_bf16(NAN) & 0x7fc0) == 0x7fc0,
	   "bf16: overflow to inf, NaN stays NaN");
	ok(plm_bf16_to_f32(plm_f32_to_bf16(0.15625f)) == 0.15625f,
	   "bf16 round trip of an exact value");
	/* the step: DAZ, FTZ, odd element first */
	ok(plm_bf16_dot2(1.0f, 0x0001, 0, 0x3f80, 0) == 1.0f,
	   "subnormal input counts as zero");
	ok(bits(plm_bf16_dot2(fbits(0x00400000u), 0, 0, 0, 0)) == 0,
	   "subnormal accumulator flushed");
	ok(plm_bf16_dot2(16777216.0f, 0x3f80, 0x3f80, 0x3f80, 0x3f80) ==
	   16777216.0f, "each addition rounds: 2^24 + 1 + 1 = 2^24");
	/* c = 1, a1 b1 = 2^24, a0 b0 = 1: odd first (1 + 2^24) + 1 = 2^24,
	 * even first (1 + 1) + 2^24 would be 2^24 + 2 */
	ok(plm_bf16_dot2(1.0f, 0x3f80, 0x4b80, 0x3f80, 0x3f80) == 16777216.0f,
	   "the odd element is added first");
#ifdef HAVE_HW
	if (__builtin_cpu_supports("avx512bf16")) {
		long bad = 0, n = 0;
		for (int it = 0; it < 60000; it++) {
			uint32_t a[16], b[16];
			float c[16], c0[16];
			for (int j = 0; j < 16; j++) {
				int cls = it % 4;
				a[j] = word(cls);
				b[j] = word(cls);
				uint32_t cv = r32() ^ r32() << 11;
				if (cls == 1 || cls == 2)
					cv = (cv & 0x807fffffu) |
					     (118u + r32() % 20) << 23;
				if (isnan(fbits(cv)))
					cv = 0x3f800000u;
				c[j] = c0[j] = fbits(cv);
			}
			hw_dot(c, a, b);
			for (int j = 0; j < 16; j++, n++) {
				float e = plm_bf16_dot2(c0[j], (plm_bf16)a[j],
							(plm_bf16)(a[j] >> 16),
							(plm_bf16)b[j],
							(plm_bf16)(b[j] >> 16));
				if (isnan(e) && isnan(c[j]))
					continue;
				bad += bits(e) != bits(c[j]);
			}
		}
		ok(bad == 0, "plm_bf16_dot2 is vdpbf16ps: %ld of %ld lanes "
		   "differ (random bits, subnormals included)", bad, n);
	} else {
		ok(1, "# SKIP no AVX512-BF16 here");
	}
#else
	ok(1, "# SKIP not x86-64");
#endif

	gt_init();
	printf("# default bf16 kernel: %s\n", plm_gemm_bf16_isa());
	const char *def = plm_gemm_bf16_isa();
	static const size_t shapes[][3] = {
		{ 1, 1, 1 }, { 1, 33, 64 }, { 7, 5, 3 }, { 13, 31, 257 },
		{ 12, 32, 512 }, { 25, 65, 513 }, { 100, 96, 320 },
		{ 30, 70, 1100 }, { 3, 600, 40 }, { 300, 17, 64 },
		{ 250, 40, 33 },
	};
	for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
		size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
		size_t lda = K + 3, ldb = K + 1, ldc = N + 2;
		float *A = malloc(M * lda * sizeof *A);
		plm_bf16 *B = malloc(N * ldb * sizeof *B);
		float *R = calloc(M * ldc, sizeof *R);
		float *C = calloc(M * ldc, sizeof *C);
		for (size_t i = 0; i < M * lda; i++)
			A[i] = rnd();
		/* float32 subnormals and values that round to bfloat16
		 * subnormals: the converters differ there (zero against a
		 * subnormal), the products must not */
		for (size_t i = 0; i < M * lda; i += 7)
			A[i] = fbits((r32() & 0x807fffffu) |
				     (i % 2 ? 0u : 1u << 23));
		for (size_t i = 0; i < N * ldb; i++)
			B[i] = plm_f32_to_bf16(rnd());
		ref(M, N, K, A, lda, B, ldb, R, ldc);
		uint32_t *Bp = aligned_alloc(64, (plm_gemm_bf16_pw_size(N, K) +
						  16) / 16 * 64);
		plm_gemm_bf16_pw_pack(Bp, B, ldb, N, K);
		prod p = { N, K, lda, ldb, ldc, A, B, Bp };
		gt_kernels(isas, 2, plm_gemm_bf16_select, run, &p, 2, M, N, K,
			   ldc, R, C, "the reference chain, plain and pre-packed");
		free(Bp);
		plm_gemm_bf16_select(def);
		free(A);
		free(B);
		free(R);
		free(C);
	}

	/* One row anywhere in a batch gives the same bits. */
	{
		size_t K = 640, N = 97, M = 61;
		float *A = malloc(M * K * sizeof *A);
		plm_bf16 *B = malloc(N * K * sizeof *B);
		for (size_t i = 0; i < M * K; i++)
			A[i] = rnd();
		for (size_t i = 0; i < N * K; i++)
			B[i] = plm_f32_to_bf16(rnd());
		prod p = { N, K, K, K, N, A, B, NULL };
		gt_row_alone(run, &p, M, N);
		free(A);
		free(B);
	}
	/* An epilogue sees every element once, after its last k slice. */
	{
		size_t K = 1100, N = 97, M = 61;
		float *A = malloc(M * K * sizeof *A);
		plm_bf16 *B = malloc(N * K * sizeof *B);
		float *R = malloc(M * N * sizeof *R), *C = malloc(M * N * sizeof *C);
		uint32_t *Bp = aligned_alloc(64, (plm_gemm_bf16_pw_size(N, K) +
						  16) / 16 * 64);
		for (size_t i = 0; i < M * K; i++)
			A[i] = rnd();
		for (size_t i = 0; i < N * K; i++)
			B[i] = plm_f32_to_bf16(rnd());
		ref(M, N, K, A, K, B, K, R, N);
		for (size_t i = 0; i < M * N; i++)
			R[i] = R[i] * 2.0f + (float)(i % N);
		plm_gemm_bf16_pw_pack(Bp, B, K, N, K);
		int same = 1, once = 1;
		for (int t = 0; t < 4; t++) {
			epi_seen = calloc(M * N, 1);
			epi_n = N;
			plm_gemm_epi e = { epi_test, NULL };
			plm_gemm_bf16_pw(gt_pools[t], M, N, K, A, K, Bp, C, N, &e);
			same &= !memcmp(C, R, M * N * sizeof *C);
			for (size_t i = 0; i < M * N; i++)
				once &= epi_seen[i] == 1;
			free(epi_seen);
		}
		ok(same, "epilogue applied to the finished product, 0-3 threads");
		ok(once, "epilogue: every element exactly once");
		free(A), free(B), free(R), free(C), free(Bp);
	}
	{
		float C[6] = { 1, 2, 3, 4, 5, 6 }, z[6] = { 0 };
		plm_gemm_bf16(NULL, 2, 3, 0, NULL, 0, NULL, 0, C, 3);
		ok(!memcmp(C, z, sizeof C), "K = 0 gives zeros");
	}
	ok(plm_gemm_bf16_select("nonesuch") == -1, "unknown kernel refused");
	gt_fini();
	return done_testing();
}
