/* mlp-predict — apply an mlp-train checkpoint to records (man/mlp-predict.1).
 *
 * Adds `score` and `pred` (and `prob` f32[K] for multi-class and
 * multi-label models) to every record and passes the rest through.
 * Records are scored in batches (one product per layer per batch): each
 * row's values are copied into a batch arena until the batch is full.
 * Records whose id was a training or validation record of the model are
 * refused (counted, then exit 1) unless --allow-seen: scores on data the
 * model has seen are not an evaluation. */
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/metrics.h"
#include "plm/mlp.h"
#include "plm/mlpckpt.h"
#include "plm/recin.h"
#include "plm/stream.h"

#define BATCH 256

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"score records with an mlp-train model (adds score, pred, and prob)";

struct bind {
	int xi, ii, score, pred, prob;   /* added fields (replaced if present) */
	enum plm_type xt, it;
};

static void bind(struct bind *b, const plm_schema *in, plm_schema *out,
		 const plm_mlpckpt *c, const char *x, const char *id,
		 const char *src)
{
	char tn[64];
	const plm_mlp *m = &c->mlp;
	b->xi = plm_schema_find(in, x);
	b->ii = plm_schema_find(in, id);
	if (b->xi < 0)
		plm_die("%s: no field '%s' in input (the features, --x)", src, x);
	if (b->ii < 0)
		plm_die("%s: no field '%s' in input (the record id, --id)", src,
			id);
	const plm_field *f = &in->f[b->xi];
	b->xt = f->type;
	if (b->xt != PLM_T_F32 && b->xt != PLM_T_F16 && b->xt != PLM_T_BF16)
		plm_die("%s: field '%s' is %s: the features must be f32[N], "
			"f16[N] or bf16[N]", src, x,
			plm_type_name(f->type, f->dim, tn, sizeof tn));
	if (f->dim != m->dim[0])
		plm_die("%s: field '%s' is %s but the model takes %u features",
			src, x, plm_type_name(f->type, f->dim, tn, sizeof tn),
			m->dim[0]);
	b->it = in->f[b->ii].type;
	if (b->it != PLM_T_STR && b->it != PLM_T_INT)
		plm_die("%s: field '%s' (the id) must be str or int", src, id);
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
	if (b->pred < 0 || (m->head != PLM_HEAD_MULTILABEL && b->score < 0) ||
	    (m->head != PLM_HEAD_BINARY && b->prob < 0))
		plm_die("out of memory");
	int added[] = { b->score, b->pred, b->prob };
	for (int k = 0; k < 3; k++)
		if (added[k] >= 0 && (added[k] == b->xi || added[k] == b->ii))
			plm_die("%s: the features or the id are in a field "
				"mlp-predict writes (score, pred, prob)", src);
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
			const plm_mlpckpt *c, plm_mlp_work *w, plm_writer *wr,
			size_t nout)
{
	const plm_mlp *m = &c->mlp;
	uint32_t K = m->dim[m->nl], d = m->dim[0];
	size_t nf = bt->nf;
	char err[1024];
	if (!bt->n)
		return;
	plm_mlp_scale(m, bt->x, bt->n);
	const float *z = plm_mlp_forward(m, w, bt->x, bt->n, NULL);
	memcpy(bt->p, z, bt->n * K * sizeof *bt->p);
	plm_mlp_probs(m, bt->p, bt->n);
	plm_val vals[nout];
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
		if (plm_writer_row(wr, vals)) {
			snprintf(err, sizeof err, "%s", plm_writer_error(wr));
			plm_writer_abort(wr);
			plm_die("%s", err);
		}
	}
	(void)d;
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

struct seen {
	uint64_t train, val, first;
	char id[64];
};

