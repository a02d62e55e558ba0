/* esm-embed — ESM-2 embeddings of the sequences of a record stream.
 *
 * Records are read in windows (up to 8 x --batch-tokens residues or
 * WINDOW_RECS records), each window's sequences are sorted by length and
 * cut into batches under the token budget, and the records go out in input
 * order with field emb (and truncated, logits) added.  On the stream-tool
 * driver (verb.h): the row callback copies a record into the window and
 * writes the window when it is full, section() writes it before the
 * fields change, finish() writes the last one.
 *
 * --cache FILE (embcache.h): a record whose sequence hash is in the cache
 * takes its vector from there; only the misses go to the model, each
 * distinct sequence once, and each batch's results are put in the cache
 * as soon as the batch is done (a killed run loses at most one batch).
 * A miss is emitted from the same float values that were stored, so the
 * output does not depend on the cache. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/embcache.h"
#include "plm/esm_batch.h"
#include "plm/esm.h"
#include "plm/fields.h"
#include "plm/float.h"
#include "plm/gemm.h"
#include "plm/h128set.h"
#include "plm/stream.h"
#include "plm/verb.h"

#define WINDOW_RECS 4096
#define SHOW 5                  /* --cache-only: missing ids listed */

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"add ESM-2 embeddings (field emb) to records with fields id and seq";

/* One input record of the window, with its own copy of the values. */
struct rec {
	plm_val *vals;          /* the input row; bytes in the same block */
	uint64_t recno;
	size_t orig, len;       /* residues in the input / embedded */
	size_t wins;            /* --long window: windows (0: fits) */
	const char *reason;     /* NULL = embed it */
	float *emb, *logits;    /* results */
	/* --cache */
	plm_h128 h;             /* plm_seq_hash of the whole sequence */
	unsigned char *vec;     /* a hit: the stored vector (cache dtype) */
	char *own;              /* reason text owned by the record */
	size_t rep;             /* dup: the window record computing it */
	unsigned char dup, missing;
};

static struct {
	plm_esm *m;
	plm_esm_ctx *ctx;
	const plm_esm_config *cf;   /* NULL: --cache-only without --model */
	const char *sig;        /* model signature (or the cache's) */
	uint32_t H;             /* vector size */
	int layer;              /* resolved layer */
	plm_esm_out o;          /* layer, pool; buffers set per batch */
	size_t budget, max_len, win_res;   /* win_res: a window's residues */
	int long_window;        /* --long window */
	size_t stride;          /* its --stride */
	int threads, f16, want_logits, verbose, fmt;
	plm_verb *v;            /* the driver: output, input, record numbers */
	plm_writer *wf;         /* --failed */
	const char *failed;
	plm_schema fout;
	/* field indices; nin and id_type describe the input section whose
	 * rows are in the window (section() writes the window before it
	 * sets them for the next) */
	int ids, iseq, iemb, itrunc, iwins, ilogits, ireason;
	size_t nin;
	enum plm_type id_type;
	unsigned char *bytes;   /* per input field: str or vector (has bytes) */
	struct rec *win;
	size_t nwin, capwin, winres;
	plm_esm_plan plan;      /* the window's batches */
	struct rec **todo;      /* the window's records for the model */
	const char **seqs;
	size_t *lens, captodo, capseqs, caplens;
	float *bout, *blog;     /* batch outputs */
	size_t bout_cap, blog_cap;
	uint16_t *half;
	/* counts */
	uint64_t nemb, residues, ntrunc, nfail, batches, btokens, ngrown;
	uint64_t nwindowed;
	/* progress, in residues: read, finished, the running batch's span */
	uint64_t res_read, pdone;
	double pbase, pspan, pfrac;
	plm_progress pg;
	double t0;
	/* --cache */
	plm_embcache *ec;
	const char *cache;
	int cache_only;
	long long compress;     /* --cache-compress */
	size_t vecsize;
	unsigned char *vbuf;
	plm_h128set *wset;      /* hashes of the window's misses → index */
	uint64_t nhit, nput, ndup, nfput, nmissing, nseen;
	char shown[SHOW][240];
	char fshown[SHOW][240]; /* the first records not embedded */
} g;

