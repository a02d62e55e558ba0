/* rec-filter — keep the records that match an expression (expr.h). */
#include <inttypes.h>
#include <stdio.h>

#include "plm/cli.h"
#include "plm/expr.h"
#include "plm/fields.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "EXPR [FILE ...]";
static const char summary[] =
	"keep records matching EXPR, e.g. 'len>=50 && organism~virus|phage'";

/* Resolve the expression's fields; an unknown field is a data error (the
 * input decides), a type mismatch a usage error (the expression does), and
 * so is an expression that is not a condition. */
static void bind(plm_expr *e, const plm_schema *s, const char *where)
{
	char err[1024];
	int rc = plm_expr_bind(e, s, err, sizeof err);
	if (rc == PLM_EXPR_OK && plm_expr_type(e) != PLM_T_BOOL) {
		snprintf(err, sizeof err, "EXPR is %s, not a condition (a bool)",
			 plm_expr_type(e) == PLM_T_STR ? "str"
			 : plm_expr_type(e) == PLM_T_INT ? "int" : "float");
		rc = PLM_EXPR_ETYPE;
	}
	if (rc == PLM_EXPR_OK)
		return;
	if (rc == PLM_EXPR_ETYPE)
		plm_usage_die("%s%s%s", where ? where : "", where ? ": " : "", err);
	if (rc == PLM_EXPR_ENOFIELD)
		plm_die_nofield(s, "%s%s%s", where ? where : "",
				where ? ": " : "", err);
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

struct filter {
	plm_expr *e;
	int invert;
	const plm_verb *v;
};

static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct filter *f = ctx;
	(void)err, (void)errlen;
	bind(f->e, in, f->v->where);
	return plm_schema_derive(out, in, 0, 0);
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	const struct filter *f = ctx;
	(void)out;
	int m = plm_expr_eval(f->e, in);
	if (m < 0) {
		snprintf(err, errlen, "%s", plm_expr_error(f->e));
		return PLM_VERB_FAIL;
	}
	return m == f->invert ? PLM_VERB_SKIP : PLM_VERB_PASS;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	struct filter f = { 0 };
	int count = 0;
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_FLAG(0, "invert", &f.invert, "keep the records that do not match"),
		PLM_FLAG(0, "count", &count, "print only the number of records kept"),
		PLM_OPTS_STREAM_KEY(&c, &key),
	};
	char err[1024];

	int i = plm_start("rec-filter", argc, argv, opts, operands, summary);
	if (i >= argc)
		plm_usage_die("missing EXPR");
	if (!(f.e = plm_expr_parse(argv[i++], err, sizeof err, NULL)))
		plm_usage_die("%s", err);
	plm_verb v = { .common = &c, .shard_key = key, .ctx = &f,
		       .section = section, .row = row, .no_output = count };
	f.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (count)
		print_count(c.output, v.emitted);
	plm_expr_free(f.e);
	return 0;
}
