/* metrics.h — classification metrics as pure functions over arrays.
 *
 * Definitions follow scikit-learn 1.2 (the tests check agreement to 1e-9)
 * except where scikit-learn returns a made-up number for an undefined
 * quantity (0 for 0/0, 0 for a one-class MCC): here such a metric is NAN
 * and carries a reason, so a caller can print nil and --require can fail.
 *
 * Every computation takes optional per-row weights w (NULL = 1 each).  The
 * bootstrap passes multiplicities (how often each row was drawn), which is
 * the same as resampling the rows but needs no copy and no re-sort.
 *
 * Binary (y 1 = positive, 0 = negative; score = P(positive)):
 *   predicted positive   score >= threshold
 *   accuracy             (TP+TN)/n
 *   balanced_accuracy    (recall+specificity)/2; undefined with one class
 *   precision            TP/(TP+FP); undefined with no predicted positives
 *   recall               TP/(TP+FN); undefined with no positives
 *   specificity          TN/(TN+FP); undefined with no negatives
 *   f1                   2TP/(2TP+FP+FN); undefined when that is 0/0
 *   mcc                  the multi-class formula below; undefined when a
 *                        marginal is constant (sklearn says 0)
 *   auroc                trapezoids over the ROC curve with tied scores
 *                        as one point (sklearn roc_auc_score); undefined
 *                        with one class
 *   auprc                average precision: sum over distinct thresholds of
 *                        (R_k - R_{k-1}) * P_k (sklearn's step sum, not a
 *                        trapezoid); undefined with no positives (sklearn
 *                        says 0 and warns)
 *   log_loss             mean -log p(true class); p clipped to
 *                        [eps, 1-eps] with eps = DBL_EPSILON (2^-52) and
 *                        the pair (1-p, p) renormalised, as sklearn 1.2's
 *                        eps="auto" does for float64 input (sklearn < 1.2
 *                        used eps = 1e-15)
 *   brier                mean (y - p)^2
 *   ece                  sum over bins |sum(y) - sum(p)| / n with B
 *                        equal-width bins; a score lands in the bin b
 *                        with e_b < p <= e_{b+1}, e_j = j * (1.0/B), the
 *                        first bin also holding 0 — exactly the bins of
 *                        sklearn.calibration.calibration_curve
 *   tp fp fn tn          confusion counts
 *   prevalence           (TP+FN)/n
 *   threshold            the threshold used: the given one, or the one
 *                        chosen by a rule (plm_bin_choose)
 * log_loss, brier and ece are undefined when a score is outside [0, 1].
 * When a rule cannot choose a threshold (youden with one class, f1 with no
 * positives), threshold and every metric that needs one (accuracy ..
 * mcc, tp .. tn) are undefined.
 *
 * Multi-class (classes 0..k-1; the label set L = classes present in the
 * true or the predicted classes, as sklearn does without labels=):
 *   accuracy             fraction correct
 *   balanced_accuracy    mean recall over classes present in the truth
 *                        (sklearn's definition)
 *   precision_macro      mean over L; undefined when a class of L was
 *                        never predicted (sklearn counts 0 there)
 *   recall_macro         mean over L; undefined when a class of L never
 *                        occurs in the truth (sklearn counts 0 there)
 *   f1_macro             mean over L of 2TP/(2TP+FP+FN)
 *   *_micro              pooled counts (all equal accuracy here)
 *   *_weighted           weighted by true support; precision undefined
 *                        when a class with support was never predicted
 *   mcc                  (c*s - sum_k p_k t_k) /
 *                        sqrt((s^2 - sum p_k^2)(s^2 - sum t_k^2)),
 *                        c correct, s total, t true and p predicted counts
 *   log_loss             as above with a probability vector per row:
 *                        clip every entry, renormalise the row
 *   auroc_ovr_macro      mean over all k classes of the one-vs-rest AUROC;
 *                        undefined when a class is absent from the truth
 * log_loss and auroc_ovr_macro need probabilities; they are undefined when
 * an entry is outside [0, 1] or a row does not sum to 1 within 1e-4. */
