/* esm-embed — ESM-2 embeddings of the sequences of a record stream.
 *
 * Records are read in windows (up to 8 x --batch-tokens residues or
 * WINDOW_RECS records), each window's sequences are sorted by length and
 * cut into batches under the token budget, and the records go out in input
 * order with field emb (and truncated, logits) added. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/cli.h"
#include "plm/esm.h"
#include "plm/recin.h"
#include "plm/stream.h"

#define WINDOW_RECS 4096

static const char usage[] =
	"--model DIR [-TMv] [--layer K] [--pool mean|max|cls|none] "
	"[--dtype f32|f16] [--max-len N] [--batch-tokens N] [--threads N] "
	"[--shard K/N] [--failed FILE] [--logits] [-o FILE] [--progress] "
	"[FILE ...]";
static const char summary[] =
	"add ESM-2 embeddings (field emb) to records with fields id and seq";

/* One input record of the window, with its own copy of the values. */
struct rec {
	plm_val *vals;          /* the input row; bytes in the same block */
	uint64_t recno;
	size_t orig, len;       /* residues in the input / embedded */
	const char *reason;     /* NULL = embed it */
	float *emb, *logits;    /* results */
};

static struct {
	plm_esm *m;
	plm_esm_ctx *ctx;
	const plm_esm_config *cf;
	plm_esm_out o;          /* layer, pool; buffers set per batch */
	size_t budget, max_len;
	int threads, f16, want_logits, verbose;
	plm_writer *w, *wf;     /* output, --failed */
	const char *failed;
	plm_schema out, fout;
	/* field indices; nin and id_type describe the input section whose
	 * rows are in the window (recin's schema may already be the next) */
	int ids, iseq, iemb, itrunc, ilogits, ireason;
	size_t nin;
	enum plm_type id_type;
	unsigned char *bytes;   /* per input field: str or vector (has bytes) */
	struct rec *win;
	size_t nwin, capwin, winres;
	float *bout, *blog;     /* batch outputs */
	size_t bout_cap, blog_cap;
	uint16_t *half;
	/* counts */
	uint64_t nemb, residues, ntrunc, nfail, batches, btokens, ngrown;
	plm_progress pg;
	plm_recin *in;
	double t0;
} g;

static noreturn void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static noreturn void fail(const char *fmt, ...)
{
	char m[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);   /* before the writers go away */
	va_end(ap);
	if (g.w)
		plm_writer_abort(g.w);
	if (g.wf)
		plm_writer_abort(g.wf);
	plm_die("%s", m);
}

static void *xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n ? n : 1)))
		fail("out of memory");
	return p;
}

/* "id 'X'" for messages, or "" when the id is missing. */
static const char *id_text(const struct rec *r, char *buf, size_t len)
{
	const plm_val *v = &r->vals[g.ids];
	if (v->nil)
		snprintf(buf, len, "no id");
	else if (g.id_type == PLM_T_INT)
		snprintf(buf, len, "id %lld", (long long)v->i);
	else
		snprintf(buf, len, "id '%.*s'", (int)(v->n > 200 ? 200 : v->n),
			 v->s);
	return buf;
}

/* ---- schemas ---- */

static int find_typed(const plm_schema *s, const char *name, int str_only)
{
	int i = plm_schema_find(s, name);
	char t[64];
	if (i < 0)
		fail("%s: no field '%s' in input", plm_recin_name(g.in), name);
	enum plm_type ty = s->f[i].type;
	if (ty != PLM_T_STR && (str_only || ty != PLM_T_INT))
		fail("%s: field '%s' is %s: it must be str%s",
		     plm_recin_name(g.in), name,
		     plm_type_name(ty, s->f[i].dim, t, sizeof t), str_only ? "" : " or int");
	return i;
}