static noreturn void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static noreturn void fail(const char *fmt, ...)
{
	char m[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);   /* before the writer goes away */
	va_end(ap);
	/* the driver's output goes with the temporary files at plm_die */
	if (g.wf)
		plm_writer_abort(g.wf);
	plm_die("%s", m);
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

/* The index of field name in s, or -1 and err when it is missing or not
 * str (or int, unless str_only). */
static int find_typed(const plm_schema *s, const char *name, int str_only,
		      char *err, size_t errlen)
{
	int i = plm_schema_find(s, name);
	char t[64];
	if (i < 0) {
		plm_nofield(err, errlen, s, "no field '%s' in input", name);
		return -1;
	}
	enum plm_type ty = s->f[i].type;
	if (ty != PLM_T_STR && (str_only || ty != PLM_T_INT)) {
		snprintf(err, errlen, "field '%s' is %s: it must be str%s", name,
			 plm_type_name(ty, s->f[i].dim, t, sizeof t),
			 str_only ? "" : " or int");
		return -1;
	}
	return i;
}

static void add_prov(plm_schema *s)
{
	static const char *const pools[] = { "none", "mean", "max", "cls" };
	char layer[32], maxlen[32];
	snprintf(layer, sizeof layer, "%d", g.layer);
	snprintf(maxlen, sizeof maxlen, "%zu", g.max_len);
	if (plm_schema_add_prov(s, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0) ||
	    plm_schema_prov_set(s, "model", g.sig) ||
	    plm_schema_prov_set(s, "layer", layer) ||
	    plm_schema_prov_set(s, "pool", pools[g.o.pool]) ||
	    plm_schema_prov_set(s, "dtype", g.f16 ? "f16" : "f32") ||
	    plm_schema_prov_set(s, "max_len", maxlen))
		fail("out of memory");
	char stride[32];
	snprintf(stride, sizeof stride, "%zu", g.stride);
	if (g.long_window && (plm_schema_prov_set(s, "long", "window") ||
			      plm_schema_prov_set(s, "stride", stride)))
		fail("out of memory");
}

/* The output fields (out) and the --failed fields (g.fout) for input
 * fields s.  -1 and err when s lacks id or seq. */
static int section_schemas(const plm_schema *s, plm_schema *out, char *err,
			   size_t errlen)
{
	uint32_t H = g.H;
	if ((g.ids = find_typed(s, "id", 0, err, errlen)) < 0 ||
	    (g.iseq = find_typed(s, "seq", 1, err, errlen)) < 0)
		return -1;
	g.nin = s->n;
	g.id_type = s->f[g.ids].type;
	g.bytes = plm_xrealloc(g.bytes, s->n + 1);
	for (size_t i = 0; i < s->n; i++)
		g.bytes[i] = s->f[i].type == PLM_T_STR ||
			     plm_type_elsize(s->f[i].type) > 0;
	if (plm_schema_copy(out, s) || plm_schema_copy(&g.fout, s))
		fail("out of memory");
	g.iemb = plm_schema_add(out, "emb", g.o.pool == PLM_ESM_POOL_NONE ?
				PLM_T_F32M : g.f16 ? PLM_T_F16 : PLM_T_F32, H);
	g.itrunc = plm_schema_add(out, "truncated", PLM_T_INT, 0);
	g.iwins = g.long_window ? plm_schema_add(out, "windows", PLM_T_INT, 0)
				: -1;
	g.ilogits = g.want_logits ? plm_schema_add(out, "logits", PLM_T_F32M,
						   (uint32_t)g.cf->vocab) : -1;
	g.ireason = plm_schema_add(&g.fout, "reason", PLM_T_STR, 0);
	if (g.iemb < 0 || g.itrunc < 0 || g.ireason < 0 ||
	    (g.want_logits && g.ilogits < 0) || (g.long_window && g.iwins < 0))
		fail("out of memory");
	add_prov(out);
	add_prov(&g.fout);
	return 0;
}

/* ---- the cache ---- */

/* The record's id as text for the cache (an int id in decimal). */
static const char *id_bytes(const struct rec *r, char *buf, size_t len,
			    size_t *n)
{
	const plm_val *v = &r->vals[g.ids];
	if (v->nil) {
		*n = 0;
		return "";
	}
	if (g.id_type == PLM_T_INT) {
		*n = (size_t)snprintf(buf, len, "%lld", (long long)v->i);
		return buf;
	}
	*n = v->n;
	return v->s;
}

static void cache_fail(void)
{
	fail("%s", plm_embcache_error(g.ec));
}

/* Looks record r (index i of the window) up: a hit takes the vector, a
 * recorded failure its reason; a miss is marked for the model, or as a
 * repeat of a miss earlier in the window, or (--cache-only) as missing. */
static void cache_take(struct rec *r, size_t i)
{
	const plm_val *sq = &r->vals[g.iseq];
	char idb[256];
	size_t idn;
	const char *id;
	uint32_t *slot;
	if (sq->nil)
		return;         /* no sequence, no key: reported as usual */
	r->h = plm_seq_hash(sq->s, sq->n);
	switch (plm_embcache_lookup(g.ec, r->h, g.vbuf)) {
	case PLM_EC_HIT:
		r->vec = plm_xrealloc(NULL, g.vecsize);
		memcpy(r->vec, g.vbuf, g.vecsize);
		g.nhit++;
		return;
	case PLM_EC_FAILED:
		r->reason = r->own = strdup(plm_embcache_reason(g.ec));
		if (!r->own)
			fail("out of memory");
		g.nhit++;
		return;
	case PLM_EC_MISS:
		break;
	default:
		cache_fail();
	}
	if (r->reason) {        /* empty: known without the model */
		id = id_bytes(r, idb, sizeof idb, &idn);
		if (!g.cache_only && plm_embcache_put_failed(g.ec, r->h, id, idn,
							     r->reason) < 0)
			cache_fail();
		g.nfput += !g.cache_only;
		return;
	}
	if (g.cache_only) {
		r->missing = 1;
		if (g.nmissing < SHOW)
			id_text(r, g.shown[g.nmissing], sizeof g.shown[0]);
		g.nmissing++;
		return;
	}
	int a = plm_h128set_add(g.wset, r->h, &slot);
	if (a < 0)
		fail("out of memory");
	if (a) {
		*slot = (uint32_t)i;
	} else {
		r->dup = 1;
		r->rep = *slot;
		g.ndup++;
	}
}

/* Stores a computed vector (the floats that are also written out). */
static void cache_put(const struct rec *r)
{
	char idb[64];
	size_t idn;
	const char *id = id_bytes(r, idb, sizeof idb, &idn);
	int rc = plm_embcache_put_f32(g.ec, r->h, id, idn, r->emb);
	if (rc < 0)
		cache_fail();
	g.nput += rc == 0;
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
		g.win = plm_xrealloc(g.win, g.capwin * sizeof *g.win);
	}
	struct rec *r = &g.win[g.nwin++];
	memset(r, 0, sizeof *r);
	r->vals = plm_xrealloc(NULL, bytes);
	char *p = (char *)(r->vals + nf);
	memcpy(r->vals, row, nf * sizeof *row);
	for (size_t i = 0; i < nf; i++)
		if (!row[i].nil && g.bytes[i]) {
			memcpy(p, row[i].s, row[i].n);
			r->vals[i].s = p;
			p += row[i].n;
		}
	r->recno = g.v->recno;
	const plm_val *sq = &r->vals[g.iseq];
	r->orig = sq->nil ? 0 : sq->n;
	r->len = g.max_len && r->orig > g.max_len ? g.max_len : r->orig;
	if (g.long_window && r->len < r->orig) {
		/* windows at 0, stride, 2 stride, .. and the last one ending
		 * with the sequence */
		r->len = r->orig;
		r->wins = (r->orig - g.max_len + g.stride - 1) / g.stride + 1;
	}
	if (sq->nil)
		r->reason = "missing sequence";
	else if (!r->orig)
		r->reason = "empty sequence";
	g.nseen++;
	if (g.ec)
		cache_take(r, g.nwin - 1);
	if (!r->reason && !r->vec && !r->dup && !r->missing)
		g.winres += r->len;
	else
		g.pdone += r->len;      /* nothing to compute */
	g.res_read += r->len;
}

