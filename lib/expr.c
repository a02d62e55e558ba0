/* expr.c — filter expressions: a recursive-descent parser that builds a
 * small tree once, a bind step that turns field names into indices and
 * picks the comparison kind per node, and an evaluator that only follows
 * indices.  Grammar and semantics: include/plm/expr.h. */
#include <ctype.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/expr.h"

enum kind { N_OR, N_AND, N_NOT, N_CMP };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_RE, OP_NRE };
/* Chosen by plm_expr_bind: bytes, regex, int/bool field against an
 * integer, int/bool field against a non-integral number, float field. */
enum how { H_STR, H_RE, H_INT, H_IDBL, H_DBL };

/* Deep nesting ("((((..." or "!!!!...") would recurse without bound. */
#define MAX_DEPTH 200

struct node {
	enum kind kind;
	int a, b;              /* children (node indices) */
	/* N_CMP */
	enum op op;
	enum how how;
	char *field;
	int fi;                /* index in the bound schema */
	char *val;             /* the value as written, NUL-terminated */
	size_t vlen;
	int is_int, is_num;    /* val read as a number */
	int64_t iv;
	double dv;
	int has_re;
	regex_t re;
};

struct plm_expr {
	struct node *n;
	size_t nn, cap;
	int root;
	char *scratch;         /* NUL-terminated copy for regexec w/o STARTEND */
	size_t scap;
};

struct parser {
	const char *src;
	size_t pos;
	int depth;
	plm_expr *e;
	char *err;
	size_t errlen;
	size_t errcol;
	int failed;
};

static int fail(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	if (p->failed)
		return -1;
	p->failed = 1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	p->errcol = at + 1;
	snprintf(p->err, p->errlen, "syntax error at column %zu of '%s': %s",
		 p->errcol, p->src, what);
	return -1;
}

static int new_node(struct parser *p, enum kind k)
{
	plm_expr *e = p->e;
	if (PLM_GROW(e->n, e->cap, e->nn + 1))
		return fail(p, p->pos, "out of memory");
	memset(&e->n[e->nn], 0, sizeof e->n[0]);
	e->n[e->nn].kind = k;
	e->n[e->nn].fi = -1;
	return (int)e->nn++;
}

static void skip_blank(struct parser *p)
{
	while (isspace((unsigned char)p->src[p->pos]))
		p->pos++;
}

static int is_word(int c)
{
	return c && !isspace(c) && !strchr("()<>=!~&|'\"", c);
}

/* What the parser found at pos, for messages: "end of expression" or 'x'. */
static const char *found(struct parser *p, char *buf, size_t len)
{
	unsigned char c = p->src[p->pos];
	if (!c)
		return "end of expression";
	snprintf(buf, len, "'%c'", c);
	return buf;
}

/* A regex word: up to a blank, "&&", "||" or an unmatched ")"; a
 * backslash protects the next byte. */
static size_t regex_word_end(const char *s, size_t i)
{
	int depth = 0;
	for (;;) {
		unsigned char c = s[i];
		if (!c || isspace(c))
			return i;
		if ((c == '&' && s[i + 1] == '&') || (c == '|' && s[i + 1] == '|'))
			return i;
		if (c == '\\' && s[i + 1]) {
			i += 2;
			continue;
		}
		if (c == '(')
			depth++;
		if (c == ')' && depth-- == 0)
			return i;
		i++;
	}
}

static char *dup_range(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static void read_number(struct node *n)
{
	long long ll;
	double d;
	if (plm_strtoll(n->val, LLONG_MIN, LLONG_MAX, &ll) == 0) {
		n->is_int = n->is_num = 1;
		n->iv = ll;
		n->dv = (double)ll;
	} else if (plm_strtod(n->val, &d) == 0) {
		n->is_num = 1;
		n->dv = d;
	} else if (strcmp(n->val, "true") == 0 || strcmp(n->val, "false") == 0) {
		/* bool fields only; plm_expr_bind checks */
		n->iv = n->val[0] == 't';
		n->dv = (double)n->iv;
	}
}

static int parse_value(struct parser *p, struct node *n)
{
	const char *s = p->src;
	size_t start = p->pos, end;
	char q = s[start];
	if (q == '\'' || q == '"') {
		const char *close = strchr(s + start + 1, q);
		if (!close)
			return fail(p, start, "unterminated %c-quoted value", q);
		n->val = dup_range(s + start + 1, close - s - start - 1);
		p->pos = close - s + 1;
	} else {
		if (n->op == OP_RE || n->op == OP_NRE)
			end = regex_word_end(s, start);
		else
			for (end = start; is_word((unsigned char)s[end]); end++)
				;
		if (end == start) {
			char buf[8];
			return fail(p, start, "expected a value, found %s",
				    found(p, buf, sizeof buf));
		}
		n->val = dup_range(s + start, end - start);
		p->pos = end;
	}
	if (!n->val)
		return fail(p, start, "out of memory");
	n->vlen = strlen(n->val);
	read_number(n);
	if (n->op == OP_RE || n->op == OP_NRE) {
		int rc = regcomp(&n->re, n->val, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];
			regerror(rc, &n->re, msg, sizeof msg);
			return fail(p, start, "bad regex '%s': %s", n->val, msg);
		}
		n->has_re = 1;
	}
	return 0;
}