static void add_prov(plm_schema *s, int argc, char **argv)
{
	static const char *const pools[] = { "none", "mean", "max", "cls" };
	char layer[32], maxlen[32];
	int N = g.cf->layers;
	snprintf(layer, sizeof layer, "%d",
		 g.o.layer < 0 ? N + 1 + g.o.layer : g.o.layer);
	snprintf(maxlen, sizeof maxlen, "%zu", g.max_len);
	if (plm_schema_add_prov(s, plm_tool(), PLM_VERSION, argc, argv, 0, 0) ||
	    plm_schema_prov_set(s, "model", plm_esm_signature(g.m)) ||
	    plm_schema_prov_set(s, "layer", layer) ||
	    plm_schema_prov_set(s, "pool", pools[g.o.pool]) ||
	    plm_schema_prov_set(s, "dtype", g.f16 ? "f16" : "f32") ||
	    plm_schema_prov_set(s, "max_len", maxlen))
		fail("out of memory");
}

/* Output schemas for the current input section. */
static void section_schemas(int argc, char **argv)
{
	const plm_schema *s = plm_recin_schema(g.in);
	uint32_t H = (uint32_t)g.cf->hidden;
	g.ids = find_typed(s, "id", 0);
	g.iseq = find_typed(s, "seq", 1);
	g.nin = s->n;
	g.id_type = s->f[g.ids].type;
	g.bytes = xrealloc(g.bytes, s->n + 1);
	for (size_t i = 0; i < s->n; i++)
		g.bytes[i] = s->f[i].type == PLM_T_STR ||
			     plm_type_elsize(s->f[i].type) > 0;
	if (plm_schema_copy(&g.out, s) || plm_schema_copy(&g.fout, s))
		fail("out of memory");
	g.iemb = plm_schema_add(&g.out, "emb", g.o.pool == PLM_ESM_POOL_NONE ?
				PLM_T_F32M : g.f16 ? PLM_T_F16 : PLM_T_F32, H);
	g.itrunc = plm_schema_add(&g.out, "truncated", PLM_T_INT, 0);
	g.ilogits = g.want_logits ? plm_schema_add(&g.out, "logits", PLM_T_F32M,
						   (uint32_t)g.cf->vocab) : -1;
	g.ireason = plm_schema_add(&g.fout, "reason", PLM_T_STR, 0);
	if (g.iemb < 0 || g.itrunc < 0 || g.ireason < 0 ||
	    (g.want_logits && g.ilogits < 0))
		fail("out of memory");
	add_prov(&g.out, argc, argv);
	add_prov(&g.fout, argc, argv);
}

/* ---- the window ---- */

static void take(const plm_val *row)
{
	const size_t nf = g.nin;
	size_t bytes = nf * sizeof(plm_val);
	for (size_t i = 0; i < nf; i++)
		if (!row[i].nil && g.bytes[i])
			bytes += row[i].n;
	if (g.nwin == g.capwin) {
		g.capwin = g.capwin ? 2 * g.capwin : 256;
		g.win = xrealloc(g.win, g.capwin * sizeof *g.win);
	}
	struct rec *r = &g.win[g.nwin++];
	memset(r, 0, sizeof *r);
	r->vals = xrealloc(NULL, bytes);
	char *p = (char *)(r->vals + nf);
	memcpy(r->vals, row, nf * sizeof *row);
	for (size_t i = 0; i < nf; i++)
		if (!row[i].nil && g.bytes[i]) {
			memcpy(p, row[i].s, row[i].n);
			r->vals[i].s = p;
			p += row[i].n;
		}
	r->recno = plm_recin_recno(g.in);
	const plm_val *sq = &r->vals[g.iseq];
	r->orig = sq->nil ? 0 : sq->n;
	r->len = g.max_len && r->orig > g.max_len ? g.max_len : r->orig;
	if (sq->nil)
		r->reason = "missing sequence";
	else if (!r->orig)
		r->reason = "empty sequence";
	g.winres += r->len;
}

static int by_len(const void *a, const void *b)
{
	const struct rec *x = *(struct rec *const *)a, *y = *(struct rec *const *)b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->recno < y->recno ? -1 : x->recno > y->recno;
}

