/* rows.h — records kept in memory after the reader has moved on, and byte
 * keys made from field values.
 *
 * plm_rows: copies of reader rows (rec-join's right stream, rec-sample's
 * reservoirs).  A row is schema->n plm_val plus one heap block holding its
 * str and vector bytes, so replacing a row (reservoir sampling) frees
 * exactly what it held.  Each value's bytes start 8-aligned.  Memory per
 * row: n * sizeof(plm_val) (48 bytes on LP64) + 8 + its str/vector bytes
 * (each rounded up to 8) + the allocator's per-block overhead.
 *
 * plm_keybuf: a field value (or several, for strata) encoded as bytes so
 * that two tuples are equal exactly when their encodings are equal: nil
 * "N", str "S" + 4-byte length + bytes, int "I" + 8 bytes, bool "B" + 1
 * byte.  int keys therefore compare by value ("007" is a str, not 7).
 * Floats and vectors are not keys. */
#ifndef PLM_ROWS_H
#define PLM_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "plm/stream.h"

typedef struct plm_rows {
	size_t n, cap;          /* rows held, rows allocated */
	size_t nf;              /* values per row */
	enum plm_type *type;    /* nf field types */
	plm_val *v;             /* n * nf values */
	size_t vcap;            /* values allocated, at least cap * nf */
	char **data;            /* one block per row (NULL when no bytes) */
	size_t bytes;           /* str/vector bytes held (rounded), for reports */
} plm_rows;

/* Rows shaped like s (only the types are kept).  0 or -1 (no memory). */
int plm_rows_init(plm_rows *r, const plm_schema *s);
void plm_rows_free(plm_rows *r);
/* Append a copy of row; returns its index or -1 (no memory). */
long plm_rows_add(plm_rows *r, const plm_val *row);
/* Replace row i by a copy of row.  0 or -1 (no memory; row i unchanged). */
int plm_rows_set(plm_rows *r, size_t i, const plm_val *row);
static inline const plm_val *plm_rows_get(const plm_rows *r, size_t i)
{
	return r->v + i * r->nf;
}

typedef struct plm_keybuf {
	char *p;
	size_t n, cap;
} plm_keybuf;

/* Is a field of type t usable as a key (str, int, bool)? */
int plm_key_type_ok(enum plm_type t);
/* Append the encoding of v (a value of type t).  0, or -1 when t is not a
 * key type or memory ran out. */
int plm_key_add(plm_keybuf *k, const plm_val *v, enum plm_type t);
static inline void plm_key_reset(plm_keybuf *k) { k->n = 0; }
void plm_key_free(plm_keybuf *k);
/* Decode the next value of an encoded key at *pos: fills *v (str bytes
 * point into key) and *t, advances *pos.  0, or -1 at the end or on a
 * malformed key. */
int plm_key_next(const char *key, size_t n, size_t *pos, plm_val *v,
		 enum plm_type *t);
/* Text of one value for messages and value columns: str bytes as they
 * are, int in decimal, bool "true"/"false", nil "\N".  Writes at most len
 * bytes (NUL-terminated, truncated with "..."); returns buf. */
const char *plm_val_text(const plm_val *v, enum plm_type t, char *buf,
			 size_t len);

#endif