static int parse_op(struct parser *p, struct node *n)
{
	static const struct { const char *s; enum op op; } ops[] = {
		{ "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		{ "!~", OP_NRE }, { "<", OP_LT }, { ">", OP_GT }, { "~", OP_RE },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t l = strlen(ops[i].s);
		if (strncmp(p->src + p->pos, ops[i].s, l) == 0) {
			n->op = ops[i].op;
			p->pos += l;
			return 0;
		}
	}
	char buf[8];
	return fail(p, p->pos,
		    "expected an operator (== != < <= > >= ~ !~), found %s",
		    found(p, buf, sizeof buf));
}

static int parse_cmp(struct parser *p)
{
	size_t start = p->pos, end = start;
	while (is_word((unsigned char)p->src[end]))
		end++;
	if (end == start) {
		char buf[8];
		return fail(p, start, "expected a field name, '!' or '(', found %s",
			    found(p, buf, sizeof buf));
	}
	int i = new_node(p, N_CMP);
	if (i < 0)
		return -1;
	struct node *n = &p->e->n[i];
	if (!(n->field = dup_range(p->src + start, end - start)))
		return fail(p, start, "out of memory");
	p->pos = end;
	skip_blank(p);
	if (parse_op(p, n))
		return -1;
	skip_blank(p);
	if (parse_value(p, n))
		return -1;
	return i;
}

static int parse_or(struct parser *p);

static int parse_unary(struct parser *p)
{
	skip_blank(p);
	if (++p->depth > MAX_DEPTH)
		return fail(p, p->pos, "expression nested too deeply");
	int r;
	const char *s = p->src;
	if (s[p->pos] == '!' && s[p->pos + 1] != '=' && s[p->pos + 1] != '~') {
		p->pos++;
		int a = parse_unary(p);
		if (a < 0)
			return -1;
		if ((r = new_node(p, N_NOT)) >= 0)
			p->e->n[r].a = a;
	} else if (s[p->pos] == '(') {
		size_t open = p->pos++;
		r = parse_or(p);
		if (r < 0)
			return -1;
		skip_blank(p);
		if (s[p->pos] != ')') {
			char buf[8];
			return fail(p, p->pos, "expected ')' to close the '(' at column %zu, found %s",
				    open + 1, found(p, buf, sizeof buf));
		}
		p->pos++;
	} else {
		r = parse_cmp(p);
	}
	p->depth--;
	return r;
}

/* One level of a left-associative binary operator chain. */
static int parse_chain(struct parser *p, const char *tok, enum kind k,
		       int (*sub)(struct parser *))
{
	int l = sub(p);
	for (;;) {
		if (l < 0)
			return -1;
		skip_blank(p);
		if (strncmp(p->src + p->pos, tok, 2) != 0)
			return l;
		p->pos += 2;
		int r = sub(p);
		if (r < 0)
			return -1;
		int n = new_node(p, k);
		if (n >= 0) {
			p->e->n[n].a = l;
			p->e->n[n].b = r;
		}
		l = n;
	}
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, "&&", N_AND, parse_unary);
}

static int parse_or(struct parser *p)
{
	return parse_chain(p, "||", N_OR, parse_and);
}

plm_expr *plm_expr_parse(const char *src, char *err, size_t errlen,
			 size_t *col)
{
	plm_expr *e = calloc(1, sizeof *e);
	struct parser p = { src, 0, 0, e, err, errlen, 0, 0 };
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->root = parse_or(&p);
	if (e->root >= 0) {
		skip_blank(&p);
		char c = src[p.pos];
		if (c == '&' || c == '|')
			fail(&p, p.pos, "unexpected '%c' (did you mean '%c%c'?)", c, c, c);
		else if (c == ')')
			fail(&p, p.pos, "')' without a matching '('");
		else if (c)
			fail(&p, p.pos, "expected '&&', '||' or the end, found '%c'", c);
	}
	if (p.failed) {
		if (col)
			*col = p.errcol;
		plm_expr_free(e);
		return NULL;
	}
	return e;
}

