/* mlp-train — train an MLP classifier on a feature vector field
 * (man/mlp-train.1).
 *
 * Options, then lib/mlptrain.c does the work: load the train and val
 * records (any other split is refused), standardise with the train rows'
 * statistics, train with early stopping on the monitored val value, and
 * write one checkpoint (lib/mlpckpt.c).  Here: the per-epoch log, the
 * training-curve plot and the checkpoint's contents. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/io.h"
#include "plm/mlp.h"
#include "plm/mlpckpt.h"
#include "plm/mlptrain.h"
#include "plm/optim.h"
#include "plm/rng.h"
#include "plm/stream.h"
#include "plm/svgplot.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"train an MLP classifier (binary, multi-class, multi-label) on a "
	"feature vector field";

/* Options; NAN / -1 / NULL = not given (a preset may then fill it). */
struct opts {
	const char *x, *y, *id, *splitf, *seq, *train, *val, *pos, *hidden, *act;
	const char *opt, *sched, *cw, *preset, *out, *log, *plot, *monitor;
	double dropout, lr, momentum, wd, gamma;
	long long step_size, epochs, bs, patience, seed, threads;
	int multilabel, nesterov, no_std, no_shuffle, verbose, log_typed;
};

/* ---- the per-epoch log and the plot ------------------------------------ */

static const char *const log_cols[] = {
	"epoch", "train_loss", "val_loss", "val_acc", "val_f1",
	"val_precision", "val_recall", "val_auroc", "lr", "seconds",
};

struct hist {
	const struct opts *o;
	plm_writer *lw;
	size_t n, cap;
	double *ep, *tl, *vl, *met;
};

/* Plain TSV (pandas reads it as it is), or with typed the exact form whose
 * "#meta" line keeps the provenance (argv, seed). */
static plm_writer *log_open(const char *path, int typed, uint64_t seed)
{
	char err[512];
	plm_schema s;
	plm_schema_init(&s);
	for (size_t i = 0; i < sizeof log_cols / sizeof *log_cols; i++)
		plm_schema_add(&s, log_cols[i], i ? PLM_T_FLOAT : PLM_T_INT, 0);
	plm_schema_add_prov(&s, plm_tool(), PLM_VERSION, plm_argc(),
			    plm_argv(), 1, seed);
	plm_writer *w = plm_writer_open(path, typed ? PLM_FMT_TSV_TYPED : PLM_FMT_TSV,
					 &s, err, sizeof err);
	plm_schema_free(&s);
	if (!w)
		plm_die("%s", err);
	return w;
}

static plm_val fval(double x)
{
	return isnan(x) ? plm_v_nil() : plm_v_float(x);
}

static int on_epoch(void *ctx, const plm_epoch *e)
{
	struct hist *h = ctx;
	if (h->lw) {
		plm_val row[] = {
			plm_v_int(e->epoch), fval(e->train_loss),
			fval(e->val_loss), fval(e->acc), fval(e->f1),
			fval(e->prec), fval(e->rec), fval(e->auroc),
			fval(e->lr), fval(e->seconds),
		};
		if (plm_writer_row(h->lw, row))
			plm_die("%s", plm_writer_error(h->lw));
	}
	if (h->o->verbose)
		plm_warn("epoch %d: train_loss %.6g val_loss %.6g val_acc %.4g "
			 "f1 %.4g auroc %.4g lr %.6g %.2fs", e->epoch,
			 e->train_loss, e->val_loss, e->acc, e->f1, e->auroc,
			 e->lr, e->seconds);
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		double **a[] = { &h->ep, &h->tl, &h->vl, &h->met };
		for (int i = 0; i < 4; i++)
			if (!(*a[i] = realloc(*a[i], h->cap * sizeof **a[i])))
				plm_die("out of memory");
	}
	h->ep[h->n] = e->epoch;
	h->tl[h->n] = e->train_loss;
	h->vl[h->n] = e->val_loss;
	h->met[h->n] = !strcmp(h->o->monitor, "f1") ? e->f1 : e->auroc;
	h->n++;
	return 0;
}

