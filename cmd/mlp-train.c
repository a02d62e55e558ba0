/* mlp-train — train an MLP classifier on a feature vector field
 * (man/mlp-train.1).
 *
 * Reads every train and val record into memory (features as f32), fits the
 * standardisation on the train rows, trains with minibatch SGD/Adam and
 * early stopping on the val loss, and writes one checkpoint
 * (lib/mlpckpt.c).  Records of any other split are counted and ignored.
 * The model maths lives in lib/mlp.c and lib/optim.c. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "plm/cli.h"
#include "plm/esm.h"
#include "plm/hash.h"
#include "plm/map.h"
#include "plm/metrics.h"
#include "plm/mlp.h"
#include "plm/mlpckpt.h"
#include "plm/optim.h"
#include "plm/recin.h"
#include "plm/rng.h"
#include "plm/stream.h"

static const char usage[] =
	"[-v] [--multilabel] [--nesterov] [--no-standardize] [--no-shuffle] "
	"[--preset NAME] [-x FIELD] [-y FIELD] [--id FIELD] "
	"[--split-field FIELD] [--train NAME] [--val NAME] [--pos VALUE] "
	"[--hidden LIST] [--act NAME] [--dropout P] [--opt NAME] [--lr X] "
	"[--momentum X] [--weight-decay X] [--sched NAME] [--step-size N] "
	"[--gamma X] [--epochs N] [--batch-size N] [--patience N] "
	"[--class-weight NAME] [--seed N] [--threads N] [--log FILE] "
	"-o MODEL [FILE ...]";
static const char summary[] =
	"train an MLP classifier (binary, multi-class, multi-label) on a "
	"feature vector field";

/* Options; NAN / -1 / NULL = not given (a preset may then fill it). */
struct opts {
	const char *x, *y, *id, *splitf, *train, *val, *pos, *hidden, *act;
	const char *opt, *sched, *cw, *preset, *out, *log;
	double dropout, lr, momentum, wd, gamma;
	long long step_size, epochs, bs, patience, seed, threads;
	int multilabel, nesterov, no_std, no_shuffle, verbose;
};

/* The training data, in memory. */
struct data {
	uint32_t d;                /* feature dim */
	enum plm_type xt;
	size_t n[2], cap[2];       /* 0 train, 1 val */
	float *x[2];               /* n × d */
	uint32_t **lab;            /* per split: label index (into labels) */
	uint32_t *mlo[2], *mln[2]; /* multilabel: offset/count into mll */
	uint32_t *mll;             /* multilabel: label indices */
	size_t nmll, capmll;
	uint64_t *ids[2];
	plm_strmap *labels;        /* label text → first-seen index */
	plm_strmap *other;         /* ignored split names → count */
	XXH3_state_t *dig[2];
	int yt;                    /* label type of the first section */
	int yt_set;
};

struct bind {
	int xi, yi, ii, si;
	enum plm_type yt, it;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		plm_die("out of memory");
	return q;
}

static void bind(struct bind *b, const plm_schema *s, const struct opts *o,
		 struct data *D, const char *src)
{
	char tn[64];
	b->xi = plm_schema_find(s, o->x);
	b->yi = plm_schema_find(s, o->y);
	b->ii = plm_schema_find(s, o->id);
	b->si = plm_schema_find(s, o->splitf);
	if (b->xi < 0)
		plm_die("%s: no field '%s' in input (the features, -x)", src, o->x);
	if (b->yi < 0)
		plm_die("%s: no field '%s' in input (the label, -y)", src, o->y);
	if (b->ii < 0)
		plm_die("%s: no field '%s' in input (the record id, --id)", src,
			o->id);
	if (b->si < 0)
		plm_die("%s: no field '%s' in input (the split, --split-field)",
			src, o->splitf);
	const plm_field *fx = &s->f[b->xi];
	if (fx->type != PLM_T_F32 && fx->type != PLM_T_F16 &&
	    fx->type != PLM_T_BF16)
		plm_die("%s: field '%s' is %s: the features must be f32[N], "
			"f16[N] or bf16[N]", src, o->x,
			plm_type_name(fx->type, fx->dim, tn, sizeof tn));
	if (D->d && fx->dim != D->d)
		plm_die("%s: field '%s' is %s but earlier records had %u "
			"features: mixed dimensions", src, o->x,
			plm_type_name(fx->type, fx->dim, tn, sizeof tn), D->d);
	D->d = fx->dim;
	D->xt = fx->type;
	b->yt = s->f[b->yi].type;
	if (b->yt != PLM_T_STR && (o->multilabel || b->yt != PLM_T_INT))
		plm_die("%s: field '%s' is %s: the label must be %s", src, o->y,
			plm_type_name(b->yt, s->f[b->yi].dim, tn, sizeof tn),
			o->multilabel ? "str (comma-separated names)"
				      : "int or str");
	if (D->yt_set && (int)b->yt != D->yt)
		plm_die("%s: field '%s' changes type between sections", src,
			o->y);
	D->yt = b->yt;
	D->yt_set = 1;
	b->it = s->f[b->ii].type;
	if (b->it != PLM_T_STR && b->it != PLM_T_INT)
		plm_die("%s: field '%s' (the id) must be str or int", src, o->id);
	if (s->f[b->si].type != PLM_T_STR)
		plm_die("%s: field '%s' (the split) must be str", src, o->splitf);
}

