/* expr.h — filter expressions over record fields (rec-filter(1)).
 *
 *   expr   := or
 *   or     := and { "||" and }
 *   and    := unary { "&&" unary }
 *   unary  := "!" unary | "(" or ")" | FIELD OP VALUE
 *   OP     := "==" | "!=" | "<" | "<=" | ">" | ">=" | "~" | "!~"
 *   VALUE  := NUMBER | WORD | '...' | "..."
 *
 * "!" negates the comparison or parenthesised group after it, so it binds
 * tighter than "&&", which binds tighter than "||".  Words end at blanks and
 * at ( ) < > = ! ~ & | ' "; a word after ~ or !~ is a POSIX extended regex
 * and ends only at a blank, "&&", "||" or a ")" that closes no "(" of its
 * own, so `organism~virus|phage` works unquoted.  Quoted values have no
 * escapes (use the other quote to include one).
 *
 * Semantics once bound to a schema (plm_expr_bind): against int, float and
 * bool fields the value must be a number (bool also takes true/false) and
 * the comparison is numeric; against str fields it is bytewise; ~ and !~
 * need a str field.  A nil (missing) field value makes every comparison
 * false except != and !~, which are true, so that `a != v` is always
 * `!(a == v)` and `a !~ r` is always `!(a ~ r)`.
 *
 * Life cycle: parse once (regexes are compiled then), bind to each
 * section's schema (field names resolved to indices, types checked), then
 * evaluate per row. */
#ifndef PLM_EXPR_H
#define PLM_EXPR_H

#include <stddef.h>

#include "plm/stream.h"

typedef struct plm_expr plm_expr;

enum {
	PLM_EXPR_OK = 0,
	PLM_EXPR_ENOFIELD = -1,  /* a named field is not in the schema */
	PLM_EXPR_ETYPE = -2,     /* value or operator does not fit the type */
};

/* Parses src.  On a syntax error returns NULL and writes
 * "syntax error at column C of 'SRC': what" into err; *col (if col) gets
 * the 1-based column. */
plm_expr *plm_expr_parse(const char *src, char *err, size_t errlen,
			 size_t *col);
/* Resolves field names against s and checks types.  PLM_EXPR_OK, or
 * PLM_EXPR_ENOFIELD ("no field 'x' in input") / PLM_EXPR_ETYPE (a usage
 * problem: "field 'len' is int: 'abc' is not a number") with err filled.
 * May be called again for a later section's schema. */
int plm_expr_bind(plm_expr *e, const plm_schema *s, char *err, size_t errlen);
/* 1 if the row (schema->n values of the bound schema) matches, else 0.
 * Not const: regex matching may use a scratch buffer in e. */
int plm_expr_eval(plm_expr *e, const plm_val *row);
void plm_expr_free(plm_expr *e);

#endif
