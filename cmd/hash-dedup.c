/* hash-dedup — drop records whose sequence was seen before (first wins),
 * or that appear in an --exclude set.
 *
 * Speed: with millions of keys the set is far larger than the caches, so
 * each lookup's first probe is a cache miss (~100 ns, a quarter of the run
 * time).  Rows are therefore taken in batches of BATCH: each row is copied
 * (the reader's values are only valid until its next call; copying ~500
 * bytes costs far less than a miss), hashed, and its slot prefetched;
 * then the batch is looked up and written in order, the slots now in
 * cache. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fasta.h"
#include "plm/h128set.h"
#include "plm/fields.h"
#include "plm/seqset.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"drop records whose sequence hash was seen before or is excluded";

/* Payload of a key in the set: where it came from. */
enum { SEEN = 0, EXCLUDED = 1 };

enum { BATCH = 32 };

/* Rows read but not yet looked up: values and their str/bin bytes. */
typedef struct batch {
	size_t n, nf;           /* rows held, fields per row */
	plm_val *vals;          /* BATCH rows of nf values */
	unsigned char *bytes;   /* per field: its values hold bytes */
	plm_h128 h[BATCH];
	char *arena;            /* bytes; values hold offsets until flush */
	size_t len, cap;
} batch;

typedef struct state {
	plm_verb *v;
	const char *key, *whash;
	int fold;
	plm_out *hashes;
	int ki;
	batch b;
	plm_h128set *set;
	char *fb;               /* upper-cased sequence for -i */
	size_t fcap;
	uint64_t nin, kept, dups, excl;
} state;

static int has_bytes(enum plm_type t)
{
	return t != PLM_T_INT && t != PLM_T_FLOAT && t != PLM_T_BOOL;
}

/* The key field of section s, or die naming the problem. */
static int key_field(const state *st, const plm_schema *s)
{
	char t[64];
	int ki = plm_schema_find(s, st->key);
	if (ki < 0)
		plm_die_nofield(s, "record %" PRIu64 ": no field '%s' in input",
			st->v->recno + 1, st->key);
	if (s->f[ki].type != PLM_T_STR)
		plm_die("field '%s' is %s: a sequence must be str", st->key,
			plm_type_name(s->f[ki].type, s->f[ki].dim, t, sizeof t));
	return ki;
}

/* The batch takes rows of fields s from now on. */
static void batch_fields(batch *b, const plm_schema *s)
{
	free(b->vals);
	free(b->bytes);
	b->nf = s->n;
	b->vals = plm_xmalloc(BATCH * (s->n ? s->n : 1) * sizeof *b->vals);
	b->bytes = plm_xmalloc(s->n ? s->n : 1);
	for (size_t i = 0; i < s->n; i++)
		b->bytes[i] = has_bytes(s->f[i].type);
}

/* Copy a row into the batch. */
static void batch_add(state *st, const plm_val *row, plm_h128 h)
{
	batch *b = &st->b;
	plm_val *v = b->vals + b->n * b->nf;
	memcpy(v, row, b->nf * sizeof *v);
	for (size_t i = 0; i < b->nf; i++) {
		if (v[i].nil || !b->bytes[i])
			continue;
		PLM_XGROW(b->arena, b->cap, b->len + v[i].n);
		if (v[i].n)
			memcpy(b->arena + b->len, v[i].s, v[i].n);
		v[i].s = (const char *)(uintptr_t)b->len;
		b->len += v[i].n;
	}
	b->h[b->n++] = h;
	plm_h128set_prefetch(st->set, h);
}

/* Look up the batch's rows in order; write the new ones.  The hash list
 * opens here, after the records' writer, as it always has. */
static void batch_flush(state *st)
{
	batch *b = &st->b;
	char err[1024];
	if (st->whash && !st->hashes) {
		if (!(st->hashes = plm_out_open(st->whash, err, sizeof err)))
			plm_die("%s", err);
		if (plm_hashlist_begin(st->hashes))
			plm_die("%s", plm_out_error(st->hashes));
	}
	for (size_t r = 0; r < b->n; r++) {
		plm_val *v = b->vals + r * b->nf;
		uint32_t *pay;
		int added = plm_h128set_add(st->set, b->h[r], &pay);
		if (added < 0)
			plm_oom();
		if (!added) {
			if (*pay == EXCLUDED)
				st->excl++;
			else
				st->dups++;
			continue;
		}
		for (size_t i = 0; i < b->nf; i++)
			if (!v[i].nil && b->bytes[i])
				v[i].s = b->arena + (uintptr_t)v[i].s;
		plm_verb_emit(st->v, v);
		if (st->hashes) {
			char hex[34];
			plm_h128_hex(b->h[r], hex);
			hex[32] = '\n';
			if (plm_out_write(st->hashes, hex, 33))
				plm_die("%s", plm_out_error(st->hashes));
		}
		st->kept++;
	}
	b->n = 0;
	b->len = 0;
}