/* Text of an int or str value. */
static size_t val_text(const plm_val *v, enum plm_type t, char *buf,
		       size_t len, const char **p)
{
	if (t == PLM_T_STR) {
		*p = v->s;
		return v->n;
	}
	*p = buf;
	return (size_t)snprintf(buf, len, "%lld", (long long)v->i);
}

static uint32_t label_index(struct data *D, const char *p, size_t n)
{
	int added;
	uint64_t *slot = plm_strmap_put(D->labels, p, n, &added);
	if (!slot)
		plm_die("out of memory");
	if (added)
		*slot = plm_strmap_size(D->labels) - 1;
	return (uint32_t)*slot;
}

static void digest_part(XXH3_state_t *st, const void *p, size_t n)
{
	uint64_t len = n;   /* little-endian host (see mlpckpt.c) */
	XXH3_128bits_update(st, &len, 8);
	XXH3_128bits_update(st, p, n);
}

static void add_row(struct data *D, const struct bind *b, const plm_val *row,
		    const struct opts *o, uint64_t rec)
{
	const plm_val *sv = &row[b->si];
	if (sv->nil)
		plm_die("record %llu: field '%s' (the split) is missing",
			(unsigned long long)rec, o->splitf);
	int k = sv->n == strlen(o->train) && !memcmp(sv->s, o->train, sv->n)
		? 0 : sv->n == strlen(o->val) && !memcmp(sv->s, o->val, sv->n)
		? 1 : -1;
	if (k < 0) {
		int added;
		uint64_t *c = plm_strmap_put(D->other, sv->s, sv->n, &added);
		if (!c)
			plm_die("out of memory");
		++*c;
		return;
	}
	const char *miss = row[b->xi].nil ? o->x : row[b->yi].nil ? o->y
			 : row[b->ii].nil ? o->id : NULL;
	if (miss)
		plm_die("record %llu: field '%s' is missing (nil)",
			(unsigned long long)rec, miss);
	if (D->n[k] == D->cap[k]) {
		D->cap[k] = D->cap[k] ? 2 * D->cap[k] : 1024;
		D->x[k] = xrealloc(D->x[k], D->cap[k] * D->d * sizeof(float));
		D->lab[k] = xrealloc(D->lab[k], D->cap[k] * sizeof(uint32_t));
		D->ids[k] = xrealloc(D->ids[k], D->cap[k] * sizeof(uint64_t));
		D->mlo[k] = xrealloc(D->mlo[k], D->cap[k] * sizeof(uint32_t));
		D->mln[k] = xrealloc(D->mln[k], D->cap[k] * sizeof(uint32_t));
	}
	size_t i = D->n[k]++;
	float *x = D->x[k] + i * D->d;
	plm_vec_to_f32(&row[b->xi], D->xt, D->d, x);
	for (uint32_t j = 0; j < D->d; j++)
		if (!isfinite(x[j]))
			plm_die("record %llu: feature %u of '%s' is not finite",
				(unsigned long long)rec, j, o->x);
	char ib[32], lb[32];
	const char *ip, *lp;
	size_t in = val_text(&row[b->ii], b->it, ib, sizeof ib, &ip);
	size_t ln = val_text(&row[b->yi], b->yt, lb, sizeof lb, &lp);
	D->ids[k][i] = plm_key_hash(ip, in);
	digest_part(D->dig[k], ip, in);
	digest_part(D->dig[k], row[b->xi].s, row[b->xi].n);
	digest_part(D->dig[k], lp, ln);
	if (!o->multilabel) {
		D->lab[k][i] = label_index(D, lp, ln);
		return;
	}
	/* multi-label: comma-separated names; "" = none */
	D->mlo[k][i] = (uint32_t)D->nmll;
	D->mln[k][i] = 0;
	for (size_t s = 0; s < ln;) {
		const char *c = memchr(lp + s, ',', ln - s);
		size_t e = c ? (size_t)(c - lp) : ln;
		if (e == s)
			plm_die("record %llu: empty name in label '%.*s'",
				(unsigned long long)rec, (int)ln, lp);
		if (D->nmll == D->capmll) {
			D->capmll = D->capmll ? 2 * D->capmll : 1024;
			D->mll = xrealloc(D->mll, D->capmll * sizeof *D->mll);
		}
		D->mll[D->nmll++] = label_index(D, lp + s, e - s);
		D->mln[k][i]++;
		s = c ? e + 1 : ln;
	}
}

