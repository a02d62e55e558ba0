/* mlp-calibrate — fit a probability calibrator (Platt or isotonic) on
 * validation predictions (man/mlp-calibrate.1).
 *
 * Reads every record's score and label (a few bytes each), refuses input
 * whose split field says it is not validation data, fits (lib/calib.c)
 * and writes the calibrator, a JSON object, that mlp-predict --calibrator
 * and metrics --calibrator apply. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/calib.h"
#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/io.h"
#include "plm/rows.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"fit Platt or isotonic calibration of a binary score on validation predictions";

struct ctx {
	const char *label, *score, *pos, *splitf;
	int any_split;
	int yi, si, pi;                 /* fields in the current section */
	size_t n, cap;
	double *s;
	unsigned char *y;
	char *neg;                      /* the other label value seen */
	size_t negn;
	int have_neg;
	char *split;                    /* the split value of every record */
	const plm_verb *v;
	const plm_calib *apply;         /* --apply: the calibrator */
	int ci;                         /* --apply: the score_cal field */
};

static int section(void *vx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct ctx *x = vx;
	char tn[64];
	if (plm_verb_table(out, in))
		plm_oom();
	x->yi = plm_schema_find(in, x->label);
	x->si = plm_schema_find(in, x->score);
	x->pi = plm_schema_find(in, x->splitf);
	if (x->yi < 0) {
		snprintf(err, errlen, "no field '%s' in input (the true "
			 "label, -y)", x->label);
		return -1;
	}
	if (x->si < 0) {
		snprintf(err, errlen, "no field '%s' in input (the score, "
			 "--score)", x->score);
		return -1;
	}
	enum plm_type yt = in->f[x->yi].type, st = in->f[x->si].type;
	if (yt != PLM_T_STR && yt != PLM_T_INT && yt != PLM_T_BOOL) {
		snprintf(err, errlen, "field '%s' (the true label) is %s: it "
			 "must be str, int or bool", x->label,
			 plm_type_name(yt, in->f[x->yi].dim, tn, sizeof tn));
		return -1;
	}
	if (st != PLM_T_FLOAT) {
		snprintf(err, errlen, "field '%s' (the score) is %s: it must "
			 "be float, P(positive) of a binary model", x->score,
			 plm_type_name(st, in->f[x->si].dim, tn, sizeof tn));
		return -1;
	}
	if (x->pi >= 0 && in->f[x->pi].type != PLM_T_STR &&
	    in->f[x->pi].type != PLM_T_INT) {
		snprintf(err, errlen, "field '%s' (the split, --split) must be "
			 "str or int", x->splitf);
		return -1;
	}
	return 0;
}

/* The bytes of a value as text (a str whole, not cut to buf). */
static const char *val_bytes(const plm_val *v, enum plm_type t, char *buf,
			     size_t cap, size_t *n)
{
	if (t == PLM_T_STR) {
		*n = v->n;
		return v->s;
	}
	plm_val_text(v, t, buf, cap);
	*n = strlen(buf);
	return buf;
}

static char *dup_bytes(const char *p, size_t n)
{
	char *d = plm_xrealloc(NULL, n + 1);
	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

static int is_pos(const char *text, size_t n, enum plm_type t,
		  const char *pos)
{
	if (t == PLM_T_BOOL && !strcmp(pos, "1"))
		pos = "true";
	if (t == PLM_T_BOOL && !strcmp(pos, "0"))
		pos = "false";
	return n == strlen(pos) && !memcmp(text, pos, n);
}

/* --apply: the input's fields plus score_cal. */
static int apply_section(void *vx, const plm_schema *in, plm_schema *out,
			 char *err, size_t errlen)
{
	struct ctx *x = vx;
	x->si = plm_schema_find(in, x->score);
	if (x->si < 0 || in->f[x->si].type != PLM_T_FLOAT) {
		snprintf(err, errlen, "%s '%s' in input (the score, --score: "
			 "float)", x->si < 0 ? "no field" : "not a float field",
			 x->score);
		return -1;
	}
	if (plm_schema_copy(out, in) ||
	    (x->ci = plm_schema_add(out, "score_cal", PLM_T_FLOAT, 0)) < 0 ||
	    plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0))
		plm_oom();
	if (x->ci == x->si) {
		snprintf(err, errlen, "the score field is score_cal, the field "
			 "--apply writes");
		return -1;
	}
	return 0;
}

static int apply_row(void *vx, const plm_val *in, plm_val *out, char *err,
		     size_t errlen)
{
	struct ctx *x = vx;
	memcpy(out, in, x->v->in->n * sizeof *out);
	double p = in[x->si].nil ? NAN : plm_calib_apply(x->apply, in[x->si].f);
	if (!in[x->si].nil && isnan(p)) {
		snprintf(err, errlen, "%s %.17g is not a probability in [0, 1]",
			 x->score, in[x->si].f);
		return PLM_VERB_FAIL;
	}
	out[x->ci] = isnan(p) ? plm_v_nil() : plm_v_float(p);
	return PLM_VERB_EMIT;
}

