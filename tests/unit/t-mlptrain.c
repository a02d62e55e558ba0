/* t-mlptrain.c — the training loop (lib/mlptrain.c) on data made in
 * memory: a linearly separable set is learnt, early stopping restores the
 * best epoch's weights, the same seed gives bitwise the same weights and
 * so do 1 and 2 threads, a NaN or Inf feature is refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/mlptrain.h"
#include "plm/rng.h"
#include "tap.h"

#define MAXE 64

static float urand(plm_rng *r)
{
	return (float)(plm_rng_double(r) * 2 - 1);
}

/* n train and nv val rows of d features; labels from rule (or random
 * when rule is NULL). */
static void make_data(plm_mlpdata *D, uint32_t d, size_t n, size_t nv,
		      int (*rule)(const float *x), uint64_t seed)
{
	plm_rng r;
	plm_rng_seed(&r, seed);
	memset(D, 0, sizeof *D);
	D->d = d;
	D->head = PLM_HEAD_BINARY;
	D->nclass = 2;
	D->pos = 1;
	D->n[0] = n;
	D->n[1] = nv;
	for (int k = 0; k < 2; k++) {
		D->x[k] = malloc((D->n[k] ? D->n[k] : 1) * d * sizeof(float));
		D->t[k] = malloc((D->n[k] ? D->n[k] : 1) * sizeof(float));
		for (size_t i = 0; i < D->n[k]; i++) {
			float *x = D->x[k] + i * d;
			do {
				for (uint32_t j = 0; j < d; j++)
					x[j] = urand(&r);
			} while (rule && fabsf(x[0] + 0.5f * x[1]) < 0.1f);
			D->t[k][i] = rule ? (float)rule(x)
					  : (float)(plm_rng_next(&r) & 1);
		}
	}
}

static int separable(const float *x)
{
	return x[0] + 0.5f * x[1] > 0;
}

struct log {
	int n;
	double train[MAXE], score[MAXE];
	const plm_mlp *m;
	float *snap[MAXE];          /* the weights after each epoch */
};

static int on_epoch(void *ctx, const plm_epoch *e)
{
	struct log *g = ctx;
	if (g->n < MAXE) {
		g->train[g->n] = e->train_loss;
		g->score[g->n] = -e->val_loss;
		if (g->m) {
			g->snap[g->n] = malloc(g->m->nparam * sizeof(float));
			memcpy(g->snap[g->n], g->m->param,
			       g->m->nparam * sizeof(float));
		}
		g->n++;
	}
	return 0;
}

static void log_free(struct log *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->snap[i]);
}

static plm_fit_opts opts(int epochs, double lr, int threads)
{
	plm_fit_opts o = { .epochs = epochs, .batch = 32, .shuffle = 1,
		.seed = 7, .monitor = PLM_MON_LOSS, .threads = threads,
		.on_epoch = on_epoch };
	o.opt.alg = PLM_OPT_ADAM;
	o.opt.beta1 = 0.9;
	o.opt.beta2 = 0.999;
	o.opt.eps = 1e-8;
	o.sched.kind = PLM_SCHED_CONST;
	o.sched.lr = lr;
	return o;
}

/* One fit: the data, a model of layer sizes dim[0..2] initialised from
 * seed, what the fit returned and the per-epoch log. */
struct run {
	plm_mlpdata D;
	plm_mlp m;
	plm_fit_result res;
	struct log g;
	char err[256];
};

static int fit(struct run *R, const uint32_t *dim, float dropout,
	       uint64_t seed, plm_fit_opts o, int snapshots)
{
	plm_rng r;
	plm_rng_seed(&r, seed);
	memset(&R->g, 0, sizeof R->g);
	R->err[0] = 0;
	if (plm_mlp_alloc(&R->m, 2, dim, PLM_ACT_RELU, PLM_HEAD_BINARY,
			  dropout)) {
		snprintf(R->err, sizeof R->err, "alloc failed");
		return -1;
	}
	plm_mlp_init_params(&R->m, &r);
	R->g.m = snapshots ? &R->m : NULL;
	if (o.on_epoch)
		o.ctx = &R->g;
	return plm_mlp_fit(&R->m, &R->D, &o, &R->res, R->err, sizeof R->err);
}

static void run_free(struct run *R)
{
	log_free(&R->g);
	plm_mlp_free(&R->m);
	plm_mlpdata_free(&R->D);
}