int main(int argc, char **argv)
{
	plm_common cm = { 0 };
	const char *model = NULL, *x = NULL, *id = NULL;
	int allow = 0, want_info = 0;
	long long threads = 1;
	const plm_opt opts[] = {
		PLM_STR_REQ('m', "model", &model, "MODEL", "the checkpoint written by mlp-train"),
		PLM_FLAG(0, "allow-seen", &allow, "score the model's own training and validation records too"),
		PLM_ALIAS(0, "allow-train", "allow-seen"),
		PLM_FLAG(0, "info", &want_info, "print what the checkpoint holds and exit"),
		PLM_STR('x', "x", &x, "FIELD", "feature field (default: the model's)"),
		PLM_ALIAS(0, "features", "x"),
		PLM_STR(0, "id", &id, "FIELD", "record id field (default: the model's)"),
		PLM_INT(0, "threads", &threads, "N", "compute threads (default 1)", 1, 256),
		PLM_OPTS_STREAM(&cm),
	};
	char err[1024];
	int i = plm_start("mlp-predict", argc, argv, opts, operands, summary);
	plm_shard sh = plm_shard_parse(cm.shard);
	if (!model)
		plm_usage_die("no model: give --model MODEL");
	plm_mlpckpt c;
	if (plm_mlpckpt_load(&c, model, err, sizeof err))
		plm_die("%s", err);
	if (want_info) {
		info(&c);
		plm_mlpckpt_free(&c);
		return 0;
	}
	plm_mlp *m = &c.mlp;
	if (!x)
		x = c.xfield;
	if (!id)
		id = c.idfield;
	plm_mlp_work *w = plm_mlp_work_new(m, BATCH, (int)threads);
	if (!w)
		plm_die("out of memory");

	plm_recin *r = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!r)
		plm_die("%s", err);
	plm_schema out;
	struct bind b;
	struct batch bt = { 0 };
	bind(&b, plm_recin_schema(r), &out, &c, x, id, plm_recin_name(r));
	batch_init(&bt, m, plm_recin_schema(r)->n);
	plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, argc, argv, 0, 0);
	plm_writer *wr = plm_writer_open(cm.output, plm_common_format(&cm),
					 &out, err, sizeof err);
	if (!wr)
		plm_die("%s", err);
	plm_progress pg;
	plm_progress_init(&pg, cm.progress, "B");
	struct seen sn = { 0 };
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(r, &row)) != PLM_EOF) {
		if (rc == PLM_ERR) {
			plm_writer_abort(wr);
			plm_die("%s", plm_recin_error(r));
		}
		const plm_schema *in = plm_recin_schema(r);
		if (rc == PLM_HEADER) {
			batch_flush(&bt, &b, &c, w, wr, out.n);
			plm_schema_free(&out);
			bind(&b, in, &out, &c, x, id, plm_recin_name(r));
			batch_init(&bt, m, in->n);
			plm_schema_add_prov(&out, plm_tool(), PLM_VERSION,
					    argc, argv, 0, 0);
			if (plm_writer_section(wr, &out)) {
				snprintf(err, sizeof err, "%s",
					 plm_writer_error(wr));
				plm_writer_abort(wr);
				plm_die("%s", err);
			}
			continue;
		}
		uint64_t rec = plm_recin_recno(r);
		plm_recin_progress(r, &pg, 0);
		if (row[b.xi].nil || row[b.ii].nil) {
			plm_writer_abort(wr);
			plm_die("record %llu: field '%s' is missing (nil)",
				(unsigned long long)rec,
				row[b.xi].nil ? x : id);
		}
		char ib[32];
		const char *ip = row[b.ii].s;
		size_t in_len = row[b.ii].n;
		if (b.it == PLM_T_INT) {
			in_len = (size_t)snprintf(ib, sizeof ib, "%lld",
						  (long long)row[b.ii].i);
			ip = ib;
		}
		if (!plm_shard_keep(&sh, ip, in_len))
			continue;
		uint64_t h = plm_key_hash(ip, in_len);
		int t = plm_id_in(c.train_ids, c.ntrain_ids, h);
		int v = !t && plm_id_in(c.val_ids, c.nval_ids, h);
		if (!allow && (t || v)) {
			if (!sn.first) {
				sn.first = rec;
				snprintf(sn.id, sizeof sn.id, "%.*s",
					 (int)(in_len > 60 ? 60 : in_len), ip);
			}
			sn.train += t;
			sn.val += v;
			continue;
		}
		if (sn.first)
			continue;        /* failing anyway: just count */
		batch_add(&bt, row, in, &b, m);
		if (bt.n == BATCH)
			batch_flush(&bt, &b, &c, w, wr, out.n);
	}
	if (sn.first) {
		plm_writer_abort(wr);
		plm_die("record %llu: id '%s' was seen by the model: %llu "
			"records were in its training data and %llu in its "
			"validation data; scores on them are not an evaluation "
			"(--allow-seen to score them anyway)",
			(unsigned long long)sn.first, sn.id,
			(unsigned long long)sn.train,
			(unsigned long long)sn.val);
	}
	batch_flush(&bt, &b, &c, w, wr, out.n);
	plm_recin_progress(r, &pg, 1);
	plm_recin_close(r);
	if (plm_writer_close(wr, err, sizeof err))
		plm_die("%s", err);
	free(bt.x);
	free(bt.v);
	free(bt.off);
	free(bt.arena);
	free(bt.p);
	free(bt.names);
	plm_mlp_work_free(w);
	plm_schema_free(&out);
	plm_mlpckpt_free(&c);
	return 0;
}
