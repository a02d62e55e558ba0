/* mlp-predict — apply an mlp-train checkpoint to records (man/mlp-predict.1).
 *
 * Adds `score` and `pred` (and `prob` f32[K] for multi-class and
 * multi-label models) to every record and passes the rest through.
 * Records are scored in batches (one product per layer per batch): each
 * row's values are copied into a batch arena until the batch is full, and
 * the batch is written when it is (or the input section or the input
 * ends).
 * Records whose id was a training or validation record of the model, or
 * whose sequence was (under any id: the checkpoint keeps the sequence
 * hashes), are refused (the first listed, all counted, then exit 1)
 * unless --allow-seen, which scores them and says how many: scores on
 * data the model has seen are not an evaluation. */
#include <stdlib.h>
#include <string.h>

#include "plm/calib.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/hash.h"
#include "plm/metrics.h"
#include "plm/mlp.h"
#include "plm/mlpckpt.h"
#include "plm/stream.h"
#include "plm/verb.h"

#define BATCH 256

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"score records with an mlp-train model (adds score, pred, and prob)";

/* --calibrator: the calibrated score goes into score_cal. */
static plm_calib calib = { .method = -1 };

struct bind {
	int xi, ii, score, pred, prob;   /* added fields (replaced if present) */
	int cal;                         /* score_cal with --calibrator, or -1 */
	enum plm_type xt, it;
};

/* The fields for input `in`: where the features and the id are, and out =
 * in plus score, pred and prob.  -1 and err: the input does not fit the
 * model. */
static int bind(struct bind *b, const plm_schema *in, plm_schema *out,
		const plm_mlpckpt *c, const char *x, const char *id,
		char *err, size_t errlen)
{
	char tn[64];
	const plm_mlp *m = &c->mlp;
	b->xi = plm_schema_find(in, x);
	b->ii = plm_schema_find(in, id);
	if (b->xi < 0) {
		plm_nofield(err, errlen, in, "no field '%s' in input (the features, "
			 "--x)", x);
		return -1;
	}
	if (b->ii < 0) {
		plm_nofield(err, errlen, in, "no field '%s' in input (the record id, "
			 "--id)", id);
		return -1;
	}
	const plm_field *f = &in->f[b->xi];
	b->xt = f->type;
	if (b->xt != PLM_T_F32 && b->xt != PLM_T_F16 && b->xt != PLM_T_BF16) {
		snprintf(err, errlen, "field '%s' is %s: the features must be "
			 "f32[N], f16[N] or bf16[N]", x,
			 plm_type_name(f->type, f->dim, tn, sizeof tn));
		return -1;
	}
	if (f->dim != m->dim[0]) {
		snprintf(err, errlen, "field '%s' is %s but the model takes %u "
			 "features", x,
			 plm_type_name(f->type, f->dim, tn, sizeof tn),
			 m->dim[0]);
		return -1;
	}
	b->it = in->f[b->ii].type;
	if (b->it != PLM_T_STR && b->it != PLM_T_INT) {
		snprintf(err, errlen, "field '%s' (the id) must be str or int",
			 id);
		return -1;
	}
	if (plm_schema_copy(out, in))
		plm_die("out of memory");
	b->score = b->prob = -1;
	if (m->head != PLM_HEAD_MULTILABEL)
		b->score = plm_schema_add(out, "score", PLM_T_FLOAT, 0);
	b->pred = plm_schema_add(out, "pred",
				 c->label_str || m->head == PLM_HEAD_MULTILABEL
				 ? PLM_T_STR : PLM_T_INT, 0);
	if (m->head != PLM_HEAD_BINARY)
		b->prob = plm_schema_add(out, "prob", PLM_T_F32, m->dim[m->nl]);
	b->cal = calib.method >= 0
		? plm_schema_add(out, "score_cal", PLM_T_FLOAT, 0) : -1;
	if (b->pred < 0 || (m->head != PLM_HEAD_MULTILABEL && b->score < 0) ||
	    (m->head != PLM_HEAD_BINARY && b->prob < 0))
		plm_die("out of memory");
	int added[] = { b->score, b->pred, b->prob, b->cal };
	for (int k = 0; k < 4; k++)
		if (added[k] >= 0 && (added[k] == b->xi || added[k] == b->ii)) {
			plm_schema_free(out);
			snprintf(err, errlen, "the features or the id are in a "
				 "field mlp-predict writes (score, pred, prob, "
				 "score_cal)");
			return -1;
		}
	if (plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0))
		plm_die("out of memory");
	return 0;
}