static void load(struct data *D, const struct opts *o, int nfile, char **files)
{
	char err[1024];
	struct bind b;
	const plm_val *row;
	plm_recin *r = plm_recin_open(nfile, files, err, sizeof err);
	if (!r)
		plm_die("%s", err);
	D->lab = xrealloc(NULL, 2 * sizeof *D->lab);
	D->lab[0] = D->lab[1] = NULL;
	bind(&b, plm_recin_schema(r), o, D, plm_recin_name(r));
	int rc;
	while ((rc = plm_recin_next(r, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(r));
		if (rc == PLM_HEADER) {
			bind(&b, plm_recin_schema(r), o, D, plm_recin_name(r));
			continue;
		}
		add_row(D, &b, row, o, plm_recin_recno(r));
	}
	plm_recin_close(r);
}

/* ---- labels ------------------------------------------------------------ */

static const plm_strmap *sort_map;
static int sort_int;

static int cmp_label(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	size_t ni, nj;
	const char *si = plm_strmap_key(sort_map, i, &ni);
	const char *sj = plm_strmap_key(sort_map, j, &nj);
	if (sort_int) {
		long long x = strtoll(si, NULL, 10), y = strtoll(sj, NULL, 10);
		return x < y ? -1 : x > y;
	}
	int c = memcmp(si, sj, ni < nj ? ni : nj);
	return c ? c : ni < nj ? -1 : ni > nj;
}

struct classes {
	uint32_t k;
	char **names;
	uint32_t *of;      /* label index → class, UINT32_MAX: not in train */
	int pos;
};

/* Classes = the labels of the training rows, sorted (ints numerically). */
static void make_classes(struct data *D, struct classes *C,
			 const struct opts *o)
{
	size_t nl = plm_strmap_size(D->labels);
	unsigned char *seen = xrealloc(NULL, nl);
	memset(seen, 0, nl);
	for (size_t i = 0; i < D->n[0]; i++) {
		if (!o->multilabel)
			seen[D->lab[0][i]] = 1;
		else
			for (uint32_t j = 0; j < D->mln[0][i]; j++)
				seen[D->mll[D->mlo[0][i] + j]] = 1;
	}
	uint32_t *idx = xrealloc(NULL, (nl ? nl : 1) * sizeof *idx);
	C->k = 0;
	for (size_t i = 0; i < nl; i++)
		if (seen[i])
			idx[C->k++] = (uint32_t)i;
	sort_map = D->labels;
	sort_int = D->yt == PLM_T_INT;
	qsort(idx, C->k, sizeof *idx, cmp_label);
	C->names = xrealloc(NULL, (C->k ? C->k : 1) * sizeof *C->names);
	C->of = xrealloc(NULL, (nl ? nl : 1) * sizeof *C->of);
	for (size_t i = 0; i < nl; i++)
		C->of[i] = UINT32_MAX;
	for (uint32_t c = 0; c < C->k; c++) {
		C->names[c] = (char *)plm_strmap_key(D->labels, idx[c], NULL);
		C->of[idx[c]] = c;
	}
	for (size_t i = 0; i < nl; i++)
		if (!seen[i])
			plm_die("label '%s' occurs in the %s records but not in "
				"the %s records", plm_strmap_key(D->labels, i, NULL),
				o->val, o->train);
	if (!o->multilabel && C->k < 2)
		plm_die("the %s records have %u class%s: need at least 2",
			o->train, C->k, C->k == 1 ? "" : "es");
	if (o->multilabel && C->k < 1)
		plm_die("the %s records have no labels", o->train);
	C->pos = -1;
	if (!o->multilabel && C->k == 2) {
		C->pos = 1;
		if (o->pos) {
			C->pos = !strcmp(o->pos, C->names[1]) ? 1
			       : !strcmp(o->pos, C->names[0]) ? 0 : -1;
			if (C->pos < 0)
				plm_usage_die("--pos '%s' is not a class (%s, %s)",
					      o->pos, C->names[0], C->names[1]);
		}
	} else if (o->pos) {
		plm_usage_die("--pos applies to two classes only");
	}
	free(seen);
	free(idx);
}

/* Targets in the layout plm_mlp_loss wants, and row weights. */
static float *targets(const struct data *D, const struct classes *C, int k,
		      enum plm_head head)
{
	size_t n = D->n[k], K = head == PLM_HEAD_MULTILABEL ? C->k : 1;
	float *t = xrealloc(NULL, (n ? n : 1) * K * sizeof *t);
	for (size_t i = 0; i < n; i++) {
		if (head == PLM_HEAD_MULTILABEL) {
			memset(t + i * K, 0, K * sizeof *t);
			for (uint32_t j = 0; j < D->mln[k][i]; j++)
				t[i * K + C->of[D->mll[D->mlo[k][i] + j]]] = 1;
			continue;
		}
		uint32_t c = C->of[D->lab[k][i]];
		t[i] = head == PLM_HEAD_BINARY ? (float)(c == (uint32_t)C->pos)
					       : (float)c;
	}
	return t;
}

/* --class-weight balanced: n / (K n_c), as scikit-learn. */
static float *row_weights(const struct data *D, const struct classes *C,
			  int k)
{
	double *cnt = xrealloc(NULL, C->k * sizeof *cnt);
	memset(cnt, 0, C->k * sizeof *cnt);
	for (size_t i = 0; i < D->n[0]; i++)
		cnt[C->of[D->lab[0][i]]]++;
	float *w = xrealloc(NULL, (D->n[k] ? D->n[k] : 1) * sizeof *w);
	for (size_t i = 0; i < D->n[k]; i++)
		w[i] = (float)(D->n[0] / (C->k * cnt[C->of[D->lab[k][i]]]));
	free(cnt);
	return w;
}

/* Mean and population std of the training rows (std 0 → 1, like
 * scikit-learn's StandardScaler), in double. */
static void fit_scale(plm_mlp *m, const struct data *D)
{
	uint32_t d = D->d;
	size_t n = D->n[0];
	double *mu = xrealloc(NULL, d * sizeof *mu);
	double *ss = xrealloc(NULL, d * sizeof *ss);
	memset(mu, 0, d * sizeof *mu);
	memset(ss, 0, d * sizeof *ss);
	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < d; j++)
			mu[j] += D->x[0][i * d + j];
	for (uint32_t j = 0; j < d; j++)
		mu[j] /= (double)n;
	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < d; j++) {
			double e = D->x[0][i * d + j] - mu[j];
			ss[j] += e * e;
		}
	if (plm_mlp_alloc_norm(m))
		plm_die("out of memory");
	for (uint32_t j = 0; j < d; j++) {
		double sd = sqrt(ss[j] / (double)n);
		m->mean[j] = (float)mu[j];
		m->std[j] = sd > 0 && (float)sd > 0 ? (float)sd : 1.0f;
	}
	free(mu);
	free(ss);
}

