/* mlp-predict — apply an mlp-train checkpoint to records (man/mlp-predict.1).
 *
 * Adds `score` (binary: probability of the positive class) or `probs`
 * f32[K] and `pred` (multi-class, multi-label) to every record and passes
 * the rest through.  A record whose id was a training record of the model
 * is an error unless --allow-train: scores on training data are not an
 * evaluation. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/esm.h"
#include "plm/hash.h"
#include "plm/metrics.h"
#include "plm/mlp.h"
#include "plm/mlpckpt.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [--progress] [--allow-train] [--info] [-x FIELD] [--id FIELD] "
	"[--shard K/N] [--threads N] [-o FILE] --model MODEL [FILE ...]";
static const char summary[] =
	"score records with an mlp-train model (adds score, or probs and pred)";

struct bind {
	int xi, ii, out0, out1;    /* added fields (replaced if present) */
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
		plm_die("%s: no field '%s' in input (the features, -x)", src, x);
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
	b->out1 = -1;
	if (m->head == PLM_HEAD_BINARY) {
		b->out0 = plm_schema_add(out, "score", PLM_T_FLOAT, 0);
	} else {
		b->out0 = plm_schema_add(out, "probs", PLM_T_F32,
					 m->dim[m->nl]);
		b->out1 = plm_schema_add(out, "pred",
			       c->label_str || m->head == PLM_HEAD_MULTILABEL
			       ? PLM_T_STR : PLM_T_INT, 0);
	}
	if (b->out0 < 0 || (m->head != PLM_HEAD_BINARY && b->out1 < 0))
		plm_die("out of memory");
	if (b->out0 == b->xi || b->out0 == b->ii || b->out1 == b->xi ||
	    b->out1 == b->ii)
		plm_die("%s: the features or the id are in a field mlp-predict "
			"writes (score, probs, pred)", src);
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
	for (size_t i = 0; i < c->nargs; i++)
		printf("arg.%s\t%s\n", c->args[2 * i], c->args[2 * i + 1]);
}

int main(int argc, char **argv)
{
	plm_common cm = { 0 };
	const char *model = NULL, *x = NULL, *id = NULL;
	int allow = 0, want_info = 0;
	long long threads = 1;
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&cm),
		PLM_OPTS_SHARD(&cm),
		PLM_FLAG(0, "allow-train", &allow, "score the model's own training records too"),
		PLM_FLAG(0, "info", &want_info, "print what the checkpoint holds and exit"),
		PLM_STR('x', "features", &x, "FIELD", "feature field (default: the model's)"),
		PLM_STR(0, "id", &id, "FIELD", "record id field (default: the model's)"),
		PLM_INT(0, "threads", &threads, "N", "OpenBLAS threads (default 1)", 1, 256),
		PLM_STR('m', "model", &model, "MODEL", "the checkpoint written by mlp-train"),
		PLM_OPT_END_,
	};
	char err[1024];
	plm_blas_tune(argc, argv, 0);
	plm_init("mlp-predict", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	plm_shard sh = plm_shard_parse(cm.shard);
	if (!model)
		plm_usage_die("no model: give --model MODEL");
	openblas_set_num_threads((int)threads);
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
	uint32_t K = m->dim[m->nl], d = m->dim[0];
	plm_mlp_work *w = plm_mlp_work_new(m, 1);
	float *xv = malloc(d * sizeof *xv);
	char *names = malloc(K * 256 + 1);
	if (!w || !xv || !names)
		plm_die("out of memory");

	plm_recin *r = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!r)
		plm_die("%s", err);
	plm_schema out;
	struct bind b;
	bind(&b, plm_recin_schema(r), &out, &c, x, id, plm_recin_name(r));
	plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, argc, argv, 0, 0);
	plm_writer *wr = plm_writer_open(cm.output, plm_common_format(&cm),
					 &out, err, sizeof err);
	if (!wr)
		plm_die("%s", err);
	plm_val *vals = NULL;
	uint64_t nval = 0;
	plm_progress pg;
	plm_progress_init(&pg, cm.progress, "B");
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(r, &row)) != PLM_EOF) {
		if (rc == PLM_ERR) {
			plm_writer_abort(wr);
			plm_die("%s", plm_recin_error(r));
		}
		const plm_schema *in = plm_recin_schema(r);
		if (rc == PLM_HEADER) {
			plm_schema_free(&out);
			bind(&b, in, &out, &c, x, id, plm_recin_name(r));
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
		if (!allow && plm_id_in(c.train_ids, c.ntrain_ids, h)) {
			plm_writer_abort(wr);
			plm_die("record %llu: id '%.*s' is a training record of "
				"the model: scores on training data are not an "
				"evaluation (--allow-train to score it anyway)",
				(unsigned long long)rec, (int)in_len, ip);
		}
		nval += plm_id_in(c.val_ids, c.nval_ids, h);
		plm_vec_to_f32(&row[b.xi], b.xt, d, xv);
		plm_mlp_scale(m, xv, 1);
		const float *z = plm_mlp_forward(m, w, xv, 1, NULL);
		float p[K];
		memcpy(p, z, K * sizeof *p);
		plm_mlp_probs(m, p, 1);
		vals = realloc(vals, out.n * sizeof *vals);
		if (!vals)
			plm_die("out of memory");
		memcpy(vals, row, in->n * sizeof *vals);
		if (m->head == PLM_HEAD_BINARY) {
			/* the logit is P(classes[pos]) */
			vals[b.out0] = plm_v_float(p[0]);
		} else {
			vals[b.out0] = plm_v_bytes(p, K * sizeof(float), 1);
			size_t nn = 0;
			if (m->head == PLM_HEAD_MULTILABEL) {
				for (uint32_t k = 0; k < K; k++)
					if (p[k] >= 0.5f)
						nn += (size_t)sprintf(names + nn,
							"%s%.250s", nn ? "," : "",
							c.classes[k]);
				vals[b.out1] = plm_v_str(names, nn);
			} else {
				double pd[K];
				for (uint32_t k = 0; k < K; k++)
					pd[k] = p[k];
				const char *nm = c.classes[plm_argmax(pd, K)];
				vals[b.out1] = c.label_str
					? plm_v_str(nm, strlen(nm))
					: plm_v_int(strtoll(nm, NULL, 10));
			}
		}
		if (plm_writer_row(wr, vals)) {
			snprintf(err, sizeof err, "%s", plm_writer_error(wr));
			plm_writer_abort(wr);
			plm_die("%s", err);
		}
	}
	plm_recin_progress(r, &pg, 1);
	plm_recin_close(r);
	if (plm_writer_close(wr, err, sizeof err))
		plm_die("%s", err);
	if (nval)
		plm_warn("note: %llu records were the model's validation "
			 "records (used for early stopping)",
			 (unsigned long long)nval);
	free(vals);
	free(xv);
	free(names);
	plm_mlp_work_free(w);
	plm_schema_free(&out);
	plm_mlpckpt_free(&c);
	return 0;
}