static void plot(const struct hist *h, const plm_fit_result *r)
{
	char err[512];
	plm_out *o = plm_out_open(h->o->plot, err, sizeof err);
	if (!o)
		plm_die("%s", err);
	int f1 = !strcmp(h->o->monitor, "f1");
	plm_train_curves t = {
		.epoch = h->ep, .train_loss = h->tl, .val_loss = h->vl,
		.metric = h->met, .n = h->n, .title = "mlp-train",
		.metric_name = f1 ? "val F1" : "val AUROC",
		.best_epoch = r->best_epoch ? r->best_epoch : NAN,
	};
	if (plm_svg_training(o, &t)) {
		snprintf(err, sizeof err, "%s", plm_out_error(o));
		plm_out_abort(o);
		plm_die("%s", err);
	}
	if (plm_out_close(o, err, sizeof err))
		plm_die("%s", err);
}

/* ---- options ----------------------------------------------------------- */

/* The accepted values, in the order of the library's enums. */
static const char *const presets[] = { "viral-host", NULL };
static const char *const acts[] = { "relu", "gelu", "tanh", NULL };
static const char *const algs[] = { "sgd", "adam", "adamw", NULL };
static const char *const scheds[] = { "none", "step", "cosine", NULL };
static const char *const monitors[] = { "loss", "auroc", "f1", NULL };
static const char *const cws[] = { "none", "balanced", NULL };

static void preset(struct opts *o)
{
	if (!o->preset)
		return;
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
	if (!o->monitor) o->monitor = "loss";
}