#ifndef PLM_METRICS_H
#define PLM_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum plm_metric_id {
	PLM_M_ACCURACY,
	PLM_M_BALANCED_ACCURACY,
	PLM_M_PRECISION,
	PLM_M_RECALL,
	PLM_M_SPECIFICITY,
	PLM_M_F1,
	PLM_M_MCC,
	PLM_M_AUROC,
	PLM_M_AP,
	PLM_M_LOG_LOSS,
	PLM_M_BRIER,
	PLM_M_ECE,
	PLM_M_TP,
	PLM_M_FP,
	PLM_M_FN,
	PLM_M_TN,
	PLM_M_PRECISION_MACRO,
	PLM_M_RECALL_MACRO,
	PLM_M_F1_MACRO,
	PLM_M_PRECISION_MICRO,
	PLM_M_RECALL_MICRO,
	PLM_M_F1_MICRO,
	PLM_M_PRECISION_WEIGHTED,
	PLM_M_RECALL_WEIGHTED,
	PLM_M_F1_WEIGHTED,
	PLM_M_AUROC_OVR,
	PLM_M_PREVALENCE,
	PLM_M_THRESHOLD,
	PLM_M_COUNT
};

/* One panel's results.  has[i]: metric i applies to this kind of input
 * (binary, multi-class, with or without probabilities).  v[i]: the value,
 * NAN when undefined, and then why[i] is a static reason. */
typedef struct plm_metrics {
	double v[PLM_M_COUNT];
	const char *why[PLM_M_COUNT];
	unsigned char has[PLM_M_COUNT];
} plm_metrics;

/* "accuracy", "auroc_ovr_macro", ... */
const char *plm_metric_name(int id);
/* Id of a metric name, or -1.  "average_precision" is accepted for
 * auprc (its name before). */
int plm_metric_find(const char *name);

/* ---- binary ----------------------------------------------------------- */

/* Sorts score[] descending in place, permuting y[] alongside (stable, so
 * the result depends only on the input).  Scores must not be NaN.
 * Returns 0, or -1 when out of memory. */
int plm_bin_sort(double *score, unsigned char *y, size_t n);

/* All binary metrics of n rows whose scores are sorted descending
 * (plm_bin_sort).  bins >= 1 (ECE).  O(n + bins).  0, or -1 when out of
 * memory. */
int plm_metrics_binary(const double *score, const unsigned char *y,
		       const double *w, size_t n, double threshold, int bins,
		       plm_metrics *m);

/* Threshold rules: a fixed number, or chosen on the rows themselves. */
enum plm_thr_rule {
	PLM_THR_FIXED = 0,
	PLM_THR_YOUDEN,           /* maximise TPR - FPR (Youden's J) */
	PLM_THR_F1,               /* maximise F1 */
};

/* The threshold a rule picks among the distinct scores of sorted rows
 * with nonzero weight (predicted positive: score >= threshold).  Ties
 * are compared exactly (J as TP*N - FP*P, F1 as 2TP/(2TP+FP+FN) by cross
 * multiplication) and go to the highest threshold.  NAN with *why set
 * when there is nothing to choose: no rows, youden with one class, f1
 * with no positives. */
double plm_bin_choose(const double *score, const unsigned char *y,
		      const double *w, size_t n, int rule, const char **why);

/* The binary problem as one object, for plm_bootstrap (plm_bin_fn). */
typedef struct plm_bin {
	const double *score;      /* sorted descending */
	const unsigned char *y;
	size_t n;
	double threshold;
	int bins;
	/* filled by plm_bin_prepare (optional; speeds up the bootstrap):
	 * per-row log loss term and calibration bin (-1: not a probability) */
	double *loss;
	int32_t *bin;
	/* optional (zero = off): threshold rule, re-applied to every
	 * bootstrap replicate; predicted positive flags (sorted with the
	 * rows) used instead of any threshold */
	int rule;
	const unsigned char *pred;
} plm_bin;

/* Precompute the per-row terms that do not depend on weights.  0, or -1
 * out of memory.  plm_bin_free releases them. */
int plm_bin_prepare(plm_bin *b);
void plm_bin_free(plm_bin *b);

/* The same for unsorted input (copies and sorts).  0, or -1 out of
 * memory. */
int plm_binary_eval(const double *score, const unsigned char *y, size_t n,
		    double threshold, int bins, plm_metrics *m);

/* ROC and precision-recall curves of sorted rows, one point per distinct
 * score plus the origin: fpr[], tpr[], prec[], rec[] hold up to n + 1
 * points (any may be NULL).  Returns the number of points; 0 when there
 * are no positives or no negatives.  prec[0] = 1 (sklearn's convention). */
size_t plm_bin_curves(const double *score, const unsigned char *y, size_t n,
		      double *fpr, double *tpr, double *prec, double *rec);

