/* metrics.c — binary and multi-class classification metrics (metrics.h).
 *
 * Ranking metrics work on rows sorted by score, descending, with equal
 * scores taken as one threshold (sklearn's _binary_clf_curve).  Sorting is
 * a stable LSD radix sort on the order-preserving 64-bit image of the
 * doubles: O(n), and the result depends only on the input. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/metrics.h"
#include "plm/rng.h"

static const char *const names[PLM_M_COUNT] = {
	[PLM_M_ACCURACY] = "accuracy",
	[PLM_M_BALANCED_ACCURACY] = "balanced_accuracy",
	[PLM_M_PRECISION] = "precision",
	[PLM_M_RECALL] = "recall",
	[PLM_M_SPECIFICITY] = "specificity",
	[PLM_M_F1] = "f1",
	[PLM_M_MCC] = "mcc",
	[PLM_M_AUROC] = "auroc",
	[PLM_M_AP] = "auprc",
	[PLM_M_LOG_LOSS] = "log_loss",
	[PLM_M_BRIER] = "brier",
	[PLM_M_ECE] = "ece",
	[PLM_M_TP] = "tp",
	[PLM_M_FP] = "fp",
	[PLM_M_FN] = "fn",
	[PLM_M_TN] = "tn",
	[PLM_M_PRECISION_MACRO] = "precision_macro",
	[PLM_M_RECALL_MACRO] = "recall_macro",
	[PLM_M_F1_MACRO] = "f1_macro",
	[PLM_M_PRECISION_MICRO] = "precision_micro",
	[PLM_M_RECALL_MICRO] = "recall_micro",
	[PLM_M_F1_MICRO] = "f1_micro",
	[PLM_M_PRECISION_WEIGHTED] = "precision_weighted",
	[PLM_M_RECALL_WEIGHTED] = "recall_weighted",
	[PLM_M_F1_WEIGHTED] = "f1_weighted",
	[PLM_M_AUROC_OVR] = "auroc_ovr_macro",
	[PLM_M_PREVALENCE] = "prevalence",
	[PLM_M_THRESHOLD] = "threshold",
};

const char *plm_metric_name(int id)
{
	return id >= 0 && id < PLM_M_COUNT ? names[id] : NULL;
}

int plm_metric_find(const char *name)
{
	for (int i = 0; i < PLM_M_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	if (strcmp(name, "average_precision") == 0)
		return PLM_M_AP;
	return -1;
}

static void metrics_clear(plm_metrics *m)
{
	for (int i = 0; i < PLM_M_COUNT; i++) {
		m->v[i] = NAN;
		m->why[i] = NULL;
		m->has[i] = 0;
	}
}

static void set(plm_metrics *m, int id, double v)
{
	m->has[id] = 1;
	m->v[id] = v;
	m->why[id] = NULL;
}

static void undef(plm_metrics *m, int id, const char *why)
{
	m->has[id] = 1;
	m->v[id] = NAN;
	m->why[id] = why;
}

/* v, or undefined when why is not NULL. */
static void set_or_undef(plm_metrics *m, int id, double v, const char *why)
{
	if (why)
		undef(m, id, why);
	else
		set(m, id, v);
}

/* v = num / den, or undefined with why when den == 0. */
static void ratio(plm_metrics *m, int id, double num, double den,
		  const char *why)
{
	if (den > 0)
		set(m, id, num / den);
	else
		undef(m, id, why);
}

/* Neumaier's compensated sum: the means over a million rows then agree
 * with numpy's pairwise sums far below 1e-9. */
typedef struct ksum {
	double s, c;
} ksum;

