/* feat-merge — join feature vectors from several streams by key and
 * concatenate them, in argument order, into one f32 vector.
 *
 * One input streams, the others are held in memory (key → vector; the
 * first input, whose fields pass through, as whole rows when held).  The
 * streamed one is the largest when every input is a regular file, else
 * the first.  The join is over the union of the keys, so the result does
 * not depend on which input streams, except for the order of the output:
 * the streamed input's, then keys it lacks (--allow-missing zero|nil).
 *
 * The streamed input goes through the record-tool driver (verb.h): its
 * first section() call checks every input's header, in argument order,
 * and loads the held ones; row() merges; finish() writes the keys the
 * streamed input lacks. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/float.h"
#include "plm/extsort.h"
#include "plm/hash.h"
#include "plm/map.h"
#include "plm/mlp.h"
#include "plm/recin.h"
#include "plm/rows.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "A B [C ...]";
static const char summary[] =
	"join feature vectors from several streams by key into one vector";

enum { M_ERROR, M_DROP, M_NIL, M_ZERO };
#define SHOW 5
#define ALONE_MEM (1u << 20)   /* the keys below, before they go to disk */

/* A key of the streamed input that no held input has, kept to find a
 * repeat: by hash (XXH3-128 of the encoded key), sorted on disk when there
 * are many, with its text for the message. */
typedef struct alone_key {
	uint64_t hi, lo, recno;
	char text[128];
} alone_key;

struct side {
	const char *path;
	plm_recin *in;          /* held inputs, until loaded */
	const plm_schema *schema;
	int key, vec;
	enum plm_type type;     /* f32, f16 or bf16 */
	uint32_t dim;
	size_t vb;              /* bytes of one vector */
	/* held inputs only: */
	plm_strmap *map;        /* encoded key → row */
	unsigned char *data;    /* rows * vb */
	unsigned char *nil;     /* per row: vector was nil */
	unsigned char *used;    /* per row: key seen in the streamed input */
	size_t rows, dcap, ncap;
	plm_rows full;          /* the first input's whole rows, when held */
};

static struct {
	struct side *S;
	int n, s;               /* inputs, the streamed one */
	int mode;
	enum plm_type kt;
	plm_verb *verb;
	char **paths;           /* the operands */
	const char *key, *field, *oname;
	int verbose;
	uint32_t *dims;         /* --dims: one per input; NULL: none */
	uint64_t dim_total;     /* --dim-total; 0: none */
	size_t nA;              /* the first input's fields */
	int akey;               /* its key field */
	int oi;                 /* output vector field */
	uint32_t total;
	plm_val *v;
	float *vec;
	uint64_t nkeys, nmiss, nout;
	char shown[SHOW][200];
	const plm_shard *sh;
	/* the streamed input's state */
	const unsigned char **src;
	int *nilv;
	plm_keybuf kb;
	plm_extsort *alone;
} g;

