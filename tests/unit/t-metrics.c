/* Unit tests for lib/metrics.c: small cases computed by hand (no sklearn
 * needed; tests/t7000-metrics.sh checks agreement with sklearn). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plm/io.h"
#include "plm/metrics.h"
#include "plm/svgplot.h"
#include "tap.h"

#define near(got, want, name) do { \
	double g_ = (got), w_ = (want); \
	if (!ok(fabs(g_ - w_) <= 1e-12, "%s", name)) \
		diag("got %.17g, want %.17g", g_, w_); \
} while (0)

#define undefined(m, id, name) do { \
	ok((m).has[id] && isnan((m).v[id]) && (m).why[id], "%s undefined", name); \
} while (0)

static void binary_basic(void)
{
	double s[] = { 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3 };
	unsigned char y[] = { 1, 1, 0, 1, 0, 1, 0, 0 };
	plm_metrics m;
	ok(plm_binary_eval(s, y, 8, 0.5, 2, &m) == 0, "binary eval");
	near(m.v[PLM_M_TP], 4, "tp");
	near(m.v[PLM_M_FP], 2, "fp");
	near(m.v[PLM_M_FN], 0, "fn");
	near(m.v[PLM_M_TN], 2, "tn");
	near(m.v[PLM_M_ACCURACY], 0.75, "accuracy");
	near(m.v[PLM_M_PRECISION], 4.0 / 6, "precision");
	near(m.v[PLM_M_RECALL], 1, "recall");
	near(m.v[PLM_M_SPECIFICITY], 0.5, "specificity");
	near(m.v[PLM_M_F1], 0.8, "f1");
	near(m.v[PLM_M_BALANCED_ACCURACY], 0.75, "balanced accuracy");
	near(m.v[PLM_M_MCC], 8 / sqrt(192), "mcc");
	near(m.v[PLM_M_AUROC], 13.0 / 16, "auroc = pairs ranked right / pairs");
	near(m.v[PLM_M_AP], 0.25 * (1 + 1 + 0.75 + 4.0 / 6), "average precision (steps)");
	near(m.v[PLM_M_BRIER], 1.5025 / 8, "brier");
	near(m.v[PLM_M_LOG_LOSS], -(log(.9) + log(.8) + log(.3) + log(.6) +
		log(.45) + log(.5) + log(.6) + log(.7)) / 8, "log loss");
	/* bins [0, .5] and (.5, 1]: |1 - 1.2| + |3 - 3.55| over 8 */
	near(m.v[PLM_M_ECE], 0.75 / 8, "ece: 0.5 falls in the lower bin");
	ok(!m.has[PLM_M_AUROC_OVR] && !m.has[PLM_M_F1_MACRO],
	   "multi-class metrics do not apply");

	ok(plm_binary_eval(s, y, 8, 0.95, 15, &m) == 0, "high threshold");
	undefined(m, PLM_M_PRECISION, "precision without predicted positives");
	near(m.v[PLM_M_F1], 0, "f1 = 0 (not undefined) with positives present");
	near(m.v[PLM_M_AUROC], 13.0 / 16, "auroc independent of threshold");
}

