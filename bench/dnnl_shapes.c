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
 *   dnnl_shapes -x [DIR]
 *
 * Instruction-set invariance: Y of the first 64 rows of -i's X (one call
 * of T=64 rows, one thread) on (N,K) = (1280,1280) and (1280,5120), with
 * oneDNN f32 and bf16 (packed weights) at the ISA it dispatches to, and
 * with plm_gemm under each kernel plm_gemm_select can force here
 * (avx512, avx2, base) and plm_gemm_bf16 under each of its own
 * (avx512bf16, base); per product
 *   "bits KIND N K isa ISA: HASH (impl I)"
 * with HASH the FNV-1a 64 of Y's 64 N floats' bytes (as stored, little
 * endian on x86) and I oneDNN's implementation ("plm" for plmkit's);
 * "none (impl unimplemented)" where oneDNN has none at that ISA.
 * oneDNN's ISA is capped only by the environment (ONEDNN_MAX_CPU_ISA,
 * read at its first call): bench/gemm-shapes.sh runs -x once per cap and
 * compares.  With DIR each Y is also written to DIR/KIND-N-K-ISA.f32
 * (raw floats), for
 *
 *   dnnl_shapes -c FILE1 FILE2
 *
 * which prints "D of M differ, max |d| E" for two such files (exit 1 if
 * they cannot be read or their sizes differ).
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
 * into the layout it chose, here, before any call is timed.  Returns -1
 * (nothing to free) where oneDNN has no implementation (with a capped
 * ISA: bf16 below AVX-512), 0 otherwise. */
struct mm {
	dnnl_primitive_t prim;
	dnnl_memory_t x, w, y;
	char impl[128], wfmt[64];   /* implementation, weights' layout */
};

static int mm_init(struct mm *m, int T, int n, int k, dnnl_data_type_t dt,
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
	dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, NULL, eng,
						      NULL);
	if (st == dnnl_unimplemented) {
		CHECK(dnnl_memory_destroy(m->x));
		CHECK(dnnl_memory_destroy(m->w));
		CHECK(dnnl_memory_destroy(m->y));
		return -1;
	}
	check(st, "dnnl_primitive_desc_create");
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
	return 0;
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
	if (mm_init(&m, T, n, k, dt, packed, x, w, y))
		check(dnnl_unimplemented, "dnnl_primitive_desc_create");
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

/* X, W of -i (X's first rows rows) and their bf16 roundings. */
static void operands_init(struct operands *o, int n, int k, int rows)
{
	o->n = n;
	o->k = k;
	o->x = values((size_t)rows * k, 1);
	o->w = values((size_t)n * k, 2);
	o->x16 = to_bf16(o->x, (size_t)rows * k);
	o->w16 = to_bf16(o->w, (size_t)n * k);
}

static void operands_free(struct operands *o)
{
	free(o->x);
	free(o->w);
	free(o->x16);
	free(o->w16);
}

/* Y of the first rows rows of X (a multiple of T), T rows a call (one
 * primitive for all, oneDNN's with packed weights), on threads threads;
 * the implementation's name into impl[128] unless NULL.  -1 where oneDNN
 * has no implementation. */
static int product(enum kind kd, const struct operands *o, int T, int rows,
		    int threads, float *y, char *impl)
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
		if (impl)
			snprintf(impl, 128, "plm");
		return 0;
	}
	int bf = kd == DNNL_BF16;
	struct mm m;
	omp_set_num_threads(threads);   /* before the primitive is created */
	if (mm_init(&m, T, o->n, o->k, bf ? dnnl_bf16 : dnnl_f32, 1,
		    bf ? (void *)o->x16 : (void *)o->x,
		    bf ? (void *)o->w16 : (void *)o->w, y))
		return -1;
	for (size_t r = 0; r < (size_t)rows; r += (size_t)T)
		mm_exec(&m, bf ? (void *)(o->x16 + r * k) : (void *)(o->x + r * k),
			y + r * n);
	if (impl)
		snprintf(impl, 128, "%s", m.impl);
	mm_free(&m);
	return 0;
}

/* How many of the len values of y differ bitwise from ref; the largest
 * difference into *maxd. */
static size_t differ(const float *y, const float *ref, size_t len,
		     double *maxd)
{
	size_t diff = 0;
	*maxd = 0;
	for (size_t i = 0; i < len; i++) {
		if (plm_f32_bits(y[i]) == plm_f32_bits(ref[i]))
			continue;
		diff++;
		double d = fabs((double)y[i] - ref[i]);
		if (!(d <= *maxd))
			*maxd = d;
	}
	return diff;
}

/* Prints how many of the len values of y differ bitwise from ref and the
 * largest difference; returns the count. */