/* Runs recs[0 .. n) as one batch of T tokens in workspace c. */
static void run_batch(plm_esm_ctx *c, struct rec **recs, size_t n, size_t T)
{
	const size_t H = (size_t)g.cf->hidden, V = (size_t)g.cf->vocab;
	const char **seqs = xrealloc(NULL, n * sizeof *seqs);
	size_t *lens = xrealloc(NULL, n * sizeof *lens);
	for (size_t k = 0; k < n; k++) {
		seqs[k] = recs[k]->vals[g.iseq].s;
		lens[k] = recs[k]->len;
	}
	size_t need = g.o.pool == PLM_ESM_POOL_NONE ? T * H : n * H;
	if (need > g.bout_cap)
		g.bout = xrealloc(g.bout, (g.bout_cap = need) * sizeof(float));
	if (g.want_logits && T * V > g.blog_cap)
		g.blog = xrealloc(g.blog, (g.blog_cap = T * V) * sizeof(float));
	g.o.out = g.bout;
	g.o.logits = g.want_logits ? g.blog : NULL;
	if (plm_esm_forward(c, n, seqs, lens, &g.o))
		fail("record %llu: %s", (unsigned long long)recs[0]->recno,
		     plm_esm_error(c));
	const float *po = g.bout, *pl = g.blog;
	for (size_t k = 0; k < n; k++) {
		struct rec *r = recs[k];
		size_t ne = g.o.pool == PLM_ESM_POOL_NONE ? r->len * H : H;
		r->emb = xrealloc(NULL, ne * sizeof(float));
		memcpy(r->emb, po, ne * sizeof(float));
		po += ne;
		if (g.want_logits) {
			size_t nl = (r->len + 2) * V;
			r->logits = xrealloc(NULL, nl * sizeof(float));
			memcpy(r->logits, pl, nl * sizeof(float));
			pl += nl;
		}
		g.residues += r->len;
	}
	g.batches++;
	g.btokens += T;
	free(seqs);
	free(lens);
	if (g.pg.on) {
		uint64_t done, total;
		plm_recin_bytes(g.in, &done, &total);
		/* residues expected in all, from the share of input read */
		uint64_t est = done && total ? (uint64_t)((double)g.residues *
			       total / done) : 0;
		plm_progress_update(&g.pg, g.residues, est, g.nemb + n);
	}
}

/* A sequence longer than the budget: a workspace of its own size. */
static void run_alone(struct rec *r)
{
	char err[512];
	size_t T = r->len + 2;
	plm_esm_ctx *c = plm_esm_ctx_new(g.m, T, g.threads, err, sizeof err);
	if (!c) {
		r->reason = "too long for the memory available";
		return;
	}
	run_batch(c, &r, 1, T);
	plm_esm_ctx_free(c);
	g.ngrown++;
}

static void emit(struct rec *r)
{
	const size_t H = (size_t)g.cf->hidden;
	plm_val v[g.nin + 4];
	char idb[256];
	memcpy(v, r->vals, g.nin * sizeof *v);
	if (r->reason) {
		plm_warn("record %llu: %s: %s", (unsigned long long)r->recno,
			 id_text(r, idb, sizeof idb), r->reason);
		g.nfail++;
		if (g.wf) {
			v[g.ireason] = plm_v_str(r->reason, strlen(r->reason));
			if (plm_writer_row(g.wf, v))
				fail("%s", plm_writer_error(g.wf));
		}
		return;
	}
	if (g.o.pool == PLM_ESM_POOL_NONE)
		v[g.iemb] = plm_v_bytes(r->emb, r->len * H * sizeof(float),
					(uint32_t)r->len);
	else if (g.f16) {
		for (size_t i = 0; i < H; i++)
			g.half[i] = plm_f32_to_f16(r->emb[i]);
		v[g.iemb] = plm_v_bytes(g.half, H * sizeof *g.half, 1);
	} else
		v[g.iemb] = plm_v_bytes(r->emb, H * sizeof(float), 1);
	v[g.itrunc] = r->len < r->orig ? plm_v_int((int64_t)r->orig)
				       : plm_v_nil();
	g.ntrunc += r->len < r->orig;
	if (g.want_logits)
		v[g.ilogits] = plm_v_bytes(r->logits, (r->len + 2) *
					   g.cf->vocab * sizeof(float),
					   (uint32_t)(r->len + 2));
	if (plm_writer_row(g.w, v))
		fail("%s", plm_writer_error(g.w));
	g.nemb++;
}

