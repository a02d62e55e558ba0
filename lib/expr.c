/* expr.c — expressions over record fields: a recursive-descent parser that
 * builds a small tree once, a bind step that turns field names into
 * indices and fixes every node's type (and how each comparison compares),
 * and an evaluator that only follows indices.  Grammar and semantics:
 * include/plm/expr.h. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/expr.h"

enum kind {
	N_OR, N_AND, N_NOT, N_CMP, N_RE, N_COND, N_ARITH, N_NEG, N_CAT,
	N_CALL, N_FIELD, N_LIT,
};
enum op {
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_RE, OP_NRE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
};
enum fn { F_LEN, F_SUBSTR, F_LOWER, F_UPPER, F_INT, F_FLOAT, F_STR, F_ISNIL };
/* How a comparison compares, chosen by bind: bytes, int64, double. */
enum how { H_STR, H_INT, H_DBL };

static const struct {
	const char *name;
	int nargs;
} fns[] = {
	[F_LEN] = { "len", 1 }, [F_SUBSTR] = { "substr", 3 },
	[F_LOWER] = { "lower", 1 }, [F_UPPER] = { "upper", 1 },
	[F_INT] = { "int", 1 }, [F_FLOAT] = { "float", 1 },
	[F_STR] = { "str", 1 }, [F_ISNIL] = { "is_nil", 1 },
};

/* Deep nesting ("((((..." or "!!!!...") would recurse without bound, and
 * so would evaluating a chain of more nodes than this. */
#define MAX_DEPTH 200
#define MAX_NODES 20000

struct node {
	enum kind kind;
	int a, b, c;           /* children (node indices), -1 if none */
	size_t at;             /* offset in the source, for messages */
	enum op op;
	enum fn fn;
	int t;                 /* type (PLM_T_*) once bound */
	/* N_CMP */
	enum how how;
	int conv;              /* 1, 2: child a, b is a str read as a number */
	/* N_FIELD */
	char *field;
	int fi;
	/* N_LIT (and N_RE's pattern) */
	int t0;                /* the literal's own type; t may differ */
	int word;              /* written without quotes */
	char *val;             /* as written (quotes removed), NUL-terminated */
	size_t vlen;
	int is_int, is_num, is_bool;
	int64_t iv;
	double dv;
	int has_re;
	regex_t re;
};

/* Strings made during one evaluation (concatenations, str(), lower())
 * live in blocks that never move, freed at the next evaluation. */
struct blk {
	struct blk *next;
	size_t cap, used;
	char d[];
};

struct plm_expr {
	struct node *n;
	size_t nn, cap;
	int root;
	char *scratch;         /* NUL-terminated copies for regexec, strtod */
	size_t scap;
	struct blk *arena;
	char err[256];
};

/* A value during evaluation; its type is its node's t. */
struct rv {
	int nil;
	int64_t i;
	double d;
	const char *s;
	size_t n;
};

