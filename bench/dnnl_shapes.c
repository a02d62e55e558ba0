/* dnnl_shapes.c — the rate oneDNN's matmul reaches on an ESM-2 model's
 * linear-layer shapes, next to bench/sgemm_shapes.c's cblas_sgemm and
 * plm_gemm, for bench/gemm-shapes.sh, and whether its results depend on
 * the batch and the threads.  A benchmark only: nothing in the library or
 * the tools links oneDNN.
 *
 *   dnnl_shapes T THREADS [REPS]
 *
 * For (N,K) in 640x640 2560x640 640x2560 1280x1280 5120x1280 1280x5120
 * (the 150M and 650M models' products) times Y[T,N] = X[T,K] W[N,K]^T,
 * X and Y row major and W stored N x K as the engine stores it, in two
 * setups: as stored (the weights' memory descriptor is K x N with strides
 * {1, K}, so oneDNN reads the engine's layout as it is) and packed (the
 * primitive is created with the weights' layout left to oneDNN,
 * dnnl_format_tag_any; the layout it chose is queried and the weights are
 * reordered into it once, before any call is timed: the best a caller
 * that keeps the packed copy gets).  Each once with f32 source, weights
 * and destination, once with bf16 source and weights and an f32
 * destination (f32 accumulation).  One primitive per shape, type and
 * setup, one call to warm up, then REPS (default 5) calls; the fastest
 * counts (as sgemm_shapes -s: the rate a kernel reaches when it has the
 * cores):
 *   "shape T N K: dnnl_f32 G1 dnnl_bf16 G2 dnnl_f32_packed G3
 *    dnnl_bf16_packed G4 GFLOP/s (impl I1, I2, I3 L3, I4 L4)"
 * (one line) with G = 2 T N K / 1e9 / seconds, the implementations
 * oneDNN chose (dnnl_query_impl_info_str, e.g. brg:avx512_core_bf16;
 * "ref" would be its slow fallback) and the packed weights' layout in
 * oneDNN's tag notation, a = K, b = N (e.g. BA16a64b2a).  The first line
 * names the oneDNN version, its CPU runtime, the ISA it dispatches to
 * (dnnl_get_effective_cpu_isa) and the threads.
 *
 *   dnnl_shapes -i THREADS
 *
 * Batch and thread invariance, oneDNN (packed weights, f32 and bf16) next
 * to plmkit's plm_gemm and plm_gemm_bf16 (plm/gemm.h), on (N,K) =
 * (1280,1280) and (1280,5120): Y of X with 4096 rows in one call on
 * THREADS threads is the reference; the first 64 rows are computed again
 * T rows a call (T=1, T=7 over 70 rows, T=64; one primitive of T rows
 * each), and all 4096 rows in one call on one thread (threads=1); per
 * variant
 *   "invariance KIND N K VARIANT: D of 64N differ, max |d| E"
 * counts the values whose bits differ from the reference.  Then
 * "invariance plm_gemm N K vs=dnnl_f32: ..." (and bf16) compares the two
 * references with each other: different summation orders, so most
 * values differ (the comparison can see a difference).  plm/gemm.h
 * promises 0 for plmkit's kernels; otherwise a "# WARNING" line (and one
 * on stderr).  The exit status is 0 either way (a measurement); 1 only
 * for a failing oneDNN call or check.
 *
 * Threads: Debian's libdnnl (2.6) is built with the OpenMP runtime
 * (libgomp).  libgomp reads OMP_NUM_THREADS when it is loaded, before
 * main, so setting the variable here would be too late: this program is
 * built with -fopenmp and calls omp_set_num_threads(THREADS) before the
 * first oneDNN call; oneDNN sizes its parallel regions by
 * omp_get_max_threads() of the calling thread (-i sets it again before
 * each primitive it creates).  With another runtime
 * (TBB, sequential) the first line says so and THREADS has no effect.
 *
 * Each result of the timing mode, and each reference of -i, is checked
 * against a double-precision dot product on sampled elements:
 * |y - ref| / sum_k |x_k w_k| < 1e-4 for f32, < 2e-2 for bf16 (against
 * the f32 inputs, so the rounding of X and W to bf16 counts).  Any failing oneDNN call or check: a message, exit 1.
 *
 * Build (after make): cc -std=c11 -O2 -fopenmp -Iinclude -o dnnl_shapes
 *   bench/dnnl_shapes.c build/libplm.a -ldnnl -lm -pthread (Debian ships
 *   no pkg-config file for libdnnl). */
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
#include "plm/gemm.h"
#include "plm/pool.h"

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

/* A blocked memory descriptor in oneDNN's tag notation: the dimensions
 * (a = K, b = N) outermost first, upper case where a dimension is also
 * blocked, then the inner blocks innermost last: "ba" is N x K row major
 * (the engine's layout), "BA16a64b2a" a packed one. */