static inline void kadd(ksum *k, double x)
{
	double t = k->s + x;
	if (fabs(k->s) >= fabs(x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}

static inline double kval(const ksum *k)
{
	return k->s + k->c;
}

/* ---- sorting ------------------------------------------------------------ */

/* Order-preserving image of a double (no NaN), inverted for descending. */
static inline uint64_t desc_key(double x)
{
	uint64_t u;
	x += 0.0;               /* -0.0 → +0.0: equal scores, equal keys */
	memcpy(&u, &x, sizeof u);
	u = (u >> 63) ? ~u : u | (1ULL << 63);
	return ~u;
}

/* idx[0..n) = rows ordered by x[i * stride] descending, stable. */
static int sort_desc(const double *x, size_t stride, size_t n, uint32_t *idx)
{
	uint64_t *k = malloc(n * sizeof *k), *k2 = malloc(n * sizeof *k2);
	uint32_t *i2 = malloc(n * sizeof *i2);
	size_t cnt[256];
	if (!k || !k2 || !i2) {
		free(k);
		free(k2);
		free(i2);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		k[i] = desc_key(x[i * stride]);
		idx[i] = (uint32_t)i;
	}
	for (int shift = 0; shift < 64; shift += 8) {
		memset(cnt, 0, sizeof cnt);
		for (size_t i = 0; i < n; i++)
			cnt[(k[i] >> shift) & 0xff]++;
		if (n == 0 || cnt[(k[0] >> shift) & 0xff] == n)
			continue;       /* one digit value: the pass is a no-op */
		size_t sum = 0;
		for (int b = 0; b < 256; b++) {
			size_t c = cnt[b];
			cnt[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t to = cnt[(k[i] >> shift) & 0xff]++;
			k2[to] = k[i];
			i2[to] = idx[i];
		}
		memcpy(k, k2, n * sizeof *k);
		memcpy(idx, i2, n * sizeof *idx);
	}
	free(k);
	free(k2);
	free(i2);
	return 0;
}

int plm_bin_sort(double *score, unsigned char *y, size_t n)
{
	uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
	double *s2 = malloc((n ? n : 1) * sizeof *s2);
	unsigned char *y2 = malloc(n ? n : 1);
	int rc = -1;
	if (idx && s2 && y2 && sort_desc(score, 1, n, idx) == 0) {
		for (size_t i = 0; i < n; i++) {
			s2[i] = score[idx[i]];
			y2[i] = y[idx[i]];
		}
		memcpy(score, s2, n * sizeof *score);
		memcpy(y, y2, n);
		rc = 0;
	}
	free(idx);
	free(s2);
	free(y2);
	return rc;
}

/* ---- binary ------------------------------------------------------------- */

/* Calibration bin of p: the number of inner edges j * (1.0/B) below p,
 * which is numpy.searchsorted(linspace(0, 1, B + 1)[1:-1], p). */
static int calib_bin(double p, int bins)
{
	double step = 1.0 / bins;
	int b = (int)(p * bins);
	if (b < 0)
		b = 0;
	if (b > bins - 1)
		b = bins - 1;
	while (b > 0 && b * step >= p)
		b--;
	while (b < bins - 1 && (b + 1) * step < p)
		b++;
	return b;
}

/* Ranking sums over sorted rows: AUROC numerator and AP numerator. */
typedef struct rank_sums {
	double pos, neg;        /* weighted totals */
	double auc;             /* sum over groups fp_g * (2 TP_before + tp_g) */
	double ap;              /* sum over groups tp_g * TP / (TP + FP) */
} rank_sums;

static inline void rank_group(rank_sums *r, double tp_g, double fp_g)
{
	double tp0 = r->pos;
	r->pos += tp_g;
	r->neg += fp_g;
	r->auc += fp_g * (2 * tp0 + tp_g);
	if (tp_g > 0)
		r->ap += tp_g * (r->pos / (r->pos + r->neg));
}

static const char why_one_class[] = "only one class present";
static const char why_no_pos[] = "no positive rows";
static const char why_no_neg[] = "no negative rows";
static const char why_no_pred_pos[] = "no predicted positives";
static const char why_f1[] = "no positive rows and no predicted positives";
static const char why_mcc[] = "a class marginal is constant (0/0)";
static const char why_not_prob[] = "scores are not probabilities in [0, 1]";
static const char why_empty[] = "no rows";
static const char why_thr_youden[] =
	"no youden threshold: only one class present";
static const char why_thr_f1[] = "no f1 threshold: no positive rows";

double plm_bin_choose(const double *score, const unsigned char *y,
		      const double *w, size_t n, int rule, const char **why)
{
	double P = 0, NEG = 0;
	for (size_t i = 0; i < n; i++)
		*(y[i] ? &P : &NEG) += w ? w[i] : 1.0;
	if (P + NEG == 0) {
		*why = why_empty;
		return NAN;
	}
	if (rule == PLM_THR_YOUDEN && (P == 0 || NEG == 0)) {
		*why = why_thr_youden;
		return NAN;
	}
	if (rule != PLM_THR_YOUDEN && P == 0) {
		*why = why_thr_f1;
		return NAN;
	}
	/* best so far: num/den (F1) or num (J * P * N); exact for integer
	 * weights below 2^26 rows, so equal values tie exactly */
	double tp = 0, fp = 0, bnum = 0, bden = 1, thr = NAN;
	for (size_t i = 0; i < n;) {
		double s = score[i], g = 0;
		for (; i < n && score[i] == s; i++) {
			double wi = w ? w[i] : 1.0;
			*(y[i] ? &tp : &fp) += wi;
			g += wi;
		}
		if (g == 0)
			continue;       /* no row at this score: not a choice */
		double num, den = 1;
		if (rule == PLM_THR_YOUDEN) {
			num = tp * NEG - fp * P;
		} else {
			num = 2 * tp;
			den = 2 * tp + fp + (P - tp);
		}
		if (isnan(thr) || num * bden > bnum * den) {
			bnum = num;
			bden = den;
			thr = s;
		}
	}
	return thr;
}

/* MCC from true counts t[], predicted counts p[], correct c, total s. */
static void mcc_set(plm_metrics *m, const double *t, const double *p,
		    size_t k, double c, double s)
{
	double tp = 0, pp = 0, tt = 0;
	for (size_t i = 0; i < k; i++) {
		tp += t[i] * p[i];
		pp += p[i] * p[i];
		tt += t[i] * t[i];
	}
	double cov_tp = c * s - tp, cov_pp = s * s - pp, cov_tt = s * s - tt;
	if (cov_pp * cov_tt == 0)
		undef(m, PLM_M_MCC, why_mcc);
	else
		set(m, PLM_M_MCC, cov_tp / sqrt(cov_tt * cov_pp));
}

/* -ln p(true class) of one row: sklearn clips p to [eps, 1-eps] and
 * renormalises the pair (1-p, p). */
static inline double row_loss(double s, int pos)
{
	double q = s < DBL_EPSILON ? DBL_EPSILON
		 : s > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : s;
	double a = 1 - q, sum = a + q;
	return -log((pos ? q : a) / sum);
}

static int binary(const double *score, const unsigned char *y,
		  const unsigned char *pred, const double *w, size_t n,
		  double threshold, int rule, int bins, const double *loss,
		  const int32_t *bin, plm_metrics *m)
{
	const char *thr_why = NULL;
	double ebuf[3 * 64], *eb = ebuf;
	double TP = 0, FP = 0, FN = 0, TN = 0;
	ksum ll = { 0, 0 }, br = { 0, 0 }, tot = { 0, 0 };
	rank_sums r = { 0, 0, 0, 0 };
	int prob = 1;

	metrics_clear(m);
	if (bins < 1)
		bins = 1;
	if (bins > 64 && !(eb = calloc(3 * (size_t)bins, sizeof *eb)))
		return -1;
	if (eb == ebuf)
		memset(ebuf, 0, sizeof ebuf);
	if (!pred && rule != PLM_THR_FIXED)
		threshold = plm_bin_choose(score, y, w, n, rule, &thr_why);

	for (size_t i = 0; i < n;) {
		double tp_g = 0, fp_g = 0, s = score[i];
		for (; i < n && score[i] == s; i++) {
			double wi = w ? w[i] : 1.0;
			if (wi == 0)
				continue;
			int pos = y[i] != 0;
			int hit = pred ? pred[i] != 0 : s >= threshold;
			if (pos) {
				tp_g += wi;
				*(hit ? &TP : &FN) += wi;
			} else {
				fp_g += wi;
				*(hit ? &FP : &TN) += wi;
			}
			kadd(&tot, wi);
			if (!(s >= 0 && s <= 1)) {
				prob = 0;
				continue;
			}
			kadd(&ll, wi * (loss ? loss[i] : row_loss(s, pos)));
			kadd(&br, wi * (pos - s) * (pos - s));
			int b = bin ? bin[i] : calib_bin(s, bins);
			eb[3 * b] += wi;
			eb[3 * b + 1] += wi * s;
			eb[3 * b + 2] += wi * pos;
		}
		rank_group(&r, tp_g, fp_g);
	}

	double N = kval(&tot), P = TP + FN, NEG = TN + FP;
	for (int id = PLM_M_ACCURACY; id <= PLM_M_TN; id++)
		undef(m, id, why_empty);
	undef(m, PLM_M_PREVALENCE, why_empty);
	set(m, PLM_M_TP, TP);
	set(m, PLM_M_FP, FP);
	set(m, PLM_M_FN, FN);
	set(m, PLM_M_TN, TN);
	if (N > 0) {
		double t[2] = { P, NEG }, p[2] = { TP + FP, TN + FN };
		set(m, PLM_M_ACCURACY, (TP + TN) / N);
		set(m, PLM_M_PREVALENCE, P / N);
		ratio(m, PLM_M_PRECISION, TP, TP + FP, why_no_pred_pos);
		ratio(m, PLM_M_RECALL, TP, P, why_no_pos);
		ratio(m, PLM_M_SPECIFICITY, TN, NEG, why_no_neg);
		ratio(m, PLM_M_F1, 2 * TP, 2 * TP + FP + FN, why_f1);
		if (P > 0 && NEG > 0)
			set(m, PLM_M_BALANCED_ACCURACY,
			    (TP / P + TN / NEG) / 2);
		else
			undef(m, PLM_M_BALANCED_ACCURACY, why_one_class);
		mcc_set(m, t, p, 2, TP + TN, N);
		if (P > 0 && NEG > 0)
			set(m, PLM_M_AUROC, r.auc / 2 / (P * NEG));
		else
			undef(m, PLM_M_AUROC, why_one_class);
		if (P > 0)
			set(m, PLM_M_AP, r.ap / P);
		else
			undef(m, PLM_M_AP, why_no_pos);
		if (prob) {
			double ece = 0;
			for (int b = 0; b < bins; b++)
				ece += fabs(eb[3 * b + 2] - eb[3 * b + 1]);
			set(m, PLM_M_LOG_LOSS, kval(&ll) / N);
			set(m, PLM_M_BRIER, kval(&br) / N);
			set(m, PLM_M_ECE, ece / N);
		} else {
			undef(m, PLM_M_LOG_LOSS, why_not_prob);
			undef(m, PLM_M_BRIER, why_not_prob);
			undef(m, PLM_M_ECE, why_not_prob);
		}
	}
	if (!pred) {
		if (thr_why)
			undef(m, PLM_M_THRESHOLD, thr_why);
		else
			set(m, PLM_M_THRESHOLD, threshold);
	}
	/* no threshold: every metric that needs one is undefined too */
	static const int need_thr[] = { PLM_M_ACCURACY,
		PLM_M_BALANCED_ACCURACY, PLM_M_PRECISION, PLM_M_RECALL,
		PLM_M_SPECIFICITY, PLM_M_F1, PLM_M_MCC, PLM_M_TP, PLM_M_FP,
		PLM_M_FN, PLM_M_TN };
	for (size_t i = 0; thr_why && i < sizeof need_thr / sizeof *need_thr; i++)
		undef(m, need_thr[i], thr_why);
	if (eb != ebuf)
		free(eb);
	return 0;
}

int plm_metrics_binary(const double *score, const unsigned char *y,
		       const double *w, size_t n, double threshold, int bins,
		       plm_metrics *m)
{
	return binary(score, y, NULL, w, n, threshold, PLM_THR_FIXED, bins,
		      NULL, NULL, m);
}

int plm_bin_prepare(plm_bin *b)
{
	int bins = b->bins < 1 ? 1 : b->bins;
	b->loss = malloc((b->n ? b->n : 1) * sizeof *b->loss);
	b->bin = malloc((b->n ? b->n : 1) * sizeof *b->bin);
	if (!b->loss || !b->bin) {
		plm_bin_free(b);
		return -1;
	}
	for (size_t i = 0; i < b->n; i++) {
		double s = b->score[i];
		int ok = s >= 0 && s <= 1;
		b->loss[i] = ok ? row_loss(s, b->y[i] != 0) : NAN;
		b->bin[i] = ok ? calib_bin(s, bins) : -1;
	}
	return 0;
}

void plm_bin_free(plm_bin *b)
{
	free(b->loss);
	free(b->bin);
	b->loss = NULL;
	b->bin = NULL;
}

int plm_bin_fn(const void *data, const double *w, plm_metrics *m)
{
	const plm_bin *b = data;
	return binary(b->score, b->y, b->pred, w, b->n, b->threshold, b->rule,
		      b->bins, b->loss, b->bin, m);
}

int plm_binary_eval(const double *score, const unsigned char *y, size_t n,
		    double threshold, int bins, plm_metrics *m)
{
	double *s = malloc((n ? n : 1) * sizeof *s);
	unsigned char *yy = malloc(n ? n : 1);
	int rc = -1;
	if (s && yy) {
		memcpy(s, score, n * sizeof *s);
		memcpy(yy, y, n);
		if (plm_bin_sort(s, yy, n) == 0)
			rc = plm_metrics_binary(s, yy, NULL, n, threshold,
						bins, m);
	}
	free(s);
	free(yy);
	return rc;
}

size_t plm_bin_curves(const double *score, const unsigned char *y, size_t n,
		      double *fpr, double *tpr, double *prec, double *rec)
{
	double P = 0, N = 0, tp = 0, fp = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		*(y[i] ? &P : &N) += 1;
	if (P == 0 || N == 0)
		return 0;
	if (fpr) fpr[0] = 0;
	if (tpr) tpr[0] = 0;
	if (prec) prec[0] = 1;
	if (rec) rec[0] = 0;
	k = 1;
	for (size_t i = 0; i < n;) {
		double s = score[i];
		for (; i < n && score[i] == s; i++)
			*(y[i] ? &tp : &fp) += 1;
		if (fpr) fpr[k] = fp / N;
		if (tpr) tpr[k] = tp / P;
		if (prec) prec[k] = tp / (tp + fp);
		if (rec) rec[k] = tp / P;
		k++;
	}
	return k;
}

void plm_calibration(const double *score, const unsigned char *y, size_t n,
		     int bins, double *count, double *mean_p, double *frac)
{
	for (int b = 0; b < bins; b++)
		count[b] = mean_p[b] = frac[b] = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(score[i] >= 0 && score[i] <= 1))
			continue;
		int b = calib_bin(score[i], bins);
		count[b]++;
		mean_p[b] += score[i];
		frac[b] += y[i] != 0;
	}
	for (int b = 0; b < bins; b++) {
		if (count[b] > 0) {
			mean_p[b] /= count[b];
			frac[b] /= count[b];
		} else {
			mean_p[b] = frac[b] = NAN;
		}
	}
}

/* ---- multi-class -------------------------------------------------------- */

uint32_t plm_argmax(const double *x, uint32_t k)
{
	uint32_t best = 0;
	for (uint32_t j = 1; j < k; j++)
		if (x[j] > x[best])
			best = j;
	return best;
}

int plm_mc_prepare(plm_mc *d)
{
	d->order = NULL;
	d->not_prob = 0;
	if (!d->prob)
		return 0;
	size_t n = d->n, k = d->k;
	for (size_t i = 0; i < n && !d->not_prob; i++) {
		double s = 0;
		for (size_t j = 0; j < k; j++) {
			double p = d->prob[i * k + j];
			if (!(p >= 0 && p <= 1))
				d->not_prob = 1;
			s += p;
		}
		if (!(fabs(s - 1) <= 1e-4))
			d->not_prob = 1;
	}
	if (!(d->order = malloc((n ? n : 1) * k * sizeof *d->order)))
		return -1;
	for (size_t c = 0; c < k; c++)
		if (sort_desc(d->prob + c, k, n, d->order + c * n)) {
			plm_mc_free(d);
			return -1;
		}
	return 0;
}

void plm_mc_free(plm_mc *d)
{
	free(d->order);
	d->order = NULL;
}

void plm_confusion(const plm_mc *d, const double *w, double *cm)
{
	size_t k = d->k;
	memset(cm, 0, k * k * sizeof *cm);
	for (size_t i = 0; i < d->n; i++)
		cm[d->y[i] * k + d->pred[i]] += w ? w[i] : 1.0;
}

static const char why_never_pred[] = "a class was never predicted";
static const char why_never_true[] = "a predicted class never occurs in the truth";
static const char why_class_absent[] = "a class has no true rows";
static const char why_not_prob_mc[] =
	"probability rows are not in [0, 1] or do not sum to 1";

/* One-vs-rest AUROC of class c; NAN when c has no positive or no
 * negative rows. */
static double ovr_auroc(const plm_mc *d, const double *w, uint32_t c)
{
	const uint32_t *ord = d->order + (size_t)c * d->n;
	rank_sums r = { 0, 0, 0, 0 };
	size_t n = d->n, k = d->k;
	for (size_t i = 0; i < n;) {
		double tp_g = 0, fp_g = 0, s = d->prob[ord[i] * k + c];
		for (; i < n && d->prob[ord[i] * k + c] == s; i++) {
			size_t row = ord[i];
			double wi = w ? w[row] : 1.0;
			*(d->y[row] == c ? &tp_g : &fp_g) += wi;
		}
		rank_group(&r, tp_g, fp_g);
	}
	if (r.pos == 0 || r.neg == 0)
		return NAN;
	return r.auc / 2 / (r.pos * r.neg);
}

static const char *const pc_names[PLM_PC_COUNT] = {
	"precision", "recall", "f1", "support", "auroc",
};

const char *plm_pc_name(int j)
{
	return j >= 0 && j < PLM_PC_COUNT ? pc_names[j] : NULL;
}

static const char why_pc_pred[] = "the class was never predicted";
static const char why_pc_true[] = "the class has no true rows";
static const char why_pc_none[] = "the class neither occurs nor is predicted";
static const char why_pc_auc[] = "the class has no true rows or no other rows";
static const char why_pc_noprob[] = "no class probabilities";

int plm_mc_per_class(const plm_mc *d, const double *w, double *v,
		     const char **why)
{
	size_t k = d->k;
	double *cm = malloc((k ? k * k : 1) * sizeof *cm);
	if (!cm)
		return -1;
	plm_confusion(d, w, cm);
	for (size_t c = 0; c < k; c++) {
		double t = 0, p = 0, tp = cm[c * k + c];
		double *o = v + c * PLM_PC_COUNT;
		const char *dummy[PLM_PC_COUNT];
		const char **ow = why ? why + c * PLM_PC_COUNT : dummy;
		for (size_t j = 0; j < k; j++) {
			t += cm[c * k + j];
			p += cm[j * k + c];
		}
		for (int j = 0; j < PLM_PC_COUNT; j++)
			ow[j] = NULL;
		o[PLM_PC_SUPPORT] = t;
		o[PLM_PC_PRECISION] = p > 0 ? tp / p : NAN;
		o[PLM_PC_RECALL] = t > 0 ? tp / t : NAN;
		o[PLM_PC_F1] = t + p > 0 ? 2 * tp / (t + p) : NAN;
		if (p == 0)
			ow[PLM_PC_PRECISION] = why_pc_pred;
		if (t == 0)
			ow[PLM_PC_RECALL] = why_pc_true;
		if (t + p == 0)
			ow[PLM_PC_F1] = why_pc_none;
		if (!d->prob || d->not_prob) {
			o[PLM_PC_AUROC] = NAN;
			ow[PLM_PC_AUROC] = d->prob ? why_not_prob_mc : why_pc_noprob;
		} else {
			o[PLM_PC_AUROC] = ovr_auroc(d, w, (uint32_t)c);
			if (isnan(o[PLM_PC_AUROC]))
				ow[PLM_PC_AUROC] = why_pc_auc;
		}
	}
	free(cm);
	return 0;
}

static void mc_probs(const plm_mc *d, const double *w, plm_metrics *m)
{
	size_t n = d->n, k = d->k;
	if (d->not_prob || n == 0) {
		undef(m, PLM_M_LOG_LOSS, n ? why_not_prob_mc : why_empty);
		undef(m, PLM_M_AUROC_OVR, n ? why_not_prob_mc : why_empty);
		return;
	}
	ksum ll = { 0, 0 }, tot = { 0, 0 };
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1.0, s = 0, qy = 0;
		if (wi == 0)
			continue;
		for (size_t j = 0; j < k; j++) {
			double q = d->prob[i * k + j];
			q = q < DBL_EPSILON ? DBL_EPSILON
			  : q > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : q;
			s += q;
			if (j == d->y[i])
				qy = q;
		}
		kadd(&ll, -wi * log(qy / s));
		kadd(&tot, wi);
	}
	set(m, PLM_M_LOG_LOSS, kval(&ll) / kval(&tot));
	double sum = 0;
	for (uint32_t c = 0; c < k; c++) {
		double a = ovr_auroc(d, w, c);
		if (isnan(a)) {
			undef(m, PLM_M_AUROC_OVR, why_class_absent);
			return;
		}
		sum += a;
	}
	set(m, PLM_M_AUROC_OVR, sum / k);
}