/* Progress in residues.  Done: the residues of the records finished
 * (computed, answered by the cache, or failed) plus `partial` of the
 * running batch.  Total: the residues of the records read so far, scaled
 * to the whole input by the share of its bytes read when its size is known
 * (a file).  The fraction shown never goes down, and it says 100% only in
 * the last line, when everything is done. */
static void progress(uint64_t partial)
{
	uint64_t done = g.pdone + partial, bdone, btotal;
	if (!g.pg.on)
		return;
	plm_verb_bytes(g.v, &bdone, &btotal);
	double est = (double)g.res_read;
	if (bdone && btotal > bdone)
		est = est * (double)btotal / (double)bdone;
	double f = est > 0 ? (double)done / est : 0;
	if (f > 0.999)
		f = 0.999;
	if (f < g.pfrac)
		f = g.pfrac;
	g.pfrac = f;
	plm_progress_poll(&g.pg, done, f > 0 ? (uint64_t)((double)done / f) : 0,
			  g.nemb);
}

/* The engine's call after each layer of a batch. */
static void on_layer(void *arg, int done, int total)
{
	(void)arg;
	progress((uint64_t)(g.pbase + g.pspan * done / total));
}

/* Runs batch b of the window's plan; its records are g.todo[order[..]]. */
static void run_batch(size_t b)
{
	const plm_esm_batch *bt = &g.plan.batch[b];
	const size_t H = (size_t)g.cf->hidden, V = (size_t)g.cf->vocab;
	const size_t n = bt->n, T = bt->tokens;
	const size_t *ord = g.plan.order + bt->first;
	size_t need = g.o.pool == PLM_ESM_POOL_NONE ? T * H : n * H;
	if (need > g.bout_cap)
		g.bout = plm_xrealloc(g.bout, (g.bout_cap = need) * sizeof(float));
	if (g.want_logits && T * V > g.blog_cap)
		g.blog = plm_xrealloc(g.blog, (g.blog_cap = T * V) * sizeof(float));
	g.o.out = g.bout;
	g.o.logits = g.want_logits ? g.blog : NULL;
	g.pbase = 0;
	g.pspan = (double)(T - 2 * n);
	int rc = plm_esm_plan_run(g.ctx, &g.plan, b, &g.o);
	g.pspan = 0;
	if (rc == PLM_ESM_NO_ROOM) {
		/* longer than the budget, and no workspace of its own size */
		g.todo[ord[0]]->reason = "too long for the memory available";
		g.pdone += g.todo[ord[0]]->len;     /* finished, as failed */
		progress(0);
		return;
	}
	if (rc)
		fail("record %llu: %s", (unsigned long long)g.todo[ord[0]]->recno,
		     plm_esm_error(g.ctx));
	const float *po = g.bout, *pl = g.blog;
	for (size_t k = 0; k < n; k++) {
		struct rec *r = g.todo[ord[k]];
		size_t ne = g.o.pool == PLM_ESM_POOL_NONE ? r->len * H : H;
		r->emb = plm_xrealloc(NULL, ne * sizeof(float));
		memcpy(r->emb, po, ne * sizeof(float));
		po += ne;
		if (g.want_logits) {
			size_t nl = (r->len + 2) * V;
			r->logits = plm_xrealloc(NULL, nl * sizeof(float));
			memcpy(r->logits, pl, nl * sizeof(float));
			pl += nl;
		}
		g.residues += r->len;
		g.pdone += r->len;
		if (g.ec)
			cache_put(r);
	}
	g.batches++;
	g.btokens += T;
	g.ngrown += (uint64_t)bt->alone;
	progress(0);
}

