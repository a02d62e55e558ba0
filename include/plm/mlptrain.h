/* mlptrain.h — mlp-train's training loop, as a library: minibatches in a
 * seeded order, evaluation of the val rows after every epoch and early
 * stopping on the monitored value (man/mlp-train.1).  The data comes from
 * mlpdata.h.
 *
 *	plm_mlpdata D;
 *	if (plm_mlpdata_load(&D, &spec, nfile, files, err, sizeof err))
 *		die(err);                        // -2: a usage error (--pos)
 *	plm_mlp_alloc(&m, ...); plm_mlp_init_params(&m, &rng);
 *	plm_mlpdata_standardize(&D, &m);     // optional
 *	plm_mlp_fit(&m, &D, &fo, &res, err, sizeof err);
 *
 * Determinism: the same model, data, options and seed give bitwise the
 * same weights, whatever o->threads is (CONTRIBUTING.md, Numerics).
 * Errors are returned, never printed. */
#ifndef PLM_MLPTRAIN_H
#define PLM_MLPTRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "plm/mlp.h"
#include "plm/mlpdata.h"
#include "plm/optim.h"

enum plm_monitor { PLM_MON_LOSS, PLM_MON_AUROC, PLM_MON_F1 };
int plm_monitor_parse(const char *s);       /* -1 when unknown */
const char *plm_monitor_name(enum plm_monitor k);

/* One epoch's numbers (NAN where undefined: no val rows, one class). */
typedef struct plm_epoch {
	int epoch;                  /* 1-based */
	double train_loss, val_loss, acc, f1, prec, rec, auroc, lr, seconds;
} plm_epoch;

typedef struct plm_fit_opts {
	int epochs, patience;       /* patience 0: no early stopping */
	size_t batch;
	int shuffle;
	uint64_t seed;              /* order: seed + 1, dropout: seed + 2 */
	enum plm_monitor monitor;
	int threads;                /* compute threads (1 = this one) */
	plm_optim opt;              /* hyper-parameters set, state unset */
	plm_sched sched;
	/* called after every epoch (may be NULL); nonzero return stops */
	int (*on_epoch)(void *ctx, const plm_epoch *e);
	void *ctx;
} plm_fit_opts;

typedef struct plm_fit_result {
	uint32_t epochs, best_epoch;    /* best_epoch 0: none */
	double best_val_loss;           /* at the best epoch; NAN if none */
	double best_score;              /* the monitored value there */
} plm_fit_result;

/* Trains m (parameters initialised, features standardised) on D.  With
 * val rows, the weights of the best epoch by the monitored value (strict
 * improvement; undefined values never improve) are restored when
 * patience > 0.  0, or -1 with err (a NaN or Inf feature, refused before
 * training; diverged; out of memory). */
int plm_mlp_fit(plm_mlp *m, const plm_mlpdata *D, const plm_fit_opts *o,
		plm_fit_result *res, char *err, size_t errlen);

/* Loss and metrics of n rows x (targets t, weights w or NULL) with
 * batches of up to w->maxb rows: fills val_loss .. auroc of e.  0 or -1
 * (out of memory). */
int plm_mlp_eval(const plm_mlp *m, plm_mlp_work *wk, const float *x,
		 const float *t, const float *w, size_t n, plm_epoch *e);

#endif
