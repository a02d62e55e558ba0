/* gemmtest.h — what t-gemm.c and t-gemm-bf16.c check alike: a product
 * gives its reference's bits under every kernel and 0-3 threads, writes
 * nothing past N, and gives a row the same bits alone and in batches.
 * The test supplies the product as a callback over its own operands. */
#ifndef PLM_GEMMTEST_H
#define PLM_GEMMTEST_H

#include "plm/pool.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* The product of rows row0 .. row0+m of the test's A into C (ldc given
 * by the test), variant v of the call (operand layouts), on pool. */
typedef void (*gt_product)(void *ctx, plm_pool *pool, int v, size_t row0,
			   size_t m, float *C);

static plm_pool *gt_pools[4];

static void gt_init(void)
{
	for (int p = 1; p < 4; p++)
		gt_pools[p] = plm_pool_new(p);
}

static void gt_fini(void)
{
	for (int p = 1; p < 4; p++)
		plm_pool_free(gt_pools[p]);
}

/* M x N (ldc) against the reference R, for each of the nisa kernels that
 * select accepts and each of nv call variants; C is scratch. */
static void gt_kernels(const char *const *isas, size_t nisa,
		       int (*select)(const char *), gt_product run, void *ctx,
		       int nv, size_t M, size_t N, size_t K, size_t ldc,
		       const float *R, float *C, const char *what)
{
	for (size_t x = 0; x < nisa; x++) {
		if (select(isas[x])) {
			ok(1, "# SKIP no %s kernel here", isas[x]);
			continue;
		}
		int same = 1, gap = 1;
		for (int p = 0; p < 4; p++)
			for (int v = 0; v < nv; v++) {
				for (size_t i = 0; i < M * ldc; i++)
					C[i] = -7.0f;
				run(ctx, gt_pools[p], v, 0, M, C);
				for (size_t i = 0; i < M; i++) {
					same &= !memcmp(C + i * ldc, R + i * ldc,
							N * sizeof *C);
					gap &= C[i * ldc + N] == -7.0f &&
					       C[i * ldc + N + 1] == -7.0f;
				}
			}
		ok(same, "%s %zux%zux%zu: bitwise %s, 0-3 threads", isas[x], M,
		   N, K, what);
		ok(gap, "%s %zux%zux%zu: nothing written past N", isas[x], M, N,
		   K);
	}
}

/* An epilogue: c = 2c + column, counting the visits in epi_seen
 * (epi_n columns; threads write disjoint elements). */
static unsigned char *epi_seen;
static size_t epi_n;
static void epi_test(void *arg, float *c, size_t ldc, size_t row0, size_t m,
		     size_t col0, size_t n)
{
	(void)arg;
	for (size_t r = 0; r < m; r++)
		for (size_t j = 0; j < n; j++) {
			c[r * ldc + j] = c[r * ldc + j] * 2.0f + (float)(col0 + j);
			epi_seen[(row0 + r) * epi_n + col0 + j]++;
		}
}

/* Row 37 of an M-row A (M >= 38, ldc = N) alone and in batches of
 * 38 .. M rows on 2 threads. */
static void gt_row_alone(gt_product run, void *ctx, size_t M, size_t N)
{
	float *C = malloc(M * N * sizeof *C), *one = malloc(N * sizeof *one);
	run(ctx, NULL, 0, 37, 1, one);
	int same = 1;
	for (size_t m = 38; m <= M; m++) {
		run(ctx, gt_pools[2], 0, 0, m, C);
		same &= !memcmp(C + 37 * N, one, N * sizeof *C);
	}
	ok(same, "row 37 alone and in batches of 38..%zu rows: same bits", M);
	free(C);
	free(one);
}

#endif