static void layout(const dnnl_memory_desc_t *md, char *buf, size_t size)
{
	if (md->format_kind != dnnl_blocked) {
		snprintf(buf, size, "%s", dnnl_fmt_kind2str(md->format_kind));
		return;
	}
	const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
	int order[DNNL_MAX_NDIMS], nd = md->ndims;
	size_t len = 0;
	for (int d = 0; d < nd; d++)
		order[d] = d;
	for (int i = 1; i < nd; i++)    /* by decreasing stride, stable */
		for (int j = i; j > 0 && b->strides[order[j]] >
				    b->strides[order[j - 1]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < nd && len + 1 < size; i++) {
		int blocked = 0;
		for (int q = 0; q < b->inner_nblks; q++)
			blocked |= b->inner_idxs[q] == order[i];
		buf[len++] = (char)((blocked ? 'A' : 'a') + order[i]);
	}
	buf[len] = '\0';
	for (int q = 0; q < b->inner_nblks && len < size; q++)
		len += (size_t)snprintf(buf + len, size - len, "%lld%c",
					(long long)b->inner_blks[q],
					'a' + (int)b->inner_idxs[q]);
}

/* One matmul primitive Y[T,n] = X[T,k] W[n,k]^T with X, W of type dt and
 * an f32 Y, X and Y row major.  W is read from w, N x K as the engine
 * stores it; with packed, the primitive is created with the weights'
 * layout left to oneDNN (dnnl_format_tag_any) and w is reordered once
 * into the layout it chose, here, before any call is timed. */
struct mm {
	dnnl_primitive_t prim;
	dnnl_memory_t x, w, y;
	char impl[128], wfmt[64];   /* implementation, weights' layout */
};

static void mm_init(struct mm *m, int T, int n, int k, dnnl_data_type_t dt,
		    int packed, void *x, void *w, float *y)
{
	dnnl_memory_desc_t xd, wd, yd, anyd;
	dnnl_dims_t wdims = { k, n };
	dnnl_matmul_desc_t desc;
	dnnl_primitive_desc_t pd;
	const char *name = NULL;
	m->x = memory(T, k, k, 1, dt, x, &xd);
	m->w = memory(k, n, 1, k, dt, w, &wd);
	m->y = memory(T, n, n, 1, dnnl_f32, y, &yd);
	if (packed)
		CHECK(dnnl_memory_desc_init_by_tag(&anyd, 2, wdims, dt,
						   dnnl_format_tag_any));
	CHECK(dnnl_matmul_desc_init(&desc, &xd, packed ? &anyd : &wd, NULL, &yd));
	CHECK(dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL));
	CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name));
	snprintf(m->impl, sizeof m->impl, "%s", name ? name : "?");
	const dnnl_memory_desc_t *chosen =
		dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
	if (!chosen)
		check(dnnl_runtime_error, "dnnl_primitive_desc_query_md(weights)");
	layout(chosen, m->wfmt, sizeof m->wfmt);
	if (!dnnl_memory_desc_equal(chosen, &wd)) {
		dnnl_memory_t wp;
		dnnl_primitive_desc_t rpd;
		dnnl_primitive_t reorder;
		CHECK(dnnl_memory_create(&wp, chosen, eng, DNNL_MEMORY_ALLOCATE));
		CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wd, eng, chosen,
							 eng, NULL));
		CHECK(dnnl_primitive_create(&reorder, rpd));
		dnnl_exec_arg_t rargs[] = { { DNNL_ARG_FROM, m->w },
					    { DNNL_ARG_TO, wp } };
		CHECK(dnnl_primitive_execute(reorder, str, 2, rargs));
		CHECK(dnnl_stream_wait(str));
		CHECK(dnnl_primitive_destroy(reorder));
		CHECK(dnnl_primitive_desc_destroy(rpd));
		CHECK(dnnl_memory_destroy(m->w));
		m->w = wp;
	}
	CHECK(dnnl_primitive_create(&m->prim, pd));
	CHECK(dnnl_primitive_desc_destroy(pd));
}

/* One call on the T rows at x into the rows at y (NULL: those of
 * mm_init). */
static void mm_exec(struct mm *m, void *x, float *y)
{
	if (x)
		CHECK(dnnl_memory_set_data_handle(m->x, x));
	if (y)
		CHECK(dnnl_memory_set_data_handle(m->y, y));
	dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, m->x },
				   { DNNL_ARG_WEIGHTS, m->w },
				   { DNNL_ARG_DST, m->y } };
	CHECK(dnnl_primitive_execute(m->prim, str, 3, args));
	CHECK(dnnl_stream_wait(str));
}