static void flush(void)
{
	struct rec **ord = xrealloc(NULL, (g.nwin + 1) * sizeof *ord);
	size_t n = 0;
	for (size_t i = 0; i < g.nwin; i++)
		if (!g.win[i].reason)
			ord[n++] = &g.win[i];
	qsort(ord, n, sizeof *ord, by_len);
	for (size_t i = 0; i < n;) {
		size_t T = 0, j = i;
		while (j < n && ord[j]->len + 2 <= g.budget - T)
			T += ord[j++]->len + 2;
		if (j == i)
			run_alone(ord[j++]);
		else
			run_batch(g.ctx, ord + i, j - i, T);
		i = j;
	}
	for (size_t i = 0; i < g.nwin; i++) {
		emit(&g.win[i]);
		free(g.win[i].vals);
		free(g.win[i].emb);
		free(g.win[i].logits);
	}
	free(ord);
	g.nwin = g.winres = 0;
}

/* ---- options ---- */

static enum plm_esm_pool parse_pool(const char *s)
{
	if (!strcmp(s, "mean"))
		return PLM_ESM_POOL_MEAN;
	if (!strcmp(s, "max"))
		return PLM_ESM_POOL_MAX;
	if (!strcmp(s, "cls"))
		return PLM_ESM_POOL_CLS;
	if (!strcmp(s, "none"))
		return PLM_ESM_POOL_NONE;
	plm_usage_die("--pool: '%s' is not mean, max, cls or none", s);
}

/* -v must be known before plm_parse: plm_blas_tune runs first. */
static int early_verbose(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			return 1;
	return 0;
}

