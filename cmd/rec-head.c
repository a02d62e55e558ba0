/* rec-head — the first N records of a stream. */
#include <limits.h>
#include <stdio.h>

#include "plm/cli.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-n N] [-o FILE] [--shard K/N] [--shard-key FIELD] [FILE ...]";
static const char summary[] = "copy the first N records (default 10)";

int main(int argc, char **argv)
{
	plm_writer *w = NULL;
	plm_common c = { 0 };
	long long n = 10;
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_INT('n', "number", &n, "N", "copy N records (default 10)", 0, LLONG_MAX),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR(0, "shard-key", &key, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	char err[1024];
	const plm_val *row;
	plm_schema out;
	plm_progress pg;

	plm_init("rec-head", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int ki = sh.n ? plm_shard_field(s, key, err, sizeof err) : 0;
	if (ki < 0)
		plm_die("%s", err);
	if (plm_schema_derive(&out, s, 0, 0))
		plm_die("out of memory");
	if (!(w = plm_writer_open(c.output, fmt, &out, err, sizeof err)))
		plm_die("%s", err);
	plm_progress_init(&pg, c.progress, "B");

	/* Stop as soon as N rows are out: never read more than needed. */
	for (uint64_t kept = 0; kept < (uint64_t)n;) {
		int rc = plm_recin_next(in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			plm_die_in(NULL, plm_recin_error(in));
		if (rc == PLM_HEADER) {
			if (sh.n && (ki = plm_shard_field(s, key, err, sizeof err)) < 0)
				plm_die_in(plm_recin_name(in), err);
			plm_schema_free(&out);
			if (plm_schema_derive(&out, s, 0, 0))
				plm_die("out of memory");
			if (plm_writer_section(w, &out))
				plm_die_in(NULL, plm_writer_error(w));
			continue;
		}
		plm_recin_progress(in, &pg, 0);
		if (sh.n && !plm_shard_keep_val(&sh, &row[ki], s->f[ki].type))
			continue;
		if (plm_writer_row(w, row))
			plm_die_in(NULL, plm_writer_error(w));
		kept++;
	}
	plm_recin_progress(in, &pg, 1);
	plm_recin_close(in);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	return 0;
}