struct parser {
	const char *src;
	size_t pos;
	int depth;
	int calls, then, stmts; /* inside a call, a ?: middle, assignments */
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

static int new_node(struct parser *p, enum kind k, size_t at)
{
	plm_expr *e = p->e;
	if (e->nn >= MAX_NODES)
		return fail(p, p->pos, "expression too long");
	if (PLM_GROW(e->n, e->cap, e->nn + 1))
		return fail(p, p->pos, "out of memory");
	memset(&e->n[e->nn], 0, sizeof e->n[0]);
	e->n[e->nn].kind = k;
	e->n[e->nn].fi = -1;
	e->n[e->nn].a = e->n[e->nn].b = e->n[e->nn].c = -1;
	e->n[e->nn].at = at;
	return (int)e->nn++;
}

static int node2(struct parser *p, enum kind k, size_t at, int a, int b)
{
	int i = new_node(p, k, at);
	if (i >= 0) {
		p->e->n[i].a = a;
		p->e->n[i].b = b;
	}
	return i;
}

static void skip_blank(struct parser *p)
{
	while (isspace((unsigned char)p->src[p->pos]))
		p->pos++;
}

static int is_ident(int c, int first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

/* A bare value word after a comparison operator: up to a blank or an
 * operator of the first grammar, and what ends an operand here. */
static int is_vword(struct parser *p, int c)
{
	return c && !isspace(c) && !strchr("()<>=!~&|'\"?", c) &&
	       !(c == ',' && p->calls) && !(c == ':' && p->then) &&
	       !(c == ';' && p->stmts);
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

/* A regex word: up to a blank, "&&", "||" or an unmatched ")" (and "," in
 * a call, ";" between assignments); a backslash protects the next byte. */
static size_t regex_word_end(struct parser *p, size_t i)
{
	const char *s = p->src;
	int depth = 0;
	for (;;) {
		unsigned char c = s[i];
		if (!c || isspace(c))
			return i;
		if ((c == '&' && s[i + 1] == '&') || (c == '|' && s[i + 1] == '|'))
			return i;
		if ((c == ',' && p->calls && depth == 0) || (c == ';' && p->stmts))
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

/* The literal's readings: number, bool; t0 is its own type (a word or a
 * number token takes the number reading, a quoted string stays str). */
static void read_literal(struct node *n)
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
	} else if (!strcmp(n->val, "true") || !strcmp(n->val, "false")) {
		n->is_bool = 1;
		n->iv = n->val[0] == 't';
		n->dv = (double)n->iv;
	}
	if (!n->word)
		n->t0 = PLM_T_STR;
	else
		n->t0 = n->is_int ? PLM_T_INT : n->is_num ? PLM_T_FLOAT
		      : n->is_bool ? PLM_T_BOOL : PLM_T_STR;
	n->t = n->t0;
}

static int literal(struct parser *p, size_t at, const char *s, size_t len,
		   int word)
{
	int i = new_node(p, N_LIT, at);
	if (i < 0)
		return -1;
	struct node *n = &p->e->n[i];
	if (!(n->val = dup_range(s, len)))
		return fail(p, at, "out of memory");
	n->vlen = len;
	n->word = word;
	read_literal(n);
	return i;
}

/* "..." with \" \\ \n \t (other backslashes kept), '...' as it is.  Into
 * a new N_LIT node; p->pos moves past the closing quote. */
static int quoted(struct parser *p)
{
	const char *s = p->src;
	size_t start = p->pos, i = start + 1, n = 0;
	char q = s[start];
	char *buf = malloc(strlen(s + start) + 1);
	if (!buf)
		return fail(p, start, "out of memory");
	for (; s[i] && s[i] != q; i++) {
		if (q == '"' && s[i] == '\\' && s[i + 1] &&
		    strchr("\"\\nt", s[i + 1])) {
			i++;
			buf[n++] = s[i] == 'n' ? '\n' : s[i] == 't' ? '\t' : s[i];
		} else {
			buf[n++] = s[i];
		}
	}
	if (!s[i]) {
		free(buf);
		return fail(p, start, "unterminated %c-quoted value", q);
	}
	p->pos = i + 1;
	int r = literal(p, start, buf, n, 0);
	free(buf);
	return r;
}

static int parse_cond(struct parser *p);

/* NUMBER: digits [. digits] [e[+-]digits], or . digits. */
static int number(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos, start = i;
	while (isdigit((unsigned char)s[i]))
		i++;
	if (s[i] == '.' && isdigit((unsigned char)s[i + 1]))
		for (i++; isdigit((unsigned char)s[i]); i++)
			;
	if ((s[i] == 'e' || s[i] == 'E') &&
	    (isdigit((unsigned char)s[i + 1]) ||
	     (strchr("+-", s[i + 1]) && s[i + 1] && isdigit((unsigned char)s[i + 2])))) {
		for (i += 2; isdigit((unsigned char)s[i]); i++)
			;
	}
	p->pos = i;
	return literal(p, start, s + start, i - start, 1);
}

static int lookup_fn(const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
		if (strlen(fns[k].name) == len && !memcmp(fns[k].name, s, len))
			return (int)k;
	return -1;
}

static int call(struct parser *p, size_t at, size_t len)
{
	int f = lookup_fn(p->src + at, len);
	if (f < 0)
		return fail(p, at, "unknown function '%.*s' (len, substr, lower, upper, int, float, str, is_nil)",
			    (int)len, p->src + at);
	int i = new_node(p, N_CALL, at);
	if (i < 0)
		return -1;
	p->e->n[i].fn = (enum fn)f;
	int args[3], na = 0;
	p->pos++;       /* "(" */
	skip_blank(p);
	if (p->src[p->pos] == ')') {
		p->pos++;
	} else {
		for (;;) {
			p->calls++;
			int a = parse_cond(p);
			p->calls--;
			if (a < 0)
				return -1;
			if (na < 3)
				args[na] = a;
			na++;
			skip_blank(p);
			if (p->src[p->pos] == ')') {
				p->pos++;
				break;
			}
			if (p->src[p->pos] != ',') {
				char buf[8];
				return fail(p, p->pos, "expected ',' or ')' in the call of %s() at column %zu, found %s",
					    fns[f].name, at + 1, found(p, buf, sizeof buf));
			}
			p->pos++;
		}
	}
	if (na != fns[f].nargs)
		return fail(p, at, "%s() takes %d argument%s, found %d",
			    fns[f].name, fns[f].nargs,
			    fns[f].nargs == 1 ? "" : "s", na);
	struct node *n = &p->e->n[i];
	n->a = na > 0 ? args[0] : -1;
	n->b = na > 1 ? args[1] : -1;
	n->c = na > 2 ? args[2] : -1;
	return i;
}

static int field(struct parser *p, size_t at, const char *name, size_t len)
{
	int i = new_node(p, N_FIELD, at);
	if (i < 0)
		return -1;
	if (!(p->e->n[i].field = dup_range(name, len)))
		return fail(p, at, "out of memory");
	return i;
}

/* "$name" or "${any}"; p->pos at the "$". */
static int dollar(struct parser *p)
{
	const char *s = p->src;
	size_t at = p->pos, i = at + 1;
	if (s[i] == '{') {
		const char *close = strchr(s + i + 1, '}');
		if (!close || close == s + i + 1)
			return fail(p, at, "expected a field name and '}' after '${'");
		p->pos = close - s + 1;
		return field(p, at, s + i + 1, close - s - i - 1);
	}
	if (!is_ident((unsigned char)s[i], 1))
		return fail(p, at, "expected a field name after '$'");
	while (is_ident((unsigned char)s[i], 0))
		i++;
	p->pos = i;
	return field(p, at, s + at + 1, i - at - 1);
}

static int primary(struct parser *p, int rhs)
{
	const char *s = p->src;
	char buf[8];
	skip_blank(p);
	size_t at = p->pos;
	unsigned char c = s[at];
	if (c == '(') {
		p->pos++;
		int r = parse_cond(p);
		if (r < 0)
			return -1;
		skip_blank(p);
		if (s[p->pos] != ')')
			return fail(p, p->pos, "expected ')' to close the '(' at column %zu, found %s",
				    at + 1, found(p, buf, sizeof buf));
		p->pos++;
		return r;
	}
	if (c == '"' || c == '\'')
		return quoted(p);
	if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[at + 1])))
		return number(p);
	if (c == '$')
		return dollar(p);
	if (is_ident(c, 1)) {
		size_t end = at;
		while (is_ident((unsigned char)s[end], 0))
			end++;
		p->pos = end;
		if (s[end] == '(')
			return call(p, at, end - at);
		if ((end - at == 4 && !memcmp(s + at, "true", 4)) ||
		    (end - at == 5 && !memcmp(s + at, "false", 5)))
			return literal(p, at, s + at, end - at, 1);
		return field(p, at, s + at, end - at);
	}
	if (rhs)
		return fail(p, at, "expected a value, found %s",
			    found(p, buf, sizeof buf));
	return fail(p, at, "expected a field name, a value, '!' or '(', found %s",
		    found(p, buf, sizeof buf));
}