static void binary_ties(void)
{
	double s[] = { 0.5, 0.5, 0.5, 0.5 }, s2[] = { 0.8, 0.6, 0.6, 0.2 };
	unsigned char y[] = { 1, 0, 1, 0 }, y2[] = { 0, 1, 0, 1 };
	unsigned char y3[] = { 1, 1, 0, 0 }, y4[] = { 1, 0, 1, 0 };
	plm_metrics m;
	plm_binary_eval(s, y, 4, 0.5, 15, &m);
	near(m.v[PLM_M_AUROC], 0.5, "all tied: auroc 0.5");
	near(m.v[PLM_M_AP], 0.5, "all tied: ap = prevalence");
	plm_binary_eval(s, y2, 4, 0.5, 15, &m);
	near(m.v[PLM_M_AUROC], 0.5, "all tied, other order: auroc 0.5");
	plm_binary_eval(s2, y3, 4, 0.5, 15, &m);
	near(m.v[PLM_M_AUROC], 3.5 / 4, "a tie counts one half");
	near(m.v[PLM_M_AP], 0.5 + 0.5 * 2 / 3, "tied group is one threshold");
	/* the positive inside the tie moves; the answer must not */
	double s3[] = { 0.8, 0.6, 0.6, 0.2 };
	unsigned char y5[] = { 1, 0, 1, 0 };
	plm_binary_eval(s3, y5, 4, 0.5, 15, &m);
	near(m.v[PLM_M_AUROC], 3.5 / 4, "tie order irrelevant (auroc)");
	near(m.v[PLM_M_AP], 0.5 + 0.5 * 2 / 3, "tie order irrelevant (ap)");
	(void)y4;
	/* -0.0 and 0.0 are one score */
	double s4[] = { -0.0, 0.0 };
	unsigned char y6[] = { 1, 0 };
	plm_binary_eval(s4, y6, 2, 0.5, 15, &m);
	near(m.v[PLM_M_AUROC], 0.5, "-0 and +0 tie");
}

static void binary_edges(void)
{
	double s[] = { 0.9, 0.2, 0.7 };
	unsigned char pos[] = { 1, 1, 1 }, neg[] = { 0, 0, 0 };
	plm_metrics m;
	plm_binary_eval(s, pos, 3, 0.5, 15, &m);
	undefined(m, PLM_M_AUROC, "one class: auroc");
	undefined(m, PLM_M_SPECIFICITY, "one class: specificity");
	undefined(m, PLM_M_BALANCED_ACCURACY, "one class: balanced accuracy");
	undefined(m, PLM_M_MCC, "one class: mcc");
	near(m.v[PLM_M_AP], 1, "only positives: ap 1");
	near(m.v[PLM_M_RECALL], 2.0 / 3, "only positives: recall");
	ok(m.why[PLM_M_AUROC] && strstr(m.why[PLM_M_AUROC], "one class"),
	   "reason names the problem");
	plm_binary_eval(s, neg, 3, 0.5, 15, &m);
	undefined(m, PLM_M_AP, "no positives: ap");
	undefined(m, PLM_M_RECALL, "no positives: recall");
	near(m.v[PLM_M_ACCURACY], 1.0 / 3, "no positives: accuracy");

	double c[] = { 0.9, 0.1 }, wr[] = { 0.1, 0.9 };
	unsigned char y[] = { 1, 0 };
	plm_binary_eval(c, y, 2, 0.5, 15, &m);
	near(m.v[PLM_M_ACCURACY], 1, "all correct: accuracy");
	near(m.v[PLM_M_MCC], 1, "all correct: mcc");
	near(m.v[PLM_M_AUROC], 1, "all correct: auroc");
	near(m.v[PLM_M_F1], 1, "all correct: f1");
	plm_binary_eval(wr, y, 2, 0.5, 15, &m);
	near(m.v[PLM_M_ACCURACY], 0, "all wrong: accuracy");
	near(m.v[PLM_M_MCC], -1, "all wrong: mcc");
	near(m.v[PLM_M_AUROC], 0, "all wrong: auroc");
	near(m.v[PLM_M_PRECISION], 0, "all wrong: precision");
	near(m.v[PLM_M_F1], 0, "all wrong: f1");

	double lg[] = { 2.5, -1 };
	plm_binary_eval(lg, y, 2, 0.5, 15, &m);
	undefined(m, PLM_M_LOG_LOSS, "scores outside [0,1]: log loss");
	undefined(m, PLM_M_BRIER, "scores outside [0,1]: brier");
	near(m.v[PLM_M_AUROC], 1, "scores outside [0,1]: auroc still fine");

	double one[] = { 1, 0 };
	plm_binary_eval(one, y, 0, 0.5, 15, &m);
	undefined(m, PLM_M_ACCURACY, "no rows: accuracy");
	plm_binary_eval(one, y, 2, 0.5, 15, &m);
	near(m.v[PLM_M_LOG_LOSS], -log(1 - 0x1p-52), "log loss clips at 2^-52");

	plm_metrics_binary(s, y, NULL, 0, 0.5, 15, &m);
	ok(m.has[PLM_M_AUROC], "empty input still lists the metrics");
}