/* Calibration bins (the ECE bins): for each of the bins, count[], mean
 * score mean_p[] and fraction positive frac[] (NAN for an empty bin). */
void plm_calibration(const double *score, const unsigned char *y, size_t n,
		     int bins, double *count, double *mean_p, double *frac);

/* ---- multi-class ------------------------------------------------------ */

typedef struct plm_mc {
	size_t n;
	uint32_t k;               /* classes 0..k-1 */
	const uint32_t *y;        /* true class per row */
	const uint32_t *pred;     /* predicted class per row */
	const double *prob;       /* n × k probabilities, row-major, or NULL */
	/* filled by plm_mc_prepare when prob != NULL: */
	uint32_t *order;          /* k × n row indices, by prob[:,c] descending */
	int not_prob;             /* 1: some row is not a probability vector */
} plm_mc;

/* Index of the largest of x[0..k) (the first one on ties, like argmax). */
uint32_t plm_argmax(const double *x, uint32_t k);

/* Sorts the per-class orders and checks the probability rows.  0, or -1
 * when out of memory. */
int plm_mc_prepare(plm_mc *d);
void plm_mc_free(plm_mc *d);       /* frees what plm_mc_prepare allocated */

/* All multi-class metrics.  O(n k) with probabilities, O(n + k^2)
 * without; -1 when out of memory, else 0. */
int plm_metrics_multi(const plm_mc *d, const double *w, plm_metrics *m);

/* Confusion matrix cm[true * k + pred] (weighted counts). */
void plm_confusion(const plm_mc *d, const double *w, double *cm);

/* Per-class metrics, PLM_PC_COUNT values per class:
 * v[c * PLM_PC_COUNT + j].  precision (undefined: never predicted),
 * recall (undefined: no true rows), f1 = 2TP/(2TP+FP+FN) (undefined: the
 * class neither occurs nor is predicted), support (true count), auroc
 * one-vs-rest (undefined: no probabilities, or the class has no true or
 * no other rows).  why (may be NULL) gets a static reason per undefined
 * value.  0, or -1 when out of memory. */
enum { PLM_PC_PRECISION, PLM_PC_RECALL, PLM_PC_F1, PLM_PC_SUPPORT,
       PLM_PC_AUROC, PLM_PC_COUNT };
const char *plm_pc_name(int j);        /* "precision", ... "auroc" */
int plm_mc_per_class(const plm_mc *d, const double *w, double *v,
		     const char **why);

/* ---- bootstrap -------------------------------------------------------- */

/* Computes one panel's metrics with weights w (NULL = plain). */
typedef int (*plm_metrics_fn)(const void *data, const double *w,
			      plm_metrics *m);

/* Percentile bootstrap: reps resamples of n rows drawn with replacement
 * (plm_rng seeded with seed; for each replicate n draws of
 * plm_rng_below(n)), metrics from fn with multiplicities as weights, and
 * the (1-ci)/2 and (1+ci)/2 quantiles of each metric over the replicates
 * where it is defined, interpolated linearly like numpy.percentile.
 * undef[i] counts replicates where metric i was undefined (lo = hi = NAN
 * when all were).  Returns 0, or -1 out of memory / fn failure. */
int plm_bootstrap(const void *data, plm_metrics_fn fn, size_t n,
		  uint64_t seed, size_t reps, double ci,
		  double *lo, double *hi, size_t *undef);

/* Any vector of nv values per (weighted) replicate; NAN = undefined. */
typedef int (*plm_vec_fn)(const void *data, const double *w, double *v);

/* Percentile bootstrap of nv values, as plm_bootstrap, but resampling
 * within strata when strata != NULL (strata[i]: row i's stratum, e.g.
 * its class): for each stratum in increasing order, n_s draws of
 * plm_rng_below(n_s) among its n_s rows (in row order), so every
 * replicate keeps the class counts.  lo, hi, undef have nv entries. */
int plm_bootstrap_vec(const void *data, plm_vec_fn fn, size_t nv,
		      size_t n, const uint32_t *strata, uint64_t seed,
		      size_t reps, double ci, double *lo, double *hi,
		      size_t *undef);

/* Adapters: data is a plm_bin / a prepared plm_mc. */
int plm_bin_fn(const void *data, const double *w, plm_metrics *m);
int plm_mc_fn(const void *data, const double *w, plm_metrics *m);

/* q-quantile (0 <= q <= 1) of sorted x[0..m), numpy's "linear" method. */
double plm_quantile_sorted(const double *x, size_t m, double q);

#endif