static int parse_unary(struct parser *p, int rhs)
{
	const char *s = p->src;
	skip_blank(p);
	size_t at = p->pos;
	if (rhs && is_vword(p, (unsigned char)s[at]) && s[at] != '$') {
		size_t end = at;
		while (is_vword(p, (unsigned char)s[end]))
			end++;
		int ident = 1;
		for (size_t k = at; k < end; k++)
			ident &= is_ident((unsigned char)s[k], k == at);
		if (!(ident && s[end] == '(')) {
			p->pos = end;
			return literal(p, at, s + at, end - at, 1);
		}
	}
	if (s[at] != '-')
		return primary(p, rhs);
	if (++p->depth > MAX_DEPTH)
		return fail(p, at, "expression nested too deeply");
	p->pos++;
	int a = parse_unary(p, 0);
	p->depth--;
	return a < 0 ? -1 : node2(p, N_NEG, at, a, -1);
}

static int parse_mul(struct parser *p, int rhs)
{
	int l = parse_unary(p, rhs);
	for (;;) {
		if (l < 0)
			return -1;
		skip_blank(p);
		size_t at = p->pos;
		char c = p->src[at];
		if (c != '*' && c != '/' && c != '%')
			return l;
		p->pos++;
		int r = parse_unary(p, 0);
		if (r < 0)
			return -1;
		l = node2(p, N_ARITH, at, l, r);
		if (l >= 0)
			p->e->n[l].op = c == '*' ? OP_MUL : c == '/' ? OP_DIV : OP_MOD;
	}
}

static int parse_add(struct parser *p, int rhs)
{
	int l = parse_mul(p, rhs);
	for (;;) {
		if (l < 0)
			return -1;
		skip_blank(p);
		size_t at = p->pos;
		char c = p->src[at];
		if (c != '+' && c != '-')
			return l;
		p->pos++;
		int r = parse_mul(p, 0);
		if (r < 0)
			return -1;
		l = node2(p, N_ARITH, at, l, r);
		if (l >= 0)
			p->e->n[l].op = c == '+' ? OP_ADD : OP_SUB;
	}
}

static int parse_cat(struct parser *p, int rhs)
{
	int l = parse_add(p, rhs);
	for (;;) {
		if (l < 0)
			return -1;
		skip_blank(p);
		size_t at = p->pos;
		if (p->src[at] != '.')
			return l;
		p->pos++;
		int r = parse_add(p, 0);
		if (r < 0)
			return -1;
		l = node2(p, N_CAT, at, l, r);
	}
}

/* The pattern after ~ or !~: quoted or a regex word, compiled now. */
static int regex(struct parser *p, int i)
{
	const char *s = p->src;
	size_t start = p->pos;
	char *val;
	if (s[start] == '\'' || s[start] == '"') {
		int q = quoted(p);
		if (q < 0)
			return -1;
		/* the pattern moves to the N_RE node; q stays unused */
		val = p->e->n[q].val;
		p->e->n[q].val = NULL;
	} else {
		size_t end = regex_word_end(p, start);
		if (end == start) {
			char buf[8];
			return fail(p, start, "expected a value, found %s",
				    found(p, buf, sizeof buf));
		}
		if (!(val = dup_range(s + start, end - start)))
			return fail(p, start, "out of memory");
		p->pos = end;
	}
	struct node *n = &p->e->n[i];
	n->val = val;
	n->vlen = strlen(val);
	int rc = regcomp(&n->re, n->val, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[128];
		regerror(rc, &n->re, msg, sizeof msg);
		return fail(p, start, "bad regex '%s': %s", n->val, msg);
	}
	n->has_re = 1;
	return i;
}

static int parse_cmp(struct parser *p)
{
	static const struct { const char *s; enum op op; } ops[] = {
		{ "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
		{ "!~", OP_NRE }, { "<", OP_LT }, { ">", OP_GT }, { "~", OP_RE },
	};
	int l = parse_cat(p, 0);
	if (l < 0)
		return -1;
	skip_blank(p);
	size_t at = p->pos;
	const char *s = p->src + at;
	for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
		size_t len = strlen(ops[k].s);
		if (strncmp(s, ops[k].s, len) != 0)
			continue;
		p->pos += len;
		skip_blank(p);
		int re = ops[k].op == OP_RE || ops[k].op == OP_NRE;
		int i = node2(p, re ? N_RE : N_CMP, at, l, -1);
		if (i < 0)
			return -1;
		p->e->n[i].op = ops[k].op;
		if (re)
			return regex(p, i);
		int r = parse_cat(p, 1);
		if (r < 0)
			return -1;
		p->e->n[i].b = r;
		return i;
	}
	if (*s && !strchr(")?:,;&|", *s)) {
		char buf[8];
		return fail(p, at, "expected an operator (== != < <= > >= ~ !~ + - * / %% . ?), found %s",
			    found(p, buf, sizeof buf));
	}
	return l;
}