/* Weights are multiplicities: same answer as repeating rows. */
static void binary_weights(void)
{
	double s[] = { 0.9, 0.7, 0.7, 0.4, 0.3, 0.1 };
	unsigned char y[] = { 1, 0, 1, 1, 0, 0 };
	double w[] = { 2, 0, 3, 1, 1, 4 };
	double se[16];
	unsigned char ye[16];
	size_t n = 0;
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < w[i]; j++) {
			se[n] = s[i];
			ye[n++] = y[i];
		}
	plm_metrics a, b;
	plm_metrics_binary(s, y, w, 6, 0.5, 4, &a);
	plm_binary_eval(se, ye, n, 0.5, 4, &b);
	int same = 1;
	for (int i = 0; i < PLM_M_COUNT; i++) {
		if (a.has[i] != b.has[i] || isnan(a.v[i]) != isnan(b.v[i]) ||
		    (!isnan(a.v[i]) && fabs(a.v[i] - b.v[i]) > 1e-12)) {
			same = 0;
			diag("%s: %.17g vs %.17g", plm_metric_name(i), a.v[i], b.v[i]);
		}
	}
	ok(same, "weights act as repetitions");
}

static void multi(void)
{
	uint32_t y[] = { 0, 0, 1, 1, 2, 2 }, pred[] = { 0, 1, 1, 1, 2, 0 };
	double prob[] = {
		0.7, 0.2, 0.1,
		0.3, 0.4, 0.3,
		0.2, 0.6, 0.2,
		0.1, 0.8, 0.1,
		0.1, 0.2, 0.7,
		0.5, 0.2, 0.3,
	};
	plm_mc d = { 6, 3, y, pred, NULL, NULL, 0 };
	plm_metrics m;
	double cm[9], want_cm[9] = { 1, 1, 0, 0, 2, 0, 1, 0, 1 };
	ok(plm_mc_prepare(&d) == 0, "prepare without probabilities");
	ok(plm_metrics_multi(&d, NULL, &m) == 0, "multi eval");
	plm_confusion(&d, NULL, cm);
	ok(memcmp(cm, want_cm, sizeof cm) == 0, "confusion matrix");
	near(m.v[PLM_M_ACCURACY], 4.0 / 6, "accuracy");
	near(m.v[PLM_M_BALANCED_ACCURACY], 2.0 / 3, "balanced accuracy");
	near(m.v[PLM_M_PRECISION_MACRO], (0.5 + 2.0 / 3 + 1) / 3, "precision macro");
	near(m.v[PLM_M_RECALL_MACRO], 2.0 / 3, "recall macro");
	near(m.v[PLM_M_F1_MACRO], (0.5 + 0.8 + 2.0 / 3) / 3, "f1 macro");
	near(m.v[PLM_M_F1_MICRO], 4.0 / 6, "f1 micro = accuracy");
	near(m.v[PLM_M_PRECISION_WEIGHTED], (0.5 + 2.0 / 3 + 1) / 3, "precision weighted");
	near(m.v[PLM_M_MCC], 12 / sqrt(528), "mcc (multi-class formula)");
	ok(!m.has[PLM_M_LOG_LOSS] && !m.has[PLM_M_AUROC_OVR] && !m.has[PLM_M_AUROC],
	   "no probabilities: no log loss, no auroc");
	plm_mc_free(&d);

	d.prob = prob;
	ok(plm_mc_prepare(&d) == 0 && !d.not_prob, "prepare with probabilities");
	int argmax_ok = 1;
	for (int i = 0; i < 6; i++)
		argmax_ok &= plm_argmax(prob + 3 * i, 3) == pred[i];
	ok(argmax_ok, "argmax");
	plm_metrics_multi(&d, NULL, &m);
	near(m.v[PLM_M_AUROC_OVR], (7.0 / 8 + 1 + 7.5 / 8) / 3, "auroc ovr macro (with a tie)");
	near(m.v[PLM_M_LOG_LOSS], -(log(.7) + log(.3) + log(.6) + log(.8) +
		log(.7) + log(.3)) / 6, "log loss");
	plm_mc_free(&d);

	/* class 2 never predicted, class 0 never true */
	uint32_t y2[] = { 1, 1, 2, 2 }, p2[] = { 0, 1, 1, 1 };
	plm_mc e = { 4, 3, y2, p2, NULL, NULL, 0 };
	plm_metrics_multi(&e, NULL, &m);
	undefined(m, PLM_M_PRECISION_MACRO, "precision macro with a never-predicted class");
	undefined(m, PLM_M_RECALL_MACRO, "recall macro with a class absent from the truth");
	undefined(m, PLM_M_PRECISION_WEIGHTED, "precision weighted with a never-predicted class");
	near(m.v[PLM_M_BALANCED_ACCURACY], (1.0 / 2 + 0) / 2, "balanced accuracy over true classes");
	near(m.v[PLM_M_F1_MACRO], (0 + 2.0 * 1 / 5 + 0) / 3, "f1 macro over the label set");

	/* a class absent from the truth: ovr auroc undefined */
	double pr2[] = { .5, .3, .2, .2, .5, .3, .1, .2, .7, .3, .3, .4 };
	e.prob = pr2;
	plm_mc_prepare(&e);
	plm_metrics_multi(&e, NULL, &m);
	undefined(m, PLM_M_AUROC_OVR, "ovr auroc with a class absent");
	ok(!isnan(m.v[PLM_M_LOG_LOSS]), "log loss still defined");
	plm_mc_free(&e);

	double bad[] = { .5, .3, .3, .2, .5, .3, .1, .2, .7, .3, .3, .4 };
	e.prob = bad;
	plm_mc_prepare(&e);
	plm_metrics_multi(&e, NULL, &m);
	ok(e.not_prob, "row summing to 1.1 is flagged");
	undefined(m, PLM_M_LOG_LOSS, "log loss of non-probabilities");
	plm_mc_free(&e);
}