static void mm_free(struct mm *m)
{
	CHECK(dnnl_primitive_destroy(m->prim));
	CHECK(dnnl_memory_destroy(m->x));
	CHECK(dnnl_memory_destroy(m->w));
	CHECK(dnnl_memory_destroy(m->y));
}

/* Fastest of reps calls (after one to warm up); the implementation's name
 * and the weights' layout into impl. */
static double run(int T, int n, int k, dnnl_data_type_t dt, int packed,
		  void *x, void *w, float *y, int reps, char *impl,
		  size_t impl_size)
{
	struct mm m;
	mm_init(&m, T, n, k, dt, packed, x, w, y);
	snprintf(impl, impl_size, "%s%s%s", m.impl, packed ? " " : "",
		 packed ? m.wfmt : "");
	double best = INFINITY;
	for (int r = -1; r < reps; r++) {
		double t0 = now();
		mm_exec(&m, NULL, NULL);
		double t = now() - t0;
		if (r >= 0 && t < best)
			best = t;
	}
	mm_free(&m);
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

/* ---- -i: batch and thread invariance ---- */

enum kind { DNNL_F32, PLM_F32, DNNL_BF16, PLM_BF16 };
static const char *const kind_name[] = { "dnnl_f32", "plm_gemm", "dnnl_bf16",
					 "plm_gemm_bf16" };

struct operands {
	int n, k;
	float *x, *w;           /* X: 4096 x k, W: n x k */
	uint16_t *x16, *w16;    /* the same rounded to bf16 */
};

/* Y of the first rows rows of X (a multiple of T), T rows a call (one
 * primitive for all, oneDNN's with packed weights), on threads threads. */
static void product(enum kind kd, const struct operands *o, int T, int rows,
		    int threads, float *y)
{
	size_t n = (size_t)o->n, k = (size_t)o->k;
	if (kd == PLM_F32 || kd == PLM_BF16) {
		plm_pool *p = plm_pool_new(threads);
		if (!p) {
			fprintf(stderr, "dnnl_shapes: out of memory\n");
			exit(1);
		}
		for (size_t r = 0; r < (size_t)rows; r += (size_t)T) {
			if (kd == PLM_F32)
				plm_gemm(p, (size_t)T, n, k, o->x + r * k, k, 1,
					 o->w, k, 1, y + r * n, n);
			else
				plm_gemm_bf16(p, (size_t)T, n, k, o->x + r * k,
					      k, o->w16, k, y + r * n, n);
		}
		plm_pool_free(p);
		return;
	}
	int bf = kd == DNNL_BF16;
	struct mm m;
	omp_set_num_threads(threads);   /* before the primitive is created */
	mm_init(&m, T, o->n, o->k, bf ? dnnl_bf16 : dnnl_f32, 1,
		bf ? (void *)o->x16 : (void *)o->x,
		bf ? (void *)o->w16 : (void *)o->w, y);
	for (size_t r = 0; r < (size_t)rows; r += (size_t)T)
		mm_exec(&m, bf ? (void *)(o->x16 + r * k) : (void *)(o->x + r * k),
			y + r * n);
	mm_free(&m);
}

/* Prints how many of the len values of y differ bitwise from ref and the
 * largest difference; returns the count. */
static size_t compare(const char *kind, const struct operands *o,
		      const char *variant, const float *y, const float *ref,
		      size_t len)
{
	size_t diff = 0;
	double maxd = 0;
	for (size_t i = 0; i < len; i++) {
		if (plm_f32_bits(y[i]) == plm_f32_bits(ref[i]))
			continue;
		diff++;
		double d = fabs((double)y[i] - ref[i]);
		if (!(d <= maxd))
			maxd = d;
	}
	printf("invariance %s %d %d %s: %zu of %zu differ, max |d| %.2g\n",
	       kind, o->n, o->k, variant, diff, len, maxd);
	fflush(stdout);
	return diff;
}

static int invariance(int th)
{
	static const int nk[][2] = { { 1280, 1280 }, { 1280, 5120 } };
	enum { T0 = 4096, R = 64 };
	/* T rows a call over rows rows (R, or the multiple of T above it),
	 * on THREADS threads or on one */
	static const struct { const char *name; int T, rows, one; } var[] = {
		{ "T=1", 1, R, 0 }, { "T=7", 7, 70, 0 }, { "T=64", 64, R, 0 },
		{ "threads=1", T0, T0, 1 } };
	int broken = 0;
	printf("# invariance: Y of the first %d rows of X, T rows a call, "
	       "against the same rows of one T=%d call on %d threads "
	       "(threads=1: T=%d on one thread)%s; oneDNN with packed weights; "
	       "plm_gemm kernel %s, plm_gemm_bf16 kernel %s\n", R, T0, th, T0,
	       th == 1 ? " (THREADS 1: threads=1 is the reference itself)" : "",
	       plm_gemm_isa(), plm_gemm_bf16_isa());
	fflush(stdout);
	for (size_t s = 0; s < sizeof nk / sizeof *nk; s++) {
		struct operands o = { nk[s][0], nk[s][1], NULL, NULL, NULL, NULL };
		size_t n = (size_t)o.n, k = (size_t)o.k;
		o.x = values(T0 * k, 1);
		o.w = values(n * k, 2);
		o.x16 = to_bf16(o.x, T0 * k);
		o.w16 = to_bf16(o.w, n * k);
		float *ref = xmalloc(T0 * n * sizeof *ref);
		float *y = xmalloc(T0 * n * sizeof *y);
		float *dn = xmalloc(R * n * sizeof *dn);
		for (int kd = DNNL_F32; kd <= PLM_BF16; kd++) {
			int bf = kd == DNNL_BF16 || kd == PLM_BF16;
			product(kd, &o, T0, T0, th, ref);
			verify(T0, o.n, o.k, o.x, o.w, ref, bf ? 2e-2 : 1e-4,
			       kind_name[kd]);
			for (size_t v = 0; v < sizeof var / sizeof *var; v++) {
				product(kd, &o, var[v].T, var[v].rows,
					var[v].one ? 1 : th, y);
				if (compare(kind_name[kd], &o, var[v].name, y, ref,
					    R * n) &&
				    (kd == PLM_F32 || kd == PLM_BF16))
					broken++;
			}
			/* the two engines against each other: the check sees
			 * a different summation order */
			if (kd == DNNL_F32 || kd == DNNL_BF16)
				memcpy(dn, ref, R * n * sizeof *dn);
			else
				compare(kind_name[kd], &o, kd == PLM_F32
					? "vs=dnnl_f32" : "vs=dnnl_bf16", dn,
					ref, R * n);
			omp_set_num_threads(th);
		}
		free(dn);
		free(o.x);
		free(o.w);
		free(o.x16);
		free(o.w16);
		free(ref);
		free(y);
	}
	if (broken) {
		printf("# WARNING: plmkit's own kernels differ in %d variants: "
		       "the invariance plm/gemm.h promises does not hold\n",
		       broken);
		fprintf(stderr, "dnnl_shapes: WARNING: plm_gemm or plm_gemm_bf16 "
			"not batch/thread invariant (%d variants)\n", broken);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dnnl_shapes T THREADS [REPS]\n"
		"       dnnl_shapes -i THREADS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const int nk[][2] = { { 640, 640 }, { 2560, 640 },
				     { 640, 2560 }, { 1280, 1280 },
				     { 5120, 1280 }, { 1280, 5120 } };
	int inv = argc > 1 && !strcmp(argv[1], "-i");
	int T = 0, th = 0, reps = 5;
	if (inv) {
		th = argc == 3 ? atoi(argv[2]) : 0;
		if (th < 1)
			usage();
	} else {
		T = argc > 1 ? atoi(argv[1]) : 0;
		th = argc > 2 ? atoi(argv[2]) : 0;
		reps = argc > 3 ? atoi(argv[3]) : 5;
		if (argc < 3 || argc > 4 || T < 1 || th < 1 || reps < 1)
			usage();
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
	if (inv)
		return invariance(th);
	for (size_t s = 0; s < sizeof nk / sizeof *nk; s++) {
		int n = nk[s][0], k = nk[s][1];
		double flop = 2.0 * T * n * k;
		float *x = values((size_t)T * k, 1), *w = values((size_t)n * k, 2);
		float *y = xmalloc((size_t)T * n * sizeof *y);
		uint16_t *x16 = to_bf16(x, (size_t)T * k);
		uint16_t *w16 = to_bf16(w, (size_t)n * k);
		char im[4][192];
		double t[4];
		for (int c = 0; c < 4; c++) {   /* f32, bf16; as stored, packed */
			int bf = c & 1, packed = c >> 1;
			t[c] = run(T, n, k, bf ? dnnl_bf16 : dnnl_f32, packed,
				   bf ? (void *)x16 : (void *)x,
				   bf ? (void *)w16 : (void *)w, y, reps, im[c],
				   sizeof im[c]);
			verify(T, n, k, x, w, y, bf ? 2e-2 : 1e-4,
			       bf ? packed ? "bf16 packed" : "bf16"
				  : packed ? "f32 packed" : "f32");
		}
		printf("shape %d %d %d: dnnl_f32 %.1f dnnl_bf16 %.1f "
		       "dnnl_f32_packed %.1f dnnl_bf16_packed %.1f GFLOP/s "
		       "(impl %s, %s, %s, %s)\n", T, n, k, flop / t[0] * 1e-9,
		       flop / t[1] * 1e-9, flop / t[2] * 1e-9,
		       flop / t[3] * 1e-9, im[0], im[1], im[2], im[3]);
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
