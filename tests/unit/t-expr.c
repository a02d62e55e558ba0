/* t-expr.c — the filter-expression parser, binder and evaluator. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "plm/expr.h"
#include "plm/stream.h"

static plm_schema S;
static char err[1024];

/* Rows over id:str len:int score:float ok:bool org:str emb:f32[2]. */
#define NF 6
static plm_val rows[4][NF];

static void setup(void)
{
	static const float emb[2] = { 1, 2 };
	plm_schema_init(&S);
	plm_schema_add(&S, "id", PLM_T_STR, 0);
	plm_schema_add(&S, "len", PLM_T_INT, 0);
	plm_schema_add(&S, "score", PLM_T_FLOAT, 0);
	plm_schema_add(&S, "ok", PLM_T_BOOL, 0);
	plm_schema_add(&S, "org", PLM_T_STR, 0);
	plm_schema_add(&S, "emb", PLM_T_F32, 2);
	const char *ids[] = { "a", "b", "c", "d" };
	const char *orgs[] = { "Lambda phage", "Homo sapiens", "Influenza virus", NULL };
	int64_t lens[] = { 50, 120, 49, 0 };
	double scores[] = { 0.5, -1.25, NAN, 0 };
	for (int r = 0; r < 4; r++) {
		rows[r][0] = plm_v_str(ids[r], 1);
		rows[r][1] = r == 3 ? plm_v_nil() : plm_v_int(lens[r]);
		rows[r][2] = r == 3 ? plm_v_nil() : plm_v_float(scores[r]);
		rows[r][3] = r == 3 ? plm_v_nil() : plm_v_int(r == 1);
		rows[r][4] = orgs[r] ? plm_v_str(orgs[r], strlen(orgs[r])) : plm_v_nil();
		rows[r][5] = plm_v_bytes(emb, sizeof emb, 1);
	}
}

/* The ids of the rows that match, e.g. "ac"; "ERR" on any error. */
static const char *sel(const char *src)
{
	static char out[8];
	plm_expr *e = plm_expr_parse(src, err, sizeof err, NULL);
	if (!e)
		return "ERR";
	if (plm_expr_bind(e, &S, err, sizeof err)) {
		plm_expr_free(e);
		return "ERR";
	}
	size_t n = 0;
	for (int r = 0; r < 4; r++)
		if (plm_expr_eval(e, rows[r]))
			out[n++] = rows[r][0].s[0];
	out[n] = 0;
	plm_expr_free(e);
	return out;
}

static void syntax(const char *src, size_t want_col, const char *what)
{
	size_t col = 0;
	plm_expr *e = plm_expr_parse(src, err, sizeof err, &col);
	ok(!e, "syntax error: %s", src);
	is_int(col, want_col, "column for %s", src);
	ok(strstr(err, what) != NULL, "message for %s: %s", src, err);
	plm_expr_free(e);
}

