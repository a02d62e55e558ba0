/* rec-shard — split a stream into N files by the hash of a key field,
 * with the rule of --shard K/N, so file K holds what `--shard K/N` keeps. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/recin.h"
#include "plm/stream.h"
#include "plm/verb.h"

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
	S->path = plm_xcalloc(S->n, sizeof *S->path);
	S->w = plm_xcalloc(S->n, sizeof *S->w);
	for (long long k = 0; k < S->n; k++) {
		size_t len = strlen(prefix) + strlen(suffix) + 24;
		S->path[k] = plm_xmalloc(len);
		snprintf(S->path[k], len, "%s.%lld%s", prefix, k, suffix);
		/* A terminal is never the destination: AUTO means MessagePack. */
		S->w[k] = plm_writer_open(S->path[k],
					  fmt == PLM_FMT_AUTO ? PLM_FMT_MSGPACK : fmt,
					  s, err, sizeof err);
		if (!S->w[k])
			fail(S, 0, err);
	}
}

struct ctx {
	struct shards S;
	const char *prefix, *suffix, *key;
	int fmt, ki;
	plm_verb *v;
};

/* Every section goes to every file: opened with the first, a new section
 * in each when the fields change. */
static int section(void *vx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct ctx *x = vx;
	if ((x->ki = plm_shard_field(in, x->key, err, errlen)) < 0)
		return -1;
	if (plm_schema_derive(out, in, 0, 0))
		return -1;
	if (!x->S.w) {
		open_all(&x->S, x->prefix, x->suffix, x->fmt, out);
		return 0;
	}
	for (long long k = 0; k < x->S.n; k++)
		if (plm_writer_section(x->S.w[k], out))
			fail(&x->S, 0, plm_writer_error(x->S.w[k]));
	return 0;
}

static int row(void *vx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct ctx *x = vx;
	const plm_schema *s = x->v->in;
	(void)out, (void)err, (void)errlen;
	uint64_t b = plm_shard_bucket(&in[x->ki], s->f[x->ki].type,
				      (uint64_t)x->S.n);
	if (plm_writer_row(x->S.w[b], in))
		fail(&x->S, 0, plm_writer_error(x->S.w[b]));
	return PLM_VERB_SKIP;
}

static int finish(void *vx, plm_verb *v, char *err, size_t errlen)
{
	struct ctx *x = vx;
	(void)v;
	for (long long k = 0; k < x->S.n; k++) {
		plm_writer *w = x->S.w[k];
		x->S.w[k] = NULL;
		if (plm_writer_close(w, err, errlen))
			fail(&x->S, k, err);
	}
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	long long n = 0;
	struct ctx x = { .key = "id", .suffix = "" };
	const plm_opt opts[] = {
		PLM_INT_REQ('n', "shards", &n, "N", "number of output files", 1, 65536),
		PLM_STR('k', "key", &x.key, "FIELD",
			"hash FIELD (str or int; default id)"),
		PLM_STR(0, "suffix", &x.suffix, "STR",
			"append STR to each name (.gz, .zst compress)"),
		PLM_FLAG('T', "tsv", &c.tsv, "write plain TSV files"),
		PLM_FLAG(0, "typed", &c.typed,
			 "write typed TSV files (exact: types, provenance)"),
		PLM_FLAG('M', "msgpack", &c.msgpack,
			 "write MessagePack files (the default)"),
		PLM_FLAG(0, "progress", &c.progress,
			 "show progress even when stderr is not a terminal"),
		PLM_OPT_END_,
	};
	int i = plm_start("rec-shard", argc, argv, opts, operands, summary);
	if (n < 1)
		plm_usage_die("-n N is required");
	if (i >= argc)
		plm_usage_die("PREFIX is required");
	x.prefix = argv[i++];
	x.fmt = plm_common_format(&c);
	x.S.n = n;
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .finish = finish, .no_output = 1 };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	for (long long k = 0; k < n; k++)
		free(x.S.path[k]);
	PLM_FREE(x.S.path, x.S.w);
	return 0;
}
