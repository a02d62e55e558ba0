/* fuzz-expr.c — libFuzzer target for the expression parser: parse any text
 * as an expression and as rec-put assignments; what parses is bound to a
 * fixed schema and evaluated (as a condition and as a value) on a row with
 * values and on a row of nils. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plm/expr.h"
#include "plm/stream.h"

static plm_schema s;

/* Bind e (if any) and evaluate it both ways on both rows; frees e. */
static void run(plm_expr *e)
{
	char err[512];
	if (e && plm_expr_bind(e, &s, err, sizeof err) == PLM_EXPR_OK) {
		static const float f = 1;
		plm_val row[5] = {
			plm_v_str("P12345 x\0y", 10), plm_v_int(-7), plm_v_float(0.5),
			plm_v_int(1), plm_v_bytes(&f, sizeof f, 1),
		};
		plm_val nils[5], v;
		for (int i = 0; i < 5; i++)
			nils[i] = plm_v_nil();
		enum plm_type t = plm_expr_type(e);
		if (t < PLM_T_STR || t > PLM_T_BOOL)
			abort();
		plm_expr_eval(e, row);
		plm_expr_eval(e, nils);
		if (plm_expr_value(e, row, &v) == 0 && !v.nil && t == PLM_T_STR &&
		    v.n && !memchr(v.s, v.s[v.n - 1], v.n))
			abort();   /* touches every byte of the value */
		plm_expr_value(e, nils, &v);
	}
	plm_expr_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char err[512];
	/* Long inputs add nothing but time.  glibc's regcomp copies the
	 * operand of every '+' and '{m,n}', so "a++++...+" or "(a{99}){99}"
	 * grows exponentially: a cost of libc (the user's own regex), not a
	 * bug of ours, so such inputs are skipped. */
	size_t plus = 0;
	for (size_t i = 0; i < size; i++)
		plus += data[i] == '+';
	if (size > 4096 || plus > 6 || memchr(data, '{', size))
		return 0;
	if (!init) {
		plm_schema_init(&s);
		plm_schema_add(&s, "id", PLM_T_STR, 0);
		plm_schema_add(&s, "len", PLM_T_INT, 0);
		plm_schema_add(&s, "x", PLM_T_FLOAT, 0);
		plm_schema_add(&s, "b", PLM_T_BOOL, 0);
		plm_schema_add(&s, "v", PLM_T_F32, 1);
		init = 1;
	}
	char *src = malloc(size + 1);
	if (!src)
		return 0;
	memcpy(src, data, size);
	src[size] = 0;
	size_t col = 0;
	plm_expr *e = plm_expr_parse(src, err, sizeof err, &col);
	if (!e) {
		if (col < 1 || col > strlen(src) + 1)
			abort();   /* the column must point into the text */
	}
	run(e);
	/* the same text as assignments, up to the first that fails */
	size_t pos = 0, n = strlen(src);
	char *name;
	for (int k = 0; k < 8 && pos < n; k++) {
		size_t before = pos;
		col = 0;
		e = plm_expr_parse_assign(src, &pos, &name, err, sizeof err, &col);
		if (!e) {
			if (col < 1 || col > n + 1)
				abort();
			break;
		}
		if (pos <= before || pos > n || !name)
			abort();   /* each assignment reads something */
		free(name);
		run(e);
	}
	free(src);
	return 0;
}