/* --long window: record r, longer than --max-len W, embedded as windows of
 * W residues starting at 0, stride, 2 stride, .. and one ending with the
 * sequence, each with its own <cls> and <eos>.  A residue's vector is the
 * mean of its vectors in the windows that cover it (a float sum in window
 * order, divided by the count); the record's vector pools those as the
 * model's output is pooled: the mean over residues (a double sum), the
 * maximum, or every residue (--pool none). */
static void run_windows(struct rec *r)
{
	const size_t H = g.H, W = g.max_len, L = r->orig, nw = r->wins;
	const char *sq = r->vals[g.iseq].s;
	const char **ps = plm_xmalloc(nw * sizeof *ps);
	size_t *pl = plm_xmalloc(nw * sizeof *pl), *st = plm_xmalloc(nw * sizeof *st);
	float *acc = plm_xcalloc(L * H, sizeof *acc);
	uint32_t *cnt = plm_xcalloc(L, sizeof *cnt);
	plm_esm_out o = g.o;
	o.pool = PLM_ESM_POOL_NONE;
	o.specials = 0;
	o.logits = NULL;
	for (size_t w = 0; w < nw; w++) {
		st[w] = w + 1 < nw ? w * g.stride : L - W;
		ps[w] = sq + st[w];
		pl[w] = W;
	}
	if (plm_esm_plan_cut(&g.plan, g.ctx, nw, ps, pl))
		fail("out of memory");
	for (size_t b = 0; b < g.plan.nbatch && !r->reason; b++) {
		const plm_esm_batch *bt = &g.plan.batch[b];
		if (bt->tokens * H > g.bout_cap)
			g.bout = plm_xrealloc(g.bout, (g.bout_cap = bt->tokens * H) *
					      sizeof(float));
		o.out = g.bout;
		g.pbase = (double)L * b / g.plan.nbatch;
		g.pspan = (double)L / g.plan.nbatch;
		int rc = plm_esm_plan_run(g.ctx, &g.plan, b, &o);
		g.pspan = g.pbase = 0;
		if (rc == PLM_ESM_NO_ROOM) {
			r->reason = "too long for the memory available";
			break;
		}
		if (rc)
			fail("record %llu: %s", (unsigned long long)r->recno,
			     plm_esm_error(g.ctx));
		/* windows in the plan's order; all have W residues */
		for (size_t k = 0; k < bt->n; k++) {
			size_t w = g.plan.order[bt->first + k];
			const float *x = g.bout + k * W * H;
			float *a = acc + st[w] * H;
			for (size_t i = 0; i < W * H; i++)
				a[i] += x[i];
			for (size_t i = 0; i < W; i++)
				cnt[st[w] + i]++;
		}
		g.residues += bt->tokens - 2 * bt->n;
		g.batches++;
		g.btokens += bt->tokens;
		g.ngrown += (uint64_t)bt->alone;
		progress((uint64_t)(g.pbase + (double)L * (b + 1) / g.plan.nbatch));
	}
	g.pdone += L;
	if (!r->reason) {
		for (size_t t = 0; t < L; t++)
			for (size_t i = 0; i < H; i++)
				acc[t * H + i] /= (float)cnt[t];
		if (g.o.pool == PLM_ESM_POOL_NONE) {
			r->emb = acc;
			acc = NULL;
		} else {
			r->emb = plm_xmalloc(H * sizeof *r->emb);
			for (size_t i = 0; i < H; i++) {
				double sum = 0;
				float mx = acc[i];
				for (size_t t = 0; t < L; t++) {
					sum += acc[t * H + i];
					if (acc[t * H + i] > mx)
						mx = acc[t * H + i];
				}
				r->emb[i] = g.o.pool == PLM_ESM_POOL_MAX ? mx :
					    (float)(sum / (double)L);
			}
		}
	}
	free(acc);
	free(cnt);
	free(ps);
	free(pl);
	free(st);
}

