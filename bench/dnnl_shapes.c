/* dnnl_shapes.c — the rate oneDNN's matmul reaches on an ESM-2 model's
 * linear-layer shapes, next to bench/sgemm_shapes.c's cblas_sgemm and
 * plm_gemm, for bench/gemm-shapes.sh.  A benchmark only: nothing in the
 * library or the tools links oneDNN.
 *
 *   dnnl_shapes T THREADS [REPS]
 *
 * For (N,K) in 640x640 2560x640 640x2560 1280x1280 5120x1280 1280x5120
 * (the 150M and 650M models' products) times Y[T,N] = X[T,K] W[N,K]^T,
 * X and Y row major and W stored N x K as the engine stores it: the
 * weights' memory descriptor is K x N with strides {1, K}, so oneDNN reads
 * the engine's layout as it is (no reorder, no pre-packed weights).  Once
 * with f32 source, weights and destination, once with bf16 source and
 * weights and an f32 destination (f32 accumulation).  One primitive per
 * shape and type, one call to warm up, then REPS (default 5) calls; the
 * fastest counts (as sgemm_shapes -s: the rate a kernel reaches when it
 * has the cores):
 *   "shape T N K: dnnl_f32 G1 dnnl_bf16 G2 GFLOP/s (impl F32IMPL, BF16IMPL)"
 * with G = 2 T N K / 1e9 / seconds and the implementations oneDNN chose
 * (dnnl_query_impl_info_str, e.g. brg:avx512_core_bf16; "ref" would be
 * its slow fallback).  The first line names the oneDNN version, its CPU
 * runtime, the ISA it dispatches to (dnnl_get_effective_cpu_isa) and the
 * threads.
 *
 * Threads: Debian's libdnnl (2.6) is built with the OpenMP runtime
 * (libgomp).  libgomp reads OMP_NUM_THREADS when it is loaded, before
 * main, so setting the variable here would be too late: this program is
 * built with -fopenmp and calls omp_set_num_threads(THREADS) before the
 * first oneDNN call; oneDNN sizes its parallel regions by
 * omp_get_max_threads() of the calling thread.  With another runtime
 * (TBB, sequential) the first line says so and THREADS has no effect.
 *
 * Each shape's results are checked once against a double-precision dot
 * product on sampled elements: |y - ref| / sum_k |x_k w_k| < 1e-4 for
 * f32, < 2e-2 for bf16 (against the f32 inputs, so the rounding of X and
 * W to bf16 counts).  Any failing oneDNN call or check: a message, exit 1.
 *
 * Build: cc -std=c11 -O2 -fopenmp -Iinclude -o dnnl_shapes
 *   bench/dnnl_shapes.c -ldnnl (Debian ships no pkg-config file for it). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L     /* clock_gettime under -std=c11 */
#endif
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dnnl.h>
#include <dnnl_debug.h>

#include "plm/float.h"

static void check(dnnl_status_t s, const char *what)
{
	if (s != dnnl_success) {
		fprintf(stderr, "dnnl_shapes: %s: %s\n", what, dnnl_status2str(s));
		exit(1);
	}
}
#define CHECK(call) check((call), #call)

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fprintf(stderr, "dnnl_shapes: out of memory\n");
		exit(1);
	}
	return p;
}

/* Values in [-0.5, 0.5); X and W from different sequences, so that a
 * transposed read would not match the reference by symmetry. */
static float *values(size_t n, uint32_t seed)
{
	float *p = xmalloc(n * sizeof *p);
	uint32_t s = seed;
	for (size_t i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		p[i] = (float)(s >> 8) * 0x1p-24f - 0.5f;
	}
	return p;
}

static uint16_t *to_bf16(const float *x, size_t n)
{
	uint16_t *p = xmalloc(n * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = plm_f32_to_bf16(x[i]);
	return p;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static dnnl_engine_t eng;
static dnnl_stream_t str;

static dnnl_memory_t memory(int64_t r, int64_t c, int64_t sr, int64_t sc,
			    dnnl_data_type_t dt, void *p, dnnl_memory_desc_t *md)
{
	dnnl_dims_t dims = { r, c }, strides = { sr, sc };
	dnnl_memory_t m;
	CHECK(dnnl_memory_desc_init_by_strides(md, 2, dims, dt, strides));
	CHECK(dnnl_memory_create(&m, md, eng, p));
	return m;
}

/* Fastest of reps calls of Y = X W^T with x, w of type dt; the
 * implementation's name into impl. */
static double run(int T, int n, int k, dnnl_data_type_t dt, void *x, void *w,
		  float *y, int reps, char *impl, size_t impl_size)
{
	dnnl_memory_desc_t xd, wd, yd;
	dnnl_memory_t xm = memory(T, k, k, 1, dt, x, &xd);
	dnnl_memory_t wm = memory(k, n, 1, k, dt, w, &wd);
	dnnl_memory_t ym = memory(T, n, n, 1, dnnl_f32, y, &yd);
	dnnl_matmul_desc_t desc;
	dnnl_primitive_desc_t pd;
	dnnl_primitive_t prim;
	const char *name = NULL;
	CHECK(dnnl_matmul_desc_init(&desc, &xd, &wd, NULL, &yd));
	CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL));
	CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name));
	snprintf(impl, impl_size, "%s", name ? name : "?");
	CHECK(dnnl_primitive_create(&prim, pd));
	dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, xm },
				   { DNNL_ARG_WEIGHTS, wm },
				   { DNNL_ARG_DST, ym } };
	double best = INFINITY;
	for (int r = -1; r < reps; r++) {
		double t0 = now();
		CHECK(dnnl_primitive_execute(prim, str, 3, args));
		CHECK(dnnl_stream_wait(str));
		double t = now() - t0;
		if (r >= 0 && t < best)
			best = t;
	}
	CHECK(dnnl_primitive_destroy(prim));
	CHECK(dnnl_primitive_desc_destroy(pd));
	CHECK(dnnl_memory_destroy(xm));
	CHECK(dnnl_memory_destroy(wm));
	CHECK(dnnl_memory_destroy(ym));
	return best;
}

