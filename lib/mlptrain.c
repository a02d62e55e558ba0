/* mlptrain.c — mlp-train's evaluation and training loop
 * (include/plm/mlptrain.h, man/mlp-train.1).
 *
 * The training loop takes minibatches in a seeded order (its own RNG
 * stream; dropout has another, so changing one does not change the
 * other), evaluates the val rows after every epoch and keeps the best
 * weights by the monitored value. */
#include "plm/mlptrain.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/metrics.h"
#include "plm/names.h"
#include "plm/rng.h"

#define WORK_BYTES ((size_t)64 << 20)   /* per work buffer, beyond a batch */

/* ---- evaluation --------------------------------------------------------- */

static const char *const mon_names[] = { "loss", "auroc", "f1" };

int plm_monitor_parse(const char *s)
{
	return plm_name_index(mon_names, 3, s);
}

const char *plm_monitor_name(enum plm_monitor k) { return mon_names[k]; }

/* Which metrics give an epoch's acc, f1, prec, rec and auroc. */
static const int binary[5] = { PLM_M_ACCURACY, PLM_M_F1, PLM_M_PRECISION,
			       PLM_M_RECALL, PLM_M_AUROC };
static const int macro[5] = { PLM_M_ACCURACY, PLM_M_F1_MACRO,
			      PLM_M_PRECISION_MACRO, PLM_M_RECALL_MACRO,
			      PLM_M_AUROC_OVR };

static void take(plm_epoch *e, const plm_metrics *mt, const int which[5])
{
	e->acc = mt->v[which[0]];
	e->f1 = mt->v[which[1]];
	e->prec = mt->v[which[2]];
	e->rec = mt->v[which[3]];
	e->auroc = mt->v[which[4]];
}

static int eval_multi(const plm_mlp *m, const float *pr, const float *t,
		      size_t n, plm_epoch *e)
{
	uint32_t K = m->dim[m->nl];
	double *p = malloc((n ? n : 1) * K * sizeof *p);
	uint32_t *y = malloc((n ? n : 1) * sizeof *y);
	uint32_t *pd = malloc((n ? n : 1) * sizeof *pd);
	int bad = !p || !y || !pd;
	plm_metrics mt;
	if (!bad) {
		for (size_t i = 0; i < n * K; i++)
			p[i] = pr[i];
		for (size_t i = 0; i < n; i++) {
			y[i] = (uint32_t)t[i];
			pd[i] = plm_argmax(p + i * K, K);
		}
		plm_mc d = { .n = n, .k = K, .y = y, .pred = pd, .prob = p };
		bad = plm_mc_prepare(&d) || plm_metrics_multi(&d, NULL, &mt);
		plm_mc_free(&d);
	}
	free(p);
	free(y);
	free(pd);
	if (bad)
		return -1;
	take(e, &mt, macro);
	return 0;
}

/* Binary, or multi-label pooled over all (row, label) pairs. */
static int eval_binary(const float *pr, const float *t, size_t nn,
		       plm_epoch *e)
{
	double *s = malloc((nn ? nn : 1) * sizeof *s);
	unsigned char *y = malloc(nn ? nn : 1);
	plm_metrics mt;
	int bad = !s || !y;
	if (!bad) {
		for (size_t i = 0; i < nn; i++) {
			s[i] = pr[i];
			y[i] = t[i] > 0.5f;
		}
		bad = plm_binary_eval(s, y, nn, 0.5, 10, &mt);
	}
	free(s);
	free(y);
	if (bad)
		return -1;
	take(e, &mt, binary);
	return 0;
}

