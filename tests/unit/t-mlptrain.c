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

/* A model of layer sizes dim[0..nl], initialised from seed. */
static int model(plm_mlp *m, uint32_t nl, const uint32_t *dim, float dropout,
		 uint64_t seed)
{
	plm_rng r;
	plm_rng_seed(&r, seed);
	if (plm_mlp_alloc(m, nl, dim, PLM_ACT_RELU, PLM_HEAD_BINARY, dropout))
		return -1;
	plm_mlp_init_params(m, &r);
	return 0;
}

static void learns(void)
{
	plm_mlpdata D;
	plm_mlp m;
	plm_fit_result res;
	struct log g = { 0 };
	char err[256] = "";
	uint32_t dim[] = { 2, 16, 1 };
	make_data(&D, 2, 400, 100, separable, 1);
	plm_fit_opts o = opts(60, 0.05, 1);
	o.ctx = &g;
	ok(model(&m, 2, dim, 0, 3) == 0, "alloc");
	ok(plm_mlp_fit(&m, &D, &o, &res, err, sizeof err) == 0,
	   "fit%s%s", *err ? ": " : "", err);
	ok(g.n == 60 && res.epochs == 60, "no patience: every epoch runs");
	ok(g.train[g.n - 1] < 0.02 && g.train[g.n - 1] < g.train[0] / 10,
	   "linearly separable: the training loss goes to ~0 (%g, from %g)",
	   g.train[g.n - 1], g.train[0]);
	ok(-res.best_val_loss < 0 && res.best_val_loss < 0.1,
	   "and the val loss is small (%g)", res.best_val_loss);
	plm_mlp_free(&m);
	plm_mlpdata_free(&D);
}

static void early_stopping(void)
{
	plm_mlpdata D;
	plm_mlp m;
	plm_fit_result res;
	struct log g = { 0 };
	char err[256] = "";
	uint32_t dim[] = { 8, 64, 1 };
	/* random labels: the model memorises the train rows and the val
	 * loss rises after its first epochs */
	make_data(&D, 8, 64, 64, NULL, 2);
	plm_fit_opts o = opts(MAXE, 0.02, 1);
	o.patience = 4;
	o.ctx = &g;
	ok(model(&m, 2, dim, 0, 4) == 0, "alloc");
	g.m = &m;
	ok(plm_mlp_fit(&m, &D, &o, &res, err, sizeof err) == 0,
	   "fit%s%s", *err ? ": " : "", err);
	int best = 0;
	for (int i = 1; i < g.n; i++)
		if (g.score[i] > g.score[best])
			best = i;
	ok(res.best_epoch == (uint32_t)best + 1,
	   "the best epoch is the one with the lowest val loss (%u, %d)",
	   res.best_epoch, best + 1);
	ok(res.epochs < MAXE && res.epochs == res.best_epoch + 4,
	   "patience 4: stops 4 epochs after the best (%u of %d run)",
	   res.epochs, MAXE);
	ok(res.best_val_loss == -g.score[best] &&
	   res.best_score == res.best_val_loss,
	   "best_val_loss and best_score are that epoch's val loss");
	ok(!memcmp(m.param, g.snap[best], m.nparam * sizeof(float)),
	   "the best epoch's weights are restored");
	log_free(&g);
	plm_mlp_free(&m);
	plm_mlpdata_free(&D);
}

/* Weights after a short fit with dropout and shuffling. */
static float *fit_weights(uint64_t seed, int threads, size_t *np)
{
	plm_mlpdata D;
	plm_mlp m;
	plm_fit_result res;
	char err[256] = "";
	/* over 65536 parameters, so the optimiser step is split too */
	uint32_t dim[] = { 128, 512, 1 };
	make_data(&D, 128, 200, 50, separable, 5);
	plm_fit_opts o = opts(3, 0.01, threads);
	o.on_epoch = NULL;
	o.seed = seed;
	float *w = NULL;
	if (!model(&m, 2, dim, 0.3f, 6) &&
	    !plm_mlp_fit(&m, &D, &o, &res, err, sizeof err)) {
		w = malloc(m.nparam * sizeof *w);
		memcpy(w, m.param, m.nparam * sizeof *w);
		*np = m.nparam;
	} else {
		diag("fit: %s", err);
	}
	plm_mlp_free(&m);
	plm_mlpdata_free(&D);
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
	plm_mlpdata D;
	plm_mlp m;
	plm_fit_result res;
	char err[256] = "";
	uint32_t dim[] = { 2, 4, 1 };
	make_data(&D, 2, 50, 10, separable, 8);
	D.x[0][17 * 2 + 1] = NAN;
	plm_fit_opts o = opts(3, 0.01, 1);
	o.on_epoch = NULL;
	ok(model(&m, 2, dim, 0, 9) == 0, "alloc");
	float w0 = m.param[0];
	ok(plm_mlp_fit(&m, &D, &o, &res, err, sizeof err) == -1 &&
	   !strcmp(err, "train row 17: feature 1 is not finite") &&
	   res.epochs == 0 && m.param[0] == w0,
	   "a NaN feature is refused before training (%s)", err);
	D.x[0][17 * 2 + 1] = 0;
	D.x[1][3 * 2] = INFINITY;
	ok(plm_mlp_fit(&m, &D, &o, &res, err, sizeof err) == -1 &&
	   !strcmp(err, "val row 3: feature 0 is not finite"),
	   "so is an Inf in the val rows (%s)", err);
	plm_mlp_free(&m);
	plm_mlpdata_free(&D);
}

int main(void)
{
	learns();
	early_stopping();
	reproducible();
	refuses_nan();
	return done_testing();
}