static void info(const plm_mlpckpt *c)
{
	const plm_mlp *m = &c->mlp;
	char hex[33];
	printf("head\t%s\n", plm_head_name(m->head));
	printf("dims\t");
	for (uint32_t l = 0; l <= m->nl; l++)
		printf("%u%s", m->dim[l], l < m->nl ? "," : "\n");
	printf("act\t%s\ndropout\t%.9g\n", plm_act_name(m->act), m->dropout);
	printf("standardized\t%d\n", m->mean != NULL);
	printf("classes\t");
	for (uint32_t k = 0; k < c->nclass; k++)
		printf("%s%s", c->classes[k], k + 1 < c->nclass ? "," : "\n");
	if (c->pos >= 0)
		printf("pos\t%s\n", c->classes[c->pos]);
	printf("features\t%s %s\nlabel\t%s\nid\t%s\nsplit\t%s\n", c->xfield,
	       c->xtype, c->yfield, c->idfield, c->splitfield);
	printf("epochs\t%u\nbest_epoch\t%u\nbest_val_loss\t%.17g\n", c->epochs,
	       c->best_epoch, c->best_val_loss);
	printf("train_rows\t%llu\n", (unsigned long long)c->train_rows);
	printf("val_rows\t%llu\n", (unsigned long long)c->val_rows);
	printf("train_digest\t%s\n", plm_h128_hex(c->train_digest, hex));
	printf("val_digest\t%s\n", plm_h128_hex(c->val_digest, hex));
	printf("split_digest\t%s\n", c->split_digest[0] ? c->split_digest
							  : "none");
	printf("seq_field\t%s\n", !c->has_seqs ? "(not kept)" : c->seq_field
	       ? c->seq_field : "none");
	printf("train_seqs\t%zu\nval_seqs\t%zu\n", c->ntrain_seqs,
	       c->nval_seqs);
	for (size_t i = 0; i < c->nargs; i++)
		printf("arg.%s\t%s\n", c->args[2 * i], c->args[2 * i + 1]);
}

/* A batch: features (scaled), and each row's values with their bytes
 * copied into an arena (offsets until the batch is written, since the
 * arena may move). */
struct batch {
	size_t n, nf;            /* rows, fields per row (input) */
	float *x;                /* BATCH × d */
	plm_val *v;              /* BATCH × nf */
	size_t *off;             /* BATCH × nf: arena offset of v.s */
	char *arena;
	size_t alen, acap;
	float *p;                /* BATCH × K probabilities */
	char *names;             /* multi-label pred text */
	size_t ncap;
};

static void batch_add(struct batch *bt, const plm_val *row,
		      const plm_schema *in, const struct bind *b,
		      const plm_mlp *m)
{
	size_t i = bt->n++, nf = in->n;
	uint32_t d = m->dim[0];
	plm_vec_to_f32(&row[b->xi], b->xt, d, bt->x + i * d);
	for (size_t f = 0; f < nf; f++) {
		plm_val v = row[f];
		enum plm_type t = in->f[f].type;
		bt->off[i * nf + f] = SIZE_MAX;
		/* s is meaningful for str and vector values only */
		if (!v.nil && v.n && (t == PLM_T_STR || plm_type_elsize(t))) {
			if (bt->alen + v.n > bt->acap) {
				bt->acap = 2 * (bt->alen + v.n) + 4096;
				bt->arena = realloc(bt->arena, bt->acap);
				if (!bt->arena)
					plm_die("out of memory");
			}
			memcpy(bt->arena + bt->alen, v.s, v.n);
			bt->off[i * nf + f] = bt->alen;
			bt->alen += v.n;
		}
		bt->v[i * nf + f] = v;
	}
}

