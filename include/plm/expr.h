/* expr.h — expressions over record fields: rec-filter(1) conditions and
 * rec-put(1) assignments share them.
 *
 *   expr    := or [ "?" expr ":" expr ]                 (right-associative)
 *   or      := and { "||" and }
 *   and     := not { "&&" not }
 *   not     := "!" not | cmp
 *   cmp     := cat [ CMPOP rhs | ("~" | "!~") REGEX ]
 *   CMPOP   := "==" | "!=" | "<" | "<=" | ">" | ">="
 *   cat     := add { "." add }                           (concatenation)
 *   add     := mul { ("+" | "-") mul }
 *   mul     := unary { ("*" | "/" | "%") unary }
 *   unary   := "-" unary | primary
 *   primary := NUMBER | STRING | "true" | "false" | FIELD
 *            | NAME "(" [ expr { "," expr } ] ")" | "(" expr ")"
 *   FIELD   := NAME | "$" NAME | "${" any text but "}" "}"
 *   NAME    := [A-Za-z_][A-Za-z0-9_]*
 *   STRING  := "..." (escapes \" \\ \n \t; any other backslash is kept)
 *            | '...' (no escapes)
 *
 * "!" binds looser than the comparisons, so "!id==a" is "!(id==a)".
 *
 * rhs is an add-level operand, except that a bare word right after a
 * comparison operator is a value, not a field (rec-filter's first grammar,
 * kept): "split==test", "id==P12345-2", "len>=-5".  Such a word runs up to
 * a blank or one of ( ) < > = ! ~ & | ' " ? (and "," in a call, ":" in the
 * middle of ?:, ";" between assignments); it is a number if it reads as
 * one ("5e1", "nan"), true or false, else text.  A word directly followed
 * by "(" is a call, "$name" is a field.  REGEX is a quoted string or a bare
 * word up to a blank, "&&", "||" or a ")" that closes no "(" of its own; it
 * is a POSIX extended regex compiled once, at parse time.
 *
 * Types, fixed by plm_expr_bind from the schema: str, int (64-bit,
 * wrapping), float, bool.  + - * % take numbers (bool counts as 0/1; int
 * with int stays int), / always gives float, % of ints by zero is a
 * run-time error; "." makes text of both sides (floats as the writer
 * prints them, bools as true/false).  Comparisons: numbers numerically,
 * str bytewise; a quoted or bare value compared with a number must read
 * as one (else a bind error); a str expression against a number (written
 * or computed) is read as a number per row ("len>50" on a str column of
 * untyped TSV compares numerically): text that is not a number is unequal
 * for == and != and a run-time error for < <= > >=.  ~ and !~ need a str on the left.  && || ! and the
 * condition of ?: need bool; the two branches of ?: must have one type
 * (int and float make float).
 *
 * Functions: len(s) bytes of a str; substr(s, start, n) the bytes
 * [start, start+n) of s, 0-based, clipped to s; lower(s), upper(s) ASCII;
 * int(x) (floats truncate, str parsed), float(x), str(x), is_nil(x).
 *
 * Nil (a missing field value): a comparison with nil is false except !=
 * and !~, which are true (so "a != v" is always "!(a == v)"); &&, ||, !
 * and ?: read nil as false; is_nil(nil) is true; every other operator and
 * function gives nil.
 *
 * Life cycle: parse once, bind to each section's schema (names resolved
 * to indices, types checked), then evaluate per row. */
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
/* Parses one assignment "NAME = expr" of src from *pos (NAME as FIELD
 * above, or a run of [A-Za-z0-9_.-]), up to the end or a ";".  *name gets
 * the field name (malloc'd) and *pos the offset after the ";" and the
 * blanks that follow.  Errors as plm_expr_parse, columns counted in src. */
plm_expr *plm_expr_parse_assign(const char *src, size_t *pos, char **name,
				char *err, size_t errlen, size_t *col);
/* Resolves field names against s and checks types.  PLM_EXPR_OK, or
 * PLM_EXPR_ENOFIELD ("no field 'x' in input") / PLM_EXPR_ETYPE (a usage
 * problem: "field 'len' is int: 'abc' is not a number") with err filled.
 * May be called again for a later section's schema. */
int plm_expr_bind(plm_expr *e, const plm_schema *s, char *err, size_t errlen);
/* The bound expression's type: PLM_T_STR, _INT, _FLOAT or _BOOL. */
enum plm_type plm_expr_type(const plm_expr *e);
/* 1 if the row (schema->n values of the bound schema) makes the bool
 * expression true, 0 if false or nil, -1 on a run-time error (a str that
 * is not a number, % by zero; plm_expr_error says which).  Not const:
 * evaluation uses scratch buffers in e. */
int plm_expr_eval(plm_expr *e, const plm_val *row);
/* The value of the expression over row, of plm_expr_type (bool as int 0 or
 * 1) or nil.  A str points into row, e or the source text and stays valid
 * until e is evaluated again or freed.  0, or -1 as plm_expr_eval. */
int plm_expr_value(plm_expr *e, const plm_val *row, plm_val *out);
/* The last run-time error, e.g. "'12x' is not a number". */
const char *plm_expr_error(const plm_expr *e);
void plm_expr_free(plm_expr *e);

#endif