int main(void)
{
	setup();

	/* int field, each operator */
	is_str(sel("len==50"), "a", "int ==");
	is_str(sel("len!=50"), "bcd", "int != (nil is !=)");
	is_str(sel("len<50"), "c", "int <");
	is_str(sel("len<=50"), "ac", "int <=");
	is_str(sel("len>50"), "b", "int >");
	is_str(sel("len>=50"), "ab", "int >=");
	is_str(sel("len >= 49.5"), "ab", "int against a fraction");
	is_str(sel("len==5e1"), "a", "int against 5e1");
	/* float field, NaN never compares */
	is_str(sel("score<0"), "b", "float <");
	is_str(sel("score>=0.5"), "a", "float >=");
	is_str(sel("score!=0.5"), "bcd", "float != (NaN and nil true)");
	is_str(sel("score==nan"), "", "nan equals nothing");
	/* bool */
	is_str(sel("ok==1"), "b", "bool ==1");
	is_str(sel("ok==true"), "b", "bool ==true");
	is_str(sel("ok==false"), "ac", "bool ==false");
	/* strings: bytewise */
	is_str(sel("id==b"), "b", "str == bare word");
	is_str(sel("id=='b'"), "b", "str == single-quoted");
	is_str(sel("org==\"Homo sapiens\""), "b", "str == double-quoted with blank");
	is_str(sel("id<c"), "ab", "str <");
	is_str(sel("id>=b"), "bcd", "str >=");
	is_str(sel("org<Homo"), "", "str prefix sorts first");
	is_str(sel("org>Homo"), "abc", "str longer > prefix (nil false)");
	is_str(sel("id==''"), "", "empty string");
	/* regex */
	is_str(sel("org~virus|phage"), "ac", "regex alternation unquoted");
	is_str(sel("org!~virus"), "abd", "regex !~ (nil true)");
	is_str(sel("org~'^(Homo|Lambda) '"), "ab", "quoted regex with group");
	is_str(sel("org~^(Homo|Lambda)"), "ab", "unquoted regex with group");
	is_str(sel("(org~virus)"), "c", "regex inside parentheses");
	is_str(sel("org~[[:upper:]]n"), "c", "bracket class");
	is_str(sel("org~phage||len>100"), "ab", "regex word ends at ||");
	/* nil */
	is_str(sel("len<1000"), "abc", "nil: < false");
	is_str(sel("org==x"), "", "nil: == false");
	is_str(sel("!(len<1000)"), "d", "nil: negation true");
	/* logic and precedence */
	is_str(sel("len>=50 && org~phage"), "a", "&&");
	is_str(sel("id==a || id==c"), "ac", "||");
	is_str(sel("id==a || id==b && len<50"), "a", "&& binds tighter than ||");
	is_str(sel("(id==a || id==b) && len<100"), "a", "parentheses");
	is_str(sel("!id==a"), "bcd", "! negates the comparison");
	is_str(sel("!id==a && !id==b"), "cd", "! binds tighter than &&");
	is_str(sel("!(id==a || id==b)"), "cd", "! on a group");
	is_str(sel("!!id==a"), "a", "double negation");
	is_str(sel(" ( ( id == a ) ) "), "a", "blanks and nesting");

	/* syntax errors: column and message */
	syntax("", 1, "expected a field name");
	syntax("len>=", 6, "expected a value");
	syntax("len 50", 5, "expected an operator");
	syntax("len=50", 4, "expected an operator");
	syntax("(len>5", 7, "expected ')'");
	syntax("len>5)", 6, "without a matching");
	syntax("len>5 & id==a", 7, "did you mean '&&'");
	syntax("len>5 id==a", 7, "expected '&&', '||' or the end");
	syntax("id=='abc", 5, "unterminated");
	syntax("org~'('", 5, "bad regex");
	syntax("&& id==a", 1, "expected a field name");
	syntax("id==a ||", 9, "expected a field name");
	ok(strstr(err, "of 'id==a ||'") != NULL, "message shows the expression");
	{
		char deep[1000];
		memset(deep, '(', 500);
		strcpy(deep + 500, "id==a");
		syntax(deep, 201, "nested too deeply");
	}

	/* bind errors: the code, and the message where one is given */
	static const struct {
		const char *src;
		int code;
		const char *name, *msg;
	} bind_err[] = {
		{ "nosuch==1", PLM_EXPR_ENOFIELD, "unknown field",
		  "no field 'nosuch' in input" },
		{ "len>abc", PLM_EXPR_ETYPE, "int vs word",
		  "field 'len' is int: 'abc' is not a number" },
		{ "len~5", PLM_EXPR_ETYPE, "regex on int",
		  "field 'len' is int: ~ and !~ need a str field" },
		{ "emb==1", PLM_EXPR_ETYPE, "vector",
		  "field 'emb' is f32[2]: vectors cannot be compared" },
		{ "score==true", PLM_EXPR_ETYPE, "true only for bool", NULL },
	};
	for (size_t k = 0; k < sizeof bind_err / sizeof *bind_err; k++) {
		plm_expr *e = plm_expr_parse(bind_err[k].src, err, sizeof err, NULL);
		is_int(plm_expr_bind(e, &S, err, sizeof err), bind_err[k].code,
		       "%s", bind_err[k].name);
		if (bind_err[k].msg)
			is_str(err, bind_err[k].msg, "%s message", bind_err[k].name);
		plm_expr_free(e);
	}
	is_str(sel("id==5"), "", "a number against a str field is text");

	/* rebinding to a schema with the fields elsewhere */
	{
		plm_schema t;
		plm_schema_init(&t);
		plm_schema_add(&t, "x", PLM_T_STR, 0);
		plm_schema_add(&t, "len", PLM_T_FLOAT, 0);
		plm_val r[2] = { plm_v_str("q", 1), plm_v_float(49.75) };
		plm_expr *e = plm_expr_parse("len>49.5 && x==q", err, sizeof err, NULL);
		is_int(plm_expr_bind(e, &t, err, sizeof err), 0, "rebind");
		ok(plm_expr_eval(e, r), "rebound: float field at another index");
		plm_expr_free(e);
		plm_schema_free(&t);
	}
	plm_schema_free(&S);
	return done_testing();
}