static size_t compare(const char *kind, const struct operands *o,
		      const char *variant, const float *y, const float *ref,
		      size_t len)
{
	double maxd;
	size_t diff = differ(y, ref, len, &maxd);
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
		struct operands o;
		operands_init(&o, nk[s][0], nk[s][1], T0);
		size_t n = (size_t)o.n;
		float *ref = xmalloc(T0 * n * sizeof *ref);
		float *y = xmalloc(T0 * n * sizeof *y);
		float *dn = xmalloc(R * n * sizeof *dn);
		for (int kd = DNNL_F32; kd <= PLM_BF16; kd++) {
			int bf = kd == DNNL_BF16 || kd == PLM_BF16;
			if (product(kd, &o, T0, T0, th, ref, NULL))
				check(dnnl_unimplemented, kind_name[kd]);
			verify(T0, o.n, o.k, o.x, o.w, ref, bf ? 2e-2 : 1e-4,
			       kind_name[kd]);
			for (size_t v = 0; v < sizeof var / sizeof *var; v++) {
				if (product(kd, &o, var[v].T, var[v].rows,
					    var[v].one ? 1 : th, y, NULL))
					check(dnnl_unimplemented, kind_name[kd]);
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
		operands_free(&o);
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

/* ---- -x: instruction-set invariance; -c: two of its outputs ---- */

static uint64_t fnv1a64(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3u;
	return h;
}

/* One product of -x: the bits line, and the file in dir unless NULL. */
static void isa_product(enum kind kd, const struct operands *o,
			const char *isa, const char *dir, float *y)
{
	enum { R = 64 };
	char impl[128];
	size_t len = (size_t)R * o->n;
	if (product(kd, o, R, R, 1, y, impl)) {
		printf("bits %s %d %d isa %s: none (impl unimplemented)\n",
		       kind_name[kd], o->n, o->k, isa);
		fflush(stdout);
		return;
	}
	verify(R, o->n, o->k, o->x, o->w, y,
	       kd == DNNL_BF16 || kd == PLM_BF16 ? 2e-2 : 1e-4, kind_name[kd]);
	printf("bits %s %d %d isa %s: %016llx (impl %s)\n", kind_name[kd],
	       o->n, o->k, isa, (unsigned long long)fnv1a64(y, len * sizeof *y),
	       impl);
	fflush(stdout);
	if (!dir)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s-%d-%d-%s.f32", dir, kind_name[kd],
		 o->n, o->k, isa);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(y, sizeof *y, len, f) != len || fclose(f)) {
		fprintf(stderr, "dnnl_shapes: %s: cannot write\n", path);
		exit(1);
	}
}

static int isa_bits(const char *isa, const char *dir)
{
	static const int nk[][2] = { { 1280, 1280 }, { 1280, 5120 } };
	/* plmkit's kernels, each under every kernel it has */
	static const struct {
		enum kind kd;
		int (*select)(const char *isa);
		const char *(*current)(void);
		const char *kernel[3];
	} own[] = {
		{ PLM_F32, plm_gemm_select, plm_gemm_isa,
		  { "avx512", "avx2", "base" } },
		{ PLM_BF16, plm_gemm_bf16_select, plm_gemm_bf16_isa,
		  { "avx512bf16", "base", NULL } } };
	char def[2][32];
	for (int j = 0; j < 2; j++)
		snprintf(def[j], sizeof def[j], "%s", own[j].current());
	printf("# isa: Y of 64 rows, one call, one thread; oneDNN (packed) at "
	       "ISA %s; plm_gemm kernels by default %s, plm_gemm_bf16 %s\n",
	       isa, def[0], def[1]);
	for (size_t s = 0; s < sizeof nk / sizeof *nk; s++) {
		struct operands o;
		operands_init(&o, nk[s][0], nk[s][1], 64);
		float *y = xmalloc((size_t)64 * o.n * sizeof *y);
		isa_product(DNNL_F32, &o, isa, dir, y);
		isa_product(DNNL_BF16, &o, isa, dir, y);
		for (int j = 0; j < 2; j++) {
			for (int i = 0; i < 3 && own[j].kernel[i]; i++)
				if (own[j].select(own[j].kernel[i]) == 0)
					isa_product(own[j].kd, &o,
						    own[j].kernel[i], dir, y);
				else if (s == 0)
					printf("# %s kernel %s: not on this CPU "
					       "or build\n", kind_name[own[j].kd],
					       own[j].kernel[i]);
			own[j].select(def[j]);
		}
		free(y);
		operands_free(&o);
	}
	return 0;
}

/* The floats of file path into *len. */
static float *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, n = 0;
	float *p = NULL;
	if (!f) {
		fprintf(stderr, "dnnl_shapes: %s: cannot open\n", path);
		exit(1);
	}
	for (;;) {
		if (n == cap)
			p = realloc(p, (cap = cap ? 2 * cap : 65536) * sizeof *p);
		if (!p) {
			fprintf(stderr, "dnnl_shapes: out of memory\n");
			exit(1);
		}
		size_t got = fread(p + n, sizeof *p, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f) || fclose(f)) {
		fprintf(stderr, "dnnl_shapes: %s: cannot read\n", path);
		exit(1);
	}
	*len = n;
	return p;
}

static int compare_files(const char *a, const char *b)
{
	size_t na, nb;
	float *ya = slurp(a, &na), *yb = slurp(b, &nb);
	if (na != nb) {
		fprintf(stderr, "dnnl_shapes: %s, %s: %zu and %zu values\n", a, b,
			na, nb);
		return 1;
	}
	double maxd;
	size_t diff = differ(ya, yb, na, &maxd);
	printf("%zu of %zu differ, max |d| %.2g\n", diff, na, maxd);
	free(ya);
	free(yb);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dnnl_shapes T THREADS [REPS]\n"
		"       dnnl_shapes -i THREADS\n"
		"       dnnl_shapes -x [DIR]\n"
		"       dnnl_shapes -c FILE1 FILE2\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const int nk[][2] = { { 640, 640 }, { 2560, 640 },
				     { 640, 2560 }, { 1280, 1280 },
				     { 5120, 1280 }, { 1280, 5120 } };
	int inv = argc > 1 && !strcmp(argv[1], "-i");
	int xisa = argc > 1 && !strcmp(argv[1], "-x");
	int T = 0, th = 0, reps = 5;
	if (argc > 1 && !strcmp(argv[1], "-c")) {
		if (argc != 4)
			usage();
		return compare_files(argv[2], argv[3]);
	}
	if (xisa) {
		if (argc > 3)
			usage();
		th = 1;
	} else if (inv) {
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
	if (xisa)
		return isa_bits(isa, argc == 3 ? argv[2] : NULL);
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