static void thresholds(void)
{
	/* J per distinct score: .25 .5 .25 .5 .25 .5 .25 0; F1 best at .5 */
	double s[] = { 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.4, 0.3 };
	unsigned char y[] = { 1, 1, 0, 1, 0, 1, 0, 0 };
	const char *why = NULL;
	near(plm_bin_choose(s, y, NULL, 8, PLM_THR_YOUDEN, &why), 0.8,
	     "youden: ties go to the highest threshold");
	near(plm_bin_choose(s, y, NULL, 8, PLM_THR_F1, &why), 0.5, "f1");
	double w[] = { 1, 0, 1, 1, 1, 1, 1, 1 };
	near(plm_bin_choose(s, y, w, 8, PLM_THR_YOUDEN, &why), 0.5,
	     "a score with zero weight is not a choice");
	unsigned char one[] = { 1, 1, 1, 1, 1, 1, 1, 1 }, none[8] = { 0 };
	ok(isnan(plm_bin_choose(s, one, NULL, 8, PLM_THR_YOUDEN, &why)) &&
	   strstr(why, "one class"), "youden with one class: undefined");
	ok(isnan(plm_bin_choose(s, none, NULL, 8, PLM_THR_F1, &why)) &&
	   strstr(why, "no positive"), "f1 without positives: undefined");
	near(plm_bin_choose(s, one, NULL, 8, PLM_THR_F1, &why), 0.3,
	     "f1 with positives only: everything positive");

	plm_bin b = { s, y, 8, 0.5, 10, NULL, NULL, PLM_THR_YOUDEN, NULL };
	plm_metrics m;
	plm_bin_fn(&b, NULL, &m);
	near(m.v[PLM_M_THRESHOLD], 0.8, "threshold row");
	near(m.v[PLM_M_TP], 2, "tp at the chosen threshold");
	near(m.v[PLM_M_PREVALENCE], 0.5, "prevalence");
	unsigned char pred[] = { 1, 0, 0, 1, 1, 0, 0, 0 };
	b.pred = pred;
	plm_bin_fn(&b, NULL, &m);
	ok(!m.has[PLM_M_THRESHOLD], "given predictions: no threshold");
	near(m.v[PLM_M_TP], 2, "tp from predictions");
	near(m.v[PLM_M_FP], 1, "fp from predictions");
	near(m.v[PLM_M_AUROC], 13.0 / 16, "auroc still from the scores");
	b.y = one;
	b.pred = NULL;
	plm_bin_fn(&b, NULL, &m);
	undefined(m, PLM_M_THRESHOLD, "no threshold");
	undefined(m, PLM_M_ACCURACY, "no threshold: accuracy");
	undefined(m, PLM_M_TN, "no threshold: tn");
	near(m.v[PLM_M_AP], 1, "ranking metrics need no threshold");
}