/* ---- training ---------------------------------------------------------- */

struct split {
	size_t n;
	float *x, *t, *w;      /* features, targets, row weights (or NULL) */
};

struct epoch_stats {
	double train_loss, val_loss, acc, f1, prec, rec, auroc;
};

/* Validation loss and metrics (no dropout). */
static void evaluate(const plm_mlp *m, plm_mlp_work *w, size_t maxb,
		     const struct split *v, struct epoch_stats *es)
{
	uint32_t K = m->dim[m->nl];
	size_t n = v->n;
	float *pr = xrealloc(NULL, n * K * sizeof *pr);
	double sl = 0, sw = 0;
	for (size_t s = 0; s < n; s += maxb) {
		size_t B = n - s < maxb ? n - s : maxb;
		const float *z = plm_mlp_forward(m, w, v->x + s * m->dim[0], B, NULL);
		size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1;
		double bw = 0;
		for (size_t i = 0; i < B; i++)
			bw += v->w ? v->w[s + i] : 1.0;
		sl += bw * plm_mlp_loss(m, z, B, v->t + s * tk,
					v->w ? v->w + s : NULL, NULL);
		sw += bw;
		memcpy(pr + s * K, z, B * K * sizeof *pr);
	}
	es->val_loss = sl / sw;
	plm_mlp_probs(m, pr, n);
	plm_metrics mt;
	int bad = 0;
	if (m->head == PLM_HEAD_MULTI) {
		double *p = xrealloc(NULL, n * K * sizeof *p);
		uint32_t *y = xrealloc(NULL, n * sizeof *y);
		uint32_t *pd = xrealloc(NULL, n * sizeof *pd);
		for (size_t i = 0; i < n * K; i++)
			p[i] = pr[i];
		for (size_t i = 0; i < n; i++) {
			y[i] = (uint32_t)v->t[i];
			pd[i] = plm_argmax(p + i * K, K);
		}
		plm_mc d = { .n = n, .k = K, .y = y, .pred = pd, .prob = p };
		bad = plm_mc_prepare(&d) || plm_metrics_multi(&d, NULL, &mt);
		plm_mc_free(&d);
		free(p);
		free(y);
		free(pd);
		es->acc = mt.v[PLM_M_ACCURACY];
		es->f1 = mt.v[PLM_M_F1_MACRO];
		es->prec = mt.v[PLM_M_PRECISION_MACRO];
		es->rec = mt.v[PLM_M_RECALL_MACRO];
		es->auroc = mt.v[PLM_M_AUROC_OVR];
	} else {
		/* binary, or multi-label pooled over all (row, label) pairs */
		size_t nn = n * K;
		double *s = xrealloc(NULL, nn * sizeof *s);
		unsigned char *y = xrealloc(NULL, nn);
		for (size_t i = 0; i < nn; i++) {
			s[i] = pr[i];
			y[i] = v->t[i] > 0.5f;
		}
		bad = plm_binary_eval(s, y, nn, 0.5, 10, &mt);
		free(s);
		free(y);
		es->acc = mt.v[PLM_M_ACCURACY];
		es->f1 = mt.v[PLM_M_F1];
		es->prec = mt.v[PLM_M_PRECISION];
		es->rec = mt.v[PLM_M_RECALL];
		es->auroc = mt.v[PLM_M_AUROC];
	}
	if (bad)
		plm_die("out of memory");
	free(pr);
}

static plm_val fval(double x)
{
	return isnan(x) ? plm_v_nil() : plm_v_float(x);
}

static const char *const log_cols[] = {
	"epoch", "train_loss", "val_loss", "val_acc", "f1", "precision",
	"recall", "auroc", "lr", "seconds",
};