/* Scores the batch and writes its rows. */
static void batch_flush(struct batch *bt, const struct bind *b,
			const plm_mlpckpt *c, plm_mlp_work *w, plm_verb *v)
{
	const plm_mlp *m = &c->mlp;
	uint32_t K = m->dim[m->nl];
	size_t nf = bt->nf;
	if (!bt->n)
		return;
	plm_mlp_scale(m, bt->x, bt->n);
	const float *z = plm_mlp_forward(m, w, bt->x, bt->n, NULL);
	memcpy(bt->p, z, bt->n * K * sizeof *bt->p);
	plm_mlp_probs(m, bt->p, bt->n);
	plm_val vals[v->out->n];
	for (size_t i = 0; i < bt->n; i++) {
		const float *p = bt->p + i * K;
		for (size_t f = 0; f < nf; f++) {
			vals[f] = bt->v[i * nf + f];
			if (bt->off[i * nf + f] != SIZE_MAX)
				vals[f].s = bt->arena + bt->off[i * nf + f];
		}
		if (m->head == PLM_HEAD_BINARY) {
			/* the logit is P(classes[pos]) */
			vals[b->score] = plm_v_float(p[0]);
			if (b->cal >= 0)
				vals[b->cal] = plm_v_float(plm_calib_apply(&calib, p[0]));
			const char *nm = c->classes[p[0] >= 0.5f ? c->pos
							       : 1 - c->pos];
			vals[b->pred] = c->label_str
				? plm_v_str(nm, strlen(nm))
				: plm_v_int(strtoll(nm, NULL, 10));
		} else if (m->head == PLM_HEAD_MULTI) {
			double pd[K];
			for (uint32_t k = 0; k < K; k++)
				pd[k] = p[k];
			uint32_t a = plm_argmax(pd, K);
			const char *nm = c->classes[a];
			vals[b->score] = plm_v_float(p[a]);
			vals[b->pred] = c->label_str
				? plm_v_str(nm, strlen(nm))
				: plm_v_int(strtoll(nm, NULL, 10));
			vals[b->prob] = plm_v_bytes(p, K * sizeof(float), 1);
		} else {
			size_t nn = 0;
			for (uint32_t k = 0; k < K; k++) {
				if (p[k] < 0.5f)
					continue;
				size_t l = strlen(c->classes[k]);
				if (nn + l + 2 > bt->ncap) {
					bt->ncap = 2 * (nn + l + 2);
					if (!(bt->names = realloc(bt->names,
								  bt->ncap)))
						plm_die("out of memory");
				}
				if (nn)
					bt->names[nn++] = ',';
				memcpy(bt->names + nn, c->classes[k], l);
				nn += l;
			}
			vals[b->pred] = plm_v_str(bt->names, nn);
			vals[b->prob] = plm_v_bytes(p, K * sizeof(float), 1);
		}
		plm_verb_emit(v, vals);
	}
	bt->n = 0;
	bt->alen = 0;
}

static void batch_init(struct batch *bt, const plm_mlp *m, size_t nf)
{
	free(bt->v);
	free(bt->off);
	bt->nf = nf;
	bt->v = malloc(BATCH * (nf ? nf : 1) * sizeof *bt->v);
	bt->off = malloc(BATCH * (nf ? nf : 1) * sizeof *bt->off);
	if (!bt->x)
		bt->x = malloc(BATCH * m->dim[0] * sizeof *bt->x);
	if (!bt->p)
		bt->p = malloc(BATCH * m->dim[m->nl] * sizeof *bt->p);
	if (!bt->v || !bt->off || !bt->x || !bt->p)
		plm_die("out of memory");
}

/* The sequence check: the input's sequence field for this section (-1:
 * none), records matched only by sequence, and the warnings given. */
struct seen {
	int qi, qhex;
	uint64_t byseq, listed;
	int warned;
};

#define SEEN_LIST 5

/* Where the section's sequences are: the checkpoint's sequence field, or
 * seq_hash; says once what is checked when there is none. */
static void seen_bind(struct seen *S, const plm_schema *in,
		      const plm_mlpckpt *c)
{
	S->qi = -1;
	if (c->has_seqs && c->seq_field) {
		/* a model trained on seq_hash alone kept the hashes it read */
		int i = plm_schema_find(in, c->seq_field);
		S->qhex = i < 0 || in->f[i].type != PLM_T_STR ||
			  !strcmp(c->seq_field, "seq_hash");
		if (S->qhex)
			i = plm_schema_find(in, "seq_hash");
		if (i >= 0 && in->f[i].type == PLM_T_STR)
			S->qi = i;
	}
	if (S->qi >= 0 || S->warned)
		return;
	S->warned = 1;
	if (!c->has_seqs)
		plm_warn("warning: the checkpoint keeps no sequence hashes (an "
			 "older mlp-train): only ids are checked against its "
			 "training and validation records");
	else if (c->seq_field)
		plm_warn("warning: the input has no field '%s' (nor seq_hash): "
			 "only ids are checked against the model's training and "
			 "validation records", c->seq_field);
}

