/* calib.h — probability calibration of a binary score: Platt scaling and
 * isotonic regression, as scikit-learn 1.2 fits them (the tests check the
 * calibrated probabilities against it), and a calibrator file.
 *
 * Both map a feature f of the score s (s itself, or logit(s) with s
 * clipped to [PLM_CAL_EPS, 1 - PLM_CAL_EPS]) to a probability:
 *
 *   platt     p = 1 / (1 + exp(a f + b)), a and b minimising the log loss
 *             against Platt's smoothed targets t+ = (N+ + 1)/(N+ + 2) for
 *             positives and t- = 1/(N- + 2) for negatives — sklearn's
 *             _sigmoid_calibration (CalibratedClassifierCV(method=
 *             "sigmoid")), solved by Newton's method to the optimum
 *             (sklearn stops BFGS at a gradient of 1e-5: the two agree to
 *             about 1e-6)
 *   isotonic  the increasing step fit of IsotonicRegression(out_of_bounds=
 *             "clip"): rows sorted by (f, y); features less than 1e-15
 *             above the first of a run are one point at that first value
 *             with the mean label; pool-adjacent-violators with the
 *             weights (ties pooled too); interior points equal to both
 *             neighbours dropped; a feature is clipped to the fitted
 *             range and interpolated linearly between breakpoints
 *             (scipy interp1d: the segment ending at the first breakpoint
 *             >= f)
 *
 * The calibrator file is one JSON object (plm_calib_json); it names the
 * method, the feature, the parameters, and the data it was fitted on:
 * rows, positives, a digest of the (score, label) pairs in input order,
 * and the split. */
#ifndef PLM_CALIB_H
#define PLM_CALIB_H

#include <stddef.h>

#define PLM_CAL_EPS 1e-12

enum plm_cal_method { PLM_CAL_PLATT, PLM_CAL_ISOTONIC };
enum plm_cal_on { PLM_CAL_ON_LOGIT, PLM_CAL_ON_SCORE };

typedef struct plm_calib {
	int method;             /* enum plm_cal_method */
	int on;                 /* enum plm_cal_on */
	double a, b;            /* platt */
	size_t m;               /* isotonic: breakpoints x[], y[] */
	double *x, *y;
	/* what it was fitted on (for the file; not used to apply it) */
	size_t n, npos;
	char digest[33];
	char *split;            /* NULL: the input had no split field */
	char *pos;              /* the positive label */
} plm_calib;

const char *plm_cal_method_name(int method);   /* "platt", "isotonic" */
const char *plm_cal_on_name(int on);           /* "logit", "score" */

/* The feature of a score: s, or logit(s) clipped.  NAN for a score
 * outside [0, 1] with on = logit. */
double plm_cal_feature(int on, double s);

/* Platt's a, b for features f[] and labels y[] (1 positive).  0, or -1
 * when n == 0. */
int plm_platt_fit(const double *f, const unsigned char *y, size_t n,
		  double *a, double *b);

/* Isotonic breakpoints for features f[] and labels y[]: *x and *y
 * allocated (free), *m points.  0, -1 when n == 0 or out of memory. */
int plm_isotonic_fit(const double *f, const unsigned char *y, size_t n,
		     double **xo, double **yo, size_t *m);

/* Fits c->method on c->on features of scores s[] (filled in: a, b or
 * the breakpoints, n, npos; digest, split and pos are the caller's).
 * 0, or -1 with err: no rows, a score outside [0, 1] for the logit,
 * out of memory. */
int plm_calib_fit(plm_calib *c, const double *s, const unsigned char *y,
		  size_t n, char *err, size_t errlen);

/* The calibrated probability of score s (NAN when its feature is). */
double plm_calib_apply(const plm_calib *c, double s);

/* The calibrator as JSON text with a newline (malloc'd), NULL when out
 * of memory.  Numbers are written with 17 digits: reading gives back the
 * same doubles. */
char *plm_calib_json(const plm_calib *c);

/* Reads a calibrator file.  0, or -1 with err ("FILE: what"). */
int plm_calib_load(plm_calib *c, const char *path, char *err,
		   size_t errlen);
void plm_calib_free(plm_calib *c);

#endif
