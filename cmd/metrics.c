/* metrics — metric panels of a classifier's predictions (man/metrics.1).
 *
 * Reads every row first (rankings need them all), then computes one panel
 * for all rows and one per value of --by (a "group"), optional stratified
 * bootstrap intervals, checks --require, writes plots and finally:
 *   group:str metric:str value:float lo:float hi:float n:int reason:str
 * Per-class and confusion rows are metrics named precision[class=a] and
 * confusion[true=a,pred=b].  The definitions live in lib/metrics.c
 * (include/plm/metrics.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/alloc.h"
#include "plm/calib.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/float.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/metrics.h"
#include "plm/rng.h"
#include "plm/stream.h"
#include "plm/svgplot.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"accuracy, F1, MCC, AUROC, AUPRC, log loss, ECE ... per group, "
	"with bootstrap intervals";

enum mode { BINARY = 1, MULTI_PROB, MULTI_PRED };

struct opts {
	const char *label, *score, *pred, *pos, *classes, *by, *plot_dir;
	const char *thr_arg;           /* "--threshold" when given, or NULL */
	const char *thr_from;          /* --threshold-from FILE */
	const char *calibrator;        /* --calibrator FILE */
	int tune_on_scored;            /* a rule chooses on these records */
	double threshold, ci;
	int rule;                      /* enum plm_thr_rule */
	long long bins, reps, seed;
	int skip_missing;
	plm_strlist require;
};

/* Rows kept in memory, column by column. */
struct data {
	enum mode mode;
	uint32_t k;                    /* classes (multi-class) */
	size_t n, cap;
	double *score;                 /* binary */
	unsigned char *y01;            /* binary: bit 0 label, bit 1 --pred */
	int bin_pred;                  /* binary with --pred */
	enum plm_type yt;              /* the label's type */
	uint32_t *y, *pred;            /* multi-class */
	double *prob;                  /* n × k (MULTI_PROB) */
	uint32_t *panel;               /* index into panels, with --by */
	plm_strmap *panels;            /* --by value text → index */
	plm_strmap *classes;           /* class name → index */
	plm_strmap *binvals;           /* binary: label (and --pred) value
					* text → 1 if it is --pos, else 0 */
	uint64_t skipped;
};

/* Field positions in the current section. */
struct bind {
	int yi, si, pi, bi;
	enum plm_type yt, st, pt, bt;
	uint32_t sdim;
};

/* Text of a key value (str, int, bool) into buf; returns its length. */
static size_t key_text(const plm_val *v, enum plm_type t, char *buf,
		       size_t len, const char **p)
{
	if (t == PLM_T_STR) {
		*p = v->s;
		return v->n;
	}
	*p = buf;
	if (t == PLM_T_BOOL)
		return (size_t)snprintf(buf, len, "%s", v->i ? "true" : "false");
	return (size_t)snprintf(buf, len, "%lld", (long long)v->i);
}

static int find_field(const plm_schema *s, const char *name, const char *what)
{
	int i = plm_schema_find(s, name);
	if (i < 0)
		plm_die_nofield(s, "no field '%s' in input (%s)", name, what);
	return i;
}

static void need_key_type(const plm_schema *s, int i, const char *what)
{
	char tn[64];
	enum plm_type t = s->f[i].type;
	if (t != PLM_T_STR && t != PLM_T_INT && t != PLM_T_BOOL)
		plm_die("field '%s' (%s) is %s: it must be str, int or bool",
			s->f[i].name, what,
			plm_type_name(t, s->f[i].dim, tn, sizeof tn));
}

/* Resolve fields in a (new section's) schema; the first call decides the
 * mode, later sections must keep the types. */
static void bind(struct bind *b, const plm_schema *s, const struct opts *o,
		 struct data *d, int first)
{
	char tn[64];
	struct bind nb = { -1, -1, -1, -1, 0, 0, 0, 0, 0 };
	const char *score = o->score, *pred = o->pred;
	if (!score && !pred && plm_schema_find(s, "score") < 0 &&
	    plm_schema_find(s, "pred") >= 0)
		pred = "pred";          /* predicted classes only */
	else if (!score)
		score = "score";
	nb.yi = find_field(s, o->label, "the true label, -y");
	need_key_type(s, nb.yi, "the true label");
	nb.yt = s->f[nb.yi].type;
	if (score) {
		nb.si = find_field(s, score, "the score, --score");
		nb.st = s->f[nb.si].type;
		nb.sdim = s->f[nb.si].dim;
		if (nb.st != PLM_T_FLOAT && nb.st != PLM_T_F32 &&
		    nb.st != PLM_T_F16 && nb.st != PLM_T_BF16)
			plm_die("field '%s' (the score) is %s: it must be float "
				"(binary) or f32[K] class probabilities", score,
				plm_type_name(nb.st, nb.sdim, tn, sizeof tn));
		if (nb.st != PLM_T_FLOAT && nb.sdim < 2)
			plm_die("field '%s' has %u class%s: need at least 2",
				score, nb.sdim, nb.sdim == 1 ? "" : "es");
	}
	if (pred) {
		nb.pi = find_field(s, pred, "the predicted class, --pred");
		need_key_type(s, nb.pi, "the predicted class");
		nb.pt = s->f[nb.pi].type;
		if (nb.pt != nb.yt)
			plm_die("field '%s' is %s but the label '%s' is %s: "
				"they must have one type", pred,
				plm_type_name(nb.pt, 0, tn, sizeof tn), o->label,
				plm_type_name(nb.yt, 0, tn + 32, sizeof tn - 32));
	}
	if (o->by) {
		nb.bi = find_field(s, o->by, "--by");
		need_key_type(s, nb.bi, "--by");
		nb.bt = s->f[nb.bi].type;
	}
	enum mode m = nb.si < 0 ? MULTI_PRED
		    : nb.st == PLM_T_FLOAT ? BINARY : MULTI_PROB;
	if (first) {
		d->mode = m;
		d->bin_pred = m == BINARY && nb.pi >= 0;
		d->yt = nb.yt;
		if (m == MULTI_PROB)
			d->k = nb.sdim;
	} else if (m != d->mode || nb.yt != b->yt || nb.st != b->st ||
		   nb.sdim != b->sdim || nb.pt != b->pt || nb.bt != b->bt) {
		plm_die("a later section changes the type of a field "
			"metrics reads");
	}
	*b = nb;
}