static int parse_not(struct parser *p)
{
	skip_blank(p);
	const char *s = p->src;
	size_t at = p->pos;
	if (s[at] != '!' || s[at + 1] == '=' || s[at + 1] == '~')
		return parse_cmp(p);
	if (++p->depth > MAX_DEPTH)
		return fail(p, at, "expression nested too deeply");
	p->pos++;
	int a = parse_not(p);
	p->depth--;
	return a < 0 ? -1 : node2(p, N_NOT, at, a, -1);
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
		size_t at = p->pos;
		if (strncmp(p->src + at, tok, 2) != 0)
			return l;
		p->pos += 2;
		int r = sub(p);
		if (r < 0)
			return -1;
		l = node2(p, k, at, l, r);
	}
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, "&&", N_AND, parse_not);
}

static int parse_or(struct parser *p)
{
	return parse_chain(p, "||", N_OR, parse_and);
}

static int parse_cond(struct parser *p)
{
	skip_blank(p);
	if (++p->depth > MAX_DEPTH)
		return fail(p, p->pos, "expression nested too deeply");
	int c = parse_or(p);
	if (c < 0)
		return -1;
	skip_blank(p);
	size_t q = p->pos;
	if (p->src[q] == '?') {
		p->pos++;
		p->then++;
		int a = parse_cond(p);
		p->then--;
		if (a < 0)
			return -1;
		skip_blank(p);
		if (p->src[p->pos] != ':') {
			char buf[8];
			return fail(p, p->pos, "expected ':' for the '?' at column %zu, found %s",
				    q + 1, found(p, buf, sizeof buf));
		}
		p->pos++;
		int b = parse_cond(p);
		if (b < 0)
			return -1;
		int i = node2(p, N_COND, q, a, b);
		if (i < 0)
			return -1;
		p->e->n[i].c = c;
		c = i;
	}
	p->depth--;
	return c;
}

/* After a whole expression: the end (or ";" between assignments). */
static void parse_end(struct parser *p)
{
	skip_blank(p);
	char c = p->src[p->pos];
	if (c == '&' || c == '|')
		fail(p, p->pos, "unexpected '%c' (did you mean '%c%c'?)", c, c, c);
	else if (c == ')')
		fail(p, p->pos, "')' without a matching '('");
	else if (c && !(c == ';' && p->stmts))
		fail(p, p->pos, "expected '&&', '||' or the end, found '%c'", c);
}

static plm_expr *finish(struct parser *p, size_t *col)
{
	if (p->failed) {
		if (col)
			*col = p->errcol;
		plm_expr_free(p->e);
		return NULL;
	}
	return p->e;
}

plm_expr *plm_expr_parse(const char *src, char *err, size_t errlen,
			 size_t *col)
{
	plm_expr *e = calloc(1, sizeof *e);
	struct parser p = { .src = src, .e = e, .err = err, .errlen = errlen };
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->root = parse_cond(&p);
	if (e->root >= 0)
		parse_end(&p);
	return finish(&p, col);
}

plm_expr *plm_expr_parse_assign(const char *src, size_t *pos, char **name,
				char *err, size_t errlen, size_t *col)
{
	plm_expr *e = calloc(1, sizeof *e);
	struct parser p = { .src = src, .pos = *pos, .stmts = 1, .e = e,
			    .err = err, .errlen = errlen };
	char buf[8];
	*name = NULL;
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	skip_blank(&p);
	size_t at = p.pos, end;
	const char *nm = src + at;
	if (src[at] == '$' && src[at + 1] == '{') {
		const char *close = strchr(src + at + 2, '}');
		end = close ? (size_t)(close - src) : at;
		nm = src + at + 2;
		if (close && close > nm)
			p.pos = end + 1;
	} else {
		at += src[at] == '$';
		nm = src + at;
		for (end = at; isalnum((unsigned char)src[end]) ||
			       (src[end] && strchr("_.-", src[end])); end++)
			;
		p.pos = end;
	}
	if (end <= (size_t)(nm - src)) {
		fail(&p, p.pos, "expected a field name to assign to, found %s",
		     found(&p, buf, sizeof buf));
		return finish(&p, col);
	}
	skip_blank(&p);
	if (src[p.pos] != '=' || src[p.pos + 1] == '=') {
		fail(&p, p.pos, "expected '=' after the field name, found %s",
		     found(&p, buf, sizeof buf));
		return finish(&p, col);
	}
	p.pos++;
	e->root = parse_cond(&p);
	if (e->root >= 0)
		parse_end(&p);
	if (!p.failed) {
		if (!(*name = dup_range(nm, end - (size_t)(nm - src)))) {
			fail(&p, at, "out of memory");
		} else {
			p.pos += src[p.pos] == ';';
			skip_blank(&p);
			*pos = p.pos;
		}
	}
	return finish(&p, col);
}

static void arena_reset(plm_expr *e)
{
	if (!e->arena)
		return;
	/* keep the newest (largest) block */
	struct blk *b = e->arena->next;
	while (b) {
		struct blk *nx = b->next;
		free(b);
		b = nx;
	}
	e->arena->next = NULL;
	e->arena->used = 0;
}