static noreturn void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static noreturn void fail(const char *fmt, ...)
{
	char m[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	plm_die("%s", m);   /* removes the driver's temporary output */
}

static int vec_type(enum plm_type t)
{
	return t == PLM_T_F32 || t == PLM_T_F16 || t == PLM_T_BF16;
}

/* Opens one input and reads its header (s: the streamed input's, already
 * read by the driver), checks the key and vector fields. */
static void open_side(struct side *S, const char *path, const plm_schema *s,
		      const char *key, const char *field)
{
	char err[512], tn[64];
	char *paths[1] = { (char *)path };
	S->path = strcmp(path, "-") ? path : "stdin";
	if (!s) {
		if (!(S->in = plm_recin_open(1, paths, err, sizeof err)))
			fail("%s", err);
		s = plm_recin_schema(S->in);
	}
	S->schema = s;
	if ((S->key = plm_schema_find(s, key)) < 0)
		fail("%s", (plm_nofield(err, sizeof err, s, "%s: no key field "
					"'%s'", path, key), err));
	if (!plm_key_type_ok(s->f[S->key].type) ||
	    s->f[S->key].type == PLM_T_BOOL)
		fail("%s: key field '%s' is %s; keys are str or int", path,
		     key, plm_type_name(s->f[S->key].type, 0, tn, sizeof tn));
	if ((S->vec = plm_schema_find(s, field)) < 0)
		fail("%s", (plm_nofield(err, sizeof err, s, "%s: no field '%s'",
					path, field), err));
	const plm_field *f = &s->f[S->vec];
	if (!vec_type(f->type))
		fail("%s: field '%s' is %s; want a vector (f32, f16 or "
		     "bf16)", path, field,
		     plm_type_name(f->type, f->dim, tn, sizeof tn));
	S->type = f->type;
	S->dim = f->dim;
	S->vb = (size_t)f->dim * plm_type_elsize(f->type);
}

static noreturn void die_at(struct side *S, uint64_t recno,
			     const char *what)
{
	fail("%s: record %" PRIu64 ": %s", S->path, recno, what);
}

/* A held input's rows are counted by its reader, the streamed one's by
 * the driver. */
static uint64_t recno(struct side *S)
{
	return S->in ? plm_recin_recno(S->in) : g.verb->recno;
}

static noreturn void die_row(struct side *S, const char *what)
{
	die_at(S, recno(S), what);
}

static noreturn void dup_text(struct side *S, uint64_t recno,
			      const char *text)
{
	char msg[256];
	snprintf(msg, sizeof msg, "duplicate key '%s'", text);
	die_at(S, recno, msg);
}

static void dup_key(struct side *S, const plm_val *k)
{
	char text[128];
	plm_val_text(k, g.kt, text, sizeof text);
	dup_text(S, recno(S), text);
}

static int alone_cmp(const void *pa, const void *pb)
{
	const alone_key *a = pa, *b = pb;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->recno < b->recno ? -1 : a->recno > b->recno;
}

static void alone_add(plm_extsort *alone, const plm_keybuf *kb,
		      const plm_val *k, uint64_t recno)
{
	char err[256];
	plm_h128 h = plm_seq_hash(kb->p, kb->n);
	alone_key a = { h.hi, h.lo, recno, { 0 } };
	plm_val_text(k, g.kt, a.text, sizeof a.text);
	if (plm_extsort_add(alone, &a, err, sizeof err))
		fail("%s", err);
}

/* Ends the run, as the stream would have, at the first repeat of a key no
 * held input has that comes before record `before` of the streamed
 * input.  Consumes the sorter. */
static void alone_check(plm_extsort *alone, uint64_t before)
{
	char err[256];
	const void *p;
	alone_key prev = { 0 }, first = { 0 };
	int rc, have = 0;
	if (plm_extsort_sort(alone, err, sizeof err))
		fail("%s", err);
	first.recno = UINT64_MAX;
	while ((rc = plm_extsort_next(alone, &p, err, sizeof err)) > 0) {
		const alone_key *a = p;
		if (have && a->hi == prev.hi && a->lo == prev.lo &&
		    a->recno < first.recno && a->recno < before)
			first = *a;
		prev = *a;
		have = 1;
	}
	if (rc < 0)
		fail("%s", err);
	if (first.recno != UINT64_MAX)
		dup_text(&g.S[g.s], first.recno, first.text);
}

/* The input's next row: 1, or 0 at its end.  One set of fields each. */
static int next_row(struct side *S, const plm_val **row)
{
	int rc = plm_recin_next(S->in, row);
	if (rc == PLM_ERR)
		fail("%s", plm_recin_error(S->in));
	if (rc == PLM_HEADER)
		die_row(S, "the fields change; one set of fields per input");
	return rc != PLM_EOF;
}

/* The key of a held input's row into kb; 0 when --shard leaves the row
 * out.  A nil key ends the run. */
static int row_key(struct side *S, const plm_val *row, plm_keybuf *kb)
{
	if (row[S->key].nil)
		die_row(S, "key is nil");
	if (g.sh->n && !plm_shard_keep_val(g.sh, &row[S->key], g.kt))
		return 0;
	plm_key_reset(kb);
	if (plm_key_add(kb, &row[S->key], g.kt))
		plm_oom();
	return 1;
}

/* Reads a held input into memory (whole rows too for the first input). */
static void load_side(struct side *S, int whole)
{
	plm_keybuf kb = { 0 };
	const plm_val *row;
	if (!(S->map = plm_strmap_new()) ||
	    (whole && plm_rows_init(&S->full, plm_recin_schema(S->in))))
		plm_oom();
	while (next_row(S, &row)) {
		if (!row_key(S, row, &kb))
			continue;
		int added;
		uint64_t *slot = plm_strmap_put(S->map, kb.p, kb.n, &added);
		if (!slot)
			plm_oom();
		if (!added)
			dup_key(S, &row[S->key]);
		PLM_XGROW(S->data, S->dcap, (S->rows + 1) * S->vb);
		PLM_XGROW(S->nil, S->ncap, S->rows + 1);
		*slot = S->rows;
		S->nil[S->rows] = row[S->vec].nil;
		if (!row[S->vec].nil)
			memcpy(S->data + S->rows * S->vb, row[S->vec].s, S->vb);
		if (whole && plm_rows_add(&S->full, row) < 0)
			plm_oom();
		S->rows++;
	}
	S->used = plm_xcalloc(S->rows + 1, 1);
	plm_key_free(&kb);
	plm_recin_close(S->in);
	S->in = NULL;
}

/* The streamed input: the largest when every input is a regular file
 * (the first of equals), else the first (stdin, a pipe). */
static int pick_streamed(int n, char **paths)
{
	int best = 0;
	off_t size = -1;
	for (int a = 0; a < n; a++) {
		struct stat st;
		if (!strcmp(paths[a], "-") || stat(paths[a], &st) ||
		    !S_ISREG(st.st_mode))
			return 0;
		if (st.st_size > size) {
			size = st.st_size;
			best = a;
		}
	}
	return best;
}

static void note_missing(const plm_val *k, int miss, int nilvec)
{
	char text[100];
	if (g.nmiss++ >= SHOW)
		return;
	if (k->nil)
		snprintf(text, sizeof text, "\\N");
	else
		plm_val_text(k, g.kt, text, sizeof text);
	snprintf(g.shown[g.nmiss - 1], sizeof g.shown[0], "'%s' (%s%s)", text,
		 nilvec ? "nil vector in " : "not in ", g.S[miss].path);
}

/* One output record.  base: the first input's values (NULL: it lacks the
 * key; then every field is nil but the key, k).  src[a]: input a's vector
 * or NULL.  Returns after writing, dropping or noting a missing part. */
static void put_record(const plm_val *base, const plm_val *k,
		       const unsigned char *const *src, const int *nilvec)
{
	int miss = -1, isnil = 0;
	float *p = g.vec;
	g.nkeys++;
	for (int a = 0; a < g.n; a++) {
		if (src[a])
			plm_vec_to_f32(&(plm_val){ .s = (const char *)src[a] },
				       g.S[a].type, g.S[a].dim, p);
		else {
			memset(p, 0, (size_t)g.S[a].dim * sizeof *p);
			if (miss < 0) {
				miss = a;
				isnil = nilvec[a];
			}
		}
		p += g.S[a].dim;
	}
	if (base)
		memcpy(g.v, base, g.nA * sizeof *g.v);
	else {
		for (size_t i = 0; i < g.nA; i++)
			g.v[i] = plm_v_nil();
		g.v[g.akey] = *k;
	}
	g.v[g.oi] = plm_v_bytes(g.vec, (size_t)g.total * 4, 1);
	if (miss >= 0) {
		note_missing(k, miss, isnil);
		if (g.mode == M_ERROR || g.mode == M_DROP)
			return;
		if (g.mode == M_NIL)
			g.v[g.oi] = plm_v_nil();
	}
	plm_verb_emit(g.verb, g.v);
	g.nout++;
}

/* Held input a's vector for key kb, marking it used (NULL: absent or nil;
 * *nilvec says which).  *row receives the row index (or -1). */
static const unsigned char *held(int a, const plm_keybuf *kb, int *nilvec,
				 long *row)
{
	struct side *S = &g.S[a];
	uint64_t *r = kb->n ? plm_strmap_get(S->map, kb->p, kb->n) : NULL;
	*nilvec = 0;
	*row = -1;
	if (!r)
		return NULL;
	*row = (long)*r;
	S->used[*r] = 1;
	if (S->nil[*r]) {
		*nilvec = 1;
		return NULL;
	}
	return S->data + *r * S->vb;
}

/* One row of the streamed input: its record, merged. */
static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct side *T = &g.S[g.s];
	const plm_val *k = &in[T->key];
	plm_keybuf *kb = &g.kb;
	(void)ctx;
	(void)out;
	(void)err;
	(void)errlen;
	if (g.sh->n && !plm_shard_keep_val(g.sh, k, g.kt))
		return PLM_VERB_SKIP;
	plm_key_reset(kb);
	if (!k->nil && plm_key_add(kb, k, g.kt))
		plm_oom();
	const plm_val *base = g.s == 0 ? in : NULL;
	int found = 0;
	for (int a = 0; a < g.n; a++) {
		long r;
		if (a == g.s) {
			g.src[a] = in[T->vec].nil ? NULL :
				   (const unsigned char *)in[T->vec].s;
			g.nilv[a] = in[T->vec].nil;
			continue;
		}
		int was = 0;
		if (kb->n) {
			uint64_t *u = plm_strmap_get(g.S[a].map, kb->p, kb->n);
			was = u && g.S[a].used[*u];
		}
		if (was) {
			alone_check(g.alone, recno(T));
			dup_key(T, k);
		}
		g.src[a] = held(a, kb, &g.nilv[a], &r);
		found |= r >= 0;
		if (a == 0 && r >= 0)
			base = plm_rows_get(&g.S[0].full, (size_t)r);
	}
	if (!found && kb->n)
		alone_add(g.alone, kb, k, recno(T));
	put_record(base, k, g.src, g.nilv);
	return PLM_VERB_SKIP;
}

