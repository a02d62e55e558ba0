/* t-gemm.c — plm_gemm: every element is the FMA chain over k in order,
 * bit for bit, for every kernel, shape, stride, position and thread count. */
#include "plm/gemm.h"
#include "plm/pool.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 88172645463325252ull;
static float rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	/* mixed magnitudes and signs, so that rounding differs by order */
	double u = (double)(rs >> 11) / 9007199254740992.0;
	double e = (double)((rs >> 3) % 9) - 4;
	return (float)((u - 0.5) * pow(2.0, e));
}

static void fill(float *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rnd();
}

/* The definition. */
static void ref(size_t M, size_t N, size_t K, const float *A, size_t ars,
		size_t acs, const float *B, size_t brs, size_t bcs, float *C,
		size_t ldc)
{
	for (size_t i = 0; i < M; i++)
		for (size_t n = 0; n < N; n++) {
			float c = 0.0f;
			for (size_t k = 0; k < K; k++)
				c = fmaf(A[i * ars + k * acs], B[n * brs + k * bcs],
					 c);
			C[i * ldc + n] = c;
		}
}

static const char *const isas[] = { "base", "avx2", "avx512" };

int main(void)
{
	plm_pool *pools[4] = { NULL, plm_pool_new(1), plm_pool_new(2),
			       plm_pool_new(3) };
	printf("# default kernel: %s\n", plm_gemm_isa());
	const char *def = plm_gemm_isa();
	static const size_t shapes[][3] = {
		{ 1, 1, 1 }, { 1, 33, 64 }, { 7, 5, 3 }, { 13, 31, 257 },
		{ 12, 32, 256 }, { 25, 65, 513 }, { 100, 96, 320 },
		{ 130, 70, 1000 }, { 3, 600, 40 }, { 300, 17, 64 },
	};
	for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
		size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
		/* A and B with a gap in their rows, and transposed copies */
		size_t lda = K + 3, ldb = K + 1, ldc = N + 2;
		float *A = malloc(M * lda * sizeof *A);
		float *B = malloc(N * ldb * sizeof *B);
		float *At = malloc(K * M * sizeof *At);
		float *Bt = malloc(K * N * sizeof *Bt);
		float *R = calloc(M * ldc, sizeof *R);
		float *C = calloc(M * ldc, sizeof *C);
		fill(A, M * lda);
		fill(B, N * ldb);
		for (size_t i = 0; i < M; i++)
			for (size_t k = 0; k < K; k++)
				At[k * M + i] = A[i * lda + k];
		for (size_t n = 0; n < N; n++)
			for (size_t k = 0; k < K; k++)
				Bt[k * N + n] = B[n * ldb + k];
		ref(M, N, K, A, lda, 1, B, ldb, 1, R, ldc);
		for (size_t x = 0; x < 3; x++) {
			if (plm_gemm_select(isas[x])) {
				ok(1, "# SKIP no %s kernel here", isas[x]);
				continue;
			}
			int same = 1, gap = 1;
			for (int p = 0; p < 4; p++) {
				for (size_t i = 0; i < M * ldc; i++)
					C[i] = -7.0f;
				plm_gemm(pools[p], M, N, K, A, lda, 1, B, ldb, 1,
					 C, ldc);
				for (size_t i = 0; i < M; i++) {
					same &= !memcmp(C + i * ldc, R + i * ldc,
							N * sizeof *C);
					gap &= C[i * ldc + N] == -7.0f &&
					       C[i * ldc + N + 1] == -7.0f;
				}
				/* transposed operands: same bits */
				memset(C, 0, M * ldc * sizeof *C);
				plm_gemm(pools[p], M, N, K, At, 1, M, Bt, 1, N, C,
					 ldc);
				for (size_t i = 0; i < M; i++)
					same &= !memcmp(C + i * ldc, R + i * ldc,
							N * sizeof *C);
			}
			ok(same, "%s %zux%zux%zu: bitwise the FMA chain, plain "
			   "and transposed, 0-3 threads", isas[x], M, N, K);
			ok(gap, "%s %zux%zux%zu: nothing written past N",
			   isas[x], M, N, K);
		}
		plm_gemm_select(def);
		free(A);
		free(B);
		free(At);
		free(Bt);
		free(R);
		free(C);
	}

	/* One row anywhere in a batch gives the same bits. */
	{
		size_t K = 320, N = 97, M = 61;
		float *A = malloc(M * K * sizeof *A), *B = malloc(N * K * sizeof *B);
		float *C = malloc(M * N * sizeof *C), *one = malloc(N * sizeof *one);
		fill(A, M * K);
		fill(B, N * K);
		plm_gemm(NULL, 1, N, K, A + 37 * K, K, 1, B, K, 1, one, N);
		int same = 1;
		for (size_t m = 38; m <= M; m++) {
			plm_gemm(pools[2], m, N, K, A, K, 1, B, K, 1, C, N);
			same &= !memcmp(C + 37 * N, one, N * sizeof *C);
		}
		ok(same, "row 37 alone and in batches of 38..61 rows: same bits");
		free(A);
		free(B);
		free(C);
		free(one);
	}

	/* K = 0: C is zeroed; M or N = 0: nothing is touched. */
	{
		float C[6] = { 1, 2, 3, 4, 5, 6 }, z[6] = { 0 };
		plm_gemm(NULL, 2, 3, 0, NULL, 0, 0, NULL, 0, 0, C, 3);
		ok(!memcmp(C, z, sizeof C), "K = 0 gives zeros");
		C[0] = 9;
		plm_gemm(NULL, 0, 3, 4, NULL, 0, 0, NULL, 0, 0, C, 3);
		ok(C[0] == 9, "M = 0 writes nothing");
	}
	ok(plm_gemm_select("nonesuch") == -1, "unknown kernel refused");
	for (int p = 1; p < 4; p++)
		plm_pool_free(pools[p]);
	return done_testing();
}
