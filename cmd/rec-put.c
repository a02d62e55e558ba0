/* rec-put — add or overwrite fields: constants (NAME=VALUE) or the values
 * of expressions (NAME = EXPR, expr.h). */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/expr.h"
#include "plm/fields.h"
#include "plm/verb.h"

static const char operands[] =
	"NAME[:TYPE]=VALUE | 'NAME = EXPR[; ...]' ... [FILE ...]";
static const char summary[] =
	"set fields to constants or expression values, e.g. 'n = len(seq)'";

struct put {
	char *name;
	enum plm_type type;
	plm_val v;
	plm_expr *e;           /* NULL: the constant v */
	const char *src;       /* the operand, for messages */
	int fi;                /* index in the output schema */
};

/* NAME = EXPR: a blank on either side of the first '=', or a leading '$'.
 * Without blanks, NAME=VALUE stays the constant form. */
static int is_expression(const char *a)
{
	while (isspace((unsigned char)*a))
		a++;
	if (*a == '$')
		return 1;
	a += strcspn(a, "= \t\n");
	while (*a && isspace((unsigned char)*a)) {
		a++;
		if (*a == '=')
			return a[1] != '=';
	}
	return *a == '=' && a[1] && isspace((unsigned char)a[1]);
}

/* NAME[:TYPE]=VALUE?  A '/' before the '=' makes it a file name. */
static int is_assignment(const char *a)
{
	const char *eq = strchr(a, '=');
	if (is_expression(a))
		return 1;
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
	size_t n, cap;
	size_t nin;             /* fields of the current input section */
	const plm_verb *v;
};

static void add(struct puts *p, struct put a)
{
	for (size_t k = 0; k < p->n; k++)
		if (!strcmp(p->as[k].name, a.name))
			plm_usage_die("field '%s' set twice", a.name);
	if (PLM_GROW(p->as, p->cap, p->n + 1))
		plm_die("out of memory");
	p->as[p->n++] = a;
}

/* One operand of NAME = EXPR assignments, ";"-separated. */
static void parse_exprs(struct puts *p, const char *arg)
{
	char err[1024];
	size_t pos = 0;
	while (isspace((unsigned char)arg[pos]))
		pos++;
	while (arg[pos]) {
		struct put a = { .src = arg };
		if (!(a.e = plm_expr_parse_assign(arg, &pos, &a.name, err,
						  sizeof err, NULL)))
			plm_usage_die("%s", err);
		add(p, a);
	}
}

/* Binds assignment a to the fields so far (the input's and those set
 * before it); its value's type becomes the field's. */
static void bind(const struct puts *p, struct put *a, const plm_schema *s)
{
	char err[1024], msg[1300];
	const char *where = p->v->where;
	int rc = plm_expr_bind(a->e, s, err, sizeof err);
	snprintf(msg, sizeof msg, "'%s': %s", a->src, err);
	if (rc == PLM_EXPR_ENOFIELD)
		plm_die_nofield(s, "%s%s%s", where ? where : "",
				where ? ": " : "", msg);
	if (rc)
		plm_usage_die("%s%s%s", where ? where : "", where ? ": " : "", msg);
	a->type = plm_expr_type(a->e);
}

/* Output fields for input fields in: its fields, ours retyped in place or
 * appended, its meta plus our prov entry. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct puts *p = ctx;
	(void)err, (void)errlen;
	if (plm_schema_derive(out, in, 0, 0))
		return -1;
	for (size_t k = 0; k < p->n; k++) {
		if (p->as[k].e)
			bind(p, &p->as[k], out);
		if ((p->as[k].fi = plm_schema_add(out, p->as[k].name,
						  p->as[k].type, 0)) < 0)
			return -1;
	}
	p->nin = in->n;
	return 0;
}

/* Input fields keep their positions; ours overwrite or follow, in order,
 * so an expression reads the fields set before it. */
static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	const struct puts *p = ctx;
	memcpy(out, in, p->nin * sizeof *out);
	for (size_t k = 0; k < p->n; k++) {
		const struct put *a = &p->as[k];
		if (!a->e) {
			out[a->fi] = a->v;
		} else if (plm_expr_value(a->e, out, &out[a->fi])) {
			snprintf(err, errlen, "%s: %s", a->name,
				 plm_expr_error(a->e));
			return PLM_VERB_FAIL;
		}
	}
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
	for (; i < argc && is_assignment(argv[i]); i++) {
		if (is_expression(argv[i]))
			parse_exprs(&p, argv[i]);
		else
			add(&p, parse_put(argv[i]));
	}
	if (!p.n)
		plm_usage_die("missing NAME=VALUE");
	plm_verb v = { .common = &c, .shard_key = key, .ctx = &p,
		       .section = section, .row = row };
	p.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	for (size_t k = 0; k < p.n; k++) {
		free(p.as[k].name);
		plm_expr_free(p.as[k].e);
	}
	free(p.as);
	return 0;
}