/* 1 (train), 2 (val) when the row's sequence is one the model saw. */
static int seen_seq(struct seen *S, const plm_val *row, const plm_mlpckpt *c)
{
	if (S->qi < 0 || row[S->qi].nil)
		return 0;
	plm_h128 h;
	if (!S->qhex)
		h = plm_seq_hash(row[S->qi].s, row[S->qi].n);
	else if (plm_h128_parse(row[S->qi].s, row[S->qi].n, &h))
		return 0;
	return plm_h128_in(c->train_seqs, c->ntrain_seqs, h) ? 1
	     : plm_h128_in(c->val_seqs, c->nval_seqs, h) ? 2 : 0;
}

/* The run: the model, the current section's fields and batch, and the
 * records refused as seen (the first named, the rest counted). */
struct predict {
	plm_mlpckpt c;
	plm_mlp_work *w;
	const char *x, *id;
	int allow, allow_val;
	struct bind b;
	struct batch bt;
	plm_verb *v;
	uint64_t train, val, first;
	char file[256], seen_id[64];
	struct seen seen;
};

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct predict *P = ctx;
	/* the batch's rows belong to the previous section's fields */
	batch_flush(&P->bt, &P->b, &P->c, P->w, P->v);
	if (bind(&P->b, in, out, &P->c, P->x, P->id, err, errlen))
		return -1;
	batch_init(&P->bt, &P->c.mlp, in->n);
	seen_bind(&P->seen, in, &P->c);
	return 0;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct predict *P = ctx;
	const struct bind *b = &P->b;
	char ib[32];
	(void)out;
	if (in[b->xi].nil || in[b->ii].nil) {
		snprintf(err, errlen, "field '%s' is missing (nil)",
			 in[b->xi].nil ? P->x : P->id);
		return PLM_VERB_FAIL;
	}
	const char *ip = in[b->ii].s;
	size_t len = in[b->ii].n;
	if (b->it == PLM_T_INT) {
		len = (size_t)snprintf(ib, sizeof ib, "%lld",
				       (long long)in[b->ii].i);
		ip = ib;
	}
	uint64_t h = plm_key_hash(ip, len);
	int t = plm_id_in(P->c.train_ids, P->c.ntrain_ids, h);
	int v = !t && plm_id_in(P->c.val_ids, P->c.nval_ids, h);
	/* a validation id is still checked by sequence: under --allow-val
	 * it must not be a training sequence */
	int q = t ? 0 : seen_seq(&P->seen, in, &P->c);
	int byseq = q && !v;
	if (q == 1) {
		t = 1;
		v = 0;
	} else if (q == 2) {
		v = 1;
	}
	P->seen.byseq += (uint64_t)byseq;
	int refuse = (t && !P->allow) || (v && !P->allow && !P->allow_val);
	if (refuse && P->seen.listed++ < SEEN_LIST)
		plm_warn("%s: record %llu: id '%.*s': %s of a %s record of the "
			 "model", P->v->file,
			 (unsigned long long)P->v->file_recno,
			 (int)(len > 60 ? 60 : len), ip,
			 q ? "the sequence" : "the id",
			 t ? "training" : "validation");
	if (!refuse && (t || v)) {
		P->train += t;
		P->val += v;
	}
	if (refuse) {
		if (!P->first) {
			P->first = P->v->file_recno;
			snprintf(P->file, sizeof P->file, "%s", P->v->file);
			snprintf(P->seen_id, sizeof P->seen_id, "%.*s",
				 (int)(len > 60 ? 60 : len), ip);
		}
		P->train += t;
		P->val += v;
		return PLM_VERB_SKIP;
	}
	if (P->first)
		return PLM_VERB_SKIP;   /* failing anyway: just count */
	batch_add(&P->bt, in, P->v->in, b, &P->c.mlp);
	if (P->bt.n == BATCH)
		batch_flush(&P->bt, b, &P->c, P->w, P->v);
	return PLM_VERB_SKIP;
}