static plm_writer *log_open(const char *path, uint64_t seed)
{
	char err[512];
	plm_schema s;
	plm_schema_init(&s);
	for (size_t i = 0; i < sizeof log_cols / sizeof *log_cols; i++)
		plm_schema_add(&s, log_cols[i], i ? PLM_T_FLOAT : PLM_T_INT, 0);
	plm_schema_add_prov(&s, plm_tool(), PLM_VERSION, plm_argc(),
			    plm_argv(), 1, seed);
	plm_writer *w = plm_writer_open(path, 1, &s, err, sizeof err);
	plm_schema_free(&s);
	if (!w)
		plm_die("%s", err);
	return w;
}

struct fit {
	uint32_t epochs, best_epoch;
	double best_val_loss;
};

static void train(plm_mlp *m, const struct split *tr, const struct split *va,
		  const struct opts *o, plm_optim *opt, const plm_sched *sch,
		  struct fit *fit)
{
	uint32_t d = m->dim[0], K = m->dim[m->nl];
	size_t tk = m->head == PLM_HEAD_MULTILABEL ? K : 1;
	size_t bs = (size_t)o->bs, maxb = bs > 256 ? bs : 256;
	plm_mlp_work *w = plm_mlp_work_new(m, maxb);
	float *xb = xrealloc(NULL, bs * d * sizeof *xb);
	float *tb = xrealloc(NULL, bs * tk * sizeof *tb);
	float *wb = xrealloc(NULL, bs * sizeof *wb);
	float *dz = xrealloc(NULL, bs * K * sizeof *dz);
	float *grad = xrealloc(NULL, m->nparam * sizeof *grad);
	float *best = xrealloc(NULL, m->nparam * sizeof *best);
	uint32_t *order = xrealloc(NULL, tr->n * sizeof *order);
	plm_rng rs, rd;
	/* separate streams: changing dropout does not change the order */
	plm_rng_seed(&rs, (uint64_t)o->seed + 1);
	plm_rng_seed(&rd, (uint64_t)o->seed + 2);
	if (!w)
		plm_die("out of memory");
	for (size_t i = 0; i < tr->n; i++)
		order[i] = (uint32_t)i;
	plm_writer *lw = o->log ? log_open(o->log, (uint64_t)o->seed) : NULL;
	fit->epochs = fit->best_epoch = 0;
	fit->best_val_loss = NAN;
	int bad = 0;
	for (int e = 0; e < o->epochs; e++) {
		double t0 = plm_now(), lr = plm_sched_lr(sch, e), sum = 0;
		if (!o->no_shuffle)
			plm_rng_shuffle(&rs, order, tr->n, sizeof *order);
		for (size_t s = 0; s < tr->n; s += bs) {
			size_t B = tr->n - s < bs ? tr->n - s : bs;
			for (size_t i = 0; i < B; i++) {
				size_t r = order[s + i];
				memcpy(xb + i * d, tr->x + r * d, d * sizeof *xb);
				memcpy(tb + i * tk, tr->t + r * tk, tk * sizeof *tb);
				if (tr->w)
					wb[i] = tr->w[r];
			}
			const float *z = plm_mlp_forward(m, w, xb, B, &rd);
			double l = plm_mlp_loss(m, z, B, tb, tr->w ? wb : NULL, dz);
			plm_mlp_backward(m, w, xb, B, dz, grad);
			plm_optim_step(opt, m->param, grad, lr);
			sum += l * (double)B;
		}
		struct epoch_stats es = { sum / (double)tr->n, NAN, NAN, NAN,
					  NAN, NAN, NAN };
		if (!isfinite(es.train_loss))
			plm_die("epoch %d: the training loss is %g: training "
				"diverged (try a lower --lr)", e + 1,
				es.train_loss);
		if (va->n)
			evaluate(m, w, maxb, va, &es);
		double secs = plm_now() - t0;
		fit->epochs = (uint32_t)e + 1;
		if (lw) {
			plm_val row[] = {
				plm_v_int(e + 1), fval(es.train_loss),
				fval(es.val_loss), fval(es.acc), fval(es.f1),
				fval(es.prec), fval(es.rec), fval(es.auroc),
				fval(lr), fval(secs),
			};
			if (plm_writer_row(lw, row))
				plm_die("%s", plm_writer_error(lw));
		}
		if (o->verbose)
			plm_warn("epoch %d: train_loss %.6g val_loss %.6g "
				 "val_acc %.4g f1 %.4g auroc %.4g lr %.6g "
				 "%.2fs", e + 1, es.train_loss, es.val_loss,
				 es.acc, es.f1, es.auroc, lr, secs);
		if (!va->n)
			continue;
		/* early stopping: strict improvement of the val loss */
		if (isnan(fit->best_val_loss) || es.val_loss < fit->best_val_loss) {
			fit->best_val_loss = es.val_loss;
			fit->best_epoch = (uint32_t)e + 1;
			memcpy(best, m->param, m->nparam * sizeof *best);
			bad = 0;
		} else if (o->patience > 0 && ++bad >= o->patience) {
			break;
		}
	}
	if (o->patience > 0 && fit->best_epoch)
		memcpy(m->param, best, m->nparam * sizeof *best);
	if (lw) {
		char err[512];
		if (plm_writer_close(lw, err, sizeof err))
			plm_die("%s", err);
	}
	plm_mlp_work_free(w);
	free(xb);
	free(tb);
	free(wb);
	free(dz);
	free(grad);
	free(best);
	free(order);
}

