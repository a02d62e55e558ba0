/* calib.c — Platt scaling and isotonic regression (see calib.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/calib.h"
#include "plm/io.h"
#include "plm/json.h"

const char *plm_cal_method_name(int method)
{
	return method == PLM_CAL_PLATT ? "platt" : "isotonic";
}

const char *plm_cal_on_name(int on)
{
	return on == PLM_CAL_ON_LOGIT ? "logit" : "score";
}

double plm_cal_feature(int on, double s)
{
	if (on == PLM_CAL_ON_SCORE)
		return s;
	if (!(s >= 0 && s <= 1))
		return NAN;
	if (s < PLM_CAL_EPS)
		s = PLM_CAL_EPS;
	if (s > 1 - PLM_CAL_EPS)
		s = 1 - PLM_CAL_EPS;
	return log(s) - log1p(-s);
}

/* ---- Platt ------------------------------------------------------------- */

/* Sum over rows of the loss against targets t (z = a f + b, p = 1/(1+e^z):
 * t z + log(1 + e^-z) for z >= 0, (t-1) z + log(1 + e^z) otherwise, the
 * same value without overflow). */
static double platt_loss(const double *f, const unsigned char *y, size_t n,
			 double tp, double tn, double a, double b)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		double t = y[i] ? tp : tn, z = a * f[i] + b;
		sum += z >= 0 ? t * z + log1p(exp(-z))
			      : (t - 1) * z + log1p(exp(z));
	}
	return sum;
}

/* Gradient g[2] and Hessian h[3] (11, 21, 22) of the loss at (a, b). */
static void platt_grad(const double *f, const unsigned char *y, size_t n,
		       double tp, double tn, double a, double b, double *g,
		       double *h)
{
	g[0] = g[1] = h[1] = 0;
	h[0] = h[2] = 1e-12;    /* keeps a constant feature solvable */
	for (size_t i = 0; i < n; i++) {
		double t = y[i] ? tp : tn, z = a * f[i] + b;
		double p = z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
		double w = p * (1 - p), d = t - p;
		h[0] += f[i] * f[i] * w;
		h[1] += f[i] * w;
		h[2] += w;
		g[0] += f[i] * d;
		g[1] += d;
	}
}

static double gmax(const double *g)
{
	return fmax(fabs(g[0]), fabs(g[1]));
}

int plm_platt_fit(const double *f, const unsigned char *y, size_t n,
		  double *a, double *b)
{
	if (!n)
		return -1;
	double npos = 0;
	for (size_t i = 0; i < n; i++)
		npos += y[i] != 0;
	double nneg = (double)n - npos;
	double tp = (npos + 1) / (npos + 2), tn = 1 / (nneg + 2);
	/* sklearn's starting point; the loss is convex, so Newton from here
	 * with a backtracking line search reaches the same optimum.  Near
	 * it the loss no longer changes in floating point: a full step is
	 * then taken while it makes the gradient smaller. */
	double A = 0, B = log((nneg + 1) / (npos + 1)), g[2], h[3], ng[2], nh[3];
	double fv = platt_loss(f, y, n, tp, tn, A, B);
	platt_grad(f, y, n, tp, tn, A, B, g, h);
	for (int it = 0; it < 100 && gmax(g) > 0; it++) {
		double det = h[0] * h[2] - h[1] * h[1];
		double dA = -(h[2] * g[0] - h[1] * g[1]) / det;
		double dB = -(-h[1] * g[0] + h[0] * g[1]) / det;
		double gd = g[0] * dA + g[1] * dB, step = 1, nA, nB, nf = fv;
		for (; step >= 1e-10; step /= 2) {
			nA = A + step * dA;
			nB = B + step * dB;
			nf = platt_loss(f, y, n, tp, tn, nA, nB);
			if (nf < fv + 1e-4 * step * gd)
				break;
		}
		if (step < 1e-10) {
			nA = A + dA;
			nB = B + dB;
			nf = platt_loss(f, y, n, tp, tn, nA, nB);
		}
		platt_grad(f, y, n, tp, tn, nA, nB, ng, nh);
		if (step < 1e-10 && !(gmax(ng) < gmax(g)))
			break;          /* at the optimum to rounding */
		A = nA;
		B = nB;
		fv = nf;
		memcpy(g, ng, sizeof g);
		memcpy(h, nh, sizeof h);
	}
	*a = A;
	*b = B;
	return 0;
}