/* Keys of held inputs that the streamed input lacks, in argument order
 * then record order, each once. */
static void rest(void)
{
	const unsigned char **src = plm_xcalloc((size_t)g.n, sizeof *src);
	int *nilv = plm_xcalloc((size_t)g.n, sizeof *nilv);
	for (int a = 0; a < g.n; a++) {
		struct side *S = &g.S[a];
		if (a == g.s)
			continue;
		for (size_t i = 0; i < S->rows; i++) {
			if (S->used[i])
				continue;
			size_t kn, pos = 0;
			const char *kp = plm_strmap_key(S->map, i, &kn);
			plm_keybuf kb = { (char *)kp, kn, kn };
			plm_val k;
			enum plm_type t;
			if (plm_key_next(kp, kn, &pos, &k, &t))
				fail("internal error: bad key");
			const plm_val *base = NULL;
			for (int b = 0; b < g.n; b++) {
				long r = -1;
				src[b] = NULL;
				nilv[b] = 0;
				if (b != g.s)
					src[b] = held(b, &kb, &nilv[b], &r);
				if (b == 0 && r >= 0)
					base = plm_rows_get(&g.S[0].full,
							    (size_t)r);
			}
			put_record(base, &k, src, nilv);
		}
	}
	free(src);
	free(nilv);
}

