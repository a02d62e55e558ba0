/* Unit tests for lib/mlp.c, lib/optim.c and lib/mlpckpt.c: gradients
 * against finite differences of a float64 reference network, losses and
 * optimiser steps against hand-computed values, checkpoint round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/mlp.h"
#include "plm/mlpckpt.h"
#include "plm/optim.h"
#include "tap.h"

#define near(got, want, tol, ...) do { \
	double g_ = (got), w_ = (want); \
	if (!ok(fabs(g_ - w_) <= (tol), __VA_ARGS__)) \
		diag("got %.17g, want %.17g", g_, w_); \
} while (0)

/* ---- float64 reference network -------------------------------------- */

static double ref_act(enum plm_act a, double z)
{
	switch (a) {
	case PLM_ACT_RELU: return z > 0 ? z : 0;
	case PLM_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2)));
	default: return tanh(z);
	}
}

/* Loss of the network with parameters p (double, layout of m->param). */
static double ref_loss(const plm_mlp *m, const double *p, const float *x,
		       size_t B, const float *t, const float *rw)
{
	double h[2][64], sw = 0, sum = 0;
	uint32_t K = m->dim[m->nl];
	for (size_t i = 0; i < B; i++) {
		for (uint32_t j = 0; j < m->dim[0]; j++)
			h[0][j] = x[i * m->dim[0] + j];
		int cur = 0;
		for (uint32_t l = 0; l < m->nl; l++) {
			const double *W = p + (m->W[l] - m->param);
			const double *b = p + (m->b[l] - m->param);
			for (uint32_t o = 0; o < m->dim[l + 1]; o++) {
				double s = b[o];
				for (uint32_t j = 0; j < m->dim[l]; j++)
					s += W[o * m->dim[l] + j] * h[cur][j];
				h[!cur][o] = l + 1 < m->nl ? ref_act(m->act, s) : s;
			}
			cur = !cur;
		}
		const double *z = h[cur];
		double l = 0, wi = rw ? rw[i] : 1;
		if (m->head == PLM_HEAD_BINARY) {
			double pr = 1 / (1 + exp(-z[0]));
			l = -(t[i] * log(pr) + (1 - t[i]) * log(1 - pr));
		} else if (m->head == PLM_HEAD_MULTILABEL) {
			for (uint32_t k = 0; k < K; k++) {
				double pr = 1 / (1 + exp(-z[k]));
				double y = t[i * K + k];
				l -= y * log(pr) + (1 - y) * log(1 - pr);
			}
			l /= K;
		} else {
			double se = 0;
			for (uint32_t k = 0; k < K; k++)
				se += exp(z[k]);
			l = log(se) - z[(uint32_t)t[i]];
		}
		sum += wi * l;
		sw += wi;
	}
	return sum / sw;
}

