/* esm-bench.c — forward-pass throughput of the ESM-2 engine on random
 * weights of a given shape, against raw cblas_sgemm at the same GEMM
 * shapes.
 *
 *   cc -O2 -Iinclude -Ilib bench/esm-bench.c build/libplm.a -lopenblas ...
 *   esm-bench [-t THREADS] [-e ENGINE_THREADS] [-n SEQS] [-l LEN] [-r REPS]
 *             [-f LENGTHS] [8M|35M|150M|650M]
 *
 * Reports GFLOP/s of the whole forward (linear layers + attention, the
 * FLOPs of a dense implementation; the LM head is not run) and the rate
 * sgemm reaches on the same four linear-layer shapes, by wall clock and by
 * process CPU time (threads x wall when the machine is idle: on a loaded
 * machine the CPU figure is the steadier one, though it also counts the
 * spinning of waiting threads).
 *
 * -f LENGTHS: sequence lengths, one a line (truncated to 1022), batched
 * as esm-embed does: sorted by length, batches of at most 4096 tokens;
 * the sgemm shapes are then timed at 4096 rows. */
#include "esm_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int by_len(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 40) * (1.0 / (1 << 24)) - 0.5);
}

/* A model with random weights (scaled so that activations stay sane). */
static plm_esm *random_model(int N, int H, int heads, int F)
{
	plm_esm *m = calloc(1, sizeof *m);
	plm_esm_config *c = &m->cfg;
	c->vocab = 33;
	c->hidden = H;
	c->layers = N;
	c->heads = heads;
	c->head_dim = H / heads;
	c->ffn = F;
	c->ln_eps = 1e-5f;
	c->token_dropout = 1;
	c->tok_cls = 0, c->tok_pad = 1, c->tok_eos = 2, c->tok_unk = 3;
	c->tok_mask = 32;
	size_t hd2 = (size_t)c->head_dim / 2;
	size_t per = 4 * (size_t)H * H + 2 * (size_t)H * F + 9 * (size_t)H + F + hd2;
	m->arena_n = 33 * (size_t)H + 2 * (size_t)H + N * per;
	m->arena = malloc(m->arena_n * sizeof(float));
	for (size_t i = 0; i < m->arena_n; i++)
		m->arena[i] = frand() * 0.1f;
	float *p = m->arena;
#define TAKE(n) (p += (n), p - (n))
	m->embed = TAKE(33 * (size_t)H);
	m->lnf_w = TAKE(H);
	m->lnf_b = TAKE(H);
	m->layer = calloc((size_t)N, sizeof *m->layer);
	for (int l = 0; l < N; l++) {
		esm_layer *y = &m->layer[l];
		y->ln1_w = TAKE(H);
		y->ln1_b = TAKE(H);
		y->wqkv = TAKE(3 * (size_t)H * H);
		y->bqkv = TAKE(3 * (size_t)H);
		y->wo = TAKE((size_t)H * H);
		y->bo = TAKE(H);
		y->ln2_w = TAKE(H);
		y->ln2_b = TAKE(H);
		y->w1 = TAKE((size_t)F * H);
		y->b1 = TAKE(F);
		y->w2 = TAKE((size_t)H * F);
		y->b2 = TAKE(H);
		float *f = TAKE(hd2);
		for (size_t i = 0; i < hd2; i++)
			f[i] = 1.0f / powf(10000.0f, (float)(2 * i) / (float)c->head_dim);
		y->inv_freq = f;
	}
	return m;
}

static double gemm_cpu;   /* CPU seconds per call, summed over shapes */

/* Seconds per call of a row-major X[T,k] W[n,k]^T sgemm. */
static double time_gemm(int T, int n, int k, int reps)
{
	float *a = malloc((size_t)T * k * 4), *b = malloc((size_t)n * k * 4);
	float *c = malloc((size_t)T * n * 4);
	for (size_t i = 0; i < (size_t)T * k; i++)
		a[i] = frand();
	for (size_t i = 0; i < (size_t)n * k; i++)
		b[i] = frand();
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1, a, k,
		    b, k, 0, c, n);
	double t0 = now(), c0 = cpu();
	for (int r = 0; r < reps; r++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, n, k, 1,
			    a, k, b, k, 0, c, n);
	double t = (now() - t0) / reps;
	gemm_cpu += (cpu() - c0) / reps;
	free(a);
	free(b);
	free(c);
	return t;
}

