/* t-expr.c — the expression parser, binder and evaluator. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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

/* The value over row r as "TYPE:text" ("int:5", "str:ab", "nil"), "BIND"
 * or "RUN" (err holds the message), "ERR" on a syntax error. */
static const char *val(const char *src, int r)
{
	static char out[128];
	plm_val v;
	plm_expr *e = plm_expr_parse(src, err, sizeof err, NULL);
	if (!e)
		return "ERR";
	if (plm_expr_bind(e, &S, err, sizeof err)) {
		plm_expr_free(e);
		return "BIND";
	}
	if (plm_expr_value(e, rows[r], &v)) {
		snprintf(err, sizeof err, "%s", plm_expr_error(e));
		plm_expr_free(e);
		return "RUN";
	}
	switch (v.nil ? 0 : plm_expr_type(e)) {
	case 0:
		snprintf(out, sizeof out, "nil");
		break;
	case PLM_T_STR:
		snprintf(out, sizeof out, "str:%.*s", (int)v.n, v.s);
		break;
	case PLM_T_INT:
		snprintf(out, sizeof out, "int:%" PRId64, v.i);
		break;
	case PLM_T_FLOAT:
		snprintf(out, sizeof out, "float:%g", v.f);
		break;
	default:
		snprintf(out, sizeof out, "bool:%s", v.i ? "true" : "false");
	}
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

	/* values: literals, arithmetic and its precedence */
	is_str(val("1 + 2 * 3", 0), "int:7", "* before +");
	is_str(val("(1 + 2) * 3", 0), "int:9", "parentheses");
	is_str(val("10 - 4 - 3", 0), "int:3", "- is left-associative");
	is_str(val("7 / 2", 0), "float:3.5", "/ gives float");
	is_str(val("7 % 3", 0), "int:1", "%% of ints");
	is_str(val("-7 % 3", 0), "int:-1", "%% keeps the sign of the dividend");
	is_str(val("7.5 % 2", 0), "float:1.5", "%% of floats");
	is_str(val("-len + 1", 0), "int:-49", "unary minus on a field");
	is_str(val("- -3", 0), "int:3", "double unary minus");
	is_str(val("len * 2.5", 0), "float:125", "int * float is float");
	is_str(val("1e3 + .5", 0), "float:1000.5", "float literals");
	is_str(val("9223372036854775807 + 1", 0), "int:-9223372036854775808",
	       "int wraps");
	is_str(val("ok + ok", 1), "int:2", "bool counts as 0/1");
	is_str(val("len % 0", 0), "RUN", "%% by zero is a run-time error");
	ok(strstr(err, "by zero") != NULL, "%% by zero message: %s", err);
	is_str(val("len / 0", 0), "float:inf", "/ by zero is inf");
	/* strings and concatenation */
	is_str(val("\"a\\\"b\\tc\"", 0), "str:a\"b\tc", "escapes in \"...\"");
	is_str(val("'a\\n'", 0), "str:a\\n", "no escapes in '...'");
	is_str(val("\"x\\.y\"", 0), "str:x\\.y", "other backslashes kept");
	is_str(val("id . \"-\" . len", 0), "str:a-50", "concatenation of str and int");
	is_str(val("id . score . ok", 1), "str:b-1.25true", "floats and bools as text");
	is_str(val("\"n=\" . len + 1", 0), "str:n=51", "+ binds tighter than .");
	is_str(val("id . org", 3), "nil", "concatenation with nil is nil");
	/* functions */
	is_str(val("len(org)", 0), "int:12", "len");
	is_str(val("substr(org, 0, 6)", 0), "str:Lambda", "substr from 0");
	is_str(val("substr(org, 7, 100)", 0), "str:phage", "substr clipped at the end");
	is_str(val("substr(org, -2, 4)", 0), "str:La", "substr clipped at the start");
	is_str(val("substr(org, 20, 2)", 0), "str:", "substr past the end");
	is_str(val("lower(org) . upper(id)", 1), "str:homo sapiensB", "lower, upper");
	is_str(val("int(score)", 1), "int:-1", "int truncates");
	is_str(val("int(\"42\") + 1", 0), "int:43", "int of a str");
	is_str(val("int(\"2.9\")", 0), "int:2", "int of a decimal str");
	is_str(val("int(org)", 0), "RUN", "int of text is a run-time error");
	is_str(err, "int(): 'Lambda phage' is not a number", "int() message");
	is_str(val("int(score)", 2), "RUN", "int of NaN");
	is_str(val("float(len) / 4", 0), "float:12.5", "float");
	is_str(val("float(\"1e-3\")", 0), "float:0.001", "float of a str");
	is_str(val("str(len) . str(ok)", 1), "str:120true", "str");
	is_str(val("str(0.1 + 0.2)", 0), "str:0.30000000000000004", "str of a float round-trips");
	is_str(val("is_nil(org)", 3), "bool:true", "is_nil of nil");
	is_str(val("is_nil(org)", 0), "bool:false", "is_nil of a value");
	is_str(val("len(org)", 3), "nil", "functions of nil are nil");
	is_str(val("is_nil(org) ? \"?\" : org", 3), "str:?", "defaulting a nil");
	/* conditional */
	is_str(val("org ~ \"[Vv]irus|phage\" ? \"viral\" : \"host\"", 0), "str:viral", "?: true");
	is_str(val("org ~ \"[Vv]irus|phage\" ? \"viral\" : \"host\"", 1), "str:host", "?: false");
	is_str(val("org ~ virus|phage ? 1 : 0", 2), "int:1", "?: after a bare regex");
	is_str(val("len > 100 ? 1 : 0.5", 1), "float:1", "int and float branches make float");
	is_str(val("len > 100 ? \"long\" : len > 49 ? \"mid\" : \"short\"", 0), "str:mid",
	       "?: is right-associative");
	is_str(val("ok ? 1 : 2", 3), "int:2", "a nil condition is false");
	is_str(val("len > 100 ? id : org", 1), "str:b", "a bare word in ?: is a field");
	/* comparisons yield bool; bare words and $fields */
	is_str(val("len >= 50 && ok", 1), "bool:true", "comparison and bool field");
	is_str(val("id == b", 1), "bool:true", "bare word after == is a value");
	is_str(val("id == $id", 1), "bool:true", "$name is a field there");
	is_str(val("${len} + 1", 0), "int:51", "${name}");
	is_str(val("len == 25 * 2", 0), "bool:true", "arithmetic after a bare number");
	is_str(val("len == (25 * 2)", 0), "bool:true", "a parenthesised right side");
	is_str(val("len(id) == 1", 0), "bool:true", "a call on the left");
	is_str(val("1 == len(id)", 0), "bool:true", "a call on the right");
	is_str(val("substr(org, 0, 1) == \"L\"", 0), "bool:true", "str expression ==");
	is_str(val("true", 0), "bool:true", "true");
	is_str(val("!ok", 3), "bool:true", "! of nil is true");
	is_str(val("len < 1000", 3), "bool:false", "comparison with nil");
	is_str(val("len + 1", 3), "nil", "arithmetic with nil");
	is_str(val("len == len", 0), "BIND", "a bare word after == is text");
	is_str(err, "field 'len' is int: 'len' is not a number", "and says so");
	/* a str expression against a number expression: read per row */
	is_str(val("substr(id, 0, 1) < $len", 0), "RUN", "text against a number at run time");
	is_str(err, "'a' is not a number", "the run-time message");
	{
		plm_expr *e = plm_expr_parse("str(len) == $len", err, sizeof err, NULL);
		is_int(plm_expr_bind(e, &S, err, sizeof err), 0, "str against int binds");
		is_int(plm_expr_eval(e, rows[0]), 1, "and compares numerically");
		plm_expr_free(e);
		e = plm_expr_parse("id == $len", err, sizeof err, NULL);
		plm_expr_bind(e, &S, err, sizeof err);
		is_int(plm_expr_eval(e, rows[0]), 0, "text that is no number: not ==");
		plm_expr_free(e);
		e = plm_expr_parse("id > $len", err, sizeof err, NULL);
		plm_expr_bind(e, &S, err, sizeof err);
		is_int(plm_expr_eval(e, rows[0]), -1, "eval is -1 on a run-time error");
		is_str(plm_expr_error(e), "'a' is not a number", "plm_expr_error");
		plm_expr_free(e);
	}

	/* new syntax errors */
	syntax("len +", 6, "expected a field name");
	syntax("len(id", 7, "expected ',' or ')'");
	syntax("nosuch(id)", 1, "unknown function 'nosuch'");
	syntax("substr(id, 1)", 1, "substr() takes 3 arguments, found 2");
	syntax("len(id, id)", 1, "len() takes 1 argument, found 2");
	syntax("ok ? 1", 7, "expected ':'");
	syntax("\"abc", 1, "unterminated");
	syntax("\"a\\", 1, "unterminated");   /* a backslash ends the input */
	syntax("$", 1, "expected a field name after '$'");
	syntax("${}", 1, "expected a field name and '}'");
	syntax("len 5 + 1", 5, "expected an operator");

	/* type errors at bind time */
	static const struct {
		const char *src, *msg;
	} type_err[] = {
		{ "id + 1", "'+' needs numbers, but field 'id' is str" },
		{ "-id", "'-' needs a number, but field 'id' is str" },
		{ "len && ok", "'&&' needs bool operands, but field 'len' is int" },
		{ "!len", "'!' needs bool, but field 'len' is int" },
		{ "len ? 1 : 2", "'?' needs bool, but field 'len' is int" },
		{ "ok ? 1 : \"x\"", "the branches of the '?' at column 4 are int and str" },
		{ "len(len)", "len() needs str, but field 'len' is int" },
		{ "substr(id, 0.5, 1)", "substr() needs int, but the float at column 12" },
		{ "len(id) ~ 1", "~ and !~ need a str, but the int at column 1" },
		{ "len(id) == \"x\"", "the int at column 1: 'x' is not a number" },
		{ "len(emb)", "field 'emb' is f32[2]: vectors cannot be used in expressions" },
	};
	for (size_t k = 0; k < sizeof type_err / sizeof *type_err; k++) {
		plm_expr *e = plm_expr_parse(type_err[k].src, err, sizeof err, NULL);
		ok(e != NULL, "parses: %s", type_err[k].src);
		if (!e)
			continue;
		is_int(plm_expr_bind(e, &S, err, sizeof err), PLM_EXPR_ETYPE,
		       "type error: %s", type_err[k].src);
		is_str(err, type_err[k].msg, "message for %s", type_err[k].src);
		plm_expr_free(e);
	}

	/* assignments */
	{
		const char *src = " a = len + 1; b = id . \"x\" ;c=1 ";
		size_t pos = 0, col = 0;
		char *name;
		const char *want[] = { "a", "b", "c" };
		for (int k = 0; k < 3; k++) {
			plm_expr *e = plm_expr_parse_assign(src, &pos, &name, err,
							    sizeof err, NULL);
			ok(e != NULL, "assignment %d parses", k);
			if (!e)
				break;
			is_str(name, want[k], "assignment %d name", k);
			free(name);
			plm_expr_free(e);
		}
		is_int(pos, strlen(src), "all of it read");
		pos = 0;
		ok(!plm_expr_parse_assign("a == 1", &pos, &name, err, sizeof err, &col),
		   "== is not an assignment");
		is_int(col, 3, "column of the '=='");
		pos = 0;
		ok(!plm_expr_parse_assign("a = 1 2", &pos, &name, err, sizeof err, &col),
		   "trailing text");
		is_int(col, 7, "column of the trailing text");
		pos = 0;
		plm_expr *e = plm_expr_parse_assign("${odd name} = 2", &pos, &name, err,
						    sizeof err, NULL);
		ok(e && !strcmp(name, "odd name"), "${name} to assign");
		free(name);
		plm_expr_free(e);
	}
	plm_schema_free(&S);
	return done_testing();
}