/* ---- isotonic ---------------------------------------------------------- */

struct fy {
	double f;
	unsigned char y;
};

static int fy_cmp(const void *pa, const void *pb)
{
	const struct fy *a = pa, *b = pb;
	if (a->f != b->f)
		return a->f < b->f ? -1 : 1;
	return (a->y > b->y) - (a->y < b->y);
}

/* sklearn's _inplace_contiguous_isotonic_regression: pools in place,
 * backtracking, so the sums are formed in its order. */
static void pav(double *y, double *w, size_t *target, size_t n)
{
	for (size_t i = 0; i < n; i++)
		target[i] = i;
	size_t i = 0;
	while (i < n) {
		size_t k = target[i] + 1;
		if (k == n)
			break;
		if (y[i] < y[k]) {
			i = k;
			continue;
		}
		double swy = w[i] * y[i], sw = w[i];
		for (;;) {
			double prev = y[k];
			swy += w[k] * y[k];
			sw += w[k];
			k = target[k] + 1;
			if (k == n || prev < y[k]) {
				y[i] = swy / sw;
				w[i] = sw;
				target[i] = k - 1;
				target[k - 1] = i;
				if (i > 0)
					i = target[i - 1];
				break;
			}
		}
	}
	for (i = 0; i < n;) {
		size_t k = target[i] + 1;
		for (size_t j = i + 1; j < k; j++)
			y[j] = y[i];
		i = k;
	}
}

int plm_isotonic_fit(const double *f, const unsigned char *y, size_t n,
		     double **xo, double **yo, size_t *m)
{
	if (!n)
		return -1;
	struct fy *r = malloc(n * sizeof *r);
	double *x = malloc(n * sizeof *x), *v = malloc(n * sizeof *v);
	double *w = malloc(n * sizeof *w);
	size_t *target = malloc(n * sizeof *target);
	if (!r || !x || !v || !w || !target)
		goto oom;
	for (size_t i = 0; i < n; i++)
		r[i] = (struct fy){ f[i], (unsigned char)(y[i] != 0) };
	qsort(r, n, sizeof *r, fy_cmp);
	/* sklearn's _make_unique: a run within 1e-15 of its first value */
	size_t u = 0;
	double cx = r[0].f, cw = 0, cy = 0;
	for (size_t j = 0; j < n; j++) {
		if (r[j].f - cx >= 1e-15) {
			x[u] = cx;
			w[u] = cw;
			v[u++] = cy / cw;
			cx = r[j].f;
			cw = 1;
			cy = r[j].y;
		} else {
			cw += 1;
			cy += r[j].y;
		}
	}
	x[u] = cx;
	w[u] = cw;
	v[u++] = cy / cw;
	pav(v, w, target, u);
	/* keep the ends and every point not equal to both neighbours */
	size_t k = 0;
	for (size_t j = 0; j < u; j++) {
		if (j > 0 && j + 1 < u && v[j] == v[j - 1] && v[j] == v[j + 1])
			continue;
		x[k] = x[j];
		v[k++] = v[j];
	}
	free(r);
	free(w);
	free(target);
	*xo = x;
	*yo = v;
	*m = k;
	return 0;
oom:
	free(r);
	free(x);
	free(v);
	free(w);
	free(target);
	return -1;
}

static double isotonic_at(const double *x, const double *y, size_t m,
			  double f)
{
	if (m == 1)
		return y[0];
	if (f < x[0])
		f = x[0];
	if (f > x[m - 1])
		f = x[m - 1];
	/* first breakpoint >= f, at least 1 */
	size_t lo = 1, hi = m - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x[mid] >= f)
			hi = mid;
		else
			lo = mid + 1;
	}
	double slope = (y[lo] - y[lo - 1]) / (x[lo] - x[lo - 1]);
	return slope * (f - x[lo - 1]) + y[lo - 1];
}

