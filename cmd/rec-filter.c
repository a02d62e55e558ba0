/* rec-filter — keep the records that match an expression (expr.h). */
#include <inttypes.h>
#include <stdio.h>

#include "plm/cli.h"
#include "plm/expr.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TMv] [--count] [-o FILE] [--shard K/N] [--shard-key FIELD] EXPR [FILE ...]";
static const char summary[] =
	"keep records matching EXPR, e.g. 'len>=50 && organism~virus|phage'";

static plm_writer *w;

/* Resolve the expression's fields; an unknown field is a data error (the
 * input decides), a type mismatch a usage error (the expression does). */
static void bind(plm_expr *e, const plm_schema *s, const char *where)
{
	char err[1024];
	int rc = plm_expr_bind(e, s, err, sizeof err);
	if (rc == PLM_EXPR_OK)
		return;
	if (w)
		plm_writer_abort(w);
	if (rc == PLM_EXPR_ETYPE)
		plm_usage_die("%s%s%s", where ? where : "", where ? ": " : "", err);
	plm_die("%s%s%s", where ? where : "", where ? ": " : "", err);
}

/* --count: the number alone, as text, to stdout or -o FILE. */
static void print_count(const char *path, uint64_t n)
{
	char err[1024];
	plm_out *o = plm_out_open(path, err, sizeof err);
	if (!o)
		plm_die("%s", err);
	if (plm_out_printf(o, "%" PRIu64 "\n", n)) {
		snprintf(err, sizeof err, "%s", plm_out_error(o));
		plm_out_abort(o);
		plm_die("%s", err);
	}
	if (plm_out_close(o, err, sizeof err))
		plm_die("%s", err);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	int invert = 0, count = 0;
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_FLAG('v', "invert", &invert, "keep the records that do not match"),
		PLM_FLAG(0, "count", &count, "print only the number of records kept"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR(0, "shard-key", &key, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	char err[1024];
	const plm_val *row;
	plm_schema out;
	plm_progress pg;
	uint64_t kept = 0;

	plm_init("rec-filter", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	if (i >= argc)
		plm_usage_die("missing EXPR");
	plm_expr *e = plm_expr_parse(argv[i++], err, sizeof err, NULL);
	if (!e)
		plm_usage_die("%s", err);
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int ki = sh.n ? plm_shard_field(s, key, err, sizeof err) : 0;
	if (ki < 0)
		plm_die("%s", err);
	bind(e, s, NULL);
	if (plm_schema_derive(&out, s, 0, 0))
		plm_die("out of memory");
	if (!count && !(w = plm_writer_open(c.output, fmt, &out, err, sizeof err)))
		plm_die("%s", err);
	plm_progress_init(&pg, c.progress, "B");

	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die_in(NULL, plm_recin_error(in));
		if (rc == PLM_HEADER) {
			if (sh.n && (ki = plm_shard_field(s, key, err, sizeof err)) < 0)
				plm_die_in(plm_recin_name(in), err);
			bind(e, s, plm_recin_name(in));
			plm_schema_free(&out);
			if (plm_schema_derive(&out, s, 0, 0))
				plm_die("out of memory");
			if (w && plm_writer_section(w, &out))
				plm_die_in(NULL, plm_writer_error(w));
			continue;
		}
		plm_recin_progress(in, &pg, 0);
		if (sh.n && !plm_shard_keep_val(&sh, &row[ki], s->f[ki].type))
			continue;
		if (plm_expr_eval(e, row) == invert)
			continue;
		kept++;
		if (w && plm_writer_row(w, row))
			plm_die_in(NULL, plm_writer_error(w));
	}
	plm_recin_progress(in, &pg, 1);
	plm_recin_close(in);
	if (w && plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	if (count)
		print_count(c.output, kept);
	plm_schema_free(&out);
	plm_expr_free(e);
	return 0;
}