static void grad_check(enum plm_act act, enum plm_head head, int weighted)
{
	const uint32_t dim[] = { 5, 7, 4, head == PLM_HEAD_BINARY ? 1 : 3 };
	const size_t B = 6;
	plm_mlp m;
	plm_rng r;
	plm_rng_seed(&r, 42 + act * 3 + head);
	ok(plm_mlp_alloc(&m, 3, dim, act, head, 0) == 0, "alloc");
	plm_mlp_init_params(&m, &r);
	float x[6 * 5], t[6 * 3], w[6], dz[6 * 3];
	for (size_t i = 0; i < B * 5; i++)
		x[i] = (float)(2 * plm_rng_double(&r) - 1) * 2;
	for (size_t i = 0; i < B; i++) {
		w[i] = (float)(0.5 + plm_rng_double(&r));
		if (head == PLM_HEAD_MULTI)
			t[i] = (float)plm_rng_below(&r, 3);
		else if (head == PLM_HEAD_BINARY)
			t[i] = (float)plm_rng_below(&r, 2);
		else
			for (int k = 0; k < 3; k++)
				t[i * 3 + k] = (float)plm_rng_below(&r, 2);
	}
	const float *rw = weighted ? w : NULL;
	plm_mlp_work *wk = plm_mlp_work_new(&m, B, 1);
	float *g = malloc(m.nparam * sizeof *g);
	double *p = calloc(m.nparam, sizeof *p);
	const float *z = plm_mlp_forward(&m, wk, x, B, NULL);
	double loss = plm_mlp_loss(&m, z, B, t, rw, dz);
	plm_mlp_backward(&m, wk, x, B, dz, g);
	for (size_t i = 0; i < m.nparam; i++)
		p[i] = m.param[i];
	near(loss, ref_loss(&m, p, x, B, t, rw), 1e-5, "%s/%s%s: loss",
	     plm_act_name(act), plm_head_name(head), weighted ? "/weighted" : "");
	double worst = 0;
	for (size_t i = 0; i < m.nparam; i++) {
		double h = 1e-6, s = p[i];
		p[i] = s + h;
		double lp = ref_loss(&m, p, x, B, t, rw);
		p[i] = s - h;
		double lm = ref_loss(&m, p, x, B, t, rw);
		p[i] = s;
		double fd = (lp - lm) / (2 * h);
		double e = fabs(fd - g[i]) / (fabs(fd) + 1e-3);
		if (e > worst)
			worst = e;
	}
	if (!ok(worst < 2e-3, "%s/%s%s: gradient = finite differences",
		plm_act_name(act), plm_head_name(head),
		weighted ? "/weighted" : ""))
		diag("worst relative error %g", worst);
	free(g);
	free(p);
	plm_mlp_work_free(wk);
	plm_mlp_free(&m);
}

static void losses(void)
{
	const uint32_t dim[] = { 1, 3 };
	plm_mlp m;
	plm_mlp_alloc(&m, 1, dim, PLM_ACT_RELU, PLM_HEAD_MULTI, 0);
	float z[] = { 0, 0, 0, 1, 2, 3 }, t[] = { 0, 2 }, d[6];
	double want = (log(3) + (log(exp(1) + exp(2) + exp(3)) - 3)) / 2;
	near(plm_mlp_loss(&m, z, 2, t, NULL, d), want, 1e-12, "softmax CE");
	near(d[0], (1.0 / 3 - 1) / 2, 1e-7, "CE gradient: (p - onehot) / B");
	float pr[] = { 0, 0, 0 };
	plm_mlp_probs(&m, pr, 1);
	near(pr[1], 1.0 / 3, 1e-7, "softmax of equal logits");
	plm_mlp_free(&m);
	const uint32_t db[] = { 1, 1 };
	plm_mlp_alloc(&m, 1, db, PLM_ACT_RELU, PLM_HEAD_BINARY, 0);
	float zb[] = { 0, 50, -50 }, tb[] = { 1, 0, 0 }, w[] = { 1, 2, 1 };
	near(plm_mlp_loss(&m, zb, 1, tb, NULL, NULL), log(2), 1e-12,
	     "BCE at logit 0 = ln 2");
	near(plm_mlp_loss(&m, zb + 1, 2, tb + 1, w + 1, NULL),
	     (2 * 50 + log1p(exp(-50))) / 3, 1e-9,
	     "BCE stable at |z| = 50, weighted mean");
	plm_mlp_free(&m);
}

/* A ReLU binary model of layer sizes dim[0..2], and r seeded. */
static void relu_binary(plm_mlp *m, const uint32_t *dim, float dropout,
			plm_rng *r, uint64_t seed)
{
	plm_rng_seed(r, seed);
	plm_mlp_alloc(m, 2, dim, PLM_ACT_RELU, PLM_HEAD_BINARY, dropout);
}

static void dropout(void)
{
	const uint32_t dim[] = { 4, 1000, 1 };
	plm_mlp m;
	plm_rng r;
	relu_binary(&m, dim, 0.25f, &r, 1);
	for (size_t i = 0; i < m.nparam; i++)
		m.param[i] = 1;
	plm_mlp_work *w = plm_mlp_work_new(&m, 1, 1);
	float x[4] = { 0, 0, 0, 0 };
	double eval = plm_mlp_forward(&m, w, x, 1, NULL)[0];
	near(eval, 1001, 1e-3, "eval: no dropout");
	double tr = plm_mlp_forward(&m, w, x, 1, &r)[0];
	ok(fabs(tr - 1001) < 100 && tr != eval,
	   "train: inverted dropout keeps the expectation (%g)", tr);
	plm_rng_seed(&r, 1);
	double again = plm_mlp_forward(&m, w, x, 1, &r)[0];
	near(again, tr, 0, "dropout masks come from the seeded generator");
	plm_mlp_work_free(w);
	plm_mlp_free(&m);
}

