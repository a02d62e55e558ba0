/* t-json.c — plm_json_parse / plm_json_get / plm_json_put_str. */
#include "plm/json.h"
#include "tap.h"

#include <stdlib.h>

static plm_json_doc *parse(const char *s, char *err)
{
	return plm_json_parse(s, strlen(s), err, 256);
}

static void bad(const char *s, const char *want_err)
{
	char err[256] = "";
	plm_json_doc *d = parse(s, err);
	ok(!d, "reject %s", s);
	is_str(err, want_err, "error for %s", s);
	plm_json_free(d);
}

static void test_values(void)
{
	char err[256];
	const char *txt = " {\"a\": 1, \"b\": [true, false, null, -2.5e1, \"x\"],"
			  " \"c\": {\"d\": \"\\u00e9\\n\\\"\\\\\\/\"}, \"big\": 9223372036854775807,"
			  " \"huge\": 9223372036854775808, \"neg\": -0, \"e\": 1E2 } ";
	plm_json_doc *d = parse(txt, err);
	ok(d != NULL, "parse object");
	if (!d) {
		diag("%s", err);
		return;
	}
	const plm_json *r = plm_json_root(d);
	is_int(r->type, PLM_JSON_OBJ, "root is object");
	is_int(r->len, 7, "7 members");
	const plm_json *a = plm_json_get(r, "a");
	ok(a && a->type == PLM_JSON_NUM && a->is_int && a->i == 1 && a->num == 1,
	   "a = 1 (int)");
	const plm_json *b = plm_json_get(r, "b");
	ok(b && b->type == PLM_JSON_ARR && b->len == 5, "b array of 5");
	ok(b->kids[0].type == PLM_JSON_BOOL && b->kids[0].b == 1, "true");
	ok(b->kids[1].type == PLM_JSON_BOOL && b->kids[1].b == 0, "false");
	ok(b->kids[2].type == PLM_JSON_NULL, "null");
	ok(b->kids[3].type == PLM_JSON_NUM && !b->kids[3].is_int &&
	   b->kids[3].num == -25.0, "-2.5e1");
	is_str(b->kids[4].s, "x", "string x");
	const plm_json *c = plm_json_get(plm_json_get(r, "c"), "d");
	is_str(c ? c->s : NULL, "\xc3\xa9\n\"\\/", "escapes unescaped");
	is_int(c ? c->len : 0, 6, "escaped string length");
	const plm_json *big = plm_json_get(r, "big");
	ok(big && big->is_int && big->i == INT64_MAX, "int64 max is int");
	const plm_json *huge = plm_json_get(r, "huge");
	ok(huge && !huge->is_int && huge->num == 9223372036854775808.0,
	   "int64 max + 1 is a double");
	ok(plm_json_get(r, "neg")->is_int, "-0 is an integer");
	ok(!plm_json_get(r, "e")->is_int && plm_json_get(r, "e")->num == 100,
	   "1E2 is not an integer");
	ok(plm_json_get(r, "zz") == NULL, "missing key");
	ok(plm_json_get(b, "a") == NULL, "get on array");
	ok(plm_json_get(NULL, "a") == NULL, "get on NULL");
	plm_json_free(d);

	d = parse("\"\\ud83d\\ude00\"", err);
	ok(d && strcmp(plm_json_root(d)->s, "\xf0\x9f\x98\x80") == 0,
	   "surrogate pair to UTF-8");
	plm_json_free(d);
	d = parse("[]", err);
	ok(d && plm_json_root(d)->type == PLM_JSON_ARR &&
	   plm_json_root(d)->len == 0, "empty array");
	plm_json_free(d);
	d = parse("{}", err);
	ok(d && plm_json_root(d)->type == PLM_JSON_OBJ &&
	   plm_json_root(d)->len == 0, "empty object");
	plm_json_free(d);
	d = parse("{\"k\":1,\"k\":2}", err);
	ok(d && plm_json_get(plm_json_root(d), "k")->i == 1,
	   "duplicate key: first wins");
	plm_json_free(d);
	d = parse("\"h\xc3\xa9\"", err);
	ok(d && strcmp(plm_json_root(d)->s, "h\xc3\xa9") == 0, "raw UTF-8");
	plm_json_free(d);

	/* Not NUL-terminated: the parser must stop at len. */
	char buf[4] = { '1', '2', '3', '4' };
	d = plm_json_parse(buf, 2, err, sizeof err);
	ok(d && plm_json_root(d)->i == 12, "length-bounded number");
	plm_json_free(d);

	/* Many members force array growth and several arena blocks. */
	size_t cap = 1 << 20, n = 0;
	char *big_txt = malloc(cap);
	n += (size_t)sprintf(big_txt + n, "[");
	for (int i = 0; i < 20000; i++)
		n += (size_t)sprintf(big_txt + n, "%s{\"k%d\":\"v%d\"}", i ? "," : "", i, i);
	n += (size_t)sprintf(big_txt + n, "]");
	d = plm_json_parse(big_txt, n, err, sizeof err);
	ok(d && plm_json_root(d)->len == 20000 &&
	   strcmp(plm_json_get(&plm_json_root(d)->kids[19999], "k19999")->s,
		  "v19999") == 0, "20000 elements");
	plm_json_free(d);
	free(big_txt);
}