int plm_metrics_multi(const plm_mc *d, const double *w, plm_metrics *m)
{
	size_t k = d->k;
	double *cm = malloc((k ? k * k : 1) * sizeof *cm);
	double *t = calloc(k ? k : 1, sizeof *t), *p = calloc(k ? k : 1, sizeof *p);
	if (!cm || !t || !p) {
		free(cm);
		free(t);
		free(p);
		return -1;
	}
	metrics_clear(m);
	plm_confusion(d, w, cm);
	double s = 0, c = 0;
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++) {
			t[i] += cm[i * k + j];
			p[j] += cm[i * k + j];
		}
	for (size_t i = 0; i < k; i++) {
		s += t[i];
		c += cm[i * k + i];
	}

	int ids[] = { PLM_M_ACCURACY, PLM_M_BALANCED_ACCURACY,
		PLM_M_PRECISION_MACRO, PLM_M_RECALL_MACRO, PLM_M_F1_MACRO,
		PLM_M_PRECISION_MICRO, PLM_M_RECALL_MICRO, PLM_M_F1_MICRO,
		PLM_M_PRECISION_WEIGHTED, PLM_M_RECALL_WEIGHTED,
		PLM_M_F1_WEIGHTED, PLM_M_MCC };
	for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
		undef(m, ids[i], why_empty);
	if (d->prob)
		mc_probs(d, w, m);
	if (s == 0)
		goto out;

	/* L = classes seen in the truth or the predictions */
	double nl = 0, nt = 0, bal = 0, pm = 0, rm = 0, fm = 0;
	double pw = 0, rw = 0, fw = 0, ptot = 0;
	int p_undef = 0, r_undef = 0, pw_undef = 0;
	for (size_t i = 0; i < k; i++) {
		double tp = cm[i * k + i];
		if (t[i] == 0 && p[i] == 0)
			continue;
		nl++;
		ptot += p[i];
		double f1 = 2 * tp / (t[i] + p[i]);
		fm += f1;
		fw += t[i] * f1;
		if (p[i] > 0) {
			pm += tp / p[i];
			pw += t[i] * (tp / p[i]);
		} else {
			p_undef = 1;
			pw_undef |= t[i] > 0;
		}
		if (t[i] > 0) {
			nt++;
			bal += tp / t[i];
			rm += tp / t[i];
			rw += t[i] * (tp / t[i]);
		} else {
			r_undef = 1;
		}
	}
	set(m, PLM_M_ACCURACY, c / s);
	set(m, PLM_M_BALANCED_ACCURACY, bal / nt);
	set_or_undef(m, PLM_M_PRECISION_MACRO, pm / nl,
		     p_undef ? why_never_pred : NULL);
	set_or_undef(m, PLM_M_RECALL_MACRO, rm / nl,
		     r_undef ? why_never_true : NULL);
	set(m, PLM_M_F1_MACRO, fm / nl);
	set(m, PLM_M_PRECISION_MICRO, c / ptot);
	set(m, PLM_M_RECALL_MICRO, c / s);
	set(m, PLM_M_F1_MICRO, 2 * c / (ptot + s));
	set_or_undef(m, PLM_M_PRECISION_WEIGHTED, pw / s,
		     pw_undef ? why_never_pred : NULL);
	set(m, PLM_M_RECALL_WEIGHTED, rw / s);
	set(m, PLM_M_F1_WEIGHTED, fw / s);
	mcc_set(m, t, p, k, c, s);