static char *arena_alloc(plm_expr *e, size_t n)
{
	struct blk *b = e->arena;
	if (!b || b->cap - b->used < n) {
		size_t cap = b ? b->cap * 2 : 256;
		if (cap < n)
			cap = n;
		struct blk *nb = malloc(sizeof *nb + cap);
		if (!nb)
			return NULL;
		nb->next = b;
		nb->cap = cap;
		nb->used = 0;
		e->arena = b = nb;
	}
	char *r = b->d + b->used;
	b->used += n;
	return r;
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
	arena_reset(e);
	free(e->arena);
	free(e->n);
	free(e->scratch);
	free(e);
}

/* ---- bind --------------------------------------------------------------- */

struct binder {
	plm_expr *e;
	const plm_schema *s;
	char *err;
	size_t errlen;
};

static const char *tname(int t)
{
	switch (t) {
	case PLM_T_STR:   return "str";
	case PLM_T_INT:   return "int";
	case PLM_T_FLOAT: return "float";
	default:          return "bool";
	}
}

static int is_numt(int t)
{
	return t == PLM_T_INT || t == PLM_T_FLOAT || t == PLM_T_BOOL;
}

static int etype(struct binder *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int etype(struct binder *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err, b->errlen, fmt, ap);
	va_end(ap);
	return PLM_EXPR_ETYPE;
}

/* "field 'len' is int" or "the int at column 3", for messages. */
static const char *what(struct binder *b, const struct node *n, char *buf,
			size_t len)
{
	if (n->kind == N_FIELD)
		snprintf(buf, len, "field '%s' is %s", n->field, tname(n->t));
	else
		snprintf(buf, len, "the %s at column %zu", tname(n->t), n->at + 1);
	(void)b;
	return buf;
}

static int not_number(struct binder *b, const struct node *num,
		      const struct node *lit)
{
	char w[300];
	return etype(b, "%s: '%s' is not a number",
		     what(b, num, w, sizeof w), lit->val);
}

/* Which way a comparison compares; literals may take another reading. */
static int bind_cmp(struct binder *b, struct node *n)
{
	struct node *A = &b->e->n[n->a], *B = &b->e->n[n->b];
	int ta = A->t, tb = B->t;
	n->conv = 0;
	if (ta == PLM_T_STR && tb == PLM_T_STR) {
		n->how = H_STR;
		return 0;
	}
	if (is_numt(ta) && is_numt(tb)) {
		if (A->kind == N_LIT && ta == PLM_T_BOOL && tb != PLM_T_BOOL)
			return not_number(b, B, A);
		if (B->kind == N_LIT && tb == PLM_T_BOOL && ta != PLM_T_BOOL)
			return not_number(b, A, B);
		n->how = ta != PLM_T_FLOAT && tb != PLM_T_FLOAT ? H_INT : H_DBL;
		return 0;
	}
	int sa = ta == PLM_T_STR;
	struct node *S = sa ? A : B, *N = sa ? B : A;
	if (S->kind == N_LIT) {
		if (N->t == PLM_T_BOOL && S->is_bool) {
			S->t = PLM_T_BOOL;
		} else if (S->is_num) {
			S->t = S->is_int ? PLM_T_INT : PLM_T_FLOAT;
		} else {
			return not_number(b, N, S);
		}
		n->how = S->t != PLM_T_FLOAT && N->t != PLM_T_FLOAT ? H_INT : H_DBL;
	} else {
		/* a str against a number: the str's text read as a number
		 * (Miller-like; "len>50" on a str column from untyped TSV),
		 * else not equal for == and !=, an error for the others */
		n->how = H_DBL;
		n->conv = sa ? 1 : 2;
	}
	return 0;
}

static int bind_node(struct binder *b, int i, enum kind parent);

static int bind_kids(struct binder *b, struct node *n)
{
	int rc;
	if (n->a >= 0 && (rc = bind_node(b, n->a, n->kind)))
		return rc;
	if (n->b >= 0 && (rc = bind_node(b, n->b, n->kind)))
		return rc;
	if (n->c >= 0 && (rc = bind_node(b, n->c, n->kind)))
		return rc;
	return 0;
}

static int need(struct binder *b, const struct node *k, int t,
		const char *who)
{
	char w[300];
	if (k->t == t || (t == PLM_T_INT && k->t == PLM_T_BOOL))
		return 0;
	return etype(b, "%s needs %s, but %s", who, tname(t),
		     what(b, k, w, sizeof w));
}

static int bind_call(struct binder *b, struct node *n)
{
	const struct node *A = &b->e->n[n->a];
	char who[32];
	int rc = 0;
	snprintf(who, sizeof who, "%s()", fns[n->fn].name);
	switch (n->fn) {
	case F_LEN:
		rc = need(b, A, PLM_T_STR, who);
		n->t = PLM_T_INT;
		break;
	case F_SUBSTR:
		if (!(rc = need(b, A, PLM_T_STR, who)) &&
		    !(rc = need(b, &b->e->n[n->b], PLM_T_INT, who)))
			rc = need(b, &b->e->n[n->c], PLM_T_INT, who);
		n->t = PLM_T_STR;
		break;
	case F_LOWER:
	case F_UPPER:
		rc = need(b, A, PLM_T_STR, who);
		n->t = PLM_T_STR;
		break;
	case F_INT:
		n->t = PLM_T_INT;
		break;
	case F_FLOAT:
		n->t = PLM_T_FLOAT;
		break;
	case F_STR:
		n->t = PLM_T_STR;
		break;
	case F_ISNIL:
		n->t = PLM_T_BOOL;
		break;
	}
	return rc;
}