/* ---- options ----------------------------------------------------------- */

static void preset(struct opts *o)
{
	if (!o->preset)
		return;
	if (strcmp(o->preset, "viral-host"))
		plm_usage_die("--preset '%s': known presets: viral-host",
			      o->preset);
	/* the viral-vs-host workflow: 2048 -> 512 -> 1, SGD lr 2e-4
	 * momentum 0.9, StepLR(10, 0.85), early stopping patience 7 */
	if (!o->hidden) o->hidden = "512";
	if (!o->opt) o->opt = "sgd";
	if (isnan(o->lr)) o->lr = 2e-4;
	if (isnan(o->momentum)) o->momentum = 0.9;
	if (!o->sched) o->sched = "step";
	if (o->step_size < 0) o->step_size = 10;
	if (isnan(o->gamma)) o->gamma = 0.85;
	if (o->patience < 0) o->patience = 7;
	if (o->epochs < 0) o->epochs = 100;
	if (o->bs < 0) o->bs = 32;
}

static void defaults(struct opts *o)
{
	if (!o->hidden) o->hidden = "512";
	if (!o->act) o->act = "relu";
	if (!o->opt) o->opt = "adam";
	if (isnan(o->lr)) o->lr = 1e-3;
	if (isnan(o->momentum)) o->momentum = 0;
	if (isnan(o->wd)) o->wd = 0;
	if (isnan(o->dropout)) o->dropout = 0;
	if (!o->sched) o->sched = "none";
	if (o->step_size < 0) o->step_size = 10;
	if (isnan(o->gamma)) o->gamma = 0.1;
	if (o->patience < 0) o->patience = 10;
	if (o->epochs < 0) o->epochs = 100;
	if (o->bs < 0) o->bs = 64;
	if (!o->cw) o->cw = "none";
}

static uint32_t parse_hidden(const char *s, uint32_t *dim)
{
	uint32_t n = 0;
	if (!strcmp(s, "none") || !*s)
		return 0;
	char *buf = xrealloc(NULL, strlen(s) + 1), *save, *tok;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long long v;
		if (plm_strtoll(tok, 1, 1 << 20, &v))
			plm_usage_die("--hidden '%s': sizes must be integers "
				      "1..%d", s, 1 << 20);
		if (n + 2 > PLM_MLP_MAXL)
			plm_usage_die("--hidden '%s': at most %d hidden layers",
				      s, PLM_MLP_MAXL - 1);
		dim[1 + n++] = (uint32_t)v;
	}
	free(buf);
	return n;
}

/* The resolved settings, for the checkpoint's "args". */
static char **settings(const struct opts *o, size_t *n)
{
	static char buf[24][64];
	static char *kv[48];
	size_t i = 0;
#define S(k, ...) do { kv[2 * i] = k; snprintf(buf[i], 64, __VA_ARGS__); \
	kv[2 * i + 1] = buf[i]; i++; } while (0)
	S("preset", "%s", o->preset ? o->preset : "");
	S("hidden", "%s", o->hidden);
	S("act", "%s", o->act);
	S("dropout", "%.17g", o->dropout);
	S("opt", "%s", o->opt);
	S("lr", "%.17g", o->lr);
	S("momentum", "%.17g", o->momentum);
	S("nesterov", "%d", o->nesterov);
	S("weight_decay", "%.17g", o->wd);
	S("sched", "%s", o->sched);
	S("step_size", "%lld", o->step_size);
	S("gamma", "%.17g", o->gamma);
	S("epochs", "%lld", o->epochs);
	S("batch_size", "%lld", o->bs);
	S("patience", "%lld", o->patience);
	S("class_weight", "%s", o->cw);
	S("standardize", "%d", !o->no_std);
	S("shuffle", "%d", !o->no_shuffle);
	S("multilabel", "%d", o->multilabel);
	S("seed", "%lld", o->seed);
	S("train", "%s", o->train);
	S("val", "%s", o->val);
	S("version", "%s", PLM_VERSION);
#undef S
	*n = i;
	return kv;
}

static void report_ignored(const struct data *D)
{
	for (size_t i = 0; i < plm_strmap_size(D->other); i++)
		plm_warn("ignored %llu records of split '%s' (not used for "
			 "anything)", (unsigned long long)
			 *plm_strmap_val(D->other, i),
			 plm_strmap_key(D->other, i, NULL));
}