/* Class index of a label/pred value (multi-class). */
static uint32_t class_of(struct data *d, const plm_val *v, enum plm_type t,
			 const struct opts *o, uint64_t rec, const char *what)
{
	char buf[64];
	const char *p;
	size_t n = key_text(v, t, buf, sizeof buf, &p);
	if (d->mode == MULTI_PROB && !o->classes) {
		if (t == PLM_T_STR)
			plm_die("record %llu: str labels with class "
				"probabilities need --classes (the names of "
				"the %u columns)", (unsigned long long)rec, d->k);
		if (v->i < 0 || v->i >= (int64_t)d->k)
			plm_die("record %llu: %s %lld is not a class of "
				"f32[%u] (0..%u); give --classes",
				(unsigned long long)rec, what, (long long)v->i,
				d->k, d->k - 1);
		return (uint32_t)v->i;
	}
	if (d->mode == MULTI_PROB) {
		uint64_t *slot = plm_strmap_get(d->classes, p, n);
		if (!slot)
			plm_die("record %llu: %s '%.*s' is not one of --classes",
				(unsigned long long)rec, what, (int)n, p);
		return (uint32_t)*slot;
	}
	long c = plm_intern(d->classes, p, n, NULL);
	if (c < 0)
		plm_oom();
	return (uint32_t)c;
}

static int is_pos(const plm_val *v, enum plm_type t, const char *pos)
{
	if (t == PLM_T_STR)
		return v->n == strlen(pos) && memcmp(v->s, pos, v->n) == 0;
	long long x;
	if (t == PLM_T_BOOL) {
		x = !strcmp(pos, "true") ? 1 : !strcmp(pos, "false") ? 0 : -1;
		if (x < 0 && plm_strtoll(pos, 0, 1, &x))
			plm_die("--pos '%s': the label is bool (true/false)", pos);
	} else if (plm_strtoll(pos, INT64_MIN, INT64_MAX, &x)) {
		plm_die("--pos '%s': the label is int", pos);
	}
	return v->i == x;
}

/* Binary input counts every value but --pos as negative, which is only
 * right when there is a single other value: the values seen are kept to
 * check that (check_binvals). */
static void note_binval(struct data *d, const plm_val *v, enum plm_type t,
			int pos)
{
	char buf[64];
	const char *p;
	size_t n = key_text(v, t, buf, sizeof buf, &p);
	int added;
	uint64_t *slot = plm_strmap_put(d->binvals, p, n, &added);
	if (!slot)
		plm_die("out of memory");
	if (added)
		*slot = (uint64_t)pos;
}

static double vec_at(const plm_val *v, enum plm_type t, uint32_t j)
{
	const unsigned char *p = (const unsigned char *)v->s;
	if (t == PLM_T_F32) {
		float f;
		memcpy(&f, p + 4 * j, 4);
		return f;
	}
	uint16_t h = (uint16_t)(p[2 * j] | p[2 * j + 1] << 8);
	return t == PLM_T_F16 ? plm_f16_to_f32(h) : plm_bf16_to_f32(h);
}

static void grow(struct data *d)
{
	if (d->n < d->cap)
		return;
	d->cap = d->cap ? d->cap * 2 : 1024;
	d->panel = plm_xrealloc(d->panel, d->cap * sizeof *d->panel);
	if (d->mode == BINARY) {
		d->score = plm_xrealloc(d->score, d->cap * sizeof *d->score);
		d->y01 = plm_xrealloc(d->y01, d->cap);
	} else {
		d->y = plm_xrealloc(d->y, d->cap * sizeof *d->y);
		d->pred = plm_xrealloc(d->pred, d->cap * sizeof *d->pred);
	}
	if (d->mode == MULTI_PROB)
		d->prob = plm_xrealloc(d->prob, d->cap * d->k * sizeof *d->prob);
}

static void add_row(struct data *d, const struct bind *b, const plm_val *row,
		    const struct opts *o, uint64_t rec)
{
	const plm_val *yv = &row[b->yi];
	int miss = yv->nil || (b->si >= 0 && row[b->si].nil) ||
		   (b->pi >= 0 && row[b->pi].nil) || (b->bi >= 0 && row[b->bi].nil);
	if (miss) {
		const char *f = yv->nil ? o->label
			      : b->si >= 0 && row[b->si].nil ? "score"
			      : b->pi >= 0 && row[b->pi].nil ? "pred" : o->by;
		if (!o->skip_missing)
			plm_die("record %llu: %s is missing (nil); "
				"--skip-missing skips such records",
				(unsigned long long)rec, f);
		d->skipped++;
		return;
	}
	grow(d);
	size_t i = d->n;
	if (d->mode == BINARY) {
		double s = row[b->si].f;
		if (isnan(s))
			plm_die("record %llu: score is NaN", (unsigned long long)rec);
		d->score[i] = s;
		int yp = is_pos(yv, b->yt, o->pos);
		int pp = b->pi >= 0 && is_pos(&row[b->pi], b->pt, o->pos);
		d->y01[i] = (unsigned char)(yp | pp << 1);
		note_binval(d, yv, b->yt, yp);
		if (b->pi >= 0)
			note_binval(d, &row[b->pi], b->pt, pp);
	} else {
		d->y[i] = class_of(d, yv, b->yt, o, rec, "label");
	}
	if (d->mode == MULTI_PROB) {
		const plm_val *v = &row[b->si];
		double *p = d->prob + i * d->k;
		for (uint32_t j = 0; j < d->k; j++)
			if (isnan(p[j] = vec_at(v, b->st, j)))
				plm_die("record %llu: class probability %u is "
					"NaN", (unsigned long long)rec, j);
		d->pred[i] = b->pi >= 0
			? class_of(d, &row[b->pi], b->pt, o, rec, "pred")
			: plm_argmax(p, d->k);
	} else if (d->mode == MULTI_PRED) {
		d->pred[i] = class_of(d, &row[b->pi], b->pt, o, rec, "pred");
	}
	if (b->bi >= 0) {
		char buf[64], name[512];
		const char *p;
		size_t n = key_text(&row[b->bi], b->bt, buf, sizeof buf, &p);
		int len = snprintf(name, sizeof name, "%s=%.*s", o->by,
				   (int)n, p);
		if (len >= (int)sizeof name)
			plm_die("record %llu: --by value too long",
				(unsigned long long)rec);
		long pn = plm_intern(d->panels, name, (size_t)len, NULL);
		if (pn < 0)
			plm_oom();
		d->panel[i] = (uint32_t)pn;
	}
	d->n++;
}