void plm_expr_free(plm_expr *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nn; i++) {
		free(e->n[i].field);
		free(e->n[i].val);
		if (e->n[i].has_re)
			regfree(&e->n[i].re);
	}
	free(e->n);
	free(e->scratch);
	free(e);
}

static int bind_cmp(struct node *n, const plm_schema *s, char *err,
		    size_t errlen)
{
	char tn[64];
	n->fi = plm_schema_find(s, n->field);
	if (n->fi < 0) {
		snprintf(err, errlen, "no field '%s' in input", n->field);
		return PLM_EXPR_ENOFIELD;
	}
	const plm_field *f = &s->f[n->fi];
	plm_type_name(f->type, f->dim, tn, sizeof tn);
	int re = n->op == OP_RE || n->op == OP_NRE;
	switch (f->type) {
	case PLM_T_STR:
		n->how = re ? H_RE : H_STR;
		return PLM_EXPR_OK;
	case PLM_T_INT:
	case PLM_T_FLOAT:
	case PLM_T_BOOL:
		if (re) {
			snprintf(err, errlen, "field '%s' is %s: ~ and !~ need a str field",
				 n->field, tn);
			return PLM_EXPR_ETYPE;
		}
		if (!n->is_num && !(f->type == PLM_T_BOOL &&
				    (!strcmp(n->val, "true") || !strcmp(n->val, "false")))) {
			snprintf(err, errlen, "field '%s' is %s: '%s' is not a number",
				 n->field, tn, n->val);
			return PLM_EXPR_ETYPE;
		}
		if (f->type == PLM_T_FLOAT)
			n->how = H_DBL;
		else
			n->how = n->is_int || !n->is_num ? H_INT : H_IDBL;
		return PLM_EXPR_OK;
	default:
		snprintf(err, errlen, "field '%s' is %s: vectors cannot be compared",
			 n->field, tn);
		return PLM_EXPR_ETYPE;
	}
}

int plm_expr_bind(plm_expr *e, const plm_schema *s, char *err, size_t errlen)
{
	for (size_t i = 0; i < e->nn; i++)
		if (e->n[i].kind == N_CMP) {
			int rc = bind_cmp(&e->n[i], s, err, errlen);
			if (rc)
				return rc;
		}
	return PLM_EXPR_OK;
}

/* c: -1, 0, 1, or 2 for unordered (NaN). */
static int cmp_holds(enum op op, int c)
{
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c == -1;
	case OP_LE: return c == -1 || c == 0;
	case OP_GT: return c == 1;
	case OP_GE: return c == 1 || c == 0;
	default:    return 0;
	}
}

/* The value is copied to a NUL-terminated scratch string.  REG_STARTEND
 * would avoid the copy, but sanitizer interceptors (and non-glibc libcs)
 * run strlen() on the subject, reading past values that sit at the end of
 * the input buffer. */
static int regex_match(plm_expr *e, const struct node *n, const plm_val *v)
{
	if (PLM_GROW(e->scratch, e->scap, v->n + 1))
		return 0;
	if (v->n)
		memcpy(e->scratch, v->s, v->n);
	e->scratch[v->n] = 0;
	return regexec(&n->re, e->scratch, 0, NULL, 0) == 0;
}

static int eval_cmp(plm_expr *e, const struct node *n, const plm_val *row)
{
	const plm_val *v = &row[n->fi];
	int c;
	if (v->nil)
		return n->op == OP_NE || n->op == OP_NRE;
	switch (n->how) {
	case H_RE:
		return regex_match(e, n, v) == (n->op == OP_RE);
	case H_INT:
		c = (v->i > n->iv) - (v->i < n->iv);
		break;
	case H_IDBL:
	case H_DBL: {
		double x = n->how == H_DBL ? v->f : (double)v->i;
		c = x < n->dv ? -1 : x > n->dv ? 1 : x == n->dv ? 0 : 2;
		break;
	}
	default: {
		size_t m = v->n < n->vlen ? v->n : n->vlen;
		c = m ? memcmp(v->s, n->val, m) : 0;
		if (c == 0)
			c = (v->n > n->vlen) - (v->n < n->vlen);
		c = (c > 0) - (c < 0);
	}
	}
	return cmp_holds(n->op, c);
}

static int eval(plm_expr *e, int i, const plm_val *row)
{
	const struct node *n = &e->n[i];
	switch (n->kind) {
	case N_OR:  return eval(e, n->a, row) || eval(e, n->b, row);
	case N_AND: return eval(e, n->a, row) && eval(e, n->b, row);
	case N_NOT: return !eval(e, n->a, row);
	default:    return eval_cmp(e, n, row);
	}
}

int plm_expr_eval(plm_expr *e, const plm_val *row)
{
	return eval(e, e->root, row);
}