int main(int argc, char **argv)
{
	int threads = 2, nseq = 8, len = 254, reps = 3, ethreads = 0;
	const char *shape = "35M", *lfile = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			nseq = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-l") && i + 1 < argc)
			len = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-e") && i + 1 < argc)
			ethreads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-f") && i + 1 < argc)
			lfile = argv[++i];
		else
			shape = argv[i];
	}
	plm_blas_tune(argc, argv, 1);
	int N, H, heads, F;
	if (!strcmp(shape, "8M"))
		N = 6, H = 320, heads = 20, F = 1280;
	else if (!strcmp(shape, "35M"))
		N = 12, H = 480, heads = 20, F = 1920;
	else if (!strcmp(shape, "150M"))
		N = 30, H = 640, heads = 20, F = 2560;
	else if (!strcmp(shape, "650M"))
		N = 33, H = 1280, heads = 20, F = 5120;
	else {
		fprintf(stderr, "esm-bench: unknown shape %s\n", shape);
		return 2;
	}
	/* The sequence lengths (residues), sorted when read from a file. */
	size_t *lens = NULL, nl = 0, cap = 0;
	if (lfile) {
		FILE *f = fopen(lfile, "r");
		long v;
		if (!f) {
			perror(lfile);
			return 1;
		}
		while (fscanf(f, "%ld", &v) == 1) {
			if (nl == cap)
				lens = realloc(lens, (cap = cap * 2 + 64) * sizeof *lens);
			lens[nl++] = v < 1 ? 1 : v > 1022 ? 1022 : (size_t)v;
		}
		fclose(f);
		qsort(lens, nl, sizeof *lens, by_len);
	} else {
		lens = malloc((size_t)nseq * sizeof *lens);
		for (nl = 0; nl < (size_t)nseq; nl++)
			lens[nl] = (size_t)len;
	}
	size_t T = 0, budget;
	for (size_t s = 0; s < nl; s++)
		T += lens[s] + 2;
	budget = lfile ? 4096 : T;
	plm_esm *m = random_model(N, H, heads, F);
	char err[256];
	/* -e: the engine's own threads, when they should differ from the
	 * BLAS threads (an experiment: the API sets both). */
	plm_esm_ctx *c = plm_esm_ctx_new(m, budget, ethreads ? ethreads : threads,
					 err, sizeof err);
	if (!c) {
		fprintf(stderr, "esm-bench: %s\n", err);
		return 1;
	}
	openblas_set_num_threads(threads);
	int32_t **ids = malloc(nl * sizeof *ids);
	size_t *nt = malloc(nl * sizeof *nt);
	double lin = 0, att = 0;
	for (size_t s = 0; s < nl; s++) {
		size_t l = lens[s];
		ids[s] = malloc((l + 2) * sizeof **ids);
		ids[s][0] = 0;
		for (size_t i = 1; i <= l; i++)
			ids[s][i] = 4 + (int)((frand() + 0.5f) * 20) % 20;
		ids[s][l + 1] = 2;
		nt[s] = l + 2;
		lin += 2.0 * nt[s] * N * (4.0 * H * H + 2.0 * H * F);
		att += 4.0 * (double)nt[s] * nt[s] * H * N;
	}
	float *out = malloc(nl * H * sizeof *out);
	plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_MEAN, .out = out };
	double tf = 0, cf = 0;
	for (int r = -1; r < reps; r++) {
		double t0 = now(), c0 = cpu();
		for (size_t s0 = 0, s1; s0 < nl; s0 = s1) {
			size_t tok = 0;
			for (s1 = s0; s1 < nl && tok + nt[s1] <= budget; s1++)
				tok += nt[s1];
			if (plm_esm_forward_ids(c, s1 - s0,
						(const int32_t *const *)ids + s0,
						nt + s0, &o)) {
				fprintf(stderr, "esm-bench: %s\n", plm_esm_error(c));
				return 1;
			}
			if (r < 0 && lfile)
				break;     /* warm-up: one batch is enough */
		}
		if (r >= 0)    /* the first run warms up */
			tf += now() - t0, cf += cpu() - c0;
	}
	tf /= reps;
	cf /= reps;
	size_t Tg = lfile ? budget : T;
	double tg = N * (time_gemm((int)Tg, 3 * H, H, reps) +
			 time_gemm((int)Tg, H, H, reps) +
			 time_gemm((int)Tg, F, H, reps) +
			 time_gemm((int)Tg, H, F, reps));
	double linG = 2.0 * Tg * N * (4.0 * H * H + 2.0 * H * F);
	double cg = N * gemm_cpu;
	double la[3] = { 0 };
	FILE *lf = fopen("/proc/loadavg", "r");
	if (lf) {
		if (fscanf(lf, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
			la[0] = -1;
		fclose(lf);
	}
	if (lfile)
		printf("shape %s (N %d, H %d, heads %d, F %d), %zu sequences from "
		       "%s, %zu tokens, batches of <= %zu, %d threads, core %s, "
		       "load %.2f\n", shape, N, H, heads, F, nl, lfile, T, budget,
		       threads, plm_blas_core(), la[0]);
	else
		printf("shape %s (N %d, H %d, heads %d, F %d), %d x %d residues, "
		       "T %zu, %d threads, core %s, load %.2f\n", shape, N, H,
		       heads, F, nseq, len, T, threads, plm_blas_core(), la[0]);
	printf("forward  %.3f s  %.1f GFLOP/s (linear %.1f + attention %.1f "
	       "GFLOP)  %.0f tokens/s;  cpu %.3f s: %.1f GFLOP/cpu-s\n", tf,
	       (lin + att) / tf * 1e-9, lin * 1e-9, att * 1e-9, T / tf, cf,
	       (lin + att) / cf * 1e-9);
	printf("sgemm    %.3f s  %.1f GFLOP/s on the linear shapes (T %zu);  "
	       "%.1f GFLOP/cpu-s\n", tg, linG / tg * 1e-9, Tg,
	       linG / cg * 1e-9);
	printf("ratio    %.0f%% of the sgemm rate (wall), %.0f%% (cpu)\n",
	       100.0 * ((lin + att) / tf) / (linG / tg),
	       100.0 * ((lin + att) / cf) / (linG / cg));
	return 0;
}