/* ---- panels ------------------------------------------------------------- */

struct panel {
	const char *name;
	size_t n;
	plm_metrics m;
	/* per class (multi-class): PLM_PC_COUNT values and reasons each */
	double *pc;
	const char **pc_why;
	/* bootstrap, nv = PLM_M_COUNT + k * PLM_PC_COUNT entries */
	double *lo, *hi;
	size_t *undef;
	/* the panel's rows (binary sorted by score) */
	double *score;
	unsigned char *y01, *pred01;
	plm_mc mc;
	double *cm;
};

/* Everything one replicate reports, as one vector (plm_bootstrap_vec). */
struct evalctx {
	enum mode mode;
	const plm_bin *b;
	const plm_mc *mc;
};

static int eval_vec(const void *data, const double *w, double *v)
{
	const struct evalctx *e = data;
	plm_metrics m;
	if (e->mode == BINARY) {
		if (plm_bin_fn(e->b, w, &m))
			return -1;
		memcpy(v, m.v, sizeof m.v);
		return 0;
	}
	if (plm_mc_fn(e->mc, w, &m))
		return -1;
	memcpy(v, m.v, sizeof m.v);
	return plm_mc_per_class(e->mc, w, v + PLM_M_COUNT, NULL);
}

static void panel_rows(const struct data *d, struct panel *p, long which)
{
	size_t n = 0, k = d->k;
	for (size_t i = 0; i < d->n; i++)
		n += which < 0 || d->panel[i] == (uint32_t)which;
	p->n = n;
	if (d->mode == BINARY) {
		p->score = plm_xrealloc(NULL, n * sizeof *p->score);
		p->y01 = plm_xrealloc(NULL, n);
	} else {
		uint32_t *y = plm_xrealloc(NULL, n * sizeof *y);
		uint32_t *pr = plm_xrealloc(NULL, n * sizeof *pr);
		double *prob = d->prob ? plm_xrealloc(NULL, n * k * sizeof *prob) : NULL;
		size_t j = 0;
		for (size_t i = 0; i < d->n; i++) {
			if (which >= 0 && d->panel[i] != (uint32_t)which)
				continue;
			y[j] = d->y[i];
			pr[j] = d->pred[i];
			if (prob)
				memcpy(prob + j * k, d->prob + i * k, k * sizeof *prob);
			j++;
		}
		p->mc = (plm_mc){ n, d->k, y, pr, prob, NULL, 0 };
		if (plm_mc_prepare(&p->mc))
			plm_die("out of memory");
		return;
	}
	size_t j = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (which >= 0 && d->panel[i] != (uint32_t)which)
			continue;
		p->score[j] = d->score[i];
		p->y01[j++] = d->y01[i];
	}
	/* label and --pred travel together in one byte; split after */
	if (plm_bin_sort(p->score, p->y01, n))
		plm_die("out of memory");
	if (d->bin_pred) {
		p->pred01 = plm_xrealloc(NULL, n ? n : 1);
		for (size_t i = 0; i < n; i++) {
			p->pred01[i] = p->y01[i] >> 1;
			p->y01[i] &= 1;
		}
	}
}

static size_t panel_nv(const struct data *d)
{
	return PLM_M_COUNT + (d->mode == BINARY ? 0 : (size_t)d->k * PLM_PC_COUNT);
}

/* Name of value id of the bootstrap vector ("precision[class=a]"). */
static const char *value_name(size_t id, char **names, char *buf, size_t len)
{
	if (id < PLM_M_COUNT)
		return plm_metric_name((int)id);
	id -= PLM_M_COUNT;
	snprintf(buf, len, "%s[class=%s]", plm_pc_name((int)(id % PLM_PC_COUNT)),
		 names[id / PLM_PC_COUNT]);
	return buf;
}

/* Does value id of the vector go into the output? */
static int value_shown(const struct data *d, const struct panel *p, size_t id)
{
	if (id < PLM_M_COUNT)
		return p->m.has[id];
	return (id - PLM_M_COUNT) % PLM_PC_COUNT != PLM_PC_AUROC ||
	       d->mode == MULTI_PROB;
}

