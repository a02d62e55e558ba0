/* rec-put — add or overwrite constant fields. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/verb.h"

static const char operands[] = "NAME[:TYPE]=VALUE ... [FILE ...]";
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

struct puts {
	struct put *as;
	size_t n;
	size_t nin;             /* fields of the current input section */
};

/* Output fields for input fields in: its fields, ours retyped in place or
 * appended, its meta plus our prov entry. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct puts *p = ctx;
	(void)err, (void)errlen;
	if (plm_schema_derive(out, in, 0, 0))
		return -1;
	for (size_t k = 0; k < p->n; k++)
		if ((p->as[k].fi = plm_schema_add(out, p->as[k].name,
						  p->as[k].type, 0)) < 0)
			return -1;
	p->nin = in->n;
	return 0;
}

/* input fields keep their positions; ours overwrite or follow */
static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	const struct puts *p = ctx;
	(void)err, (void)errlen;
	memcpy(out, in, p->nin * sizeof *out);
	for (size_t k = 0; k < p->n; k++)
		out[p->as[k].fi] = p->as[k].v;
	return PLM_VERB_EMIT;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *key = "id";
	const plm_opt opts[] = {
		PLM_OPTS_STREAM_KEY(&c, &key),
	};
	struct puts p = { 0 };

	int i = plm_start("rec-put", argc, argv, opts, operands, summary);
	if (!(p.as = calloc(argc - i + 1, sizeof *p.as)))
		plm_die("out of memory");
	for (; i < argc && is_assignment(argv[i]); i++) {
		p.as[p.n] = parse_put(argv[i]);
		for (size_t k = 0; k < p.n; k++)
			if (!strcmp(p.as[k].name, p.as[p.n].name))
				plm_usage_die("field '%s' set twice", p.as[p.n].name);
		p.n++;
	}
	if (!p.n)
		plm_usage_die("missing NAME=VALUE");
	plm_verb v = { .common = &c, .shard_key = key, .ctx = &p,
		       .section = section, .row = row };
	plm_verb_run(&v, argc - i, argv + i);
	for (size_t k = 0; k < p.n; k++)
		free(p.as[k].name);
	free(p.as);
	return 0;
}
