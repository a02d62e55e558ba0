/* mlpdata.h — mlp-train's data, in memory: the train and val records of a
 * stream as feature and target matrices, the classes derived from the
 * train labels, digests of what was read, and the standardisation fitted
 * on the train rows (man/mlp-train.1).
 *
 *	plm_mlpdata D;
 *	if (plm_mlpdata_load(&D, &spec, nfile, files, err, sizeof err))
 *		die(err);                        // -2: a usage error (--pos)
 *	...
 *	plm_mlpdata_free(&D);
 *
 * The loader refuses records of any split other than the train and val
 * names (the test split must never reach training, early stopping or the
 * standardisation): it reads to the end and then fails naming the count
 * per split.  It refuses a missing (nil) feature, label, id or split, and
 * a feature that is NaN or Inf.  The digests cover, in record order, each
 * row's id text, feature bytes as stored and label text (mlpckpt.h).
 * Errors are returned, never printed.
 *
 * A caller that has its rows some other way (tests) may fill a
 * plm_mlpdata itself: d, head, nclass, n, x and t are what plm_mlp_fit
 * reads; w may be NULL and priv must be NULL. */
#ifndef PLM_MLPDATA_H
#define PLM_MLPDATA_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"
#include "plm/mlp.h"

typedef struct plm_mlpdata_spec {
	const char *x, *y, *id, *split;   /* field names */
	const char *seq;                  /* sequence field (str) hashed into
					   * the seen set; a str field
					   * seq_hash (32 hex) when absent */
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
	plm_h128 *seqs[2];          /* sequence hashes, sorted, unique */
	size_t nseq[2];
	const char *seq_field;      /* where they came from; NULL: none */
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

#endif