/* ---- fit, apply -------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int plm_calib_fit(plm_calib *c, const double *s, const unsigned char *y,
		  size_t n, char *err, size_t errlen)
{
	if (!n)
		return fail(err, errlen, "no records to fit on");
	double *f = malloc(n * sizeof *f);
	if (!f)
		return fail(err, errlen, "out of memory");
	c->n = n;
	c->npos = 0;
	for (size_t i = 0; i < n; i++) {
		c->npos += y[i] != 0;
		f[i] = plm_cal_feature(c->on, s[i]);
		if (isnan(f[i]) || isinf(f[i])) {
			free(f);
			return fail(err, errlen, "record %zu: score %.17g is "
				    "not a probability in [0, 1] (--on score "
				    "fits on the raw score)", i + 1, s[i]);
		}
	}
	int rc = c->method == PLM_CAL_PLATT
		? plm_platt_fit(f, y, n, &c->a, &c->b)
		: plm_isotonic_fit(f, y, n, &c->x, &c->y, &c->m);
	free(f);
	if (rc)
		return fail(err, errlen, "out of memory");
	return 0;
}

double plm_calib_apply(const plm_calib *c, double s)
{
	double f = plm_cal_feature(c->on, s);
	if (isnan(f))
		return NAN;
	if (c->method == PLM_CAL_ISOTONIC)
		return isotonic_at(c->x, c->y, c->m, f);
	double z = c->a * f + c->b;
	return z >= 0 ? exp(-z) / (1 + exp(-z)) : 1 / (1 + exp(z));
}

/* ---- the file ---------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
	int bad;
};

static void put(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->bad = 1;
			return;
		}
		if ((size_t)k < b->cap - b->len) {
			b->len += (size_t)k;
			return;
		}
		size_t cap = 2 * b->cap + (size_t)k + 64;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->bad = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static void put_str(struct buf *b, const char *key, const char *s)
{
	put(b, ",\"%s\":", key);
	if (!s) {
		put(b, "null");
		return;
	}
	if (plm_json_put_str(&b->p, &b->len, &b->cap, s, strlen(s)))
		b->bad = 1;
}

static void put_arr(struct buf *b, const char *key, const double *v,
		    size_t m)
{
	put(b, ",\"%s\":[", key);
	for (size_t i = 0; i < m; i++)
		put(b, "%s%.17g", i ? "," : "", v[i]);
	put(b, "]");
}

char *plm_calib_json(const plm_calib *c)
{
	struct buf b = { malloc(256), 0, 256, 0 };
	if (!b.p)
		return NULL;
	b.p[0] = 0;
	put(&b, "{\"calibrator\":\"plmkit\",\"version\":1");
	put_str(&b, "method", plm_cal_method_name(c->method));
	put_str(&b, "on", plm_cal_on_name(c->on));
	if (c->method == PLM_CAL_PLATT) {
		put(&b, ",\"a\":%.17g,\"b\":%.17g", c->a, c->b);
	} else {
		put_arr(&b, "x", c->x, c->m);
		put_arr(&b, "y", c->y, c->m);
	}
	put(&b, ",\"rows\":%zu,\"positives\":%zu", c->n, c->npos);
	put_str(&b, "pos", c->pos);
	put_str(&b, "split", c->split);
	put_str(&b, "digest", c->digest);
	put(&b, "}\n");
	if (b.bad) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

static int num(const plm_json *o, const char *key, double *v)
{
	const plm_json *j = plm_json_get(o, key);
	if (!j || j->type != PLM_JSON_NUM)
		return -1;
	*v = j->num;
	return 0;
}

static char *str_dup(const plm_json *o, const char *key)
{
	const plm_json *j = plm_json_get(o, key);
	if (!j || j->type != PLM_JSON_STR)
		return NULL;
	char *s = malloc(j->len + 1);
	if (s)
		memcpy(s, j->s, j->len + 1);
	return s;
}

int plm_calib_load(plm_calib *c, const char *path, char *err, size_t errlen)
{
	char *text = NULL, jerr[200];
	size_t len = 0;
	memset(c, 0, sizeof *c);
	if (plm_in_slurp(path, &text, &len, err, errlen))
		return -1;
	plm_json_doc *d = plm_json_parse(text, len, jerr, sizeof jerr);
	free(text);
	if (!d)
		return fail(err, errlen, "%s: not a calibrator (JSON: %s)", path,
			    jerr);
	const plm_json *o = plm_json_root(d), *j;
	const char *what = NULL;
	j = plm_json_get(o, "calibrator");
	if (!j || j->type != PLM_JSON_STR || strcmp(j->s, "plmkit")) {
		what = "no \"calibrator\":\"plmkit\" (write it with mlp-calibrate)";
		goto bad;
	}
	j = plm_json_get(o, "method");
	if (!j || j->type != PLM_JSON_STR ||
	    (strcmp(j->s, "platt") && strcmp(j->s, "isotonic"))) {
		what = "\"method\" is not platt or isotonic";
		goto bad;
	}
	c->method = strcmp(j->s, "platt") ? PLM_CAL_ISOTONIC : PLM_CAL_PLATT;
	j = plm_json_get(o, "on");
	if (!j || j->type != PLM_JSON_STR ||
	    (strcmp(j->s, "logit") && strcmp(j->s, "score"))) {
		what = "\"on\" is not logit or score";
		goto bad;
	}
	c->on = strcmp(j->s, "logit") ? PLM_CAL_ON_SCORE : PLM_CAL_ON_LOGIT;
	if (c->method == PLM_CAL_PLATT) {
		if (num(o, "a", &c->a) || num(o, "b", &c->b)) {
			what = "platt needs numbers \"a\" and \"b\"";
			goto bad;
		}
	} else {
		const plm_json *x = plm_json_get(o, "x"), *y = plm_json_get(o, "y");
		if (!x || !y || x->type != PLM_JSON_ARR ||
		    y->type != PLM_JSON_ARR || x->len != y->len || !x->len) {
			what = "isotonic needs arrays \"x\" and \"y\" of one "
			       "nonzero length";
			goto bad;
		}
		c->m = x->len;
		c->x = malloc(c->m * sizeof *c->x);
		c->y = malloc(c->m * sizeof *c->y);
		if (!c->x || !c->y) {
			what = "out of memory";
			goto bad;
		}
		for (size_t i = 0; i < c->m; i++) {
			if (x->kids[i].type != PLM_JSON_NUM ||
			    y->kids[i].type != PLM_JSON_NUM) {
				what = "a breakpoint is not a number";
				goto bad;
			}
			c->x[i] = x->kids[i].num;
			c->y[i] = y->kids[i].num;
			if (i && !(c->x[i] > c->x[i - 1] && c->y[i] >= c->y[i - 1])) {
				what = "the breakpoints are not increasing";
				goto bad;
			}
		}
	}
	/* counts, when present: whole numbers, positives <= rows */
	double v;
	if (!num(o, "rows", &v)) {
		if (!(v >= 0 && v <= 9007199254740992.0 && v == floor(v))) {
			what = "\"rows\" is not a count";
			goto bad;
		}
		c->n = (size_t)v;
	}
	if (!num(o, "positives", &v)) {
		if (!(v >= 0 && v <= 9007199254740992.0 && v == floor(v)) ||
		    (c->n && (size_t)v > c->n)) {
			what = "\"positives\" is not a count of at most \"rows\"";
			goto bad;
		}
		c->npos = (size_t)v;
	}
	c->split = str_dup(o, "split");
	c->pos = str_dup(o, "pos");
	j = plm_json_get(o, "digest");
	if (j && j->type == PLM_JSON_STR && j->len < sizeof c->digest)
		memcpy(c->digest, j->s, j->len + 1);
	plm_json_free(d);
	return 0;
bad:
	fail(err, errlen, "%s: %s", path, what);
	plm_json_free(d);
	plm_calib_free(c);
	return -1;
}

void plm_calib_free(plm_calib *c)
{
	free(c->x);
	free(c->y);
	free(c->split);
	free(c->pos);
	c->x = c->y = NULL;
	c->split = c->pos = NULL;
}