/* One record: checked and kept (score and label). */
static int row(void *vx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct ctx *x = vx;
	const plm_schema *s = x->v->in;
	char text[128];
	(void)out;
	if (in[x->yi].nil || in[x->si].nil) {
		snprintf(err, errlen, "%s is missing (nil)",
			 in[x->yi].nil ? x->label : x->score);
		return PLM_VERB_FAIL;
	}
	double sc = in[x->si].f;
	if (isnan(sc)) {
		snprintf(err, errlen, "%s is NaN", x->score);
		return PLM_VERB_FAIL;
	}
	size_t n;
	if (x->pi >= 0 && !in[x->pi].nil) {
		const char *sp = val_bytes(&in[x->pi], s->f[x->pi].type, text,
					   sizeof text, &n);
		if (!x->split) {
			x->split = dup_bytes(sp, n);
		} else if (n != strlen(x->split) || memcmp(sp, x->split, n)) {
			snprintf(err, errlen, "%s is '%.*s' but earlier records "
				 "are '%s': fit on one split (e.g. rec-filter "
				 "'%s==\"val\"')", x->splitf, (int)n, sp, x->split,
				 x->splitf);
			return PLM_VERB_FAIL;
		}
	}
	enum plm_type yt = s->f[x->yi].type;
	const char *lt = val_bytes(&in[x->yi], yt, text, sizeof text, &n);
	int pos = is_pos(lt, n, yt, x->pos);
	if (!pos) {
		if (!x->have_neg) {
			x->neg = dup_bytes(lt, n);
			x->negn = n;
			x->have_neg = 1;
		} else if (n != x->negn || memcmp(x->neg, lt, n)) {
			snprintf(err, errlen, "%s takes a third value '%.*s' "
				 "(besides --pos %s and '%s'): calibration is "
				 "binary", x->label, (int)n, lt, x->pos, x->neg);
			return PLM_VERB_FAIL;
		}
	}
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 1024;
		x->s = plm_xrealloc(x->s, x->cap * sizeof *x->s);
		x->y = plm_xrealloc(x->y, x->cap);
	}
	x->s[x->n] = sc;
	x->y[x->n++] = (unsigned char)pos;
	return PLM_VERB_SKIP;
}

static size_t count_pos(const struct ctx *x)
{
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++)
		k += x->y[i];
	return k;
}

/* Digest of the (score, label) pairs in input order: 9 bytes each, the
 * score's IEEE bits little-endian, then the label. */
static void digest(const struct ctx *x, char hex[33])
{
	unsigned char *b = plm_xrealloc(NULL, x->n * 9 + 1);
	for (size_t i = 0; i < x->n; i++) {
		uint64_t u;
		memcpy(&u, &x->s[i], 8);
		for (int k = 0; k < 8; k++)
			b[9 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
		b[9 * i + 8] = x->y[i];
	}
	plm_h128_hex(plm_seq_hash(b, x->n * 9), hex);
	free(b);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	struct ctx x = { .label = "label", .score = "score", .pos = "1",
			 .splitf = "split" };
	int method = 0, on = 0;
	const char *apply = NULL;
	const plm_opt opts[] = {
		PLM_CHOICE(0, "method", &method, "platt|isotonic", "Platt scaling (default) or isotonic regression", "platt|isotonic"),
		PLM_CHOICE(0, "on", &on, "logit|score", "fit on logit(score) (default) or on the score itself", "logit|score"),
		PLM_STR('y', "y", &x.label, "FIELD", "true label field (str, int or bool; default label)"),
		PLM_STR(0, "score", &x.score, "FIELD", "score field, float P(positive) (default score)"),
		PLM_STR(0, "pos", &x.pos, "VALUE", "the positive label (default 1)"),
		PLM_STR(0, "split", &x.splitf, "FIELD", "split field checked when present (default split)"),
		PLM_FLAG(0, "any-split", &x.any_split, "fit even on records whose split is train or test"),
		PLM_STR(0, "apply", &apply, "CAL", "instead: add score_cal, the calibrated score, to every record"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	char err[1024];
	int i = plm_start("mlp-calibrate", argc, argv, opts, operands, summary);
	const char *out_path = c.output;
	if (apply) {
		plm_calib cal;
		if (plm_calib_load(&cal, apply, err, sizeof err))
			plm_die("%s", err);
		x.apply = &cal;
		plm_verb av = { .common = &c, .ctx = &x,
				.section = apply_section, .row = apply_row };
		x.v = &av;
		plm_verb_run(&av, argc - i, argv + i);
		plm_calib_free(&cal);
		return 0;
	}
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .no_output = 1 };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (!x.n)
		plm_die("no records to fit on");
	if (x.split && !x.any_split &&
	    (!strcmp(x.split, "test") || !strcmp(x.split, "train")))
		plm_die("the records are the %s split: fit a calibrator on "
			"validation predictions (a calibrator fitted on %s "
			"data makes its evaluation optimistic); --any-split "
			"fits anyway", x.split, x.split);
	if (!x.have_neg || !count_pos(&x))
		plm_warn("only one class in %zu records: the calibrator maps "
			 "every score near its smoothed rate", x.n);
	plm_calib cal = { .method = method ? PLM_CAL_ISOTONIC : PLM_CAL_PLATT,
			  .on = on ? PLM_CAL_ON_SCORE : PLM_CAL_ON_LOGIT,
			  .split = x.split, .pos = (char *)x.pos };
	digest(&x, cal.digest);
	if (plm_calib_fit(&cal, x.s, x.y, x.n, err, sizeof err))
		plm_die("%s", err);
	char *text = plm_calib_json(&cal);
	if (!text)
		plm_oom();
	plm_out *o = plm_out_open(out_path, err, sizeof err);
	if (!o)
		plm_die("%s", err);
	if (plm_out_puts(o, text)) {
		plm_out_abort(o);
		plm_die("%s: write error", out_path ? out_path : "stdout");
	}
	if (plm_out_close(o, err, sizeof err))
		plm_die("%s", err);
	free(text);
	cal.split = cal.pos = NULL;
	plm_calib_free(&cal);
	free(x.split);
	free(x.neg);
	free(x.s);
	free(x.y);
	return 0;
}