static void panel_eval(const struct data *d, struct panel *p,
		       const struct opts *o, char **names)
{
	plm_bin b = { p->score, p->y01, p->n, o->threshold, (int)o->bins,
		NULL, NULL, o->rule, p->pred01 };
	if (d->mode == BINARY && o->reps > 0 && plm_bin_prepare(&b))
		plm_die("out of memory");
	struct evalctx ctx = { d->mode, &b, &p->mc };
	size_t nv = panel_nv(d), k = d->k;
	p->lo = plm_xrealloc(NULL, nv * sizeof *p->lo);
	p->hi = plm_xrealloc(NULL, nv * sizeof *p->hi);
	p->undef = plm_xrealloc(NULL, nv * sizeof *p->undef);
	for (size_t id = 0; id < nv; id++) {
		p->lo[id] = p->hi[id] = NAN;
		p->undef[id] = 0;
	}
	if (d->mode == BINARY ? plm_bin_fn(&b, NULL, &p->m)
			      : plm_mc_fn(&p->mc, NULL, &p->m))
		plm_die("out of memory");
	if (d->mode != BINARY) {
		p->cm = plm_xrealloc(NULL, k * k * sizeof *p->cm);
		plm_confusion(&p->mc, NULL, p->cm);
		p->pc = plm_xrealloc(NULL, k * PLM_PC_COUNT * sizeof *p->pc);
		p->pc_why = plm_xrealloc(NULL, k * PLM_PC_COUNT * sizeof *p->pc_why);
		if (plm_mc_per_class(&p->mc, NULL, p->pc, p->pc_why))
			plm_die("out of memory");
	}
	/* stratified by the true class: every replicate keeps the panel's
	 * class counts, so a rare class never vanishes from a resample */
	uint32_t *strata = NULL;
	if (o->reps > 0 && p->n > 0) {
		if (d->mode == BINARY) {
			strata = plm_xrealloc(NULL, p->n * sizeof *strata);
			for (size_t i = 0; i < p->n; i++)
				strata[i] = p->y01[i];
		}
		if (plm_bootstrap_vec(&ctx, eval_vec, nv, p->n,
				      strata ? strata : p->mc.y, (uint64_t)o->seed,
				      (size_t)o->reps, o->ci, p->lo, p->hi, p->undef))
			plm_die("out of memory");
	}
	free(strata);
	plm_bin_free(&b);
	for (size_t id = 0; id < nv; id++) {
		char buf[600];
		double v = id < PLM_M_COUNT ? p->m.v[id] : p->pc[id - PLM_M_COUNT];
		const char *why = id < PLM_M_COUNT ? p->m.why[id]
				: p->pc_why[id - PLM_M_COUNT];
		if (!value_shown(d, p, id))
			continue;
		if (isnan(v)) {
			plm_warn("group %s: %s is undefined: %s (written as nil)",
				 p->name, value_name(id, names, buf, sizeof buf), why);
			p->lo[id] = p->hi[id] = NAN;
		} else if (o->reps > 0 && p->n > 0 && p->undef[id]) {
			plm_warn("group %s: %s undefined in %zu of %lld bootstrap "
				 "replicates; interval from the others", p->name,
				 value_name(id, names, buf, sizeof buf),
				 p->undef[id], o->reps);
		}
	}
}

/* --require: every named metric defined in every panel. */
static void check_required(const struct opts *o, struct panel *ps, size_t np,
			   enum mode mode)
{
	int bad = 0;
	for (size_t r = 0; r < o->require.n; r++) {
		char *list = strdup(o->require.v[r]), *save = NULL;
		if (!list)
			plm_die("out of memory");
		for (char *t = strtok_r(list, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			int id = plm_metric_find(t);
			for (size_t i = 0; i < np; i++) {
				if (!ps[i].m.has[id]) {
					plm_warn("--require %s: no such metric for %s "
						 "input", t, mode == BINARY ? "binary"
						 : mode == MULTI_PROB ? "multi-class"
						 : "predicted-class (no scores)");
					bad++;
					break;
				}
				if (isnan(ps[i].m.v[id])) {
					plm_warn("group %s: required metric %s is "
						 "undefined: %s", ps[i].name, t,
						 ps[i].m.why[id]);
					bad++;
				}
			}
		}
		free(list);
	}
	if (bad)
		plm_die("%d required metric%s undefined: no output written",
			bad, bad == 1 ? "" : "s");
}

/* The threshold a metrics run on the validation split chose or used:
 * the value of its row group=overall, metric=threshold. */
static double threshold_from(const char *path)
{
	char err[1024];
	char *paths[1] = { (char *)path };
	plm_recin *in = plm_recin_open(1, paths, err, sizeof err);
	if (!in)
		plm_die("--threshold-from: %s", err);
	const plm_val *row;
	int rc, found = 0, gi = -1, mi = -1, vi = -1, ri = -1;
	double t = NAN;
	char why[300] = "";
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("--threshold-from: %s", plm_recin_error(in));
		const plm_schema *s = plm_recin_schema(in);
		if (rc == PLM_HEADER || gi < 0) {
			gi = plm_schema_find(s, "group");
			mi = plm_schema_find(s, "metric");
			vi = plm_schema_find(s, "value");
			ri = plm_schema_find(s, "reason");
			if (gi < 0 || mi < 0 || vi < 0 ||
			    s->f[gi].type != PLM_T_STR ||
			    s->f[mi].type != PLM_T_STR ||
			    s->f[vi].type != PLM_T_FLOAT)
				plm_die("--threshold-from %s: not metrics output "
					"(no group:str, metric:str and value:float "
					"fields)", path);
			if (rc == PLM_HEADER)
				continue;
		}
		const plm_val *g = &row[gi], *m = &row[mi], *v = &row[vi];
		if (g->nil || m->nil || g->n != 7 || memcmp(g->s, "overall", 7) ||
		    m->n != 9 || memcmp(m->s, "threshold", 9))
			continue;
		found = 1;
		if (!v->nil)
			t = v->f;
		else if (ri >= 0 && !row[ri].nil)
			snprintf(why, sizeof why, ": %.*s", (int)row[ri].n,
				 row[ri].s);
		break;
	}
	plm_recin_close(in);
	if (!found)
		plm_die("--threshold-from %s: no threshold row in group "
			"overall (was it binary metrics output without "
			"--pred?)", path);
	if (isnan(t))
		plm_die("--threshold-from %s: the threshold is undefined%s",
			path, why);
	return t;
}