/* --dims: input a's header against what was declared, before any row. */
static void check_dim(struct side *S, int a)
{
	if (g.dims && S->dim != g.dims[a])
		fail("%s: field '%s' has dimension %" PRIu32 "; --dims declares "
		     "%" PRIu32 " for input %d", S->path, g.field, S->dim,
		     g.dims[a], a + 1);
}

static void check_total(uint64_t total)
{
	if (g.dim_total && total != g.dim_total)
		fail("%s: the inputs' dimensions sum to %" PRIu64 "; "
		     "--dim-total declares %" PRIu64, g.field, total,
		     g.dim_total);
	if (total > (1u << 24))
		fail("merged vector too long (%" PRIu64 " values)", total);
}

/* Every header, in argument order (the streamed one's is `in`, NULL when
 * none streams), so that a dimension problem shows before any row is
 * read; the sum goes to standard error. */
static void headers(const plm_schema *in)
{
	uint64_t total = 0;
	char line[1024];
	size_t ll = 0;
	for (int a = 0; a < g.n; a++) {
		struct side *S = &g.S[a];
		open_side(S, g.paths[a], a == g.s ? in : NULL, g.key, g.field);
		check_dim(S, a);
		enum plm_type t = S->schema->f[S->key].type;
		if (a && t != g.kt)
			fail("%s: key '%s' has another type than in %s",
			     S->path, g.key, g.S[0].path);
		g.kt = t;
		total += S->dim;
		ll += (size_t)snprintf(line + ll, ll < sizeof line ?
				       sizeof line - ll : 0, "%s%" PRIu32,
				       a ? " + " : "", S->dim);
		if (ll >= sizeof line)
			ll = sizeof line - 1;
	}
	plm_warn("%s: %s = %" PRIu64, g.field, line, total);
	check_total(total);
	g.total = (uint32_t)total;
}

/* The held inputs are loaded after the headers.  out: the first input's
 * fields and the merged vector. */
