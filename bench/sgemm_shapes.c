/* sgemm_shapes.c — the rate cblas_sgemm reaches on an ESM-2 model's own
 * linear-layer shapes, for bench/esm-embed.sh.
 *
 *   sgemm_shapes T H F THREADS [REPS]
 *
 * Times Y[T,n] = X[T,k] W[n,k]^T (row major, as the engine calls it) for
 * (n,k) = (3H,H) q/k/v, (H,H) attention output, (F,H) and (H,F) the
 * feed-forward pair, one layer's worth, and prints
 *   "sgemm: core NAME, T T, THREADS threads, G GFLOP/s"
 * with G = the FLOPs of the four products over their summed median times,
 * then the same for plm_gemm (the engine's own kernel, plm/gemm.h, as the
 * engine runs it: the weight pre-packed once, outside the timing,
 * plm_gemm_pw; plm_gemm_bf16 likewise, plm_gemm_bf16_pw):
 *   "plm_gemm: kernel NAME, T T, THREADS threads, G GFLOP/s"
 * plm_blas_tune() runs first, so the OpenBLAS core is the one esm-embed
 * gets.
 *
 *   sgemm_shapes -s T THREADS [REPS]
 *
 * Per shape instead, with plm_gemm_bf16 (zero weights: the rate does not
 * depend on them) as a third column, (N,K) in 640x640 2560x640 640x2560 1280x1280
 * 5120x1280 1280x5120 (the 150M and 650M models' products), cblas_sgemm
 * and plm_gemm back to back, one line each, from the fastest of REPS calls
 * (on a shared machine the rate a kernel reaches when it has the cores):
 *   "shape T N K: sgemm G1 plm_gemm G2 GFLOP/s (ratio R)". */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/esm.h"
#include "plm/gemm.h"
#include "plm/pool.h"

static float *filled(size_t n)
{
	float *p = malloc(n * sizeof *p);
	if (!p) {
		fprintf(stderr, "sgemm_shapes: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
	return p;
}

static int cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* Median seconds of reps calls (after one to warm up): a median is robust
 * to other load, and esm-embed's rate is an average, not a best case. */
static plm_pool *pool;   /* NULL: time cblas_sgemm, else plm_gemm */
static int best;         /* the fastest call instead of the median */
static plm_bf16 *w16;    /* set: time plm_gemm_bf16 with these weights */

static double median(int T, int n, int k, int reps)
{
	float *a = filled((size_t)T * k), *b = filled((size_t)n * k);
	float *c = filled((size_t)T * n);
	double ts[64];
	if (reps > 64)
		reps = 64;
	/* the weights pre-packed, as the engine keeps them */
	float *bp = aligned_alloc(64, (plm_gemm_pw_size((size_t)n, (size_t)k) *
				       sizeof *bp + 63) / 64 * 64);
	uint32_t *bp16 = aligned_alloc(64, (plm_gemm_bf16_pw_size((size_t)n,
			 (size_t)k) * 4 + 63) / 64 * 64);
	if (!bp || !bp16) {
		fprintf(stderr, "sgemm_shapes: out of memory\n");
		exit(1);
	}
	plm_gemm_pw_pack(bp, b, (size_t)k, (size_t)n, (size_t)k);
	if (w16)
		plm_gemm_bf16_pw_pack(bp16, w16, (size_t)k, (size_t)n, (size_t)k);
	for (int r = -1; r < reps; r++) {
		double t0 = plm_now();
		if (w16)
			plm_gemm_bf16_pw(pool, (size_t)T, (size_t)n, (size_t)k, a,
					 (size_t)k, bp16, c, (size_t)n, NULL);
		else if (pool)
			plm_gemm_pw(pool, (size_t)T, (size_t)n, (size_t)k, a,
				    (size_t)k, bp, c, (size_t)n, NULL);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T,
				    n, k, 1.0f, a, k, b, k, 0.0f, c, n);
		if (r >= 0)
			ts[r] = plm_now() - t0;
	}
	free(a);
	free(b);
	free(c);
	free(bp);
	free(bp16);
	qsort(ts, (size_t)reps, sizeof *ts, cmp);
	return ts[best ? 0 : reps / 2];
}

static int per_shape(int argc, char **argv)
{
	static const int nk[][2] = { { 640, 640 }, { 2560, 640 },
				     { 640, 2560 }, { 1280, 1280 },
				     { 5120, 1280 }, { 1280, 5120 } };
	int T = argc > 2 ? atoi(argv[2]) : 0, th = argc > 3 ? atoi(argv[3]) : 0;
	int reps = argc > 4 ? atoi(argv[4]) : 5;
	if (T < 1 || th < 1 || reps < 1) {
		fprintf(stderr, "usage: sgemm_shapes -s T THREADS [REPS]\n");
		return 2;
	}
	openblas_set_num_threads(th);
	best = 1;
	plm_pool *p = plm_pool_new(th);
	if (!p)
		return 1;
	printf("# sgemm core %s, plm_gemm kernel %s, %d threads\n",
	       plm_blas_core(), plm_gemm_isa(), th);
	for (size_t s = 0; s < sizeof nk / sizeof *nk; s++) {
		int n = nk[s][0], k = nk[s][1];
		double flop = 2.0 * T * n * k;
		pool = NULL;
		double g1 = flop / median(T, n, k, reps) * 1e-9;
		pool = p;
		double g2 = flop / median(T, n, k, reps) * 1e-9;
		if (!(w16 = calloc((size_t)n * k, sizeof *w16)))
			return 1;
		double g3 = flop / median(T, n, k, reps) * 1e-9;
		free(w16);
		w16 = NULL;
		printf("shape %d %d %d: sgemm %.1f plm_gemm %.1f "
		       "plm_gemm_bf16 %.1f GFLOP/s (plm_gemm/sgemm %.2f, "
		       "bf16/plm_gemm %.2f)\n", T, n, k, g1, g2, g3, g2 / g1,
		       g3 / g2);
		fflush(stdout);
	}
	plm_pool_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-s")) {
		plm_blas_tune(argc, argv, 0);
		return per_shape(argc, argv);
	}
	if (argc < 5) {
		fprintf(stderr, "usage: sgemm_shapes T H F THREADS [REPS]\n");
		return 2;
	}
	plm_blas_tune(argc, argv, 0);
	int T = atoi(argv[1]), H = atoi(argv[2]), F = atoi(argv[3]);
	int th = atoi(argv[4]), reps = argc > 5 ? atoi(argv[5]) : 5;
	if (T < 1 || H < 1 || F < 1 || th < 1 || reps < 1) {
		fprintf(stderr, "sgemm_shapes: bad arguments\n");
		return 2;
	}
	openblas_set_num_threads(th);
	double t = median(T, 3 * H, H, reps) + median(T, H, H, reps) +
		   median(T, F, H, reps) + median(T, H, F, reps);
	double flop = 2.0 * T * (4.0 * H * H + 2.0 * H * F);
	printf("sgemm: core %s, T %d, %d threads, %.1f GFLOP/s\n",
	       plm_blas_core(), T, th, flop / t * 1e-9);
	if (!(pool = plm_pool_new(th)))
		return 1;
	t = median(T, 3 * H, H, reps) + median(T, H, H, reps) +
	    median(T, F, H, reps) + median(T, H, F, reps);
	printf("plm_gemm: kernel %s, T %d, %d threads, %.1f GFLOP/s\n",
	       plm_gemm_isa(), T, th, flop / t * 1e-9);
	plm_pool_free(pool);
	return 0;
}