static void test_errors(void)
{
	bad("", "offset 0: unexpected end of input");
	bad("   ", "offset 3: unexpected end of input");
	bad("{\"a\":1,}", "offset 7: expected string key");
	bad("[1,]", "offset 3: unexpected character");
	bad("[1 2]", "offset 3: expected ',' or ']'");
	bad("{\"a\" 1}", "offset 5: expected ':'");
	bad("\"abc", "offset 0: unterminated string");
	bad("\"a\\x\"", "offset 2: bad escape in string");
	bad("\"\\u12G4\"", "offset 1: bad \\u escape");
	bad("\"\\u0000\"", "offset 1: \\u0000 in string");
	bad("\"\\ud800\"", "offset 1: unpaired surrogate in \\u escape");
	bad("\"\\udc00\"", "offset 1: unpaired surrogate in \\u escape");
	bad("\"a\tb\"", "offset 2: control character in string");
	bad("\"\xff\"", "offset 1: invalid UTF-8 in string");
	bad("\"\xc0\xaf\"", "offset 1: invalid UTF-8 in string");
	bad("01", "offset 1: trailing characters after JSON value");
	bad("1.", "offset 0: bad number");
	bad("-", "offset 0: bad number");
	bad("1e+", "offset 0: bad number");
	bad("+1", "offset 0: unexpected character");
	bad("tru", "offset 0: unexpected character");
	bad("nul", "offset 0: unexpected character");
	bad("NaN", "offset 0: unexpected character");
	bad("{} x", "offset 3: trailing characters after JSON value");
	bad("[1] [2]", "offset 4: trailing characters after JSON value");

	char deep[600];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	deep[600 - 1] = 0;
	deep[599] = 0;
	char err[256] = "";
	plm_json_doc *d = plm_json_parse(deep, 600 - 1, err, sizeof err);
	ok(!d, "nesting 300 rejected");
	is_str(err, "offset 256: nesting deeper than 256", "depth error");
	char ok_deep[512];
	memset(ok_deep, '[', 256);
	memset(ok_deep + 256, ']', 256);
	d = plm_json_parse(ok_deep, 512, err, sizeof err);
	ok(d != NULL, "nesting 256 accepted");
	plm_json_free(d);
	ok(plm_json_parse("[", 1, NULL, 0) == NULL, "NULL err buffer is fine");
	char small[8];
	ok(plm_json_parse("[", 1, small, sizeof small) == NULL &&
	   strlen(small) == 7, "error truncated to buffer");
}

static void test_put_str(void)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	const char s[] = "a\"b\\c\n\t\x01\x7f\xc3\xa9";
	ok(plm_json_put_str(&buf, &len, &cap, s, sizeof s - 1) == 0, "put_str");
	ok(len == strlen("\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\"") &&
	   memcmp(buf, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\"", len) == 0,
	   "escaped literal");
	ok(plm_json_put_str(&buf, &len, &cap, "", 0) == 0 && len >= 2 &&
	   memcmp(buf + len - 2, "\"\"", 2) == 0, "empty string appended");
	/* Round trip through the parser. */
	size_t l0 = len;
	char nul_str[] = { 'x', 0, 'y' };
	ok(plm_json_put_str(&buf, &len, &cap, nul_str, 3) == 0, "put NUL byte");
	char err[256];
	plm_json_doc *d = plm_json_parse(buf + l0, len - l0, err, sizeof err);
	ok(!d, "embedded NUL does not round-trip (rejected by reader)");
	plm_json_free(d);
	len = 0;
	plm_json_put_str(&buf, &len, &cap, s, sizeof s - 1);
	d = plm_json_parse(buf, len, err, sizeof err);
	ok(d && plm_json_root(d)->len == sizeof s - 1 &&
	   memcmp(plm_json_root(d)->s, s, sizeof s - 1) == 0, "round trip");
	plm_json_free(d);
	free(buf);
}

int main(void)
{
	test_values();
	test_errors();
	test_put_str();
	return done_testing();
}