static void emit(struct rec *r)
{
	const size_t H = g.H;
	plm_val v[g.nin + 4];
	char idb[256];
	memcpy(v, r->vals, g.nin * sizeof *v);
	if (r->reason) {
		plm_warn("record %llu: %s: %s", (unsigned long long)r->recno,
			 id_text(r, idb, sizeof idb), r->reason);
		if (g.nfail < SHOW)
			snprintf(g.fshown[g.nfail], sizeof g.fshown[0], "%s (%s)",
				 id_text(r, idb, sizeof idb), r->reason);
		g.nfail++;
		if (g.wf) {
			v[g.ireason] = plm_v_str(r->reason, strlen(r->reason));
			if (plm_writer_row(g.wf, v))
				fail("%s", plm_writer_error(g.wf));
		}
		return;
	}
	if (r->missing)
		return;         /* --cache-only fails at the end */
	if (r->dup)
		r->emb = g.win[r->rep].emb;     /* not freed via r */
	if (r->vec)
		v[g.iemb] = plm_v_bytes(r->vec, g.vecsize, 1);
	else if (g.o.pool == PLM_ESM_POOL_NONE)
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
	if (g.long_window)
		v[g.iwins] = r->wins ? plm_v_int((int64_t)r->wins) : plm_v_nil();
	g.nwindowed += r->wins > 0;
	if (g.want_logits)
		v[g.ilogits] = plm_v_bytes(r->logits, (r->len + 2) *
					   g.cf->vocab * sizeof(float),
					   (uint32_t)(r->len + 2));
	plm_verb_emit(g.v, v);
	g.nemb++;
}

static void flush(void)
{
	size_t n = 0;
	PLM_XGROW(g.todo, g.captodo, g.nwin);
	PLM_XGROW(g.seqs, g.capseqs, g.nwin);
	PLM_XGROW(g.lens, g.caplens, g.nwin);
	for (size_t i = 0; i < g.nwin; i++) {
		struct rec *r = &g.win[i];
		if (r->reason || r->vec || r->dup || r->missing || r->wins)
			continue;
		g.todo[n] = r;
		g.seqs[n] = r->vals[g.iseq].s;
		g.lens[n++] = r->len;
	}
	if (n && plm_esm_plan_cut(&g.plan, g.ctx, n, g.seqs, g.lens))
		fail("out of memory");
	for (size_t b = 0; n && b < g.plan.nbatch; b++)
		run_batch(b);
	for (size_t i = 0; i < g.nwin; i++)
		if (g.win[i].wins && !g.win[i].reason && !g.win[i].dup)
			run_windows(&g.win[i]);
	/* a repeat shares its first occurrence's fate (a sequence over the
	 * budget may find no room for a workspace of its own) */
	for (size_t i = 0; i < g.nwin; i++)
		if (g.win[i].dup && g.win[g.win[i].rep].reason)
			g.win[i].reason = g.win[g.win[i].rep].reason;
	for (size_t i = 0; i < g.nwin; i++)
		emit(&g.win[i]);
	for (size_t i = 0; i < g.nwin; i++) {
		struct rec *r = &g.win[i];
		free(r->vals);
		if (!r->dup)
			free(r->emb);
		free(r->logits);
		free(r->vec);
		free(r->own);
	}
	g.nwin = g.winres = 0;
	if (g.wset) {
		plm_h128set_free(g.wset);
		if (!(g.wset = plm_h128set_new(0)))
			fail("out of memory");
	}
}

/* ---- the driver's callbacks ---- */

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	plm_schema prev = g.fout;
	(void)ctx;
	/* the window's rows belong to the previous section's fields */
	if (g.nwin)
		flush();
	if (section_schemas(in, out, err, errlen))
		return -1;
	if (!g.v->where) {
		if (g.failed && !(g.wf = plm_writer_open(g.failed, g.fmt,
							 &g.fout, err, errlen)))
			fail("%s", err);
		return 0;
	}
	/* as the driver does with the output: the same fields go on */
	if (g.wf && !plm_schema_equal(&prev, &g.fout) &&
	    plm_writer_section(g.wf, &g.fout))
		fail("%s", plm_writer_error(g.wf));
	plm_schema_free(&prev);
	return 0;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	(void)ctx;
	(void)out;
	(void)err;
	(void)errlen;
	take(in);
	if (g.winres >= g.win_res || g.nwin >= WINDOW_RECS)
		flush();
	return PLM_VERB_SKIP;
}

/* The first of n examples, comma-separated, into list[len]. */
static void join_shown(char *list, size_t len, char (*shown)[240],
		       uint64_t n)
{
	size_t l = 0;
	*list = 0;
	for (uint64_t k = 0; k < n && k < SHOW && l < len; k++)
		l += (size_t)snprintf(list + l, len - l, "%s%s", k ? ", " : "",
				      shown[k]);
}