static int bind_node(struct binder *b, int i, enum kind parent)
{
	struct node *n = &b->e->n[i];
	char w[300], tn[64];
	int rc;
	if (n->kind == N_LIT) {
		n->t = n->t0;
		return 0;
	}
	if (n->kind == N_FIELD) {
		n->fi = plm_schema_find(b->s, n->field);
		if (n->fi < 0) {
			snprintf(b->err, b->errlen, "no field '%s' in input", n->field);
			return PLM_EXPR_ENOFIELD;
		}
		const plm_field *f = &b->s->f[n->fi];
		if (f->type < PLM_T_STR || f->type > PLM_T_BOOL) {
			plm_type_name(f->type, f->dim, tn, sizeof tn);
			return etype(b, "field '%s' is %s: vectors cannot be %s",
				     n->field, tn, parent == N_CMP || parent == N_RE
				     ? "compared" : "used in expressions");
		}
		n->t = f->type;
		return 0;
	}
	if ((rc = bind_kids(b, n)))
		return rc;
	const struct node *A = n->a >= 0 ? &b->e->n[n->a] : NULL;
	const struct node *B = n->b >= 0 ? &b->e->n[n->b] : NULL;
	switch (n->kind) {
	case N_OR:
	case N_AND:
		n->t = PLM_T_BOOL;
		if (A->t != PLM_T_BOOL || B->t != PLM_T_BOOL)
			return etype(b, "'%s' needs bool operands, but %s",
				     n->kind == N_OR ? "||" : "&&",
				     what(b, A->t != PLM_T_BOOL ? A : B, w, sizeof w));
		return 0;
	case N_NOT:
		n->t = PLM_T_BOOL;
		return A->t == PLM_T_BOOL ? 0 : need(b, A, PLM_T_BOOL, "'!'");
	case N_CMP:
		n->t = PLM_T_BOOL;
		return bind_cmp(b, n);
	case N_RE:
		n->t = PLM_T_BOOL;
		if (A->t == PLM_T_STR)
			return 0;
		if (A->kind == N_FIELD)
			return etype(b, "field '%s' is %s: ~ and !~ need a str field",
				     A->field, tname(A->t));
		return etype(b, "~ and !~ need a str, but %s",
			     what(b, A, w, sizeof w));
	case N_COND: {
		const struct node *C = &b->e->n[n->c];
		if (C->t != PLM_T_BOOL)
			return need(b, C, PLM_T_BOOL, "'?'");
		if (A->t == B->t)
			n->t = A->t;
		else if ((A->t == PLM_T_INT && B->t == PLM_T_FLOAT) ||
			 (A->t == PLM_T_FLOAT && B->t == PLM_T_INT))
			n->t = PLM_T_FLOAT;
		else
			return etype(b, "the branches of the '?' at column %zu are %s and %s",
				     n->at + 1, tname(A->t), tname(B->t));
		return 0;
	}
	case N_ARITH:
		for (int k = 0; k < 2; k++) {
			const struct node *x = k ? B : A;
			if (!is_numt(x->t))
				return etype(b, "'%c' needs numbers, but %s",
					     "+-*/%"[n->op - OP_ADD],
					     what(b, x, w, sizeof w));
		}
		n->t = n->op == OP_DIV || A->t == PLM_T_FLOAT ||
		       B->t == PLM_T_FLOAT ? PLM_T_FLOAT : PLM_T_INT;
		return 0;
	case N_NEG:
		if (!is_numt(A->t))
			return etype(b, "'-' needs a number, but %s",
				     what(b, A, w, sizeof w));
		n->t = A->t == PLM_T_FLOAT ? PLM_T_FLOAT : PLM_T_INT;
		return 0;
	case N_CAT:
		n->t = PLM_T_STR;
		return 0;
	case N_CALL:
		return bind_call(b, n);
	default:
		return 0;
	}
}

int plm_expr_bind(plm_expr *e, const plm_schema *s, char *err, size_t errlen)
{
	struct binder b = { e, s, err, errlen };
	return bind_node(&b, e->root, N_OR);
}

enum plm_type plm_expr_type(const plm_expr *e)
{
	return (enum plm_type)e->n[e->root].t;
}

/* ---- evaluation --------------------------------------------------------- */

