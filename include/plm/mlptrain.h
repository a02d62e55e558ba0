/* mlptrain.h — what mlp-train does, as a library: load the train and val
 * records of a stream into memory, derive the classes, fit the
 * standardisation on the train rows, and run the training loop with early
 * stopping (man/mlp-train.1).
 *
 *	plm_mlpdata D;
 *	if (plm_mlpdata_load(&D, &spec, nfile, files, err, sizeof err))
 *		die(err);                        // -2: a usage error (--pos)
 *	plm_mlp_alloc(&m, ...); plm_mlp_init_params(&m, &rng);
 *	plm_mlpdata_standardize(&D, &m);     // optional
 *	plm_mlp_fit(&m, &D, &fo, &res, err, sizeof err);
 *
 * The loader refuses records of any split other than the train and val
 * names (the test split must never reach training, early stopping or the
 * standardisation): it reads to the end and then fails naming the count
 * per split.  Errors are returned, never printed. */
#ifndef PLM_MLPTRAIN_H
#define PLM_MLPTRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"
#include "plm/mlp.h"
#include "plm/optim.h"

typedef struct plm_mlpdata_spec {
	const char *x, *y, *id, *split;   /* field names */
	const char *train, *val;          /* split values */
	const char *pos;                  /* binary positive class, or NULL */
	int multilabel;                   /* y = comma-separated names */
	int class_weight;                 /* 1: balanced row weights */
} plm_mlpdata_spec;

typedef struct plm_mlpdata {
	uint32_t d;                 /* features per row */
	enum plm_type xt;           /* the feature field's type */
	int label_str;              /* 1: str labels, 0: int */
	enum plm_head head;
	uint32_t nclass;            /* classes (binary: 2) */
	char **classes;             /* sorted; ints numerically */
	int pos;                    /* binary: class of the logit; else -1 */
	size_t n[2];                /* rows: 0 train, 1 val */
	float *x[2];                /* n × d */
	float *t[2];                /* targets in plm_mlp_loss's layout */
	float *w[2];                /* balanced row weights, or NULL */
	uint64_t *ids[2];           /* plm_key_hash of each id, sorted */
	plm_h128 digest[2];         /* see mlpckpt.h */
	char split_digest[33];      /* the input's meta.prov split_digest,
				     * or "" when it carries none */
	void *priv;
} plm_mlpdata;

/* 0; -1 with err (data or runtime error); -2 with err (a usage error:
 * --pos names no class). */
int plm_mlpdata_load(plm_mlpdata *D, const plm_mlpdata_spec *s, int nfile,
		     char **files, char *err, size_t errlen);
void plm_mlpdata_free(plm_mlpdata *D);

/* Mean and population standard deviation (0 → 1) of the train rows into
 * m->mean/std, then both splits standardised in place.  0 or -1 (out of
 * memory). */
int plm_mlpdata_standardize(plm_mlpdata *D, plm_mlp *m);

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
 * patience > 0.  0, or -1 with err (diverged, out of memory). */
int plm_mlp_fit(plm_mlp *m, const plm_mlpdata *D, const plm_fit_opts *o,
		plm_fit_result *res, char *err, size_t errlen);

/* Loss and metrics of n rows x (targets t, weights w or NULL) with
 * batches of up to w->maxb rows: fills val_loss .. auroc of e.  0 or -1
 * (out of memory). */
int plm_mlp_eval(const plm_mlp *m, plm_mlp_work *wk, const float *x,
		 const float *t, const float *w, size_t n, plm_epoch *e);

#endif
