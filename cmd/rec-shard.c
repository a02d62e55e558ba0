/* rec-shard — split a stream into N files by the hash of a key field,
 * with the rule of --shard K/N, so file K holds what `--shard K/N` keeps. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char operands[] = "PREFIX [FILE ...]";
static const char summary[] =
	"split records into N files PREFIX.K by the hash of a key (as --shard K/N)";

struct shards {
	long long n;
	char **path;
	plm_writer **w;
};

/* Remove the files already renamed into place, give up on the rest.
 * msg may be a writer's own message (plm_writer_error): copy it before
 * plm_writer_abort frees the writer that holds it. */
static noreturn void fail(struct shards *S, long long closed, const char *msg)
{
	char copy[1024];

	snprintf(copy, sizeof copy, "%s", msg);
	for (long long k = 0; k < S->n; k++) {
		if (k < closed)
			unlink(S->path[k]);
		else if (S->w[k])
			plm_writer_abort(S->w[k]);
	}
	plm_die("%s", copy);
}

static void open_all(struct shards *S, const char *prefix, const char *suffix,
		     int fmt, const plm_schema *s)
{
	char err[512];
	S->path = calloc(S->n, sizeof *S->path);
	S->w = calloc(S->n, sizeof *S->w);
	if (!S->path || !S->w)
		plm_die("out of memory");
	for (long long k = 0; k < S->n; k++) {
		size_t len = strlen(prefix) + strlen(suffix) + 24;
		if (!(S->path[k] = malloc(len)))
			plm_die("out of memory");
		snprintf(S->path[k], len, "%s.%lld%s", prefix, k, suffix);
		/* A terminal is never the destination: -1 means MessagePack. */
		S->w[k] = plm_writer_open(S->path[k], fmt == 1, s, err, sizeof err);
		if (!S->w[k])
			fail(S, 0, err);
	}
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	long long n = 0;
	const char *key = "id", *suffix = "";
	const plm_opt opts[] = {
		PLM_INT_REQ('n', "shards", &n, "N", "number of output files", 1, 65536),
		PLM_STR('k', "key", &key, "FIELD",
			"hash FIELD (str or int; default id)"),
		PLM_STR(0, "suffix", &suffix, "STR",
			"append STR to each name (.gz, .zst compress)"),
		PLM_FLAG('T', "tsv", &c.tsv, "write TSV files"),
		PLM_FLAG('M', "msgpack", &c.msgpack,
			 "write MessagePack files (the default)"),
		PLM_FLAG(0, "progress", &c.progress,
			 "show progress even when stderr is not a terminal"),
		PLM_OPT_END_,
	};
	char err[512];
	int i = plm_start("rec-shard", argc, argv, opts, operands, summary);
	if (n < 1)
		plm_usage_die("-n N is required");
	if (i >= argc)
		plm_usage_die("PREFIX is required");
	const char *prefix = argv[i++];
	int fmt = plm_common_format(&c);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int ki = plm_shard_field(s, key, err, sizeof err);
	if (ki < 0)
		plm_die("%s", err);

	struct shards S = { n, NULL, NULL };
	plm_schema out;
	if (plm_schema_derive(&out, s, 0, 0))
		plm_die("out of memory");
	open_all(&S, prefix, suffix, fmt, &out);

	plm_progress pg;
	plm_progress_init(&pg, c.progress, "B");
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			fail(&S, 0, plm_recin_error(in));
		if (rc == PLM_HEADER) {
			/* The fields changed: a new section in every file. */
			if ((ki = plm_shard_field(s, key, err, sizeof err)) < 0)
				fail(&S, 0, err);
			plm_schema_free(&out);
			if (plm_schema_derive(&out, s, 0, 0))
				plm_die("out of memory");
			for (long long k = 0; k < n; k++)
				if (plm_writer_section(S.w[k], &out))
					fail(&S, 0, plm_writer_error(S.w[k]));
			continue;
		}
		uint64_t b = plm_shard_bucket(&row[ki], s->f[ki].type, (uint64_t)n);
		if (plm_writer_row(S.w[b], row))
			fail(&S, 0, plm_writer_error(S.w[b]));
		if (pg.on) {
			uint64_t done, total;
			plm_recin_bytes(in, &done, &total);
			plm_progress_update(&pg, done, total, plm_recin_recno(in));
		}
	}
	if (pg.on) {
		uint64_t done, total;
		plm_recin_bytes(in, &done, &total);
		plm_progress_end(&pg, done, plm_recin_recno(in));
	}
	for (long long k = 0; k < n; k++) {
		plm_writer *w = S.w[k];
		S.w[k] = NULL;
		if (plm_writer_close(w, err, sizeof err))
			fail(&S, k, err);
	}
	for (long long k = 0; k < n; k++)
		free(S.path[k]);
	free(S.path);
	free(S.w);
	plm_schema_free(&out);
	plm_recin_close(in);
	return 0;
}