static void init(void)
{
	const uint32_t dim[] = { 16, 4, 1 };
	plm_mlp m;
	plm_rng r;
	relu_binary(&m, dim, 0, &r, 7);
	plm_mlp_init_params(&m, &r);
	int in = 1;
	for (size_t i = 0; i < 16 * 4 + 4; i++)
		in &= fabsf(m.param[i]) <= 0.25f;
	for (size_t i = 16 * 4 + 4; i < m.nparam; i++)
		in &= fabsf(m.param[i]) <= 0.5f;
	ok(in, "init within U(-1/sqrt(fan_in), 1/sqrt(fan_in))");
	plm_rng_seed(&r, 7);
	near(m.param[0], (float)((2 * plm_rng_double(&r) - 1) * 0.25), 0,
	     "first weight = first draw");
	plm_mlp_free(&m);
}

/* ---- optimisers ----------------------------------------------------- */

static void optimisers(void)
{
	float p[1] = { 1 }, g[1] = { 0.5f };
	plm_optim o = { .alg = PLM_OPT_SGD, .momentum = 0.9 };
	plm_optim_init(&o, 1);
	plm_optim_step(&o, p, g, 0.1);
	near(p[0], 1 - 0.1 * 0.5, 1e-7, "sgd momentum step 1: buf = g");
	plm_optim_step(&o, p, g, 0.1);
	near(p[0], 0.95 - 0.1 * (0.9 * 0.5 + 0.5), 1e-7,
	     "sgd momentum step 2: buf = mu buf + g");
	plm_optim_free(&o);

	p[0] = 1;
	o = (plm_optim){ .alg = PLM_OPT_SGD, .momentum = 0.9, .nesterov = 1,
			 .weight_decay = 0.1 };
	plm_optim_init(&o, 1);
	plm_optim_step(&o, p, g, 0.1);
	/* d = 0.5 + 0.1 * 1 = 0.6; buf = 0.6; d = 0.6 + 0.9 * 0.6 */
	near(p[0], 1 - 0.1 * 1.14, 1e-7, "sgd nesterov + weight decay");
	plm_optim_free(&o);

	p[0] = 1;
	o = (plm_optim){ .alg = PLM_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999,
			 .eps = 1e-8 };
	plm_optim_init(&o, 1);
	plm_optim_step(&o, p, g, 0.01);
	near(p[0], 1 - 0.01 * 0.5 / (0.5 + 1e-8), 1e-7,
	     "adam step 1 moves by lr (bias-corrected)");
	plm_optim_step(&o, p, g, 0.01);
	near(p[0], 1 - 0.02, 1e-6, "adam step 2 with a constant gradient");
	plm_optim_free(&o);

	p[0] = 1;
	o = (plm_optim){ .alg = PLM_OPT_ADAMW, .beta1 = 0.9, .beta2 = 0.999,
			 .eps = 1e-8, .weight_decay = 0.5 };
	plm_optim_init(&o, 1);
	plm_optim_step(&o, p, g, 0.01);
	near(p[0], 1 * (1 - 0.01 * 0.5) - 0.01, 1e-6,
	     "adamw: decoupled decay, then the Adam step");
	plm_optim_free(&o);

	p[0] = 1;
	o = (plm_optim){ .alg = PLM_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999,
			 .eps = 1e-8, .weight_decay = 0.5 };
	plm_optim_init(&o, 1);
	plm_optim_step(&o, p, g, 0.01);
	near(p[0], 1 - 0.01, 1e-6, "adam: L2 decay goes into the gradient");
	plm_optim_free(&o);

	plm_sched s = { .kind = PLM_SCHED_STEP, .lr = 2e-4, .gamma = 0.85,
			.step_size = 10 };
	near(plm_sched_lr(&s, 9), 2e-4, 1e-18, "step: epochs 0-9 at lr");
	near(plm_sched_lr(&s, 10), 2e-4 * 0.85, 1e-18, "step: epoch 10");
	near(plm_sched_lr(&s, 25), 2e-4 * 0.85 * 0.85, 1e-18, "step: epoch 25");
	s = (plm_sched){ .kind = PLM_SCHED_COSINE, .lr = 1, .t_max = 10 };
	near(plm_sched_lr(&s, 0), 1, 1e-15, "cosine: epoch 0");
	near(plm_sched_lr(&s, 5), 0.5, 1e-15, "cosine: half way");
	near(plm_sched_lr(&s, 10), 0, 1e-15, "cosine: T_max");
}