/* y against a double dot product of x and w on sampled elements. */
static void verify(int T, int n, int k, const float *x, const float *w,
		   const float *y, double tol, const char *label)
{
	for (int s = 0; s < 32; s++) {
		/* the corners, then spread over the matrix */
		int i = s == 0 ? 0 : s == 1 ? T - 1 : (int)((s * 7919L) % T);
		int j = s == 0 ? 0 : s == 1 ? n - 1 : (int)((s * 104729L) % n);
		double ref = 0, mag = 0;
		for (int q = 0; q < k; q++) {
			double p = (double)x[(size_t)i * k + q] * w[(size_t)j * k + q];
			ref += p;
			mag += fabs(p);
		}
		double err = fabs(y[(size_t)i * n + j] - ref) / (mag > 0 ? mag : 1);
		if (!(err < tol)) {
			fprintf(stderr, "dnnl_shapes: %s %d %d %d: Y[%d,%d] = %g, "
				"reference %g (relative error %.3g >= %g)\n",
				label, T, n, k, i, j, y[(size_t)i * n + j], ref,
				err, tol);
			exit(1);
		}
	}
}

static const char *runtime(unsigned r)
{
	return r == DNNL_RUNTIME_OMP ? "OpenMP" : r == DNNL_RUNTIME_TBB ? "TBB"
	     : r == DNNL_RUNTIME_SEQ ? "sequential"
	     : r == DNNL_RUNTIME_THREADPOOL ? "threadpool" : "other";
}

int main(int argc, char **argv)
{
	static const int nk[][2] = { { 640, 640 }, { 2560, 640 },
				     { 640, 2560 }, { 1280, 1280 },
				     { 5120, 1280 }, { 1280, 5120 } };
	int T = argc > 1 ? atoi(argv[1]) : 0, th = argc > 2 ? atoi(argv[2]) : 0;
	int reps = argc > 3 ? atoi(argv[3]) : 5;
	if (argc < 3 || argc > 4 || T < 1 || th < 1 || reps < 1) {
		fprintf(stderr, "usage: dnnl_shapes T THREADS [REPS]\n");
		return 2;
	}
	omp_set_num_threads(th);    /* before the first oneDNN call */
	const dnnl_version_t *v = dnnl_version();
	const char *isa = dnnl_cpu_isa2str(dnnl_get_effective_cpu_isa());
	if (!strncmp(isa, "cpu_isa_", 8))
		isa += 8;
	printf("# oneDNN %d.%d.%d (%s), CPU runtime %s, ISA %s, %d threads%s\n",
	       v->major, v->minor, v->patch, v->hash ? v->hash : "?",
	       runtime(v->cpu_runtime), isa,
	       omp_get_max_threads(), v->cpu_runtime == DNNL_RUNTIME_OMP ? ""
	       : " (not OpenMP: THREADS has no effect)");
	CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
	CHECK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
	for (size_t s = 0; s < sizeof nk / sizeof *nk; s++) {
		int n = nk[s][0], k = nk[s][1];
		double flop = 2.0 * T * n * k;
		float *x = values((size_t)T * k, 1), *w = values((size_t)n * k, 2);
		float *y = xmalloc((size_t)T * n * sizeof *y);
		uint16_t *x16 = to_bf16(x, (size_t)T * k);
		uint16_t *w16 = to_bf16(w, (size_t)n * k);
		char i1[128], i2[128];
		double t1 = run(T, n, k, dnnl_f32, x, w, y, reps, i1, sizeof i1);
		verify(T, n, k, x, w, y, 1e-4, "f32");
		double t2 = run(T, n, k, dnnl_bf16, x16, w16, y, reps, i2, sizeof i2);
		verify(T, n, k, x, w, y, 2e-2, "bf16");
		printf("shape %d %d %d: dnnl_f32 %.1f dnnl_bf16 %.1f GFLOP/s "
		       "(impl %s, %s)\n", T, n, k, flop / t1 * 1e-9,
		       flop / t2 * 1e-9, i1, i2);
		fflush(stdout);
		free(x);
		free(w);
		free(y);
		free(x16);
		free(w16);
	}
	CHECK(dnnl_stream_destroy(str));
	CHECK(dnnl_engine_destroy(eng));
	return 0;
}