/* Records not embedded and no --failed file to take them: the run fails
 * after all the others were computed (and stored in the cache). */
static noreturn void fail_dropped(void)
{
	char list[SHOW * 250];
	join_shown(list, sizeof list, g.fshown, g.nfail);
	fail("%llu of %llu records not embedded: %s%s; give --failed FILE "
	     "to write them there and the rest to the output",
	     (unsigned long long)g.nfail, (unsigned long long)g.nseen, list,
	     g.nfail > SHOW ? ", ..." : "");
}

/* The last window; then the cache and --failed are closed before the
 * driver closes the output, so that a failed commit fails the run without
 * an output file (the journal is kept). */
static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	(void)ctx;
	(void)v;
	flush();
	if (g.pg.on) {          /* the one line at 100% */
		g.pg.last = 0;
		plm_progress_poll(&g.pg, g.pdone, g.pdone, g.nemb);
	}
	plm_progress_end(&g.pg, g.pdone, g.nemb);
	if (g.nmissing) {
		char list[SHOW * 250];
		join_shown(list, sizeof list, g.shown, g.nmissing);
		fail("%s: %llu of %llu records have a sequence that is not in "
		     "the cache: %s%s", g.cache, (unsigned long long)g.nmissing,
		     (unsigned long long)g.nseen, list,
		     g.nmissing > SHOW ? ", ..." : "");
	}
	if (g.ec) {
		plm_embcache *ec = g.ec;
		g.ec = NULL;
		if (plm_embcache_close(ec, err, errlen))
			fail("%s", err);
	}
	if (g.wf && plm_writer_close(g.wf, err, errlen)) {
		g.wf = NULL;
		fail("%s", err);
	}
	g.wf = NULL;
	if (g.nfail && !g.failed)
		fail_dropped();
	return 0;
}

/* ---- options ---- */

/* In the order of enum plm_esm_pool. */
static const char *const pool_names[] = { "none", "mean", "max", "cls", NULL };
static const char *const dtype_names[] = { "f32", "f16", NULL };
static const char *const long_names[] = { "truncate", "window", NULL };
static const char *const precision_names[] = { "fp32", "bf16", NULL };

/* The pooling a cache records. */
static enum plm_esm_pool parse_pool(const char *s)
{
	for (int k = 0; pool_names[k]; k++)
		if (!strcmp(s, pool_names[k]))
			return (enum plm_esm_pool)k;
	plm_usage_die("--pool: '%s' is not mean, max, cls or none", s);
}