/* ---- checkpoint ----------------------------------------------------- */

static void checkpoint(void)
{
	char path[] = "/tmp/t-mlp-XXXXXX", err[512];
	int fd = mkstemp(path);
	close(fd);
	plm_mlpckpt c = { 0 }, d;
	const uint32_t dim[] = { 3, 2, 3 };
	plm_rng r;
	plm_rng_seed(&r, 3);
	plm_mlp_alloc(&c.mlp, 2, dim, PLM_ACT_GELU, PLM_HEAD_MULTI, 0.5f);
	plm_mlp_init_params(&c.mlp, &r);
	plm_mlp_alloc_norm(&c.mlp);
	c.mlp.mean[1] = 2.5f;
	char *cls[] = { "a", "b", "c" }, *args[] = { "lr", "0.1" };
	uint64_t ids[] = { 1, 5, 9 };
	c.nclass = 3;
	c.classes = cls;
	c.label_str = 1;
	c.pos = -1;
	c.xfield = "emb";
	c.xtype = "f32[3]";
	c.yfield = "label";
	c.idfield = "id";
	c.splitfield = "split";
	c.args = args;
	c.nargs = 1;
	c.epochs = 4;
	c.best_epoch = 2;
	c.best_val_loss = 0.25;
	c.train_ids = ids;
	c.ntrain_ids = 3;
	c.val_ids = ids;
	c.train_digest.hi = 7;
	ok(plm_mlpckpt_save(&c, path, err, sizeof err) == 0, "save: %s", err);
	ok(plm_mlpckpt_load(&d, path, err, sizeof err) == 0, "load: %s", err);
	ok(!memcmp(d.mlp.param, c.mlp.param, c.mlp.nparam * 4),
	   "weights round-trip");
	near(d.mlp.mean[1], 2.5, 0, "mean round-trips");
	near(d.mlp.dropout, 0.5, 0, "dropout");
	is_int(d.mlp.act, PLM_ACT_GELU, "activation");
	is_str(d.classes[2], "c", "class names");
	is_str(d.args[1], "0.1", "args");
	is_int(d.train_digest.hi, 7, "digest");
	ok(plm_id_in(d.train_ids, d.ntrain_ids, 5) &&
	   !plm_id_in(d.train_ids, d.ntrain_ids, 6), "id set lookup");
	plm_mlpckpt_free(&d);

	/* Non-finite parameters and bad scaling: refused at load, naming
	 * the layer or the feature (all scores were NaN or constant). */
	static const struct {
		int what;               /* 0 W, 1 b, 2 mean, 3 std */
		uint32_t layer, k;
		float v;
		const char *want;
	} bad[] = {
		{ 0, 1, 4, NAN, "checkpoint layer 2 of 2: weight W1[2][0] is not finite (nan)" },
		{ 0, 0, 0, -INFINITY, "checkpoint layer 1 of 2: weight W0[0][0] is not finite (-inf)" },
		{ 1, 0, 1, INFINITY, "checkpoint layer 1 of 2: bias b0[1] is not finite (inf)" },
		{ 2, 0, 2, NAN, "checkpoint feature 2: norm.mean is not finite (nan)" },
		{ 3, 0, 1, 0, "checkpoint feature 1: norm.std is 0; it must be > 0" },
		{ 3, 0, 2, -0.5f, "checkpoint feature 2: norm.std is -0.5; it must be > 0" },
		{ 3, 0, 0, NAN, "checkpoint feature 0: norm.std is not finite (nan)" },
		{ 3, 0, 0, INFINITY, "checkpoint feature 0: norm.std is not finite (inf)" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		float *p = bad[i].what == 0 ? c.mlp.W[bad[i].layer] :
			   bad[i].what == 1 ? c.mlp.b[bad[i].layer] :
			   bad[i].what == 2 ? c.mlp.mean : c.mlp.std;
		float keep = p[bad[i].k];
		p[bad[i].k] = bad[i].v;
		err[0] = 0;
		int rc = plm_mlpckpt_save(&c, path, err, sizeof err);
		ok(rc == 0 && plm_mlpckpt_load(&d, path, err, sizeof err) == -1 &&
		   strstr(err, bad[i].want), "refused: %s", err);
		p[bad[i].k] = keep;
	}

	/* truncated: every proper prefix is refused */
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	int all = 1;
	for (size_t cut = 0; cut < n; cut += 7) {
		f = fopen(path, "wb");
		fwrite(buf, 1, cut, f);
		fclose(f);
		all &= plm_mlpckpt_load(&d, path, err, sizeof err) == -1;
	}
	ok(all, "truncated checkpoints are refused (%s)", err);
	f = fopen(path, "wb");
	fputs("\x81\xa6" "format\xa3" "xyz", f);
	fclose(f);
	ok(plm_mlpckpt_load(&d, path, err, sizeof err) == -1 &&
	   strstr(err, "not a plmkit MLP checkpoint"), "wrong magic: %s", err);
	unlink(path);
	plm_mlp_free(&c.mlp);
}

/* The pool splits every product and element-wise step by unit: the
 * logits and the gradient must be the same bits for 1, 2 and 3 threads,
 * dropout on, on shapes big enough to be split. */
static void threads(void)
{
	const uint32_t dim[] = { 96, 520, 40, 3 };
	const size_t B = 64;
	plm_mlp m;
	plm_rng r;
	plm_mlp_alloc(&m, 3, dim, PLM_ACT_GELU, PLM_HEAD_MULTI, 0.25f);
	plm_rng_seed(&r, 5);
	plm_mlp_init_params(&m, &r);
	float *x = malloc(B * dim[0] * sizeof *x), t[64];
	for (size_t i = 0; i < B * dim[0]; i++)
		x[i] = (float)(2 * plm_rng_double(&r) - 1);
	for (size_t i = 0; i < B; i++)
		t[i] = (float)(i % 3);
	float *z[3], *g[3], dz[64 * 3];
	for (int n = 0; n < 3; n++) {
		plm_mlp_work *w = plm_mlp_work_new(&m, B, n + 1);
		plm_rng d;
		plm_rng_seed(&d, 9);
		const float *zz = plm_mlp_forward(&m, w, x, B, &d);
		z[n] = malloc(B * 3 * sizeof(float));
		g[n] = malloc(m.nparam * sizeof(float));
		memcpy(z[n], zz, B * 3 * sizeof(float));
		plm_mlp_loss(&m, zz, B, t, NULL, dz);
		plm_mlp_backward(&m, w, x, B, dz, g[n]);
		plm_mlp_work_free(w);
	}
	for (int n = 1; n < 3; n++) {
		ok(!memcmp(z[0], z[n], B * 3 * sizeof(float)),
		   "forward: %d threads give the same logits as 1", n + 1);
		ok(!memcmp(g[0], g[n], m.nparam * sizeof(float)),
		   "backward: %d threads give the same gradient as 1", n + 1);
	}
	for (int n = 0; n < 3; n++) {
		free(z[n]);
		free(g[n]);
	}
	free(x);
	plm_mlp_free(&m);
}

int main(void)
{
	for (int a = 0; a < 3; a++)
		for (int h = 0; h < 3; h++)
			grad_check(a, h, 0);
	grad_check(PLM_ACT_TANH, PLM_HEAD_BINARY, 1);
	grad_check(PLM_ACT_GELU, PLM_HEAD_MULTI, 1);
	losses();
	dropout();
	init();
	optimisers();
	checkpoint();
	threads();
	return done_testing();
}