int plm_mlp_eval(const plm_mlp *m, plm_mlp_work *wk, const float *x,
		 const float *t, const float *w, size_t n, plm_epoch *e)
{
	uint32_t K = m->dim[m->nl];
	size_t maxb = plm_mlp_work_maxb(wk);
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1;
	float *pr = malloc((n ? n : 1) * K * sizeof *pr);
	if (!pr)
		return -1;
	double sl = 0, sw = 0;
	for (size_t s = 0; s < n; s += maxb) {
		size_t B = n - s < maxb ? n - s : maxb;
		const float *z = plm_mlp_forward(m, wk, x + s * m->dim[0], B,
						 NULL);
		double bw = 0;
		for (size_t i = 0; i < B; i++)
			bw += w ? w[s + i] : 1.0;
		sl += bw * plm_mlp_loss(m, z, B, t + s * tk, w ? w + s : NULL,
					NULL);
		sw += bw;
		memcpy(pr + s * K, z, B * K * sizeof *pr);
	}
	e->val_loss = sl / sw;
	plm_mlp_probs(m, pr, n);
	int rc = m->head == PLM_HEAD_MULTI ? eval_multi(m, pr, t, n, e)
					   : eval_binary(pr, t, n * K, e);
	free(pr);
	return rc;
}

/* ---- training ----------------------------------------------------------- */

struct opt_job {
	plm_optim *opt;
	float *p;
	const float *g;
	double lr;
};

static void opt_part(void *arg, size_t lo, size_t hi)
{
	const struct opt_job *j = arg;
	/* parts are in units of 1024 parameters */
	size_t n = j->opt->n;
	hi = hi * 1024 < n ? hi * 1024 : n;
	plm_optim_range(j->opt, j->p, j->g, j->lr, lo * 1024, hi);
}

/* The monitored value of an epoch, as "higher is better"; NAN when
 * undefined. */
static double score_of(enum plm_monitor k, const plm_epoch *e)
{
	switch (k) {
	case PLM_MON_AUROC:
		return e->auroc;
	case PLM_MON_F1:
		return e->f1;
	default:
		return -e->val_loss;
	}
}

struct loop {
	float *xb, *tb, *wb, *dz, *grad, *best;
	uint32_t *order;
	plm_mlp_work *w;
};

static void loop_free(struct loop *b)
{
	PLM_FREE(b->xb, b->tb, b->wb, b->dz, b->grad, b->best, b->order);
	plm_mlp_work_free(b->w);
}

/* One pass over the train rows in the order given; returns the mean of
 * the batch losses weighted by batch size. */
static double epoch(plm_mlp *m, const plm_mlpdata *D, const plm_fit_opts *o,
		    struct loop *b, plm_optim *opt, double lr, plm_rng *rd)
{
	uint32_t d = m->dim[0], K = m->dim[m->nl];
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1, n = D->n[0];
	size_t bs = o->batch;
	const float *tw = D->w[0];
	double sum = 0;
	struct opt_job oj = { opt, m->param, b->grad, lr };
	for (size_t s = 0; s < n; s += bs) {
		size_t B = n - s < bs ? n - s : bs;
		for (size_t i = 0; i < B; i++) {
			size_t r = b->order[s + i];
			memcpy(b->xb + i * d, D->x[0] + r * d, d * sizeof *b->xb);
			memcpy(b->tb + i * tk, D->t[0] + r * tk,
			       tk * sizeof *b->tb);
			if (tw)
				b->wb[i] = tw[r];
		}
		const float *z = plm_mlp_forward(m, b->w, b->xb, B, rd);
		double l = plm_mlp_loss(m, z, B, b->tb, tw ? b->wb : NULL,
					b->dz);
		plm_mlp_backward(m, b->w, b->xb, B, b->dz, b->grad);
		plm_optim_begin(opt);
		size_t parts = (m->nparam + 1023) / 1024;
		plm_pool_run(plm_mlp_work_pool(b->w), m->nparam >= (1u << 16)
			     ? o->threads : 1, opt_part, &oj, parts);
		sum += l * (double)B;
	}
	return sum / (double)n;
}

/* A NaN or Inf feature would not always show in the loss (ReLU maps NaN
 * to 0) yet would end in the weights: refused before training. */
static int nonfinite(const plm_mlpdata *D, char *err, size_t errlen)
{
	static const char *const name[2] = { "train", "val" };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < D->n[k] * D->d; i++)
			if (!isfinite(D->x[k][i])) {
				snprintf(err, errlen, "%s row %zu: feature %zu "
					 "is not finite", name[k], i / D->d,
					 i % D->d);
				return -1;
			}
	return 0;
}