static void report(void)
{
	double dt = plm_now() - g.t0;
	if (g.ntrunc)
		plm_warn("%llu record%s truncated to %zu residues",
			 (unsigned long long)g.ntrunc, g.ntrunc == 1 ? "" : "s",
			 g.max_len);
	if (g.nfail)
		plm_warn("%llu record%s not embedded%s",
			 (unsigned long long)g.nfail, g.nfail == 1 ? "" : "s",
			 g.failed ? " (written to the --failed file)" : "");
	if (!g.verbose)
		return;
	plm_warn("%llu records, %llu residues in %llu batches (mean %.0f "
		 "tokens, %.0f%% of the budget %zu; %llu alone in a larger "
		 "workspace)", (unsigned long long)g.nemb,
		 (unsigned long long)g.residues, (unsigned long long)g.batches,
		 g.batches ? (double)g.btokens / g.batches : 0.0,
		 g.batches ? 100.0 * g.btokens / g.batches / g.budget : 0.0,
		 g.budget, (unsigned long long)g.ngrown);
	plm_warn("%.2f s, %.0f residues/s, %.1f records/s", dt,
		 dt > 0 ? g.residues / dt : 0.0, dt > 0 ? g.nemb / dt : 0.0);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *model = NULL, *pool = "mean", *dtype = "f32", *failed = NULL;
	long long layer = -1, max_len = PLM_ESM_MAX_RESIDUES, budget = 4096;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long long threads = cpus > 0 ? cpus : 1;
	const plm_opt opts[] = {
		PLM_STR(0, "model", &model, "DIR", "checkpoint directory (config.json, vocab.txt, model.safetensors)"),
		PLM_INT(0, "layer", &layer, "K", "layer to output: 0 = embeddings, negative from the end (default -1, the last)", -100000, 100000),
		PLM_STR(0, "pool", &pool, "MODE", "mean (default), max, cls or none (every residue)"),
		PLM_STR(0, "dtype", &dtype, "TYPE", "f32 (default) or f16 vectors"),
		PLM_INT(0, "max-len", &max_len, "N", "keep the first N residues (default 1022; 0 = all)", 0, 1 << 28),
		PLM_INT(0, "batch-tokens", &budget, "N", "tokens per batch (default 4096)", 3, 1 << 26),
		PLM_INT(0, "threads", &threads, "N", "threads (default: online CPUs)", 1, 4096),
		PLM_STR(0, "failed", &failed, "FILE", "write records that could not be embedded, with field reason"),
		PLM_FLAG(0, "logits", &g.want_logits, "add field logits: the masked-LM head, every token"),
		PLM_FLAG('v', "verbose", &g.verbose, "print BLAS core, model, batch statistics, throughput"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_OPT_END_,
	};
	char err[1024];
	const plm_val *row;

	plm_blas_tune(argc, argv, early_verbose(argc, argv));
	plm_init("esm-embed", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	if (!model)
		plm_usage_die("--model DIR is required");
	g.o.pool = parse_pool(pool);
	if (strcmp(dtype, "f32") && strcmp(dtype, "f16"))
		plm_usage_die("--dtype: '%s' is not f32 or f16", dtype);
	g.f16 = !strcmp(dtype, "f16");
	if (g.f16 && g.o.pool == PLM_ESM_POOL_NONE)
		plm_usage_die("--dtype f16 needs pooling: --pool none writes f32 rows");
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	g.budget = (size_t)budget;
	g.max_len = (size_t)max_len;
	g.threads = (int)threads;
	g.failed = failed;

	g.t0 = plm_now();
	if (!(g.m = plm_esm_load(model, err, sizeof err)))
		plm_die("%s", err);
	g.cf = plm_esm_info(g.m);
	if (layer > g.cf->layers || layer < -(g.cf->layers + 1))
		plm_usage_die("--layer %lld: out of range (the model has %d "
			      "layers: 0 .. %d, or -1 .. -%d)", layer,
			      g.cf->layers, g.cf->layers, g.cf->layers + 1);
	g.o.layer = (int)layer;
	if (g.want_logits && !g.cf->has_lm_head)
		plm_die("%s: --logits: the checkpoint has no LM head", model);
	if (!(g.ctx = plm_esm_ctx_new(g.m, g.budget, g.threads, err, sizeof err)))
		plm_die("%s", err);
	if (g.verbose) {
		plm_warn("OpenBLAS core %s, %d threads", plm_blas_core(), g.threads);
		plm_warn("model %s: %d layers, hidden %d, %d heads, ffn %d, "
			 "vocab %d%s; signature %s; loaded in %.2f s", model,
			 g.cf->layers, g.cf->hidden, g.cf->heads, g.cf->ffn,
			 g.cf->vocab, g.cf->has_lm_head ? ", LM head" : "",
			 plm_esm_signature(g.m), plm_now() - g.t0);
	}
	g.half = xrealloc(NULL, (size_t)g.cf->hidden * sizeof *g.half);

	if (!(g.in = plm_recin_open(argc - i, argv + i, err, sizeof err)))
		plm_die("%s", err);
	section_schemas(argc, argv);
	if (!(g.w = plm_writer_open(c.output, fmt, &g.out, err, sizeof err)))
		fail("%s", err);
	if (failed && !(g.wf = plm_writer_open(failed, fmt, &g.fout, err, sizeof err)))
		fail("%s", err);
	plm_progress_init(&g.pg, c.progress, "residues");
	g.t0 = plm_now();

	int rc;
	const size_t win_res = g.budget * 8;
	while ((rc = plm_recin_next(g.in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			fail("%s", plm_recin_error(g.in));
		if (rc == PLM_HEADER) {
			/* the window's rows belong to the old fields */
			flush();
			plm_schema_free(&g.out);
			plm_schema_free(&g.fout);
			section_schemas(argc, argv);
			if (plm_writer_section(g.w, &g.out))
				fail("%s", plm_writer_error(g.w));
			if (g.wf && plm_writer_section(g.wf, &g.fout))
				fail("%s", plm_writer_error(g.wf));
			continue;
		}
		if (sh.n && !plm_shard_keep_val(&sh, &row[g.ids], g.id_type))
			continue;
		take(row);
		if (g.winres >= win_res || g.nwin >= WINDOW_RECS)
			flush();
	}
	flush();
	plm_progress_end(&g.pg, g.residues, g.nemb);
	if (g.wf && plm_writer_close(g.wf, err, sizeof err)) {
		g.wf = NULL;
		fail("%s", err);
	}
	g.wf = NULL;
	if (plm_writer_close(g.w, err, sizeof err)) {
		g.w = NULL;
		plm_die("%s", err);
	}
	g.w = NULL;
	report();
	plm_recin_close(g.in);
	plm_schema_free(&g.out);
	plm_schema_free(&g.fout);
	plm_esm_ctx_free(g.ctx);
	plm_esm_free(g.m);
	free(g.win);
	free(g.bout);
	free(g.blog);
	free(g.half);
	free(g.bytes);
	return 0;
}