static int rt_error(plm_expr *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int rt_error(plm_expr *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->err, sizeof e->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* A NUL-terminated copy in e->scratch.  REG_STARTEND would avoid the copy
 * for regexec, but sanitizer interceptors (and non-glibc libcs) run
 * strlen() on the subject, reading past values that sit at the end of the
 * input buffer. */
static const char *cstr(plm_expr *e, const struct rv *v)
{
	if (PLM_GROW(e->scratch, e->scap, v->n + 1))
		return NULL;
	if (v->n)
		memcpy(e->scratch, v->s, v->n);
	e->scratch[v->n] = 0;
	return e->scratch;
}

/* A str value read as a number (bool: also true/false). */
static int str_num(plm_expr *e, const struct rv *v, double *d, int64_t *iv,
		   int *is_int)
{
	const char *s = cstr(e, v);
	long long ll;
	if (!s)
		return rt_error(e, "out of memory");
	*is_int = 0;
	if (plm_strtoll(s, LLONG_MIN, LLONG_MAX, &ll) == 0) {
		*is_int = 1;
		*iv = ll;
		*d = (double)ll;
		return 0;
	}
	if (plm_strtod(s, d) == 0)
		return 0;
	if (!strcmp(s, "true") || !strcmp(s, "false")) {
		*d = s[0] == 't';
		*iv = s[0] == 't';
		*is_int = 1;
		return 0;
	}
	return rt_error(e, "'%.*s' is not a number",
			v->n > 60 ? 60 : (int)v->n, v->s);
}

static double num(int t, const struct rv *v)
{
	return t == PLM_T_FLOAT ? v->d : (double)v->i;
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

/* Text of a scalar value in the arena (str as it is). */
static int to_text(plm_expr *e, int t, struct rv *v)
{
	char buf[40];
	int n;
	if (t == PLM_T_STR)
		return 0;
	if (t == PLM_T_BOOL)
		n = snprintf(buf, sizeof buf, "%s", v->i ? "true" : "false");
	else if (t == PLM_T_INT)
		n = snprintf(buf, sizeof buf, "%" PRId64, v->i);
	else
		n = plm_fmt_f64(buf, v->d);
	char *s = arena_alloc(e, (size_t)n);
	if (!s)
		return rt_error(e, "out of memory");
	memcpy(s, buf, (size_t)n);
	v->s = s;
	v->n = (size_t)n;
	return 0;
}

static int eval(plm_expr *e, int i, const plm_val *row, struct rv *o);

static int truth(plm_expr *e, int i, const plm_val *row, int *t)
{
	struct rv v;
	if (eval(e, i, row, &v))
		return -1;
	*t = !v.nil && v.i;
	return 0;
}

static int eval_cmp(plm_expr *e, const struct node *n, const plm_val *row,
		    struct rv *o)
{
	const struct node *A = &e->n[n->a], *B = &e->n[n->b];
	struct rv x, y;
	int c;
	if (eval(e, n->a, row, &x) || eval(e, n->b, row, &y))
		return -1;
	o->nil = 0;
	if (x.nil || y.nil) {
		o->i = n->op == OP_NE;
		return 0;
	}
	if (n->how == H_STR) {
		size_t m = x.n < y.n ? x.n : y.n;
		c = m ? memcmp(x.s, y.s, m) : 0;
		if (c == 0)
			c = (x.n > y.n) - (x.n < y.n);
		c = (c > 0) - (c < 0);
	} else if (n->how == H_INT) {
		c = (x.i > y.i) - (x.i < y.i);
	} else {
		double dx = num(A->t, &x), dy = num(B->t, &y);
		int64_t ix = x.i, iy = y.i;
		int sx = A->t != PLM_T_FLOAT, sy = B->t != PLM_T_FLOAT;
		int eq = n->op == OP_EQ || n->op == OP_NE;
		if ((n->conv == 1 && str_num(e, &x, &dx, &ix, &sx)) ||
		    (n->conv == 2 && str_num(e, &y, &dy, &iy, &sy))) {
			if (!eq)
				return -1;
			o->i = cmp_holds(n->op, 2);     /* not a number: unequal */
			return 0;
		}
		if (sx && sy)   /* both integers: exact beyond 2^53 */
			c = (ix > iy) - (ix < iy);
		else
			c = dx < dy ? -1 : dx > dy ? 1 : dx == dy ? 0 : 2;
	}
	o->i = cmp_holds(n->op, c);
	return 0;
}

static int eval_arith(plm_expr *e, const struct node *n, const plm_val *row,
		      struct rv *o)
{
	const struct node *A = &e->n[n->a], *B = &e->n[n->b];
	struct rv x, y;
	if (eval(e, n->a, row, &x) || eval(e, n->b, row, &y))
		return -1;
	if (x.nil || y.nil) {
		o->nil = 1;
		return 0;
	}
	if (n->t == PLM_T_FLOAT) {
		double a = num(A->t, &x), b = num(B->t, &y);
		switch (n->op) {
		case OP_ADD: o->d = a + b; break;
		case OP_SUB: o->d = a - b; break;
		case OP_MUL: o->d = a * b; break;
		case OP_DIV: o->d = a / b; break;
		default:     o->d = fmod(a, b); break;
		}
		return 0;
	}
	/* int: wraps (unsigned arithmetic), no undefined behaviour */
	uint64_t a = (uint64_t)x.i, b = (uint64_t)y.i;
	switch (n->op) {
	case OP_ADD: o->i = (int64_t)(a + b); break;
	case OP_SUB: o->i = (int64_t)(a - b); break;
	case OP_MUL: o->i = (int64_t)(a * b); break;
	default:
		if (y.i == 0)
			return rt_error(e, "%% by zero (column %zu)", n->at + 1);
		o->i = y.i == -1 ? 0 : x.i % y.i;
	}
	return 0;
}

static int eval_call(plm_expr *e, const struct node *n, const plm_val *row,
		     struct rv *o)
{
	const struct node *A = &e->n[n->a];
	struct rv x, y, z;
	if (eval(e, n->a, row, &x))
		return -1;
	if (n->fn == F_ISNIL) {
		o->nil = 0;
		o->i = x.nil;
		return 0;
	}
	if (n->fn == F_SUBSTR &&
	    (eval(e, n->b, row, &y) || eval(e, n->c, row, &z)))
		return -1;
	if (x.nil || (n->fn == F_SUBSTR && (y.nil || z.nil))) {
		o->nil = 1;
		return 0;
	}
	*o = x;
	switch (n->fn) {
	case F_LEN:
		o->i = (int64_t)x.n;
		return 0;
	case F_SUBSTR: {
		/* [start, start+n) clipped to [0, len], in double to avoid
		 * overflow */
		double lo = (double)y.i, hi = (double)y.i + (double)z.i;
		if (lo < 0)
			lo = 0;
		if (hi > (double)x.n)
			hi = (double)x.n;
		o->s = x.s + (hi > lo ? (size_t)lo : 0);
		o->n = hi > lo ? (size_t)hi - (size_t)lo : 0;
		return 0;
	}
	case F_LOWER:
	case F_UPPER: {
		char *s = arena_alloc(e, x.n);
		if (x.n && !s)
			return rt_error(e, "out of memory");
		for (size_t k = 0; k < x.n; k++)
			s[k] = (char)(n->fn == F_LOWER ? tolower((unsigned char)x.s[k])
						       : toupper((unsigned char)x.s[k]));
		o->s = s;
		return 0;
	}
	case F_INT:
		if (A->t == PLM_T_STR) {
			int is_int;
			if (str_num(e, &x, &o->d, &o->i, &is_int))
				return rt_error(e, "int(): '%.*s' is not a number",
						x.n > 60 ? 60 : (int)x.n, x.s);
			if (is_int)
				return 0;
		} else if (A->t != PLM_T_FLOAT) {
			return 0;
		}
		if (!(o->d >= -0x1p63 && o->d < 0x1p63))
			return rt_error(e, "int(): %g is out of range", o->d);
		o->i = (int64_t)o->d;
		return 0;
	case F_FLOAT:
		if (A->t == PLM_T_STR) {
			int is_int;
			int64_t iv;
			if (str_num(e, &x, &o->d, &iv, &is_int))
				return rt_error(e, "float(): '%.*s' is not a number",
						x.n > 60 ? 60 : (int)x.n, x.s);
		} else if (A->t != PLM_T_FLOAT) {
			o->d = (double)x.i;
		}
		return 0;
	case F_STR:
		return to_text(e, A->t, o);
	default:
		return 0;
	}
}

static int eval(plm_expr *e, int i, const plm_val *row, struct rv *o)
{
	const struct node *n = &e->n[i];
	struct rv x, y;
	int t;
	memset(o, 0, sizeof *o);
	switch (n->kind) {
	case N_FIELD: {
		const plm_val *v = &row[n->fi];
		o->nil = v->nil;
		o->i = v->i;
		o->d = v->f;
		o->s = v->s;
		o->n = v->n;
		return 0;
	}
	case N_LIT:
		o->s = n->val;
		o->n = n->vlen;
		o->i = n->iv;
		o->d = n->dv;
		return 0;
	case N_OR:
	case N_AND:
		if (truth(e, n->a, row, &t))
			return -1;
		if (t == (n->kind == N_OR)) {
			o->i = t;
			return 0;
		}
		if (truth(e, n->b, row, &t))
			return -1;
		o->i = t;
		return 0;
	case N_NOT:
		if (truth(e, n->a, row, &t))
			return -1;
		o->i = !t;
		return 0;
	case N_CMP:
		return eval_cmp(e, n, row, o);
	case N_RE: {
		if (eval(e, n->a, row, &x))
			return -1;
		if (x.nil) {
			o->i = n->op == OP_NRE;
			return 0;
		}
		const char *s = cstr(e, &x);
		if (!s)
			return rt_error(e, "out of memory");
		o->i = (regexec(&n->re, s, 0, NULL, 0) == 0) == (n->op == OP_RE);
		return 0;
	}
	case N_COND:
		if (truth(e, n->c, row, &t) || eval(e, t ? n->a : n->b, row, o))
			return -1;
		/* an int branch of a float ?: */
		if (n->t == PLM_T_FLOAT && e->n[t ? n->a : n->b].t != PLM_T_FLOAT)
			o->d = (double)o->i;
		return 0;
	case N_ARITH:
		return eval_arith(e, n, row, o);
	case N_NEG:
		if (eval(e, n->a, row, o))
			return -1;
		if (n->t == PLM_T_FLOAT)
			o->d = -o->d;
		else
			o->i = (int64_t)(0 - (uint64_t)o->i);
		return 0;
	case N_CAT: {
		if (eval(e, n->a, row, &x) || eval(e, n->b, row, &y))
			return -1;
		if (x.nil || y.nil) {
			o->nil = 1;
			return 0;
		}
		if (to_text(e, e->n[n->a].t, &x) || to_text(e, e->n[n->b].t, &y))
			return -1;
		char *s = arena_alloc(e, x.n + y.n);
		if (x.n + y.n && !s)
			return rt_error(e, "out of memory");
		if (x.n)
			memcpy(s, x.s, x.n);
		if (y.n)
			memcpy(s + x.n, y.s, y.n);
		o->s = s;
		o->n = x.n + y.n;
		return 0;
	}
	case N_CALL:
		return eval_call(e, n, row, o);
	}
	return 0;
}

int plm_expr_eval(plm_expr *e, const plm_val *row)
{
	int t;
	arena_reset(e);
	if (truth(e, e->root, row, &t))
		return -1;
	return t;
}

int plm_expr_value(plm_expr *e, const plm_val *row, plm_val *out)
{
	struct rv v;
	arena_reset(e);
	if (eval(e, e->root, row, &v))
		return -1;
	switch (v.nil ? 0 : e->n[e->root].t) {
	case 0:
		*out = plm_v_nil();
		break;
	case PLM_T_STR:
		*out = plm_v_str(v.s ? v.s : "", v.n);
		break;
	case PLM_T_FLOAT:
		*out = plm_v_float(v.d);
		break;
	default:
		*out = plm_v_int(v.i);
	}
	return 0;
}

const char *plm_expr_error(const plm_expr *e)
{
	return e->err;
}