out:
	free(cm);
	free(t);
	free(p);
	return 0;
}

int plm_mc_fn(const void *data, const double *w, plm_metrics *m)
{
	return plm_metrics_multi(data, w, m);
}

/* ---- bootstrap ---------------------------------------------------------- */

/* numpy's _lerp: exact at both ends, monotone in t. */
static double lerp(double a, double b, double t)
{
	double d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

double plm_quantile_sorted(const double *x, size_t m, double q)
{
	if (m == 0)
		return NAN;
	/* numpy "linear": virtual index n*q + (1 - q) - 1 */
	double h = (double)m * q + (1 - q) - 1;
	if (h <= 0)
		return x[0];
	if (h >= (double)(m - 1))
		return x[m - 1];
	size_t lo = (size_t)floor(h);
	return lerp(x[lo], x[lo + 1], h - (double)lo);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Rows grouped by stratum (increasing stratum, row order within):
 * rows[start[s] .. start[s + 1]).  Returns the number of strata, or 0
 * out of memory; one stratum holding every row when strata == NULL. */
static size_t strata_index(const uint32_t *strata, size_t n, uint32_t *rows,
			   size_t **startp)
{
	uint32_t ns = 1;
	for (size_t i = 0; strata && i < n; i++)
		if (strata[i] >= ns)
			ns = strata[i] + 1;
	size_t *start = calloc((size_t)ns + 1, sizeof *start);
	if (!start)
		return 0;
	for (size_t i = 0; i < n; i++)
		start[(strata ? strata[i] : 0) + 1]++;
	for (uint32_t s = 0; s < ns; s++)
		start[s + 1] += start[s];
	size_t *fill = malloc(((size_t)ns + 1) * sizeof *fill);
	if (!fill) {
		free(start);
		return 0;
	}
	memcpy(fill, start, ((size_t)ns + 1) * sizeof *fill);
	for (size_t i = 0; i < n; i++)
		rows[fill[strata ? strata[i] : 0]++] = (uint32_t)i;
	free(fill);
	*startp = start;
	return ns;
}

int plm_bootstrap_vec(const void *data, plm_vec_fn fn, size_t nv,
		      size_t n, const uint32_t *strata, uint64_t seed,
		      size_t reps, double ci, double *lo, double *hi,
		      size_t *undef_n)
{
	double *w = malloc((n ? n : 1) * sizeof *w);
	uint32_t *cnt = malloc((n ? n : 1) * sizeof *cnt);
	uint32_t *rows = malloc((n ? n : 1) * sizeof *rows);
	double *vals = malloc((reps ? reps : 1) * (nv ? nv : 1) * sizeof *vals);
	double *col = malloc((reps ? reps : 1) * sizeof *col);
	size_t *start = NULL, ns = 0;
	plm_rng rng;
	int rc = -1;

	if (!w || !cnt || !rows || !vals || !col ||
	    !(ns = strata_index(strata, n, rows, &start)))
		goto out;
	plm_rng_seed(&rng, seed);
	for (size_t r = 0; r < reps; r++) {
		/* counting in half the memory of doubles: the random
		 * increments are the cost of a replicate */
		memset(cnt, 0, n * sizeof *cnt);
		for (size_t s = 0; s < ns; s++) {
			size_t a = start[s], m = start[s + 1] - a;
			for (size_t i = 0; i < m; i++)
				cnt[rows[a + plm_rng_below(&rng, m)]]++;
		}
		for (size_t i = 0; i < n; i++)
			w[i] = cnt[i];
		if (fn(data, w, vals + r * nv))
			goto out;
	}
	for (size_t id = 0; id < nv; id++) {
		size_t k = 0;
		for (size_t r = 0; r < reps; r++) {
			double v = vals[r * nv + id];
			if (!isnan(v))
				col[k++] = v;
		}
		undef_n[id] = reps - k;
		qsort(col, k, sizeof *col, cmp_double);
		lo[id] = plm_quantile_sorted(col, k, (1 - ci) / 2);
		hi[id] = plm_quantile_sorted(col, k, (1 + ci) / 2);
	}
	rc = 0;
out:
	PLM_FREE(w, cnt, rows, vals, col, start);
	return rc;
}

/* plm_bootstrap on top of plm_bootstrap_vec: the metrics as a vector. */
struct mfn {
	const void *data;
	plm_metrics_fn fn;
};

static int mfn_vec(const void *data, const double *w, double *v)
{
	const struct mfn *f = data;
	plm_metrics m;
	if (f->fn(f->data, w, &m))
		return -1;
	memcpy(v, m.v, sizeof m.v);
	return 0;
}

int plm_bootstrap(const void *data, plm_metrics_fn fn, size_t n,
		  uint64_t seed, size_t reps, double ci,
		  double *lo, double *hi, size_t *undef_n)
{
	struct mfn f = { data, fn };
	return plm_bootstrap_vec(&f, mfn_vec, PLM_M_COUNT, n, NULL, seed,
				 reps, ci, lo, hi, undef_n);
}
