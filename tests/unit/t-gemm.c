/* t-gemm.c — plm_gemm: every element is the FMA chain over k in order,
 * bit for bit, for every kernel, shape, stride, position and thread count. */
#include "plm/gemm.h"
#include "plm/pool.h"
#include "gemmtest.h"
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

/* The operands of one product: A and B with a gap in their rows,
 * transposed copies (variant 1) and B pre-packed (variant 2). */
typedef struct {
	size_t M, N, K, lda, ldb, ldc;
	float *A, *B, *At, *Bt, *Bp;
} prod;

static void run(void *ctx, plm_pool *pool, int v, size_t row0, size_t m,
		float *C)
{
	const prod *p = ctx;
	if (v == 0)
		plm_gemm(pool, m, p->N, p->K, p->A + row0 * p->lda, p->lda, 1,
			 p->B, p->ldb, 1, C, p->ldc);
	else if (v == 2)
		plm_gemm_pw(pool, m, p->N, p->K, p->A + row0 * p->lda, p->lda,
			    p->Bp, C, p->ldc, NULL);
	else
		plm_gemm(pool, m, p->N, p->K, p->At + row0, 1, p->M, p->Bt, 1,
			 p->N, C, p->ldc);
}

int main(void)
{
	gt_init();
	printf("# default kernel: %s\n", plm_gemm_isa());
	const char *def = plm_gemm_isa();
	static const size_t shapes[][3] = {
		{ 1, 1, 1 }, { 1, 33, 64 }, { 7, 5, 3 }, { 13, 31, 257 },
		{ 12, 32, 256 }, { 25, 65, 513 }, { 100, 96, 320 },
		{ 130, 70, 1000 }, { 3, 600, 40 }, { 300, 17, 64 },
	};
	for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
		size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
		prod p = { M, N, K, K + 3, K + 1, N + 2, NULL, NULL, NULL, NULL,
			   NULL };
		p.A = malloc(M * p.lda * sizeof *p.A);
		p.B = malloc(N * p.ldb * sizeof *p.B);
		p.At = malloc(K * M * sizeof *p.At);
		p.Bt = malloc(K * N * sizeof *p.Bt);
		float *R = calloc(M * p.ldc, sizeof *R);
		float *C = calloc(M * p.ldc, sizeof *C);
		fill(p.A, M * p.lda);
		fill(p.B, N * p.ldb);
		for (size_t i = 0; i < M; i++)
			for (size_t k = 0; k < K; k++)
				p.At[k * M + i] = p.A[i * p.lda + k];
		for (size_t n = 0; n < N; n++)
			for (size_t k = 0; k < K; k++)
				p.Bt[k * N + n] = p.B[n * p.ldb + k];
		ref(M, N, K, p.A, p.lda, 1, p.B, p.ldb, 1, R, p.ldc);
		p.Bp = aligned_alloc(64, (plm_gemm_pw_size(N, K) + 16) / 16 * 64);
		plm_gemm_pw_pack(p.Bp, p.B, p.ldb, N, K);
		float *U = calloc(N * p.ldb, sizeof *U);
		plm_gemm_pw_unpack(U, p.ldb, p.Bp, N, K);
		int back = 1;
		for (size_t n = 0; n < N; n++)
			back &= !memcmp(U + n * p.ldb, p.B + n * p.ldb,
					K * sizeof *U);
		ok(back, "%zux%zu weight packed and unpacked: the same rows", N,
		   K);
		free(U);
		gt_kernels(isas, 3, plm_gemm_select, run, &p, 3, M, N, K, p.ldc,
			   R, C, "the FMA chain, plain, transposed and pre-packed");
		plm_gemm_select(def);
		free(p.A);
		free(p.B);
		free(p.At);
		free(p.Bt);
		free(p.Bp);
		free(R);
		free(C);
	}

	/* One row anywhere in a batch gives the same bits. */
	{
		size_t K = 320, N = 97, M = 61;
		prod p = { M, N, K, K, K, N, NULL, NULL, NULL, NULL, NULL };
		p.A = malloc(M * K * sizeof *p.A);
		p.B = malloc(N * K * sizeof *p.B);
		fill(p.A, M * K);
		fill(p.B, N * K);
		gt_row_alone(run, &p, M, N);
		free(p.A);
		free(p.B);
	}

	/* An epilogue sees every element once, after its last k slice. */
	{
		size_t K = 600, N = 97, M = 61;
		float *A = malloc(M * K * sizeof *A), *B = malloc(N * K * sizeof *B);
		float *R = malloc(M * N * sizeof *R), *C = malloc(M * N * sizeof *C);
		float *Bp = aligned_alloc(64, plm_gemm_pw_size(N, K) * sizeof *Bp);
		fill(A, M * K);
		fill(B, N * K);
		ref(M, N, K, A, K, 1, B, K, 1, R, N);
		for (size_t i = 0; i < M * N; i++)
			R[i] = R[i] * 2.0f + (float)(i % N);
		plm_gemm_pw_pack(Bp, B, K, N, K);
		int same = 1, once = 1;
		for (int t = 0; t < 4; t++) {
			epi_seen = calloc(M * N, 1);
			epi_n = N;
			plm_gemm_epi e = { epi_test, NULL };
			plm_gemm_pw(gt_pools[t], M, N, K, A, K, Bp, C, N, &e);
			same &= !memcmp(C, R, M * N * sizeof *C);
			for (size_t i = 0; i < M * N; i++)
				once &= epi_seen[i] == 1;
			free(epi_seen);
		}
		ok(same, "epilogue applied to the finished product, 0-3 threads");
		ok(once, "epilogue: every element exactly once");
		free(A), free(B), free(R), free(C), free(Bp);
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
	gt_fini();
	return done_testing();
}