static void per_class(void)
{
	uint32_t y[] = { 0, 0, 1, 1, 2, 2 }, pred[] = { 0, 1, 1, 1, 0, 0 };
	double prob[] = {
		0.7, 0.2, 0.1,
		0.3, 0.4, 0.3,
		0.2, 0.6, 0.2,
		0.1, 0.8, 0.1,
		0.5, 0.2, 0.3,
		0.5, 0.2, 0.3,
	};
	plm_mc d = { 6, 3, y, pred, NULL, NULL, 0 };
	double v[3 * PLM_PC_COUNT];
	const char *why[3 * PLM_PC_COUNT];
	plm_mc_prepare(&d);
	ok(plm_mc_per_class(&d, NULL, v, why) == 0, "per class");
	near(v[0 * PLM_PC_COUNT + PLM_PC_PRECISION], 1.0 / 3, "precision[0]");
	near(v[1 * PLM_PC_COUNT + PLM_PC_RECALL], 1, "recall[1]");
	near(v[1 * PLM_PC_COUNT + PLM_PC_F1], 0.8, "f1[1]");
	near(v[2 * PLM_PC_COUNT + PLM_PC_SUPPORT], 2, "support[2]");
	ok(isnan(v[2 * PLM_PC_COUNT + PLM_PC_PRECISION]) &&
	   strstr(why[2 * PLM_PC_COUNT + PLM_PC_PRECISION], "never predicted"),
	   "precision[2] undefined: never predicted");
	ok(isnan(v[PLM_PC_AUROC]) && why[PLM_PC_AUROC], "no probabilities: no auroc");
	plm_mc_free(&d);
	d.prob = prob;
	plm_mc_prepare(&d);
	plm_mc_per_class(&d, NULL, v, why);
	near(v[0 * PLM_PC_COUNT + PLM_PC_AUROC], 6.0 / 8, "auroc[0]");
	near(v[2 * PLM_PC_COUNT + PLM_PC_AUROC], 7.0 / 8, "auroc[2] (a tie)");
	plm_mc_free(&d);
	is_str(plm_pc_name(PLM_PC_SUPPORT), "support", "per-class name");
}

/* Counts the rows of class 1 in a replicate (stratification keeps it). */
static int count_pos(const void *data, const double *w, double *v)
{
	const unsigned char *y = data;
	v[0] = 0;
	for (int i = 0; i < 50; i++)
		v[0] += y[i] ? w[i] : 0;
	return 0;
}

static void bootstrap_strata(void)
{
	unsigned char y[50];
	uint32_t st[50];
	for (int i = 0; i < 50; i++)
		st[i] = y[i] = i % 7 == 0;
	double lo, hi;
	size_t un;
	ok(plm_bootstrap_vec(y, count_pos, 1, 50, st, 3, 100, 0.99, &lo, &hi, &un) == 0,
	   "stratified bootstrap runs");
	ok(lo == 8 && hi == 8, "every replicate keeps the 8 positives");
	plm_bootstrap_vec(y, count_pos, 1, 50, NULL, 3, 100, 0.99, &lo, &hi, &un);
	ok(lo < hi, "without strata the count varies (%g..%g)", lo, hi);
}