static uint32_t parse_hidden(const char *s, uint32_t *dim)
{
	uint32_t n = 0;
	if (!strcmp(s, "none") || !*s)
		return 0;
	char *buf = strdup(s), *save, *tok;
	if (!buf)
		plm_die("out of memory");
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
	static char buf[32][64];
	static char *kv[64];
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
	S("monitor", "%s", o->monitor);
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

int main(int argc, char **argv)
{
	struct opts o = {
		.x = "emb", .y = "label", .id = "id", .splitf = "split", .seq = "seq",
		.train = "train", .val = "val", .dropout = NAN, .lr = NAN,
		.momentum = NAN, .wd = NAN, .gamma = NAN, .step_size = -1,
		.epochs = -1, .bs = -1, .patience = -1,
		.seed = PLM_DEFAULT_SEED, .threads = 1,
	};
	int ch[6] = { -1, -1, -1, -1, -1, -1 };   /* the choices given */
	const char *const *const names[6] = { presets, acts, algs, scheds,
					      monitors, cws };
	const char **chosen[6] = { &o.preset, &o.act, &o.opt, &o.sched,
				   &o.monitor, &o.cw };
	const plm_opt opts[] = {
		PLM_FLAG('v', "verbose", &o.verbose, "per-epoch lines on stderr"),
		PLM_FLAG(0, "multilabel", &o.multilabel, "multi-label head; the label is comma-separated names"),
		PLM_FLAG(0, "nesterov", &o.nesterov, "Nesterov momentum (sgd)"),
		PLM_FLAG(0, "no-standardize", &o.no_std, "do not standardise the features"),
		PLM_FLAG(0, "no-shuffle", &o.no_shuffle, "keep input order in every epoch"),
		PLM_CHOICE_V(0, "preset", &ch[0], "NAME", "defaults of a workflow: viral-host", presets),
		PLM_STR('x', "x", &o.x, "FIELD", "feature vector field (default emb)"),
		PLM_ALIAS(0, "features", "x"),
		PLM_STR('y', "y", &o.y, "FIELD", "label field, int or str (default label)"),
		PLM_STR(0, "id", &o.id, "FIELD", "record id field (default id)"),
		PLM_STR(0, "split", &o.splitf, "FIELD", "split field (default split)"),
		PLM_STR(0, "seq", &o.seq, "FIELD", "sequence field whose hashes the checkpoint keeps (default seq; else a seq_hash field)"),
		PLM_ALIAS(0, "split-field", "split"),
		PLM_STR(0, "train", &o.train, "NAME", "split value of training records (default train)"),
		PLM_STR(0, "val", &o.val, "NAME", "split value of validation records (default val)"),
		PLM_STR(0, "pos", &o.pos, "VALUE", "binary: the positive class (default the larger)"),
		PLM_STR(0, "hidden", &o.hidden, "LIST", "hidden layer sizes, e.g. 512,128, or none (default 512)"),
		PLM_CHOICE_V(0, "act", &ch[1], "NAME", "relu, gelu or tanh (default relu)", acts),
		PLM_DBL(0, "dropout", &o.dropout, "P", "dropout after hidden layers (default 0)", 0, 0.999),
		PLM_CHOICE_V(0, "opt", &ch[2], "NAME", "sgd, adam or adamw (default adam)", algs),
		PLM_DBL(0, "lr", &o.lr, "X", "learning rate (default 1e-3)", 1e-12, 1e3),
		PLM_DBL(0, "momentum", &o.momentum, "X", "sgd momentum (default 0)", 0, 0.9999),
		PLM_DBL(0, "weight-decay", &o.wd, "X", "weight decay (default 0)", 0, 10),
		PLM_CHOICE_V(0, "sched", &ch[3], "NAME", "none, step or cosine (default none)", scheds),
		PLM_INT(0, "step-size", &o.step_size, "N", "step: epochs per decay (default 10)", 1, 1000000),
		PLM_DBL(0, "gamma", &o.gamma, "X", "step: decay factor (default 0.1)", 1e-9, 1),
		PLM_INT(0, "epochs", &o.epochs, "N", "at most N epochs (default 100)", 0, 1000000),
		PLM_INT(0, "batch-size", &o.bs, "N", "rows per step (default 64)", 1, 1 << 20),
		PLM_INT(0, "patience", &o.patience, "N", "stop after N epochs without improvement; 0 = off (default 10)", 0, 1000000),
		PLM_CHOICE_V(0, "monitor", &ch[4], "NAME", "early stopping on val loss, auroc or f1 (default loss)", monitors),
		PLM_CHOICE_V(0, "class-weight", &ch[5], "NAME", "none or balanced (default none)", cws),
		PLM_INT(0, "seed", &o.seed, "N", "random seed (default 11)", 0, INT64_MAX),
		PLM_INT(0, "threads", &o.threads, "N", "compute threads (default 1)", 1, 256),
		PLM_STR(0, "log", &o.log, "FILE", "per-epoch log (plain TSV)"),
		PLM_FLAG(0, "log-typed", &o.log_typed, "write the --log file in the exact typed form, with its provenance and seed"),
		PLM_STR(0, "plot", &o.plot, "FILE", "SVG of the training curves"),
		PLM_STR_REQ('o', "output", &o.out, "FILE", "write the checkpoint to FILE"),
		PLM_ALIAS(0, "out", "output"),
		PLM_ALIAS(0, "model-out", "output"),
		PLM_OPT_END_,
	};
	int i = plm_start("mlp-train", argc, argv, opts, operands, summary);
	for (int k = 0; k < 6; k++)
		if (ch[k] >= 0)
			*chosen[k] = names[k][ch[k]];
	preset(&o);
	defaults(&o);
	if (!o.out)
		plm_usage_die("no checkpoint file: give --out FILE");
	if (o.log_typed && !o.log)
		plm_usage_die("--log-typed: no log file: give --log FILE");
	int act = plm_act_parse(o.act), alg = plm_opt_alg_parse(o.opt);
	int sk = plm_sched_parse(o.sched), mon = plm_monitor_parse(o.monitor);
	if (!strcmp(o.cw, "balanced") && o.multilabel)
		plm_usage_die("--class-weight balanced does not apply to "
			      "--multilabel");
	if (!strcmp(o.train, o.val))
		plm_usage_die("--train and --val name the same split");
	if (o.nesterov && (alg != PLM_OPT_SGD || o.momentum <= 0))
		plm_usage_die("--nesterov needs --opt sgd and --momentum > 0");
	uint32_t dim[PLM_MLP_MAXL + 1];
	uint32_t nh = parse_hidden(o.hidden, dim);

	char err[1024];
	plm_mlpdata D;
	plm_mlpdata_spec spec = {
		.x = o.x, .y = o.y, .id = o.id, .split = o.splitf, .seq = o.seq,
		.train = o.train, .val = o.val, .pos = o.pos,
		.multilabel = o.multilabel,
		.class_weight = !strcmp(o.cw, "balanced"),
	};
	int rc = plm_mlpdata_load(&D, &spec, argc - i, argv + i, err, sizeof err);
	if (rc == -2)
		plm_usage_die("%s", err);
	if (rc)
		plm_die("%s", err);
	if (!D.n[1] && o.patience > 0)
		plm_die("no records of split '%s': early stopping needs them "
			"(or give --patience 0)", o.val);
	dim[0] = D.d;
	dim[nh + 1] = D.head == PLM_HEAD_BINARY ? 1 : D.nclass;

	plm_mlpckpt ck = { 0 };
	plm_mlp *m = &ck.mlp;
	if (plm_mlp_alloc(m, nh + 1, dim, act, D.head, (float)o.dropout)) {
		double np = 0;
		for (uint32_t l = 0; l <= nh; l++)
			np += (double)dim[l + 1] * dim[l] + dim[l + 1];
		plm_die("out of memory for the model: %.0f parameters "
			"(%u features of '%s', --hidden %s)", np, dim[0], o.x,
			o.hidden);
	}
	plm_rng ri;
	plm_rng_seed(&ri, (uint64_t)o.seed);
	plm_mlp_init_params(m, &ri);
	if (!o.no_std && plm_mlpdata_standardize(&D, m))
		plm_die("out of memory");
	struct hist h = { .o = &o };
	h.lw = o.log ? log_open(o.log, o.log_typed, (uint64_t)o.seed) : NULL;
	plm_fit_opts fo = {
		.epochs = (int)o.epochs, .patience = (int)o.patience,
		.batch = (size_t)o.bs, .shuffle = !o.no_shuffle,
		.seed = (uint64_t)o.seed, .monitor = mon,
		.threads = (int)o.threads,
		.opt = { .alg = alg, .momentum = o.momentum,
			 .weight_decay = o.wd, .beta1 = 0.9, .beta2 = 0.999,
			 .eps = 1e-8, .nesterov = o.nesterov },
		.sched = { .kind = sk, .lr = o.lr, .gamma = o.gamma,
			   .step_size = (int)o.step_size,
			   .t_max = o.epochs > 0 ? (int)o.epochs : 1 },
		.on_epoch = on_epoch, .ctx = &h,
	};
	plm_fit_result fit;
	if (plm_mlp_fit(m, &D, &fo, &fit, err, sizeof err)) {
		if (h.lw)
			plm_writer_abort(h.lw);
		plm_die("%s", err);
	}
	if (h.lw && plm_writer_close(h.lw, err, sizeof err))
		plm_die("%s", err);
	if (o.plot)
		plot(&h, &fit);

	ck.label_str = D.label_str;
	ck.nclass = D.nclass;
	ck.classes = D.classes;
	ck.pos = D.pos;
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
	ck.train_digest = D.digest[0];
	ck.val_digest = D.digest[1];
	ck.train_ids = D.ids[0];
	ck.ntrain_ids = D.n[0];
	ck.val_ids = D.ids[1];
	ck.nval_ids = D.n[1];
	memcpy(ck.split_digest, D.split_digest, sizeof ck.split_digest);
	ck.seq_field = (char *)D.seq_field;
	ck.train_seqs = D.seqs[0];
	ck.ntrain_seqs = D.nseq[0];
	ck.val_seqs = D.seqs[1];
	ck.nval_seqs = D.nseq[1];
	if (plm_mlpckpt_save(&ck, o.out, err, sizeof err))
		plm_die("%s", err);
	if (D.n[1] && fit.best_epoch)
		plm_warn("%llu train, %llu val records; %u epochs; best val "
			 "%s %.6g at epoch %u%s", (unsigned long long)D.n[0],
			 (unsigned long long)D.n[1], fit.epochs, o.monitor,
			 fit.best_score, fit.best_epoch,
			 o.patience > 0 ? " (weights restored)" : "");
	else if (D.n[1] && fit.epochs)
		plm_warn("%llu train, %llu val records; %u epochs; the val %s "
			 "was never defined: the last weights are kept",
			 (unsigned long long)D.n[0], (unsigned long long)D.n[1],
			 fit.epochs, o.monitor);
	else
		plm_warn("%llu train, %llu val records; %u epochs",
			 (unsigned long long)D.n[0], (unsigned long long)D.n[1],
			 fit.epochs);
	plm_mlp_free(m);
	plm_mlpdata_free(&D);
	free(h.ep);
	free(h.tl);
	free(h.vl);
	free(h.met);
	return 0;
}