int plm_mlp_fit(plm_mlp *m, const plm_mlpdata *D, const plm_fit_opts *o,
		plm_fit_result *res, char *err, size_t errlen)
{
	uint32_t d = m->dim[0], K = m->dim[m->nl];
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1;
	size_t n = D->n[0], bs = o->batch < (n ? n : 1) ? o->batch : (n ? n : 1);
	/* work rows: a batch, or more for evaluation while they stay
	 * within WORK_BYTES (the rows of the widest layer) */
	size_t dmax = 0;
	for (uint32_t l = 0; l <= m->nl; l++)
		if (m->dim[l] > dmax)
			dmax = m->dim[l];
	size_t ev = WORK_BYTES / (dmax * sizeof(float));
	ev = ev < 1 ? 1 : ev > 256 ? 256 : ev;
	size_t maxb = bs > ev ? bs : ev;
	struct loop b = { 0 };
	plm_optim opt = o->opt;
	res->epochs = res->best_epoch = 0;
	res->best_val_loss = res->best_score = NAN;
	if (nonfinite(D, err, errlen))
		return -1;
	b.w = plm_mlp_work_new(m, maxb, o->threads);
	b.xb = malloc(bs * d * sizeof *b.xb);
	b.tb = malloc(bs * tk * sizeof *b.tb);
	b.wb = malloc(bs * sizeof *b.wb);
	b.dz = malloc(bs * K * sizeof *b.dz);
	b.grad = malloc(m->nparam * sizeof *b.grad);
	b.best = malloc(m->nparam * sizeof *b.best);
	b.order = malloc((n ? n : 1) * sizeof *b.order);
	if (!b.w || !b.xb || !b.tb || !b.wb || !b.dz || !b.grad || !b.best ||
	    !b.order || plm_optim_init(&opt, m->nparam)) {
		loop_free(&b);
		plm_optim_free(&opt);
		snprintf(err, errlen, "out of memory for training: %zu "
			 "parameters, batches of %zu rows of %u features",
			 m->nparam, bs, d);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		b.order[i] = (uint32_t)i;
	plm_rng rs, rd;
	plm_rng_seed(&rs, o->seed + 1);
	plm_rng_seed(&rd, o->seed + 2);
	int bad = 0, rc = 0;
	for (int e = 0; e < o->epochs && !rc; e++) {
		double t0 = plm_now(), lr = plm_sched_lr(&o->sched, e);
		if (o->shuffle)
			plm_rng_shuffle(&rs, b.order, n, sizeof *b.order);
		plm_epoch ep = { e + 1, epoch(m, D, o, &b, &opt, lr, &rd), NAN,
				 NAN, NAN, NAN, NAN, NAN, lr, 0 };
		if (!isfinite(ep.train_loss)) {
			snprintf(err, errlen, "epoch %d: the training loss is "
				 "%g: training diverged (try a lower --lr)",
				 e + 1, ep.train_loss);
			rc = -1;
			break;
		}
		if (D->n[1] && plm_mlp_eval(m, b.w, D->x[1], D->t[1], D->w[1],
					    D->n[1], &ep)) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		ep.seconds = plm_now() - t0;
		res->epochs = (uint32_t)e + 1;
		int stop = o->on_epoch && o->on_epoch(o->ctx, &ep);
		if (D->n[1]) {
			double sc = score_of(o->monitor, &ep);
			/* strict improvement; an undefined value never
			 * improves (but a first defined one does) */
			if (!isnan(sc) && (!res->best_epoch ||
					   isnan(res->best_score) ||
					   sc > res->best_score)) {
				res->best_score = sc;
				res->best_val_loss = ep.val_loss;
				res->best_epoch = (uint32_t)e + 1;
				memcpy(b.best, m->param,
				       m->nparam * sizeof *b.best);
				bad = 0;
			} else if (o->patience > 0 && ++bad >= o->patience) {
				stop = 1;
			}
		}
		if (stop)
			break;
	}
	if (!rc && o->patience > 0 && res->best_epoch)
		memcpy(m->param, b.best, m->nparam * sizeof *b.best);
	if (o->monitor == PLM_MON_LOSS && !isnan(res->best_score))
		res->best_score = -res->best_score;
	loop_free(&b);
	plm_optim_free(&opt);
	return rc;
}