static plm_h128 digest_end(XXH3_state_t *st)
{
	XXH128_hash_t h = XXH3_128bits_digest(st);
	plm_h128 r = { h.high64, h.low64 };
	return r;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.x = "emb", .y = "label", .id = "id", .splitf = "split",
		.train = "train", .val = "val", .dropout = NAN, .lr = NAN,
		.momentum = NAN, .wd = NAN, .gamma = NAN, .step_size = -1,
		.epochs = -1, .bs = -1, .patience = -1,
		.seed = PLM_DEFAULT_SEED, .threads = 1,
	};
	const plm_opt opts[] = {
		PLM_FLAG('v', "verbose", &o.verbose, "per-epoch lines on stderr"),
		PLM_FLAG(0, "multilabel", &o.multilabel, "multi-label head; the label is comma-separated names"),
		PLM_FLAG(0, "nesterov", &o.nesterov, "Nesterov momentum (sgd)"),
		PLM_FLAG(0, "no-standardize", &o.no_std, "do not standardise the features"),
		PLM_FLAG(0, "no-shuffle", &o.no_shuffle, "keep input order in every epoch"),
		PLM_STR(0, "preset", &o.preset, "NAME", "defaults of a workflow: viral-host"),
		PLM_STR('x', "features", &o.x, "FIELD", "feature vector field (default emb)"),
		PLM_STR('y', "label", &o.y, "FIELD", "label field, int or str (default label)"),
		PLM_STR(0, "id", &o.id, "FIELD", "record id field (default id)"),
		PLM_STR(0, "split-field", &o.splitf, "FIELD", "split field (default split)"),
		PLM_STR(0, "train", &o.train, "NAME", "split value of training records (default train)"),
		PLM_STR(0, "val", &o.val, "NAME", "split value of validation records (default val)"),
		PLM_STR(0, "pos", &o.pos, "VALUE", "binary: the positive class (default the larger)"),
		PLM_STR(0, "hidden", &o.hidden, "LIST", "hidden layer sizes, e.g. 512,128, or none (default 512)"),
		PLM_STR(0, "act", &o.act, "NAME", "relu, gelu or tanh (default relu)"),
		PLM_DBL(0, "dropout", &o.dropout, "P", "dropout after hidden layers (default 0)", 0, 0.999),
		PLM_STR(0, "opt", &o.opt, "NAME", "sgd, adam or adamw (default adam)"),
		PLM_DBL(0, "lr", &o.lr, "X", "learning rate (default 1e-3)", 1e-12, 1e3),
		PLM_DBL(0, "momentum", &o.momentum, "X", "sgd momentum (default 0)", 0, 0.9999),
		PLM_DBL(0, "weight-decay", &o.wd, "X", "weight decay (default 0)", 0, 10),
		PLM_STR(0, "sched", &o.sched, "NAME", "none, step or cosine (default none)"),
		PLM_INT(0, "step-size", &o.step_size, "N", "step: epochs per decay (default 10)", 1, 1000000),
		PLM_DBL(0, "gamma", &o.gamma, "X", "step: decay factor (default 0.1)", 1e-9, 1),
		PLM_INT(0, "epochs", &o.epochs, "N", "at most N epochs (default 100)", 0, 1000000),
		PLM_INT(0, "batch-size", &o.bs, "N", "rows per step (default 64)", 1, 1 << 20),
		PLM_INT(0, "patience", &o.patience, "N", "stop after N epochs without a lower val loss; 0 = off (default 10)", 0, 1000000),
		PLM_STR(0, "class-weight", &o.cw, "NAME", "none or balanced (default none)"),
		PLM_INT(0, "seed", &o.seed, "N", "random seed (default 11)", 0, INT64_MAX),
		PLM_INT(0, "threads", &o.threads, "N", "OpenBLAS threads (default 1)", 1, 256),
		PLM_STR(0, "log", &o.log, "FILE", "per-epoch log (TSV record stream)"),
		PLM_STR('o', "model-out", &o.out, "MODEL", "write the checkpoint to MODEL"),
		PLM_OPT_END_,
	};
	plm_blas_tune(argc, argv, 0);
	plm_init("mlp-train", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	preset(&o);
	defaults(&o);
	if (!o.out)
		plm_usage_die("no checkpoint file: give -o MODEL");
	int act = plm_act_parse(o.act), alg = plm_opt_alg_parse(o.opt);
	int sk = plm_sched_parse(o.sched);
	if (act < 0)
		plm_usage_die("--act '%s': use relu, gelu or tanh", o.act);
	if (alg < 0)
		plm_usage_die("--opt '%s': use sgd, adam or adamw", o.opt);
	if (sk < 0)
		plm_usage_die("--sched '%s': use none, step or cosine", o.sched);
	if (strcmp(o.cw, "none") && strcmp(o.cw, "balanced"))
		plm_usage_die("--class-weight '%s': use none or balanced", o.cw);
	if (!strcmp(o.cw, "balanced") && o.multilabel)
		plm_usage_die("--class-weight balanced does not apply to "
			      "--multilabel");
	if (!strcmp(o.train, o.val))
		plm_usage_die("--train and --val name the same split");
	if (o.nesterov && (alg != PLM_OPT_SGD || o.momentum <= 0))
		plm_usage_die("--nesterov needs --opt sgd and --momentum > 0");
	uint32_t dim[PLM_MLP_MAXL + 1];
	uint32_t nh = parse_hidden(o.hidden, dim);
	openblas_set_num_threads((int)o.threads);

	struct data D = { 0 };
	D.labels = plm_strmap_new();
	D.other = plm_strmap_new();
	D.dig[0] = XXH3_createState();
	D.dig[1] = XXH3_createState();
	if (!D.labels || !D.other || !D.dig[0] || !D.dig[1])
		plm_die("out of memory");
	XXH3_128bits_reset(D.dig[0]);
	XXH3_128bits_reset(D.dig[1]);
	load(&D, &o, argc - i, argv + i);
	report_ignored(&D);
	if (!D.n[0])
		plm_die("no records of split '%s' to train on", o.train);
	if (!D.n[1] && o.patience > 0)
		plm_die("no records of split '%s': early stopping needs them "
			"(or give --patience 0)", o.val);
	struct classes C;
	make_classes(&D, &C, &o);
	enum plm_head head = o.multilabel ? PLM_HEAD_MULTILABEL
			   : C.k == 2 ? PLM_HEAD_BINARY : PLM_HEAD_MULTI;
	dim[0] = D.d;
	dim[nh + 1] = head == PLM_HEAD_BINARY ? 1 : C.k;

	plm_mlpckpt ck = { 0 };
	plm_mlp *m = &ck.mlp;
	if (plm_mlp_alloc(m, nh + 1, dim, act, head, (float)o.dropout))
		plm_die("out of memory");
	plm_rng ri;
	plm_rng_seed(&ri, (uint64_t)o.seed);
	plm_mlp_init_params(m, &ri);
	if (!o.no_std) {
		fit_scale(m, &D);
		plm_mlp_scale(m, D.x[0], D.n[0]);
		plm_mlp_scale(m, D.x[1], D.n[1]);
	}
	int cw = !strcmp(o.cw, "balanced");
	struct split tr = { D.n[0], D.x[0], targets(&D, &C, 0, head),
			    cw ? row_weights(&D, &C, 0) : NULL };
	struct split va = { D.n[1], D.x[1], targets(&D, &C, 1, head),
			    cw ? row_weights(&D, &C, 1) : NULL };
	plm_optim opt = { .alg = alg, .momentum = o.momentum,
			  .weight_decay = o.wd, .beta1 = 0.9, .beta2 = 0.999,
			  .eps = 1e-8, .nesterov = o.nesterov };
	if (plm_optim_init(&opt, m->nparam))
		plm_die("out of memory");
	plm_sched sch = { .kind = sk, .lr = o.lr, .gamma = o.gamma,
			  .step_size = (int)o.step_size,
			  .t_max = o.epochs > 0 ? (int)o.epochs : 1 };
	struct fit fit;
	train(m, &tr, &va, &o, &opt, &sch, &fit);

	ck.label_str = D.yt == PLM_T_STR;
	ck.nclass = C.k;
	ck.classes = C.names;
	ck.pos = C.pos;
	char tn[64];
	ck.xfield = (char *)o.x;
	ck.xtype = (char *)plm_type_name(D.xt, D.d, tn, sizeof tn);
	ck.yfield = (char *)o.y;
	ck.idfield = (char *)o.id;
	ck.splitfield = (char *)o.splitf;
	ck.args = settings(&o, &ck.nargs);
	ck.epochs = fit.epochs;
	ck.best_epoch = fit.best_epoch;
	ck.best_val_loss = fit.best_val_loss;
	ck.train_rows = D.n[0];
	ck.val_rows = D.n[1];
	ck.train_digest = digest_end(D.dig[0]);
	ck.val_digest = digest_end(D.dig[1]);
	plm_id_sort(D.ids[0], D.n[0]);
	plm_id_sort(D.ids[1], D.n[1]);
	ck.train_ids = D.ids[0];
	ck.ntrain_ids = D.n[0];
	ck.val_ids = D.ids[1];
	ck.nval_ids = D.n[1];
	char err[1024];
	if (plm_mlpckpt_save(&ck, o.out, err, sizeof err))
		plm_die("%s", err);
	if (D.n[1])
		plm_warn("%llu train, %llu val records; %u epochs; best val "
			 "loss %.6g at epoch %u%s", (unsigned long long)D.n[0],
			 (unsigned long long)D.n[1], fit.epochs,
			 fit.best_val_loss, fit.best_epoch,
			 o.patience > 0 ? " (weights restored)" : "");
	else if (o.verbose)
		plm_warn("%llu train records; %u epochs",
			 (unsigned long long)D.n[0], fit.epochs);
	plm_mlp_free(m);
	plm_optim_free(&opt);
	for (int k = 0; k < 2; k++) {
		free(D.x[k]);
		free(D.lab[k]);
		free(D.ids[k]);
		free(D.mlo[k]);
		free(D.mln[k]);
		XXH3_freeState(D.dig[k]);
	}
	free(D.lab);
	free(D.mll);
	free(tr.t);
	free(tr.w);
	free(va.t);
	free(va.w);
	free(C.names);
	free(C.of);
	plm_strmap_free(D.labels);
	plm_strmap_free(D.other);
	return 0;
}