static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	struct predict *P = ctx;
	(void)err;
	(void)errlen;
	if (P->first)
		plm_die("%s: record %llu: id '%s' was seen by the model: %llu "
			"records were in its training data and %llu in its "
			"validation data (%llu of them by sequence under another "
			"id); scores on them are not an evaluation "
			"(--allow-val to score validation records, --allow-seen "
			"to score them all)", P->file,
			(unsigned long long)P->first, P->seen_id,
			(unsigned long long)P->train,
			(unsigned long long)P->val,
			(unsigned long long)P->seen.byseq);
	if (!P->allow && P->val)
		plm_warn("--allow-val: %llu validation records of the model "
			 "scored (%llu of them by sequence under another id): "
			 "not an evaluation", (unsigned long long)P->val,
			 (unsigned long long)P->seen.byseq);
	else if (P->train || P->val)
		plm_warn("warning: --allow-seen: %llu scored records were "
			 "training and %llu validation records of the model "
			 "(%llu of them by sequence under another id): not an "
			 "evaluation", (unsigned long long)P->train,
			 (unsigned long long)P->val,
			 (unsigned long long)P->seen.byseq);
	batch_flush(&P->bt, &P->b, &P->c, P->w, v);
	return 0;
}

int main(int argc, char **argv)
{
	plm_common cm = { 0 };
	struct predict P = { 0 };
	const char *model = NULL;
	int want_info = 0;
	long long threads = 1;
	const char *cal_path = NULL;
	const plm_opt opts[] = {
		PLM_STR_REQ('m', "model", &model, "MODEL", "the checkpoint written by mlp-train"),
		PLM_FLAG(0, "allow-seen", &P.allow, "score the model's own training and validation records too"),
		PLM_ALIAS(0, "allow-train", "allow-seen"),
		PLM_FLAG(0, "allow-val", &P.allow_val, "score the model's validation records (for choices made on them), still refusing training records"),
		PLM_FLAG(0, "info", &want_info, "print what the checkpoint holds and exit"),
		PLM_STR('x', "x", &P.x, "FIELD", "feature field (default: the model's)"),
		PLM_ALIAS(0, "features", "x"),
		PLM_STR(0, "id", &P.id, "FIELD", "record id field (default: the model's)"),
		PLM_STR(0, "calibrator", &cal_path, "CAL", "add score_cal, the score calibrated by CAL (mlp-calibrate; binary)"),
		PLM_INT(0, "threads", &threads, "N", "compute threads (default 1)", 1, 256),
		PLM_OPTS_STREAM(&cm),
	};
	char err[1024];
	int i = plm_start("mlp-predict", argc, argv, opts, operands, summary);
	if (!model)
		plm_usage_die("no model: give --model MODEL");
	if (plm_mlpckpt_load(&P.c, model, err, sizeof err))
		plm_die("%s", err);
	if (want_info) {
		info(&P.c);
		plm_mlpckpt_free(&P.c);
		return 0;
	}
	if (cal_path) {
		if (P.c.mlp.head != PLM_HEAD_BINARY)
			plm_die("--calibrator: the model %s is %s; calibrators "
				"are for binary models", model,
				plm_head_name(P.c.mlp.head));
		if (plm_calib_load(&calib, cal_path, err, sizeof err))
			plm_die("--calibrator: %s", err);
	}
	if (!P.x)
		P.x = P.c.xfield;
	if (!P.id)
		P.id = P.c.idfield;
	if (!(P.w = plm_mlp_work_new(&P.c.mlp, BATCH, (int)threads)))
		plm_die("out of memory");

	plm_verb v = { .common = &cm, .shard_key = P.id, .section = section,
		       .row = row, .finish = finish, .ctx = &P };
	P.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	free(P.bt.x);
	free(P.bt.v);
	free(P.bt.off);
	free(P.bt.arena);
	free(P.bt.p);
	free(P.bt.names);
	plm_mlp_work_free(P.w);
	plm_mlpckpt_free(&P.c);
	if (calib.method >= 0)
		plm_calib_free(&calib);
	return 0;
}