static void setup(const plm_schema *in, plm_schema *out)
{
	headers(in);
	g.nA = g.S[0].schema->n;
	g.akey = g.S[0].key;
	if (plm_schema_copy(out, g.S[0].schema))
		plm_oom();
	g.oi = plm_schema_add(out, g.oname, PLM_T_F32, g.total);
	if (g.oi == g.S[0].key)
		plm_usage_die("--field %s would overwrite the key", g.oname);
	if (plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0))
		plm_oom();

	for (int a = 0; a < g.n; a++)
		if (a != g.s)
			load_side(&g.S[a], a == 0);
	if (g.verbose) {
		for (int a = 0; a < g.n; a++)
			if (a != g.s)
				plm_warn("holding %s: %zu records (%s)",
					 g.S[a].path, g.S[a].rows, a ? "key and "
					 "vector" : "whole records");
		plm_warn("streaming %s", g.S[g.s].path);
	}
	g.v = plm_xcalloc(out->n, sizeof *g.v);
	g.vec = plm_xmalloc((size_t)g.total * sizeof *g.vec);
	g.src = plm_xcalloc((size_t)g.n, sizeof *g.src);
	g.nilv = plm_xcalloc((size_t)g.n, sizeof *g.nilv);
	/* keys of the streamed input that no held input has: checked for a
	 * repeat at the end (the others are found by the held rows' used
	 * marks as they come) */
	if (!(g.alone = plm_extsort_new(sizeof (alone_key), ALONE_MEM,
					alone_cmp, NULL)))
		plm_oom();
}

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	if (g.verb->where)
		die_row(&g.S[g.s], "the fields change; one set of fields per "
			"input");
	setup(in, out);
	return 0;
}

/* The keys the streamed input lacks; a missing vector fails here, before
 * the driver commits the output. */
static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	(void)ctx;
	(void)v;
	(void)err;
	(void)errlen;
	alone_check(g.alone, UINT64_MAX);
	plm_extsort_free(g.alone);
	g.alone = NULL;
	rest();
	if (g.nmiss && g.mode == M_ERROR) {
		char list[SHOW * 210];
		size_t l = 0;
		for (uint64_t k = 0; k < g.nmiss && k < SHOW; k++)
			l += (size_t)snprintf(list + l, sizeof list - l, "%s%s",
					      k ? ", " : "", g.shown[k]);
		fail("%" PRIu64 " of %" PRIu64 " keys lack a vector: %s%s; use "
		     "--allow-missing drop|zero to go on", g.nmiss, g.nkeys,
		     list, g.nmiss > SHOW ? ", ..." : "");
	}
	return 0;
}

/* --check: the headers, then only the keys of every input; each input's
 * keys missing from the union are counted and the first few named.
 * Nothing is written.  Returns the exit status. */
static int check_keys(void)
{
	plm_strmap *all = plm_strmap_new();
	plm_keybuf kb = { 0 };
	const plm_val *row;
	int bad = 0;
	if (!all)
		plm_oom();
	g.s = -1;               /* nothing streams: every input opens itself */
	headers(NULL);
	for (int a = 0; a < g.n; a++) {
		struct side *S = &g.S[a];
		if (!(S->map = plm_strmap_new()))
			plm_oom();
		while (next_row(S, &row)) {
			int added;
			if (!row_key(S, row, &kb))
				continue;
			if (!plm_strmap_put(S->map, kb.p, kb.n, &added) ||
			    !plm_strmap_put(all, kb.p, kb.n, &(int){ 0 }))
				plm_oom();
			if (!added)
				dup_key(S, &row[S->key]);
			S->rows++;
		}
		plm_recin_close(S->in);
		S->in = NULL;
	}
	size_t nk = plm_strmap_size(all);
	for (int a = 0; a < g.n; a++) {
		struct side *S = &g.S[a];
		char list[SHOW * 140];
		size_t l = 0, miss = nk - S->rows;
		if (!miss)
			continue;
		bad++;
		for (size_t i = 0, shown = 0; i < nk && shown < SHOW; i++) {
			size_t kn, pos = 0;
			const char *kp = plm_strmap_key(all, i, &kn);
			plm_val k;
			enum plm_type t;
			char text[128];
			if (plm_strmap_get(S->map, kp, kn))
				continue;
			if (plm_key_next(kp, kn, &pos, &k, &t))
				fail("internal error: bad key");
			plm_val_text(&k, g.kt, text, sizeof text);
			l += (size_t)snprintf(list + l, sizeof list - l, "%s'%s'",
					      shown++ ? ", " : "", text);
		}
		plm_warn("check: %s: %zu of %zu keys missing: %s%s", S->path,
			 miss, nk, list, miss > SHOW ? ", ..." : "");
	}
	if (bad)
		plm_warn("check: %zu keys; %d of %d inputs lack some", nk, bad,
			 g.n);
	else
		plm_warn("check: %zu keys, in every input", nk);
	for (int a = 0; a < g.n; a++)
		plm_strmap_free(g.S[a].map);
	plm_strmap_free(all);
	plm_key_free(&kb);
	free(g.S);
	return bad ? 1 : 0;
}