/* A new section: the held rows belong to the previous one, whose fields
 * are still the writer's. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	state *st = ctx;
	(void)err;
	(void)errlen;
	if (st->v->where)
		batch_flush(st);
	st->ki = key_field(st, in);
	batch_fields(&st->b, in);
	return plm_schema_derive(out, in, 0, 0);
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	state *st = ctx;
	const plm_val *k = &in[st->ki];
	(void)out;
	st->nin++;
	if (k->nil) {
		plm_die("record %" PRIu64 ": field '%s' is nil", st->v->recno,
			st->key);
	}
	batch_add(st, in, plm_seq_hash_fold(k->s, k->n, st->fold, &st->fb,
					    &st->fcap));
	if (st->b.n == BATCH)
		batch_flush(st);
	(void)err;
	(void)errlen;
	return PLM_VERB_SKIP;
}

static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	state *st = ctx;
	(void)v;
	(void)err;
	(void)errlen;
	batch_flush(st);
	if (st->hashes && plm_hashlist_end(st->hashes, st->kept))
		plm_die("%s", plm_out_error(st->hashes));
	return 0;
}

/* When the first input is FASTA or FASTQ, every input must be: checked
 * before any work, for the operands that can be looked at twice (not
 * stdin).  An empty file among them holds no sequences and is left out
 * (the driver's input would call it an empty stream).  Returns the number
 * of operands left in paths. */
static int check_fasta(int n, char **paths)
{
	char err[1024];
	int m = 0;
	for (int f = 0; f < n; f++) {
		if (!strcmp(paths[f], "-")) {
			if (f == 0)
				return n;
			paths[m++] = paths[f];
			continue;
		}
		plm_in *in = plm_in_open(paths[f], err, sizeof err);
		if (!in)
			plm_die("%s", err);
		ssize_t k = plm_in_peek(in, 1);
		int sniff = k > 0 ? plm_fasta_sniff(in) : 0;
		if (k < 0 || sniff < 0)
			plm_die("%s", plm_in_error(in));
		if (!sniff && f == 0) {
			plm_in_close(in);
			return n;
		}
		if (!sniff && k > 0)
			plm_die("%s: not FASTA: the first input is FASTA, so "
				"every input must be", plm_in_name(in));
		plm_in_close(in);
		if (k > 0)
			paths[m++] = paths[f];
	}
	return m;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "seq", *exclude = NULL, *whash = NULL;
	long long expect = 0;
	int fold = 0, quiet = 0;
	const plm_opt opts[] = {
		PLM_STR('k', "key", &key, "FIELD", "sequence field (default seq)"),
		PLM_FLAG('i', "ignore-case", &fold, "compare sequences upper-cased"),
		PLM_STR(0, "exclude", &exclude, "FILE", "drop sequences found in FILE (stream, FASTA or hash list)"),
		PLM_STR(0, "write-hashes", &whash, "FILE", "write the hashes of kept sequences to FILE"),
		PLM_INT(0, "expect", &expect, "N", "size the hash set for N unique sequences", 0, LLONG_MAX),
		PLM_FLAG('q', "quiet", &quiet, "no counts on stderr"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	char err[1024];
	long long nexcl = 0;

	int i = plm_start("hash-dedup", argc, argv, opts, operands, summary);
	plm_h128set *set = plm_h128set_new((size_t)expect);
	if (!set)
		plm_die("out of memory");
	if (exclude) {
		enum plm_seqfile kind;
		nexcl = plm_seqset_load(set, exclude, key, fold, EXCLUDED, &kind,
					err, sizeof err);
		if (nexcl < 0)
			plm_die("%s", err);
	}
	size_t nset0 = plm_h128set_size(set);
	int n = check_fasta(argc - i, argv + i);

	state st = { .key = key, .whash = whash, .fold = fold, .set = set };
	plm_verb v = { .common = &c, .ctx = &st, .section = section,
		       .row = row, .finish = finish };
	st.v = &v;
	plm_verb_run(&v, n, argv + i);
	/* Records first (closed by the driver), then the hash list; if the
	 * list fails, the records it belongs with go too. */
	if (st.hashes && plm_out_close(st.hashes, err, sizeof err)) {
		if (c.output && strcmp(c.output, "-"))
			remove(c.output);
		plm_die("%s", err);
	}
	if (!quiet) {
		char ex[128] = "";
		if (exclude)
			snprintf(ex, sizeof ex, " (exclude set: %lld entries, %zu distinct)",
				 nexcl, nset0);
		plm_warn("%" PRIu64 " in, %" PRIu64 " kept, %" PRIu64
			 " duplicates, %" PRIu64 " excluded%s; %.1f bytes per "
			 "unique key", st.nin, st.kept, st.dups, st.excl, ex,
			 plm_h128set_size(set) ? (double)plm_h128set_bytes(set) /
			 plm_h128set_size(set) : 0.0);
	}
	plm_h128set_free(set);
	free(st.fb);
	free(st.b.vals);
	free(st.b.bytes);
	free(st.b.arena);
	return 0;
}
