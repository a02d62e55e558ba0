/* rec-put — add or overwrite constant fields. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/recin.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-o FILE] [--shard K/N] [--shard-key FIELD] NAME[:TYPE]=VALUE ... [FILE ...]";
static const char summary[] =
	"set fields to constants (TYPE str, int, float or bool; inferred if absent)";

struct put {
	char *name;
	enum plm_type type;
	plm_val v;
	int fi;                /* index in the output schema */
};

/* NAME[:TYPE]=VALUE?  A '/' before the '=' makes it a file name. */
static int is_assignment(const char *a)
{
	const char *eq = strchr(a, '=');
	return eq && eq != a && *a != ':' && !memchr(a, '/', eq - a);
}

/* Integers and decimal numbers only: "nan", "inf" and hex stay strings
 * unless the type is forced. */
static int looks_decimal(const char *s)
{
	if (!*s || !strchr("0123456789+-.", *s))
		return 0;
	return strspn(s, "0123456789+-.eE") == strlen(s);
}

static void set_value(struct put *p, const char *arg, const char *val, int typed)
{
	long long ll;
	double d;
	if (!typed) {
		p->type = !plm_strtoll(val, LLONG_MIN, LLONG_MAX, &ll) ? PLM_T_INT
			: looks_decimal(val) && !plm_strtod(val, &d) ? PLM_T_FLOAT
			: PLM_T_STR;
	}
	switch (p->type) {
	case PLM_T_INT:
		if (plm_strtoll(val, LLONG_MIN, LLONG_MAX, &ll))
			plm_usage_die("'%s': '%s' is not an integer", arg, val);
		p->v = plm_v_int(ll);
		break;
	case PLM_T_FLOAT:
		if (plm_strtod(val, &d))
			plm_usage_die("'%s': '%s' is not a number", arg, val);
		p->v = plm_v_float(d);
		break;
	case PLM_T_BOOL:
		if (!strcmp(val, "true") || !strcmp(val, "1"))
			p->v = plm_v_int(1);
		else if (!strcmp(val, "false") || !strcmp(val, "0"))
			p->v = plm_v_int(0);
		else
			plm_usage_die("'%s': '%s' is not true, false, 1 or 0", arg, val);
		break;
	default:
		p->v = plm_v_str(val, strlen(val));
	}
}

static struct put parse_put(const char *arg)
{
	static const struct { const char *s; enum plm_type t; } types[] = {
		{ "str", PLM_T_STR }, { "int", PLM_T_INT },
		{ "float", PLM_T_FLOAT }, { "bool", PLM_T_BOOL },
	};
	struct put p = { 0 };
	const char *eq = strchr(arg, '=');
	const char *colon = memchr(arg, ':', eq - arg);
	size_t nl = (colon ? colon : eq) - arg;
	int typed = 0;
	if (colon) {
		for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
			if (strlen(types[k].s) == (size_t)(eq - colon - 1) &&
			    !memcmp(types[k].s, colon + 1, eq - colon - 1)) {
				p.type = types[k].t;
				typed = 1;
			}
		if (!typed)
			plm_usage_die("'%s': type must be str, int, float or bool", arg);
	}
	if (!(p.name = malloc(nl + 1)))
		plm_die("out of memory");
	memcpy(p.name, arg, nl);
	p.name[nl] = 0;
	set_value(&p, arg, eq + 1, typed);
	return p;
}

/* Output schema for input s: its fields, ours retyped in place or
 * appended, its meta plus our prov entry. */
static void section_schema(plm_schema *out, const plm_schema *in,
			   struct put *as, size_t n)
{
	if (plm_schema_derive(out, in, 0, 0))
		plm_die("out of memory");
	for (size_t k = 0; k < n; k++)
		if ((as[k].fi = plm_schema_add(out, as[k].name, as[k].type, 0)) < 0)
			plm_die("out of memory");
}

int main(int argc, char **argv)
{
	plm_writer *w = NULL;
	plm_common c = { 0 };
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_STR(0, "shard-key", &key, "FIELD", "hash FIELD for --shard (default id)"),
		PLM_OPT_END_,
	};
	char err[1024];
	const plm_val *row;
	plm_schema out;
	plm_progress pg;
	struct put *as;
	size_t np = 0;

	plm_init("rec-put", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	if (!(as = calloc(argc - i + 1, sizeof *as)))
		plm_die("out of memory");
	for (; i < argc && is_assignment(argv[i]); i++) {
		as[np] = parse_put(argv[i]);
		for (size_t k = 0; k < np; k++)
			if (!strcmp(as[k].name, as[np].name))
				plm_usage_die("field '%s' set twice", as[np].name);
		np++;
	}
	if (!np)
		plm_usage_die("missing NAME=VALUE");
	plm_shard sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int ki = sh.n ? plm_shard_field(s, key, err, sizeof err) : 0;
	if (ki < 0)
		plm_die("%s", err);
	section_schema(&out, s, as, np);
	if (!(w = plm_writer_open(c.output, fmt, &out, err, sizeof err)))
		plm_die("%s", err);
	plm_val *vals = malloc((out.n + 1) * sizeof *vals);
	if (!vals)
		plm_die("out of memory");
	plm_progress_init(&pg, c.progress, "B");

	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die_in(NULL, plm_recin_error(in));
		if (rc == PLM_HEADER) {
			if (sh.n && (ki = plm_shard_field(s, key, err, sizeof err)) < 0)
				plm_die_in(plm_recin_name(in), err);
			plm_schema_free(&out);
			section_schema(&out, s, as, np);
			if (plm_writer_section(w, &out))
				plm_die_in(NULL, plm_writer_error(w));
			if (!(vals = realloc(vals, (out.n + 1) * sizeof *vals)))
				plm_die("out of memory");
			continue;
		}
		plm_recin_progress(in, &pg, 0);
		if (sh.n && !plm_shard_keep_val(&sh, &row[ki], s->f[ki].type))
			continue;
		/* input fields keep their positions; ours overwrite or follow */
		memcpy(vals, row, s->n * sizeof *vals);
		for (size_t k = 0; k < np; k++)
			vals[as[k].fi] = as[k].v;
		if (plm_writer_row(w, vals))
			plm_die_in(NULL, plm_writer_error(w));
	}
	plm_recin_progress(in, &pg, 1);
	plm_recin_close(in);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	free(vals);
	for (size_t k = 0; k < np; k++)
		free(as[k].name);
	free(as);
	return 0;
}
