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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fasta.h"
#include "plm/h128set.h"
#include "plm/recin.h"
#include "plm/seqset.h"
#include "plm/stream.h"

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
	plm_h128 h[BATCH];
	char *arena;            /* bytes; values hold offsets until flush */
	size_t len, cap;
} batch;

typedef struct state {
	plm_recin *in;
	plm_writer *w;
	plm_out *hashes;
	plm_schema out;
	int ki;
	batch b;
	plm_h128set *set;
	uint64_t kept, dups, excl;
} state;

/* msg may live in st->w or st->hashes (plm_writer_error, plm_out_error):
 * copy it before the aborts free them. */
static noreturn void die_abort(state *st, const char *msg)
{
	char copy[1024];

	snprintf(copy, sizeof copy, "%s", msg);
	if (st->w)
		plm_writer_abort(st->w);
	if (st->hashes)
		plm_out_abort(st->hashes);
	plm_die("%s", copy);
}

/* The key field of section s, or die naming the problem. */
static int key_field(state *st, const plm_schema *s, const char *key)
{
	char msg[512], t[64];
	int ki = plm_schema_find(s, key);
	if (ki < 0) {
		snprintf(msg, sizeof msg, "record %llu: no field '%s' in input",
			 (unsigned long long)(st->in ? plm_recin_recno(st->in) : 0) + 1,
			 key);
		die_abort(st, msg);
	}
	if (s->f[ki].type != PLM_T_STR) {
		snprintf(msg, sizeof msg, "field '%s' is %s: a sequence must be str", key,
			 plm_type_name(s->f[ki].type, s->f[ki].dim, t, sizeof t));
		die_abort(st, msg);
	}
	return ki;
}

static int has_bytes(enum plm_type t)
{
	return t != PLM_T_INT && t != PLM_T_FLOAT && t != PLM_T_BOOL;
}