static void learns(void)
{
	struct run R;
	const struct log *g = &R.g;
	uint32_t dim[] = { 2, 16, 1 };
	make_data(&R.D, 2, 400, 100, separable, 1);
	ok(fit(&R, dim, 0, 3, opts(60, 0.05, 1), 0) == 0, "fit%s%s",
	   *R.err ? ": " : "", R.err);
	ok(g->n == 60 && R.res.epochs == 60, "no patience: every epoch runs");
	ok(g->train[g->n - 1] < 0.02 && g->train[g->n - 1] < g->train[0] / 10,
	   "linearly separable: the training loss goes to ~0 (%g, from %g)",
	   g->train[g->n - 1], g->train[0]);
	ok(R.res.best_val_loss < 0.1, "and the val loss is small (%g)",
	   R.res.best_val_loss);
	run_free(&R);
}

static void early_stopping(void)
{
	struct run R;
	const struct log *g = &R.g;
	uint32_t dim[] = { 8, 64, 1 };
	/* random labels: the model memorises the train rows and the val
	 * loss rises after its first epochs */
	make_data(&R.D, 8, 64, 64, NULL, 2);
	plm_fit_opts o = opts(MAXE, 0.02, 1);
	o.patience = 4;
	ok(fit(&R, dim, 0, 4, o, 1) == 0, "fit%s%s", *R.err ? ": " : "",
	   R.err);
	int best = 0;
	for (int i = 1; i < g->n; i++)
		if (g->score[i] > g->score[best])
			best = i;
	ok(R.res.best_epoch == (uint32_t)best + 1,
	   "the best epoch is the one with the lowest val loss (%u, %d)",
	   R.res.best_epoch, best + 1);
	ok(R.res.epochs < MAXE && R.res.epochs == R.res.best_epoch + 4,
	   "patience 4: stops 4 epochs after the best (%u of %d run)",
	   R.res.epochs, MAXE);
	ok(R.res.best_val_loss == -g->score[best] &&
	   R.res.best_score == R.res.best_val_loss,
	   "best_val_loss and best_score are that epoch's val loss");
	ok(!memcmp(R.m.param, g->snap[best], R.m.nparam * sizeof(float)),
	   "the best epoch's weights are restored");
	run_free(&R);
}

/* Weights after a short fit with dropout and shuffling. */
static float *fit_weights(uint64_t seed, int threads, size_t *np)
{
	struct run R;
	/* over 65536 parameters, so the optimiser step is split too */
	uint32_t dim[] = { 128, 512, 1 };
	make_data(&R.D, 128, 200, 50, separable, 5);
	plm_fit_opts o = opts(3, 0.01, threads);
	o.on_epoch = NULL;
	o.seed = seed;
	float *w = NULL;
	if (!fit(&R, dim, 0.3f, 6, o, 0)) {
		w = malloc(R.m.nparam * sizeof *w);
		memcpy(w, R.m.param, R.m.nparam * sizeof *w);
		*np = R.m.nparam;
	} else {
		diag("fit: %s", R.err);
	}
	run_free(&R);
	return w;
}

static void reproducible(void)
{
	size_t n = 0;
	float *a = fit_weights(11, 1, &n), *b = fit_weights(11, 1, &n);
	float *c = fit_weights(12, 1, &n), *t = fit_weights(11, 2, &n);
	ok(a && b && c && t, "fits ran");
	ok(n >= 65536 && a && b && !memcmp(a, b, n * sizeof *a),
	   "the same seed gives bitwise the same weights");
	ok(a && c && memcmp(a, c, n * sizeof *a),
	   "another seed gives other weights");
	ok(a && t && !memcmp(a, t, n * sizeof *a),
	   "2 threads give bitwise the weights of 1");
	free(a);
	free(b);
	free(c);
	free(t);
}

static void refuses_nan(void)
{
	struct run R;
	uint32_t dim[] = { 2, 4, 1 };
	make_data(&R.D, 2, 50, 10, separable, 8);
	R.D.x[0][17 * 2 + 1] = NAN;
	plm_fit_opts o = opts(3, 0.01, 1);
	ok(fit(&R, dim, 0, 9, o, 1) == -1 &&
	   !strcmp(R.err, "train row 17: feature 1 is not finite") &&
	   R.res.epochs == 0 && R.g.n == 0,
	   "a NaN feature is refused before training (%s)", R.err);
	plm_mlp_free(&R.m);
	R.D.x[0][17 * 2 + 1] = 0;
	R.D.x[1][3 * 2] = INFINITY;
	ok(fit(&R, dim, 0, 9, o, 1) == -1 &&
	   !strcmp(R.err, "val row 3: feature 0 is not finite"),
	   "so is an Inf in the val rows (%s)", R.err);
	run_free(&R);
}

int main(void)
{
	learns();
	early_stopping();
	reproducible();
	refuses_nan();
	return done_testing();
}
