/* rec-cat — concatenate record streams, converting TSV ⇄ MessagePack. */
#include <stdio.h>

#include "plm/cli.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-k FIELD] [-o FILE] [--shard K/N] [FILE ...]";
static const char summary[] =
	"concatenate record streams, converting between TSV and MessagePack";

int main(int argc, char **argv)
{
	plm_writer *w = NULL;
	plm_common c = { 0 };
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR('k', "shard-key", &key, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	char err[1024];
	const plm_val *row;
	plm_schema out;
	plm_progress pg;

	plm_init("rec-cat", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int ki = sh.n ? plm_shard_field(s, key, err, sizeof err) : 0;
	if (ki < 0)
		plm_die("%s: %s", plm_recin_name(in), err);
	if (plm_schema_derive(&out, s, 0, 0))
		plm_die("out of memory");
	if (!(w = plm_writer_open(c.output, fmt, &out, err, sizeof err)))
		plm_die("%s", err);
	plm_progress_init(&pg, c.progress, "B");

	for (;;) {
		int rc = plm_recin_next(in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			plm_die_in(NULL, plm_recin_error(in));
		if (rc == PLM_HEADER) {
			/* different fields: a new section, never a mix */
			if (sh.n && (ki = plm_shard_field(s, key, err,
							  sizeof err)) < 0)
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
	}
	plm_recin_progress(in, &pg, 1);
	plm_recin_close(in);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	return 0;
}