/* Copy a row (fields of schema s) into the batch. */
static void batch_add(state *st, const plm_schema *s, const plm_val *row,
		      plm_h128 h)
{
	batch *b = &st->b;
	if (b->nf != s->n || !b->vals) {
		free(b->vals);
		b->nf = s->n;
		b->vals = plm_xmalloc(BATCH * (s->n ? s->n : 1) * sizeof *b->vals);
	}
	plm_val *v = b->vals + b->n * b->nf;
	memcpy(v, row, b->nf * sizeof *v);
	for (size_t i = 0; i < b->nf; i++) {
		if (v[i].nil || !has_bytes(s->f[i].type))
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

/* Look up the batch's rows in order; write the new ones. */
static void batch_flush(state *st, const plm_schema *s)
{
	batch *b = &st->b;
	for (size_t r = 0; r < b->n; r++) {
		plm_val *v = b->vals + r * b->nf;
		uint32_t *pay;
		int added = plm_h128set_add(st->set, b->h[r], &pay);
		if (added < 0)
			die_abort(st, "out of memory");
		if (!added) {
			if (*pay == EXCLUDED)
				st->excl++;
			else
				st->dups++;
			continue;
		}
		for (size_t i = 0; i < b->nf; i++)
			if (!v[i].nil && has_bytes(s->f[i].type))
				v[i].s = b->arena + (uintptr_t)v[i].s;
		if (plm_writer_row(st->w, v))
			die_abort(st, plm_writer_error(st->w));
		if (st->hashes) {
			char hex[34];
			plm_h128_hex(b->h[r], hex);
			hex[32] = '\n';
			if (plm_out_write(st->hashes, hex, 33))
				die_abort(st, plm_out_error(st->hashes));
		}
		st->kept++;
	}
	b->n = 0;
	b->len = 0;
}

/* FASTA files (all of them; in is paths[0] or stdin, opened) as records
 * id, desc, seq, len, like fasta-cat's.  Returns the records read. */
static uint64_t dedup_fasta(state *st, plm_in *in, int n, char **paths,
			    int fold, plm_progress *pg)
{
	plm_seqrec rec = { 0 };
	plm_val v[4];
	uint64_t nin = 0, done = 0;
	char *fb = NULL, err[1024];
	size_t fcap = 0;

	for (int f = 0;; f++) {
		plm_fasta *fa = plm_fasta_open(in);
		int rc;
		if (!fa)
			die_abort(st, "out of memory");
		while ((rc = plm_fasta_next(fa, &rec)) > 0) {
			v[0] = plm_v_str(rec.id, rec.id_len);
			v[1] = plm_v_str(rec.desc, rec.desc_len);
			v[2] = plm_v_str(rec.seq, rec.seq_len);
			v[3] = plm_v_int((int64_t)rec.seq_len);
			nin++;
			batch_add(st, &st->out, v,
				  plm_seq_hash_fold(v[st->ki].s, v[st->ki].n,
						    fold, &fb, &fcap));
			if (st->b.n == BATCH) {
				batch_flush(st, &st->out);
				if (pg->on)
					plm_progress_update(pg, done + plm_in_raw_pos(in),
							    0, nin);
			}
		}
		if (rc < 0) {
			snprintf(err, sizeof err, "%s", plm_fasta_error(fa));
			die_abort(st, err);
		}
		plm_fasta_close(fa);
		done += plm_in_raw_pos(in);
		plm_in_close(in);
		if (f + 1 >= n)
			break;
		in = plm_in_open(paths[f + 1], err, sizeof err);
		if (!in)
			die_abort(st, err);
		ssize_t k = plm_in_peek(in, 1);
		if (k < 0) {
			snprintf(err, sizeof err, "%s", plm_in_error(in));
			die_abort(st, err);
		}
		if (k > 0 && in->buf[in->pos] != '>') {
			snprintf(err, sizeof err, "%s: not FASTA: the first input "
				 "is FASTA, so every input must be",
				 plm_in_name(in));
			die_abort(st, err);
		}
	}
	batch_flush(st, &st->out);
	if (pg->on)
		plm_progress_end(pg, done, nin);
	plm_seqrec_free(&rec);
	free(fb);
	return nin;
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
	state st = { 0 };
	plm_progress pg;
	uint64_t nin = 0;
	long long nexcl = 0;
	char *buf = NULL;
	size_t cap = 0;

	int i = plm_start("hash-dedup", argc, argv, opts, operands, summary);
	int fmt = plm_common_format(&c);
	plm_h128set *set = st.set = plm_h128set_new((size_t)expect);
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
	/* FASTA in (first byte '>'), or a record stream */
	plm_in *in0 = plm_in_open(i < argc ? argv[i] : NULL, err, sizeof err);
	if (!in0)
		plm_die("%s", err);
	ssize_t k = plm_in_peek(in0, 1);
	if (k < 0)
		plm_die("%s", plm_in_error(in0));
	int fasta = k > 0 && in0->buf[in0->pos] == '>';
	plm_schema fs;
	plm_schema_init(&fs);
	if (fasta) {
		if (plm_schema_add(&fs, "id", PLM_T_STR, 0) < 0 ||
		    plm_schema_add(&fs, "desc", PLM_T_STR, 0) < 0 ||
		    plm_schema_add(&fs, "seq", PLM_T_STR, 0) < 0 ||
		    plm_schema_add(&fs, "len", PLM_T_INT, 0) < 0)
			plm_die("out of memory");
	} else if (!(st.in = plm_recin_from(in0, argc - i, argv + i, err,
					    sizeof err))) {
		plm_die("%s", err);
	}
	const plm_schema *s0 = fasta ? &fs : plm_recin_schema(st.in);
	st.ki = key_field(&st, s0, key);
	if (plm_schema_derive(&st.out, s0, 0, 0))
		plm_die("out of memory");
	plm_schema_free(&fs);
	if (!(st.w = plm_writer_open(c.output, fmt, &st.out, err, sizeof err)))
		plm_die("%s", err);
	if (whash && !(st.hashes = plm_out_open(whash, err, sizeof err)))
		die_abort(&st, err);
	if (st.hashes && plm_hashlist_begin(st.hashes))
		die_abort(&st, plm_out_error(st.hashes));
	plm_progress_init(&pg, c.progress, "B");

	if (fasta)
		nin = dedup_fasta(&st, in0, argc - i, argv + i, fold, &pg);
	for (; !fasta;) {
		const plm_val *row;
		int rc = plm_recin_next(st.in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			die_abort(&st, plm_recin_error(st.in));
		const plm_schema *s = plm_recin_schema(st.in);
		if (rc == PLM_HEADER) {
			/* the held rows belong to the previous section: its
			 * fields are still in st.out */
			batch_flush(&st, &st.out);
			st.ki = key_field(&st, s, key);
			plm_schema_free(&st.out);
			if (plm_schema_derive(&st.out, s, 0, 0))
				plm_die("out of memory");
			if (plm_writer_section(st.w, &st.out))
				die_abort(&st, plm_writer_error(st.w));
			continue;
		}
		nin++;
		const plm_val *v = &row[st.ki];
		if (v->nil) {
			snprintf(err, sizeof err, "record %llu: field '%s' is nil",
				 (unsigned long long)plm_recin_recno(st.in), key);
			die_abort(&st, err);
		}
		batch_add(&st, s, row, plm_seq_hash_fold(v->s, v->n, fold,
							  &buf, &cap));
		if (st.b.n == BATCH) {
			batch_flush(&st, &st.out);
			if (pg.on)
				plm_recin_progress(st.in, &pg, 0);
		}
	}
	batch_flush(&st, &st.out);
	if (!fasta) {
		plm_recin_progress(st.in, &pg, 1);
		plm_recin_close(st.in);
	}
	if (st.hashes && plm_hashlist_end(st.hashes, st.kept))
		die_abort(&st, plm_out_error(st.hashes));
	/* Records first, then the hash list; if the list fails, the records
	 * it belongs with go too. */
	int wrc = plm_writer_close(st.w, err, sizeof err);
	st.w = NULL;
	if (wrc)
		die_abort(&st, err);
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
		plm_warn("%llu in, %llu kept, %llu duplicates, %llu excluded%s; %.1f bytes per unique key",
			 (unsigned long long)nin, (unsigned long long)st.kept,
			 (unsigned long long)st.dups, (unsigned long long)st.excl, ex,
			 plm_h128set_size(set) ? (double)plm_h128set_bytes(set) /
			 plm_h128set_size(set) : 0.0);
	}
	plm_h128set_free(set);
	plm_schema_free(&st.out);
	free(buf);
	free(st.b.vals);
	free(st.b.arena);
	return 0;
}