static void training_svg(void)
{
	char path[] = "t-metrics-train.svg", err[256], buf[8192];
	double ep[] = { 1, 2, 3, 4 }, tr[] = { 0.9, 0.6, 0.5, 0.45 };
	double va[] = { 1.0, 0.7, NAN, 0.72 }, au[] = { 0.6, 0.7, 0.74, 0.73 };
	plm_train_curves t = { ep, tr, va, au, 4, "run <1> & co", "val AUROC", 3 };
	plm_out *o = plm_out_open(path, err, sizeof err);
	ok(o && plm_svg_training(o, &t) == 0 && plm_out_close(o, err, sizeof err) == 0,
	   "training curves written");
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	buf[n] = 0;
	if (f)
		fclose(f);
	ok(strstr(buf, ">epoch</text>") && strstr(buf, ">loss</text>") &&
	   strstr(buf, ">val AUROC</text>"), "axes labelled");
	ok(strstr(buf, "run &lt;1&gt; &amp; co") != NULL, "title escaped");
	ok(strstr(buf, ">train loss</text>") && strstr(buf, ">val loss</text>"),
	   "legend");
	ok(strstr(buf, "</svg>\n") != NULL, "document closed");
	if (system("command -v xmllint >/dev/null 2>&1") == 0)
		ok(system("xmllint --noout t-metrics-train.svg") == 0,
		   "well-formed (xmllint)");
	remove(path);
}

static void bootstrap(void)
{
	double x[] = { 1, 2, 3, 4 };
	near(plm_quantile_sorted(x, 4, 0.5), 2.5, "median");
	near(plm_quantile_sorted(x, 4, 0.25), 1.75, "quartile (numpy linear)");
	near(plm_quantile_sorted(x, 4, 0), 1, "q = 0");
	near(plm_quantile_sorted(x, 4, 1), 4, "q = 1");
	near(plm_quantile_sorted(x, 1, 0.3), 1, "one value");

	enum { N = 200 };
	double s[N];
	unsigned char y[N];
	for (int i = 0; i < N; i++) {
		y[i] = i % 3 == 0;
		s[i] = fmod(i * 0.6180339887, 1.0) * 0.6 + 0.4 * y[i];
	}
	plm_bin_sort(s, y, N);
	plm_bin b = { s, y, N, 0.5, 10, NULL, NULL, 0, NULL };
	double lo[PLM_M_COUNT], hi[PLM_M_COUNT], lo2[PLM_M_COUNT], hi2[PLM_M_COUNT];
	size_t un[PLM_M_COUNT];
	plm_metrics m;
	plm_bin_fn(&b, NULL, &m);
	ok(plm_bootstrap(&b, plm_bin_fn, N, 7, 300, 0.9, lo, hi, un) == 0, "bootstrap runs");
	ok(lo[PLM_M_AUROC] < m.v[PLM_M_AUROC] && m.v[PLM_M_AUROC] < hi[PLM_M_AUROC],
	   "auroc inside its interval (%g < %g < %g)", lo[PLM_M_AUROC],
	   m.v[PLM_M_AUROC], hi[PLM_M_AUROC]);
	is_int(un[PLM_M_AUROC], 0, "no undefined replicate");
	plm_bootstrap(&b, plm_bin_fn, N, 7, 300, 0.9, lo2, hi2, un);
	ok(memcmp(lo, lo2, sizeof lo) == 0 && memcmp(hi, hi2, sizeof hi) == 0,
	   "same seed, same intervals");
	plm_bootstrap(&b, plm_bin_fn, N, 8, 300, 0.9, lo2, hi2, un);
	ok(lo[PLM_M_AUROC] != lo2[PLM_M_AUROC], "other seed, other interval");
}

int main(void)
{
	is_str(plm_metric_name(PLM_M_AP), "auprc", "metric name");
	is_int(plm_metric_find("average_precision"), PLM_M_AP, "old name still found");
	is_int(plm_metric_find("threshold"), PLM_M_THRESHOLD, "threshold is a metric");
	is_int(plm_metric_find("auroc_ovr_macro"), PLM_M_AUROC_OVR, "metric find");
	is_int(plm_metric_find("nope"), -1, "unknown metric");
	binary_basic();
	binary_ties();
	binary_edges();
	binary_weights();
	multi();
	bootstrap();
	thresholds();
	per_class();
	bootstrap_strata();
	training_svg();
	return done_testing();
}