/* "1280,768": one dimension per input. */
static uint32_t *parse_dims(const char *spec, int n)
{
	uint32_t *d = plm_xcalloc((size_t)n, sizeof *d);
	char *copy = strdup(spec), *save = NULL, *t;
	int k = 0;
	if (!copy)
		plm_oom();
	for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long long v;
		if (plm_strtoll(t, 1, 1 << 24, &v))
			plm_usage_die("--dims: '%s' is not a dimension (1 to %d)",
				      t, 1 << 24);
		if (k == n)
			break;
		d[k++] = (uint32_t)v;
	}
	if (k != n || t)
		plm_usage_die("--dims: want one dimension per input (%d), in "
			      "order: '%s'", n, spec);
	free(copy);
	return d;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id", *field = "emb", *oname = NULL;
	int mode = M_ERROR;
	int verbose = 0, check = 0;
	const char *dims = NULL;
	long long dim_total = 0;
	const plm_opt opts[] = {
		PLM_STR('k', "key", &key, "FIELD", "join on FIELD (default id)"),
		PLM_STR('x', "x", &field, "FIELD",
			"vector field of every input (default emb)"),
		PLM_ALIAS(0, "features", "x"),
		PLM_STR(0, "field", &oname, "NAME",
			"output field (default: the --x FIELD, replacing A's)"),
		PLM_CHOICE(0, "allow-missing", &mode, "HOW",
			   "a key absent from some input: fail (the default), "
			   "drop the record, write a nil vector or zero-fill "
			   "the missing parts", "error|drop|nil|zero"),
		PLM_ALIAS(0, "missing", "allow-missing"),
		PLM_STR(0, "dims", &dims, "D,...",
			"declared dimension of each input, in order; fail "
			"before any row when a header disagrees"),
		PLM_INT(0, "dim-total", &dim_total, "N",
			"declared dimension of the merged vector", 1, 1 << 24),
		PLM_FLAG(0, "check", &check,
			 "read only headers and keys; report keys missing "
			 "from each input, write nothing"),
		PLM_FLAG('v', "verbose", &verbose,
			 "say which input streams and what is held in memory"),
		PLM_OPTS_STREAM(&c),
	};
	int i = plm_start("feat-merge", argc, argv, opts, operands, summary);
	g.mode = mode;
	int n = argc - i;
	if (n < 2)
		plm_usage_die("want at least two inputs");
	for (int a = 1; a < n; a++)
		if (!strcmp(argv[i + a], "-"))
			plm_usage_die("only the first input may be stdin");
	plm_shard sh = plm_shard_parse(c.shard);
	g.sh = &sh;
	g.n = n;
	g.paths = argv + i;
	g.key = key;
	g.field = field;
	g.oname = oname ? oname : field;
	g.verbose = verbose;
	g.dims = dims ? parse_dims(dims, n) : NULL;
	g.dim_total = (uint64_t)dim_total;
	g.S = plm_xcalloc((size_t)n, sizeof *g.S);
	if (check) {
		if (c.output || c.tsv || c.typed || c.msgpack)
			plm_usage_die("--check writes nothing: -o, -T and -M "
				      "do not apply");
		int rc = check_keys();
		free(g.dims);
		return rc;
	}
	g.s = pick_streamed(n, argv + i);

	/* --shard is on the join key, which the held inputs use too; and
	 * keys are str or int, which open_side says in its own words */
	plm_common dc = c;
	dc.shard = NULL;
	plm_verb v = { .common = &dc, .section = section, .row = row,
		       .finish = finish };
	g.verb = &v;
	plm_verb_run(&v, 1, argv + i + g.s);
	if (g.nmiss)
		plm_warn("%" PRIu64 " of %" PRIu64 " keys lacked a vector "
			 "(first: %s): %s", g.nmiss, g.nkeys, g.shown[0],
			 g.mode == M_DROP ? "dropped" : g.mode == M_NIL ?
			 "written with a nil vector" : "zero-filled");
	for (int a = 0; a < n; a++) {
		struct side *S = &g.S[a];
		plm_strmap_free(S->map);
		free(S->data);
		free(S->nil);
		free(S->used);
		if (a == 0 && a != g.s)
			plm_rows_free(&S->full);
	}
	plm_key_free(&g.kb);
	free(g.S);
	free(g.v);
	free(g.vec);
	free(g.src);
	free(g.nilv);
	free(g.dims);
	return 0;
}