static void report(void)
{
	double dt = plm_now() - g.t0;
	if (g.ntrunc)
		plm_warn("%llu record%s truncated to %zu residues",
			 (unsigned long long)g.ntrunc, g.ntrunc == 1 ? "" : "s",
			 g.max_len);
	if (g.nwindowed)
		plm_warn("%llu record%s embedded in windows of %zu residues, "
			 "stride %zu", (unsigned long long)g.nwindowed,
			 g.nwindowed == 1 ? "" : "s", g.max_len, g.stride);
	if (g.nfail)
		plm_warn("%llu record%s not embedded%s",
			 (unsigned long long)g.nfail, g.nfail == 1 ? "" : "s",
			 g.failed ? " (written to the --failed file)" : "");
	if (!g.verbose)
		return;
	if (g.cache)
		plm_warn("cache %s: %llu of %llu records answered by the cache, "
			 "%llu computed and stored, %llu repeats of a sequence "
			 "computed in this run, %llu failures recorded", g.cache,
			 (unsigned long long)g.nhit, (unsigned long long)g.nseen,
			 (unsigned long long)g.nput, (unsigned long long)g.ndup,
			 (unsigned long long)g.nfput);
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

/* The cache's settings for this run; a setting the user gave must match.
 * --cache-only without --model: the cache's settings are taken. */
static void open_cache(const char *model, long long layer, const char *pool,
		       const char *dtype, long long max_len)
{
	char err[1024], buf[512];
	const char *d;
	plm_embcache_cfg cfg = { .signature = g.sig, .model = model,
		.layer = g.layer, .pool = pool_names[g.o.pool],
		.dtype = g.f16 ? PLM_T_F16 : PLM_T_F32, .dim = g.H,
		.max_len = (int)g.max_len, .compress = (int)g.compress };
	if (!g.cache_only) {
		g.ec = plm_embcache_open(g.cache, &cfg, 1, err, sizeof err);
		if (!g.ec)
			plm_die("%s", err);
		if (!(g.wset = plm_h128set_new(0)))
			plm_die("out of memory");
	} else {
		if (!(g.ec = plm_embcache_open(g.cache, NULL, 0, err, sizeof err)))
			plm_die("%s", err);
		const plm_embcache_cfg *have = plm_embcache_settings(g.ec);
		if (!g.m) {     /* what was not given comes from the cache */
			cfg.signature = have->signature;
			cfg.dim = have->dim;
			if (layer == LLONG_MIN)
				cfg.layer = have->layer;
			if (!pool)
				cfg.pool = have->pool;
			if (!dtype)
				cfg.dtype = have->dtype;
			if (max_len < 0)
				cfg.max_len = have->max_len;
		}
		if ((d = plm_embcache_cfg_diff(have, &cfg, buf, sizeof buf)))
			plm_die("%s: the cache was made with other settings "
				"(cache vs this run: %s); use another cache file",
				g.cache, d);
		g.sig = have->signature;
		g.H = have->dim;
		g.layer = have->layer;
		g.o.pool = parse_pool(have->pool);
		g.f16 = have->dtype == PLM_T_F16;
		g.max_len = (size_t)have->max_len;
	}
	g.vecsize = plm_embcache_vecsize(g.ec);
	g.vbuf = plm_xrealloc(NULL, g.vecsize);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *model = NULL, *pool = NULL, *dtype = NULL, *failed = NULL;
	long long layer = LLONG_MIN, max_len = -1, budget = 4096, stride = -1;
	int long_i = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long long threads = cpus > 0 ? cpus : 1;
	int pool_i = -1, dtype_i = -1, precision_i = -1;
	const plm_opt opts[] = {
		PLM_STR(0, "model", &model, "DIR", "checkpoint directory (config.json, vocab.txt, model.safetensors)"),
		PLM_INT(0, "layer", &layer, "K", "layer to output: 0 = embeddings, negative from the end (default -1, the last)", -100000, 100000),
		PLM_CHOICE_V(0, "pool", &pool_i, "MODE", "mean (default), max, cls or none (every residue)", pool_names),
		PLM_CHOICE_V(0, "dtype", &dtype_i, "TYPE", "f32 (default) or f16 vectors", dtype_names),
		PLM_CHOICE_V(0, "precision", &precision_i, "P", "fp32 (default; transformers' numbers) or bf16 (Linear layers and attention in bfloat16, float32 sums)", precision_names),
		PLM_INT(0, "max-len", &max_len, "N", "keep the first N residues (default: the model's, 1022 for ESM-2, 2046 for FastESM2; 0 = all)", 0, 1 << 28),
		PLM_CHOICE_V(0, "long", &long_i, "HOW", "a sequence over --max-len: truncate (default) or window (overlapping windows, averaged)", long_names),
		PLM_INT(0, "stride", &stride, "N", "--long window: residues between window starts (default --max-len / 2)", 1, 1 << 28),
		PLM_INT(0, "batch-tokens", &budget, "N", "tokens per batch (default 4096)", 3, 1 << 26),
		PLM_INT(0, "threads", &threads, "N", "threads (default: online CPUs)", 1, 4096),
		PLM_STR(0, "failed", &failed, "FILE", "write records that could not be embedded, with field reason"),
		PLM_FLAG(0, "logits", &g.want_logits, "add field logits: the masked-LM head, every token"),
		PLM_STR(0, "cache", &g.cache, "FILE.h5", "embedding cache: reuse stored vectors, store new ones"),
		PLM_INT(0, "cache-compress", &g.compress, "LEVEL", "gzip level 1-9 for the emb dataset of a new cache (default 0: none)", 0, 9),
		PLM_FLAG(0, "cache-only", &g.cache_only, "answer from --cache only; a sequence not in it is an error (--model optional)"),
		PLM_FLAG('v', "verbose", &g.verbose, "print BLAS core, model, batch statistics, throughput"),
		PLM_OPTS_STREAM(&c),
	};
	char err[1024];

	int i = plm_start("esm-embed", argc, argv, opts, operands, summary);
	if (g.cache_only && !g.cache)
		plm_usage_die("--cache-only needs --cache FILE");
	if (!model && !g.cache_only)
		plm_usage_die("--model DIR is required");
	if (precision_i >= 0 && !model)
		plm_usage_die("--precision: --cache-only without --model takes "
			      "the cache's vectors as they are; give --model to "
			      "check which precision made them");
	if (precision_i < 0)
		precision_i = 0;
	pool = pool_i >= 0 ? pool_names[pool_i] : NULL;
	dtype = dtype_i >= 0 ? dtype_names[dtype_i] : NULL;
	g.o.pool = pool_i >= 0 ? pool_i : PLM_ESM_POOL_MEAN;
	g.f16 = dtype_i == 1;
	if (g.f16 && g.o.pool == PLM_ESM_POOL_NONE)
		plm_usage_die("--dtype f16 needs pooling: --pool none writes f32 rows");
	if (g.cache && g.o.pool == PLM_ESM_POOL_NONE)
		plm_usage_die("--cache holds pooled vectors: not with --pool none");
	if (g.cache && g.want_logits)
		plm_usage_die("--cache holds no logits: not with --logits");
	if (g.cache_only && !model && layer < 0 && layer != LLONG_MIN)
		plm_usage_die("--layer %lld: --cache-only without --model needs "
			      "the layer's number (the cache records it)", layer);
	g.long_window = long_i == 1;
	if (stride >= 0 && !g.long_window)
		plm_usage_die("--stride is for --long window");
	if (g.long_window) {
		if (max_len == 0)
			plm_usage_die("--long window needs a window length: --max-len 0 embeds whole sequences");
		if (g.o.pool == PLM_ESM_POOL_CLS)
			plm_usage_die("--long window: --pool cls has one <cls> per window; use mean, max or none");
		if (g.want_logits)
			plm_usage_die("--long window: not with --logits (logits are per window)");
		if (g.cache)
			plm_usage_die("--long window: not with --cache (the cache holds truncated sequences' vectors)");
	}
	plm_shard_parse(c.shard);       /* a usage error before the model */
	g.fmt = plm_common_format(&c);
	g.budget = (size_t)budget;
	g.max_len = max_len < 0 ? PLM_ESM_MAX_RESIDUES : (size_t)max_len;
	g.threads = (int)threads;
	g.failed = failed;
	g.stride = (size_t)stride;
	g.layer = layer == LLONG_MIN ? -1 : (int)layer;

	g.t0 = plm_now();
	if (model) {
		if (!(g.m = plm_esm_load(model, err, sizeof err)))
			plm_die("%s", err);
		if (precision_i == 1 && plm_esm_set_bf16(g.m, err, sizeof err))
			plm_die("%s: %s", model, err);
		g.cf = plm_esm_info(g.m);
		if (g.layer > g.cf->layers || g.layer < -(g.cf->layers + 1))
			plm_usage_die("--layer %d: out of range (the model has %d "
				      "layers: 0 .. %d, or -1 .. -%d)", g.layer,
				      g.cf->layers, g.cf->layers, g.cf->layers + 1);
		g.o.layer = g.layer;
		if (g.layer < 0)
			g.layer += g.cf->layers + 1;
		g.H = (uint32_t)g.cf->hidden;
		g.sig = plm_esm_signature(g.m);
		if (max_len < 0)
			g.max_len = (size_t)g.cf->max_residues;
		if (g.want_logits && !g.cf->has_lm_head)
			plm_die("%s: --logits: the checkpoint has no LM head", model);
	}
	if (g.long_window) {
		if (stride < 0)
			g.stride = g.max_len / 2 ? g.max_len / 2 : 1;
		if (g.stride > g.max_len)
			plm_usage_die("--stride %zu: more than the window, --max-len %zu "
				      "(residues between windows would be left out)",
				      g.stride, g.max_len);
	}
	if (g.cache)
		open_cache(model, layer, pool, dtype, max_len);
	if (g.m && !g.cache_only) {
		if (!(g.ctx = plm_esm_ctx_new(g.m, g.budget, g.threads, err,
					      sizeof err)))
			plm_die("%s", err);
		plm_esm_ctx_on_layer(g.ctx, on_layer, NULL);
	}
	if (g.verbose && g.m) {
		plm_warn("matrix kernel %s, %d threads", precision_i == 1 ?
			 plm_gemm_bf16_isa() : plm_gemm_isa(), g.threads);
		plm_warn("model %s: %d layers, hidden %d, %d heads, ffn %d, "
			 "vocab %d%s; signature %s; loaded in %.2f s", model,
			 g.cf->layers, g.cf->hidden, g.cf->heads, g.cf->ffn,
			 g.cf->vocab, g.cf->has_lm_head ? ", LM head" : "",
			 plm_esm_signature(g.m), plm_now() - g.t0);
		plm_warn("%s; --max-len %zu%s", g.cf->fast_esm ? "FastESM2 "
			 "(no token-dropout rescaling)" : g.cf->token_dropout ?
			 "ESM-2 (token-dropout rescaling)" : "ESM-2",
			 g.max_len, max_len < 0 ? " (the model's)" : "");
	}
	g.half = plm_xrealloc(NULL, (size_t)g.H * sizeof *g.half);

	plm_progress_init(&g.pg, c.progress, "residues");
	g.win_res = g.ctx ? plm_esm_window_residues(g.ctx) : SIZE_MAX;
	plm_verb v = { .common = &c, .section = section, .row = row,
		       .finish = finish, .own_progress = 1 };
	g.v = &v;
	g.t0 = plm_now();
	plm_verb_run(&v, argc - i, argv + i);
	report();
	plm_schema_free(&g.fout);
	plm_esm_ctx_free(g.ctx);
	plm_esm_free(g.m);
	plm_h128set_free(g.wset);
	free(g.vbuf);
	free(g.win);
	plm_esm_plan_free(&g.plan);
	free(g.todo);
	free(g.seqs);
	free(g.lens);
	free(g.bout);
	free(g.blog);
	free(g.half);
	free(g.bytes);
	return 0;
}