static void check_require_names(const plm_strlist *l)
{
	for (size_t r = 0; r < l->n; r++) {
		char *list = strdup(l->v[r]), *save = NULL;
		if (!list)
			plm_die("out of memory");
		for (char *t = strtok_r(list, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			if (plm_metric_find(t) < 0)
				plm_usage_die("--require: unknown metric '%s'", t);
		free(list);
	}
}

/* ---- plots -------------------------------------------------------------- */

static void plot_file(const char *dir, const char *panel, const char *kind,
		      const plm_plot *pl, const plm_series *s, size_t ns)
{
	char path[4096], err[512];
	int len = snprintf(path, sizeof path, "%s/", dir);
	for (const char *c = panel; *c && len < (int)sizeof path - 32; c++)
		path[len++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || strchr("._=-", *c) ? *c : '_';
	snprintf(path + len, sizeof path - (size_t)len, ".%s.svg", kind);
	plm_out *o = plm_out_open(path, err, sizeof err);
	if (!o)
		plm_die("%s", err);
	if (plm_svg_plot(o, pl, s, ns)) {
		plm_out_abort(o);
		plm_die("%s: write error", path);
	}
	if (plm_out_close(o, err, sizeof err))
		plm_die("%s", err);
}

static void plots_binary(const char *dir, struct panel *p, int bins)
{
	double *fpr = plm_xrealloc(NULL, (p->n + 1) * sizeof *fpr);
	double *tpr = plm_xrealloc(NULL, (p->n + 1) * sizeof *tpr);
	double *pre = plm_xrealloc(NULL, (p->n + 1) * sizeof *pre);
	double *rec = plm_xrealloc(NULL, (p->n + 1) * sizeof *rec);
	size_t k = plm_bin_curves(p->score, p->y01, p->n, fpr, tpr, pre, rec);
	char title[600];
	snprintf(title, sizeof title, "ROC — %s (AUROC %.4f)", p->name,
		 p->m.v[PLM_M_AUROC]);
	plm_series s = { fpr, tpr, k, NULL, 0 };
	plm_plot pl = { title, "false positive rate", "true positive rate",
		0, 1, 0, 1, 1 };
	plot_file(dir, p->name, "roc", &pl, &s, k ? 1 : 0);
	snprintf(title, sizeof title, "Precision-recall — %s (AUPRC %.4f)",
		 p->name, p->m.v[PLM_M_AP]);
	s = (plm_series){ rec, pre, k, NULL, 0 };
	pl = (plm_plot){ title, "recall", "precision", 0, 1, 0, 1, 0 };
	plot_file(dir, p->name, "pr", &pl, &s, k ? 1 : 0);

	double *cnt = plm_xrealloc(NULL, (size_t)bins * sizeof *cnt);
	double *mp = plm_xrealloc(NULL, (size_t)bins * sizeof *mp);
	double *fr = plm_xrealloc(NULL, (size_t)bins * sizeof *fr);
	plm_calibration(p->score, p->y01, p->n, bins, cnt, mp, fr);
	/* empty bins are left out, not drawn as gaps */
	size_t m = 0;
	for (int b = 0; b < bins; b++)
		if (cnt[b] > 0) {
			mp[m] = mp[b];
			fr[m++] = fr[b];
		}
	snprintf(title, sizeof title, "Calibration — %s (ECE %.4f)", p->name,
		 p->m.v[PLM_M_ECE]);
	s = (plm_series){ mp, fr, m, NULL, 1 };
	pl = (plm_plot){ title, "mean predicted probability",
		"fraction positive", 0, 1, 0, 1, 1 };
	plot_file(dir, p->name, "calibration", &pl, &s, 1);
	free(fpr); free(tpr); free(pre); free(rec);
	free(cnt); free(mp); free(fr);
}

/* One-vs-rest ROC and PR curves, one line per class. */
static void plots_multi(const char *dir, struct panel *p, char **names)
{
	size_t n = p->n, k = p->mc.k;
	double *buf = plm_xrealloc(NULL, 4 * k * (n + 1) * sizeof *buf);
	double *sc = plm_xrealloc(NULL, (n ? n : 1) * sizeof *sc);
	unsigned char *yy = plm_xrealloc(NULL, n ? n : 1);
	plm_series *roc = plm_xrealloc(NULL, k * sizeof *roc);
	plm_series *pr = plm_xrealloc(NULL, k * sizeof *pr);
	size_t nr = 0;
	for (size_t c = 0; c < k; c++) {
		double *f = buf + 4 * c * (n + 1), *t = f + n + 1;
		double *pp = t + n + 1, *rr = pp + n + 1;
		for (size_t i = 0; i < n; i++) {
			size_t row = p->mc.order[c * n + i];
			sc[i] = p->mc.prob[row * k + c];
			yy[i] = p->mc.y[row] == c;
		}
		size_t m = plm_bin_curves(sc, yy, n, f, t, pp, rr);
		if (!m)
			continue;
		roc[nr] = (plm_series){ f, t, m, names[c], 0 };
		pr[nr++] = (plm_series){ rr, pp, m, names[c], 0 };
	}
	char title[600];
	snprintf(title, sizeof title, "ROC one-vs-rest — %s", p->name);
	plm_plot pl = { title, "false positive rate", "true positive rate",
		0, 1, 0, 1, 1 };
	plot_file(dir, p->name, "roc", &pl, roc, nr);
	snprintf(title, sizeof title, "Precision-recall one-vs-rest — %s", p->name);
	pl = (plm_plot){ title, "recall", "precision", 0, 1, 0, 1, 0 };
	plot_file(dir, p->name, "pr", &pl, pr, nr);
	free(buf); free(sc); free(yy); free(roc); free(pr);
}

/* ---- output ------------------------------------------------------------- */

static void out_row(plm_verb *w, const char *group, const char *metric,
		    double v, double lo, double hi, size_t n, const char *why)
{
	plm_val vals[7] = {
		plm_v_str(group, strlen(group)),
		plm_v_str(metric, strlen(metric)),
		isnan(v) ? plm_v_nil() : plm_v_float(v),
		isnan(lo) ? plm_v_nil() : plm_v_float(lo),
		isnan(hi) ? plm_v_nil() : plm_v_float(hi),
		plm_v_int((int64_t)n),
		isnan(v) && why ? plm_v_str(why, strlen(why)) : plm_v_nil(),
	};
	plm_verb_emit(w, vals);
}

/* Binary rows after the metrics: the mark of a threshold chosen on the
 * records scored, and the probability metrics of the calibrated scores
 * (no intervals). */
static void extra_rows(plm_verb *v, const struct opts *o,
		       const struct panel *q, const plm_calib *cal)
{
	if (o->tune_on_scored)
		out_row(v, q->name, "threshold_tuned_on_scored", 1, NAN, NAN,
			q->n, NULL);
	if (!cal)
		return;
	double *cs = plm_xrealloc(NULL, (q->n ? q->n : 1) * sizeof *cs);
	for (size_t i = 0; i < q->n; i++)
		if (isnan(cs[i] = plm_calib_apply(cal, q->score[i])))
			plm_die("--calibrator: score %.17g is not a probability "
				"in [0, 1]", q->score[i]);
	plm_metrics m;
	if (plm_binary_eval(cs, q->y01, q->n, 0.5, (int)o->bins, &m))
		plm_oom();
	static const int ids[] = { PLM_M_ECE, PLM_M_BRIER, PLM_M_LOG_LOSS };
	for (size_t k = 0; k < sizeof ids / sizeof *ids; k++) {
		char name[64];
		snprintf(name, sizeof name, "%s_calibrated",
			 plm_metric_name(ids[k]));
		out_row(v, q->name, name, m.v[ids[k]], NAN, NAN, q->n,
			m.why[ids[k]]);
	}
	free(cs);
}

/* Order for panels and class names: numbers numerically, else bytewise. */
static int name_cmp(const char *a, const char *b)
{
	char *ea, *eb;
	const char *va = strchr(a, '='), *vb = strchr(b, '=');
	va = va ? va + 1 : a;
	vb = vb ? vb + 1 : b;
	errno = 0;
	long long x = strtoll(va, &ea, 10), y = strtoll(vb, &eb, 10);
	if (*va && *vb && !*ea && !*eb && !errno)
		return (x > y) - (x < y);
	return strcmp(a, b);
}

static const plm_strmap *sort_map;
static int idx_cmp(const void *a, const void *b)
{
	return name_cmp(plm_strmap_key(sort_map, *(const size_t *)a, NULL),
			plm_strmap_key(sort_map, *(const size_t *)b, NULL));
}

static size_t *sorted_keys(const plm_strmap *m)
{
	size_t n = plm_strmap_size(m), *o = plm_xrealloc(NULL, n * sizeof *o);
	for (size_t i = 0; i < n; i++)
		o[i] = i;
	sort_map = m;
	qsort(o, n, sizeof *o, idx_cmp);
	return o;
}

/* Binary: the labels (and --pred values) must be --pos and at most one
 * other value.  A third value (say -1 for "unknown" next to 0 and 1)
 * would silently count as negative; two values of which neither is --pos
 * (str labels without --pos) would make every record negative. */
static void check_binvals(const struct data *d, const struct opts *o)
{
	size_t n = plm_strmap_size(d->binvals), npos = 0;
	/* one class: metrics say what is undefined; but a str label that
	 * is never --pos is a misspelt --pos more likely than a test set
	 * without positives */
	if (n == 0 || (n == 1 && (d->yt != PLM_T_STR ||
				  *plm_strmap_val(d->binvals, 0))))
		return;
	size_t *ix = sorted_keys(d->binvals);
	char list[512], fields[300];
	size_t len = 0;
	const char *neg = NULL, *pos = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *k = plm_strmap_key(d->binvals, ix[i], NULL);
		if (*plm_strmap_val(d->binvals, ix[i])) {
			npos++;
			pos = k;
		} else if (!neg || !strcmp(k, "0")) {
			neg = k;        /* for the example: 0 if there is one */
		}
		if (len < sizeof list - 80)
			len += (size_t)snprintf(list + len, sizeof list - len,
						"%s%.60s", i ? ", " : "", k);
		else if (len < sizeof list - 4)
			len += (size_t)snprintf(list + len, sizeof list - len,
						", ...");
	}
	free(ix);
	if (o->pred)
		snprintf(fields, sizeof fields, "fields '%s' and '%s' take",
			 o->label, o->pred);
	else
		snprintf(fields, sizeof fields, "field '%s' takes", o->label);
	if (!npos)
		plm_die("%s the values %s, none of them the positive label "
			"(--pos %s): give --pos VALUE", fields, list, o->pos);
	if (n > 2 && o->pred)
		plm_die("%s %zu values (%s): binary metrics count --pos %s as "
			"positive and every other value as negative, so there "
			"must be only one other; filter or map the records "
			"first (rec-filter) or score them as multi-class",
			fields, n, list, o->pos);
	if (n > 2) {
		const char *q = d->yt == PLM_T_STR ? "\"" : "";
		plm_die("%s %zu values (%s): binary metrics count --pos %s as "
			"positive and every other value as negative, so there "
			"must be only one other; keep two first (e.g. rec-filter "
			"'%s==%s%s%s || %s==%s%s%s') or score them as "
			"multi-class", fields, n, list, o->pos, o->label, q, pos,
			q, o->label, q, neg, q);
	}
}

/* The report's fields; the input's meta goes on. */
static const plm_fieldspec cols[] = {
	{ "group", PLM_T_STR, 0 }, { "metric", PLM_T_STR, 0 },
	{ "value", PLM_T_FLOAT, 0 }, { "lo", PLM_T_FLOAT, 0 },
	{ "hi", PLM_T_FLOAT, 0 }, { "n", PLM_T_INT, 0 },
	{ "reason", PLM_T_STR, 0 },
};

struct run {
	const struct opts *o;
	struct data *d;
	struct bind b;
	const plm_verb *v;
	plm_schema out;         /* the first section's report fields */
};

static void parse_classes(struct data *d, const struct opts *o)
{
	if (d->mode == MULTI_PROB && o->classes) {
		char *list = plm_xstrdup(o->classes), *save = NULL;
		uint32_t k = 0;
		for (char *t = strtok_r(list, ",", &save); t;
		     t = strtok_r(NULL, ",", &save), k++) {
			int added;
			uint64_t *s = plm_strmap_put(d->classes, t, strlen(t), &added);
			if (!s)
				plm_oom();
			if (!added)
				plm_usage_die("--classes: '%s' given twice", t);
			*s = k;
		}
		free(list);
		if (k != d->k)
			plm_die("--classes names %u classes but '%s' is f32[%u]",
				k, o->score ? o->score : "score", d->k);
	} else if (o->classes) {
		plm_die("--classes applies to class-probability vectors only");
	}
}

/* Every section writes the first's report fields; later ones must keep
 * the types metrics reads. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct run *r = ctx;
	(void)err;
	(void)errlen;
	int first = !r->v->where;
	bind(&r->b, in, r->o, r->d, first);
	if (first) {
		parse_classes(r->d, r->o);
		if (plm_schema_fields(&r->out, in, cols,
				      sizeof cols / sizeof *cols,
				      r->o->reps > 0, (uint64_t)r->o->seed))
			return -1;
	}
	return plm_schema_copy(out, &r->out);
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct run *r = ctx;
	(void)out;
	(void)err;
	(void)errlen;
	add_row(r->d, &r->b, in, r->o, r->v->recno);
	return PLM_VERB_SKIP;
}

/* Pred-only classes get sorted names; renumber y and pred to match. */
static char **class_names(struct data *d)
{
	char **names = plm_xrealloc(NULL, (d->k ? d->k : 1) * sizeof *names);
	if (d->mode == MULTI_PRED) {
		d->k = (uint32_t)plm_strmap_size(d->classes);
		names = plm_xrealloc(names, (d->k ? d->k : 1) * sizeof *names);
		size_t *o = sorted_keys(d->classes);
		uint32_t *rank = plm_xrealloc(NULL, (d->k ? d->k : 1) * sizeof *rank);
		for (uint32_t r = 0; r < d->k; r++) {
			rank[o[r]] = r;
			names[r] = (char *)plm_strmap_key(d->classes, o[r], NULL);
		}
		for (size_t i = 0; i < d->n; i++) {
			d->y[i] = rank[d->y[i]];
			d->pred[i] = rank[d->pred[i]];
		}
		free(o);
		free(rank);
	} else if (plm_strmap_size(d->classes)) {
		for (uint32_t c = 0; c < d->k; c++)
			names[c] = (char *)plm_strmap_key(d->classes, c, NULL);
	} else {
		for (uint32_t c = 0; c < d->k; c++) {
			names[c] = plm_xrealloc(NULL, 16);
			snprintf(names[c], 16, "%u", c);
		}
	}
	return names;
}

/* All rows read: the panels, intervals, checks and plots, then the
 * report. */
static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	struct run *r = ctx;
	struct data *d = r->d;
	const struct opts *o = r->o;
	(void)err;
	(void)errlen;
	if (d->skipped)
		plm_warn("skipped %llu record%s with a missing value "
			 "(--skip-missing)", (unsigned long long)d->skipped,
			 d->skipped == 1 ? "" : "s");
	if (d->n == 0)
		plm_die("no records to evaluate");
	if (d->mode == BINARY)
		check_binvals(d, o);
	if (d->n > UINT32_MAX)
		plm_die("more than %u records", UINT32_MAX);
	char **names = d->mode == BINARY ? NULL : class_names(d);
	if (d->mode != BINARY && o->thr_arg)
		plm_die("--threshold applies to binary input (a float score); "
			"this input is multi-class");

	plm_calib cal = { .method = -1 };
	if (o->calibrator) {
		char cerr[1200];
		if (d->mode != BINARY)
			plm_die("--calibrator applies to binary input (a float "
				"score); this input is multi-class");
		if (plm_calib_load(&cal, o->calibrator, cerr, sizeof cerr))
			plm_die("--calibrator: %s", cerr);
		/* its probabilities are of its positive label */
		if (cal.pos && strcmp(cal.pos, o->pos))
			plm_die("--calibrator: %s was fitted with positive label "
				"'%s', the scores here are of '%s' (--pos)",
				o->calibrator, cal.pos, o->pos);
	}
	if (o->tune_on_scored)
		plm_warn("the threshold is chosen on the records scored "
			 "(--tune-on-scored): right on a validation split, "
			 "optimistic on a test split; the output says so in "
			 "its threshold_tuned_on_scored rows");

	size_t np = 1 + plm_strmap_size(d->panels);
	size_t *po = sorted_keys(d->panels);
	struct panel *ps = plm_xrealloc(NULL, np * sizeof *ps);
	memset(ps, 0, np * sizeof *ps);
	for (size_t p = 0; p < np; p++) {
		long which = p ? (long)po[p - 1] : -1;
		ps[p].name = p ? plm_strmap_key(d->panels, po[p - 1], NULL) : "overall";
		panel_rows(d, &ps[p], which);
		panel_eval(d, &ps[p], o, names);
	}
	check_required(o, ps, np, d->mode);

	if (o->plot_dir) {
		if (mkdir(o->plot_dir, 0777) && errno != EEXIST)
			plm_die("%s: %s", o->plot_dir, strerror(errno));
		for (size_t p = 0; p < np; p++) {
			if (d->mode == BINARY)
				plots_binary(o->plot_dir, &ps[p], (int)o->bins);
			else if (d->mode == MULTI_PROB)
				plots_multi(o->plot_dir, &ps[p], names);
		}
		if (d->mode == MULTI_PRED)
			plm_warn("--plot: no plots without class scores");
	}

	size_t nv = panel_nv(d);
	for (size_t p = 0; p < np; p++) {
		struct panel *q = &ps[p];
		char buf[1200];
		for (size_t id = 0; id < nv; id++) {
			if (!value_shown(d, q, id))
				continue;
			int m = id < PLM_M_COUNT;
			out_row(v, q->name, value_name(id, names, buf, sizeof buf),
				m ? q->m.v[id] : q->pc[id - PLM_M_COUNT],
				q->lo[id], q->hi[id], q->n,
				m ? q->m.why[id] : q->pc_why[id - PLM_M_COUNT]);
		}
		if (d->mode == BINARY)
			extra_rows(v, o, q, cal.method >= 0 ? &cal : NULL);
		for (uint32_t a = 0; d->mode != BINARY && a < d->k; a++)
			for (uint32_t b = 0; b < d->k; b++) {
				snprintf(buf, sizeof buf, "confusion[true=%s,pred=%s]",
					 names[a], names[b]);
				out_row(v, q->name, buf, q->cm[a * d->k + b],
					NAN, NAN, q->n, NULL);
			}
	}

	for (size_t p = 0; p < np; p++) {
		free(ps[p].score);
		free(ps[p].y01);
		free(ps[p].pred01);
		free(ps[p].cm);
		free(ps[p].pc);
		free(ps[p].pc_why);
		free(ps[p].lo);
		free(ps[p].hi);
		free(ps[p].undef);
		free((void *)ps[p].mc.y);
		free((void *)ps[p].mc.pred);
		free((void *)ps[p].mc.prob);
		plm_mc_free(&ps[p].mc);
	}
	if (names && d->mode == MULTI_PROB && !plm_strmap_size(d->classes))
		for (uint32_t k = 0; k < d->k; k++)
			free(names[k]);
	free(names);
	free(ps);
	free(po);
	if (cal.method >= 0)
		plm_calib_free(&cal);
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	struct opts o = { .label = "label", .pos = "1", .threshold = 0.5,
		.ci = 0.95, .bins = 10, .seed = PLM_DEFAULT_SEED };
	int rule = -1;                 /* enum plm_thr_rule; -1: not given */
	const plm_opt opts[] = {
		PLM_STR('y', "y", &o.label, "FIELD", "true label field (str, int or bool; default label)"),
		PLM_STR(0, "score", &o.score, "FIELD", "score field: float P(positive), or f32[K] class probabilities (default score)"),
		PLM_STR(0, "pred", &o.pred, "FIELD", "predicted class field (default pred when there is no score)"),
		PLM_STR(0, "pos", &o.pos, "VALUE", "the positive label (binary; default 1)"),
		PLM_STR(0, "classes", &o.classes, "LIST", "comma-separated class names of the f32[K] columns"),
		PLM_CHOICE_NUM(0, "threshold", &rule, &o.threshold, "X|youden|f1", "predict positive when score >= X (default 0.5); youden and f1 need --tune-on-scored", "#|youden|f1", 0, 0),
		PLM_STR(0, "threshold-from", &o.thr_from, "FILE", "the overall threshold row of FILE, metrics output on the validation split"),
		PLM_FLAG(0, "tune-on-scored", &o.tune_on_scored, "let --threshold youden|f1 choose on the records scored (marked in the output)"),
		PLM_STR(0, "calibrator", &o.calibrator, "CAL", "add ece, brier and log_loss of the scores calibrated by CAL (mlp-calibrate)"),
		PLM_INT(0, "bins", &o.bins, "N", "equal-width calibration bins for ECE (default 10)", 1, 10000),
		PLM_STR(0, "by", &o.by, "FIELD", "a group per value of FIELD, besides the overall one"),
		PLM_INT(0, "bootstrap", &o.reps, "N", "percentile intervals from N class-stratified resamples (0 = none)", 0, 1000000),
		PLM_INT(0, "seed", &o.seed, "S", "bootstrap seed (default 11)", 0, INT64_MAX),
		PLM_DBL(0, "ci", &o.ci, "X", "interval coverage (default 0.95)", 0, 1),
		PLM_LIST(0, "require", &o.require, "LIST", "fail unless these metrics are defined in every group"),
		PLM_FLAG(0, "skip-missing", &o.skip_missing, "skip (and count) records with a nil label, score, pred or --by value"),
		PLM_STR(0, "plot", &o.plot_dir, "DIR", "write SVG ROC, PR and calibration plots per group into DIR"),
		PLM_ALIAS(0, "plot-dir", "plot"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	int i = plm_start("metrics", argc, argv, opts, operands, summary);
	check_require_names(&o.require);
	if (rule >= 0) {
		o.rule = rule;
		o.thr_arg = "--threshold";
		if (o.pred)
			plm_usage_die("--threshold and --pred exclude each "
				      "other (--pred gives the predictions)");
	}
	if (rule > 0 && !o.tune_on_scored)
		plm_usage_die("--threshold %s would choose the threshold on "
			      "the records being scored, which makes every "
			      "metric that needs it optimistic: choose it on "
			      "the validation split (metrics --threshold %s "
			      "--tune-on-scored -o val.rec on the validation "
			      "records) and apply it here with --threshold-from "
			      "val.rec, give a number (--threshold X), or add "
			      "--tune-on-scored to choose here anyway (marked in "
			      "the output)", rule == PLM_THR_YOUDEN ? "youden"
			      : "f1", rule == PLM_THR_YOUDEN ? "youden" : "f1");
	if (o.tune_on_scored && rule <= 0)
		plm_usage_die("--tune-on-scored goes with --threshold youden "
			      "or f1");
	if (o.thr_from) {
		if (rule >= 0 || o.pred)
			plm_usage_die("--threshold-from excludes --threshold "
				      "and --pred");
		o.threshold = threshold_from(o.thr_from);
		o.thr_arg = "--threshold-from";
	}
	if (!(o.ci > 0 && o.ci < 1))
		plm_usage_die("--ci must be between 0 and 1 (exclusive)");
	struct data d = { 0 };
	d.panels = plm_strmap_new();
	d.classes = plm_strmap_new();
	d.binvals = plm_strmap_new();
	if (!d.panels || !d.classes || !d.binvals)
		plm_oom();
	struct run r = { .o = &o, .d = &d };
	plm_verb v = { .common = &c, .ctx = &r, .section = section,
		       .row = row, .finish = finish };
	r.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	free(d.score); free(d.y01); free(d.y); free(d.pred); free(d.prob);
	free(d.panel);
	free(o.require.v);
	plm_strmap_free(d.panels);
	plm_strmap_free(d.classes);
	plm_strmap_free(d.binvals);
	plm_schema_free(&r.out);
	return 0;
}
