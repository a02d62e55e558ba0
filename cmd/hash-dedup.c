/* hash-dedup — drop records whose sequence was seen before (first wins),
 * or that appear in an --exclude set. */
#define _GNU_SOURCE     /* F_SETPIPE_SZ */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plm/cli.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/seqset.h"
#include "plm/stream.h"

static const char usage[] =
	"[-iqTM] [-k FIELD] [-o FILE] [--exclude FILE] [--expect N] "
	"[--write-hashes FILE] [FILE ...]";
static const char summary[] =
	"drop records whose sequence hash was seen before or is excluded";

/* Payload of a key in the set: where it came from. */
enum { SEEN = 0, EXCLUDED = 1 };

typedef struct state {
	plm_recin *in;
	plm_writer *w;
	plm_out *hashes;
	plm_schema out;
	int ki;
} state;

static noreturn void die_abort(state *st, const char *msg)
{
	if (st->w)
		plm_writer_abort(st->w);
	if (st->hashes)
		plm_out_abort(st->hashes);
	plm_die("%s", msg);
}

/* The key field of the current section, or die naming the problem. */
static int key_field(state *st, const char *key)
{
	const plm_schema *s = plm_recin_schema(st->in);
	char msg[512], t[64];
	int ki = plm_schema_find(s, key);
	if (ki < 0) {
		snprintf(msg, sizeof msg, "record %llu: no field '%s' in input",
			 (unsigned long long)plm_recin_recno(st->in) + 1, key);
		die_abort(st, msg);
	}
	if (s->f[ki].type != PLM_T_STR) {
		snprintf(msg, sizeof msg, "field '%s' is %s: a sequence must be str", key,
			 plm_type_name(s->f[ki].type, s->f[ki].dim, t, sizeof t));
		die_abort(st, msg);
	}
	return ki;
}

/* A pipe's default 64 KiB makes the 1 MiB reads and writes of both ends
 * wait on each other 16 times per MiB: `fasta-cat | hash-dedup` measured
 * 25% slower than its two halves.  1 MiB (the unprivileged limit) lets the
 * two processes overlap; failure changes nothing but speed. */
static void widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
#endif
}

static void section_schema(plm_schema *out, const plm_schema *in)
{
	if (plm_schema_copy(out, in) ||
	    plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
				plm_argv(), 0, 0))
		plm_die("out of memory");
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
	uint64_t nin = 0, kept = 0, dups = 0, excl = 0;
	long long nexcl = 0;
	char *buf = NULL;
	size_t cap = 0;

	plm_init("hash-dedup", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	int fmt = plm_common_format(&c);
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
	if (i >= argc || (argc - i == 1 && strcmp(argv[i], "-") == 0))
		widen_pipe(STDIN_FILENO);
	if (!c.output || strcmp(c.output, "-") == 0)
		widen_pipe(STDOUT_FILENO);
	if (!(st.in = plm_recin_open(argc - i, argv + i, err, sizeof err)))
		plm_die("%s", err);
	st.ki = key_field(&st, key);
	section_schema(&st.out, plm_recin_schema(st.in));
	if (!(st.w = plm_writer_open(c.output, fmt, &st.out, err, sizeof err)))
		plm_die("%s", err);
	if (whash && !(st.hashes = plm_out_open(whash, err, sizeof err)))
		die_abort(&st, err);
	plm_progress_init(&pg, c.progress, "B");

	for (;;) {
		const plm_val *row;
		int rc = plm_recin_next(st.in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			die_abort(&st, plm_recin_error(st.in));
		if (rc == PLM_HEADER) {
			st.ki = key_field(&st, key);
			plm_schema_free(&st.out);
			section_schema(&st.out, plm_recin_schema(st.in));
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
		plm_h128 h = plm_seq_hash_fold(v->s, v->n, fold, &buf, &cap);
		uint32_t *pay;
		int added = plm_h128set_add(set, h, &pay);
		if (added < 0)
			die_abort(&st, "out of memory");
		if (!added) {
			if (*pay == EXCLUDED)
				excl++;
			else
				dups++;
			continue;
		}
		if (plm_writer_row(st.w, row))
			die_abort(&st, plm_writer_error(st.w));
		if (st.hashes) {
			char hex[34];
			plm_h128_hex(h, hex);
			hex[32] = '\n';
			if (plm_out_write(st.hashes, hex, 33))
				die_abort(&st, plm_out_error(st.hashes));
		}
		kept++;
		if (pg.on)
			plm_recin_progress(st.in, &pg, 0);
	}
	plm_recin_progress(st.in, &pg, 1);
	plm_recin_close(st.in);
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
			 (unsigned long long)nin, (unsigned long long)kept,
			 (unsigned long long)dups, (unsigned long long)excl, ex,
			 plm_h128set_size(set) ? (double)plm_h128set_bytes(set) /
			 plm_h128set_size(set) : 0.0);
	}
	plm_h128set_free(set);
	plm_schema_free(&st.out);
	free(buf);
	return 0;
}
