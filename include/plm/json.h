/* json.h — a small JSON reader (RFC 8259) for config.json, safetensors
 * headers and the TSV "#meta" line, and a writer helper for strings.
 *
 * plm_json_parse builds a tree in one allocation arena owned by the
 * returned document; strings are unescaped and NUL-terminated (an embedded
 * \u0000 is rejected).  Numbers keep both the double value and whether the
 * text was an integer that fits int64. */
#ifndef PLM_JSON_H
#define PLM_JSON_H

#include <stddef.h>
#include <stdint.h>

enum plm_json_type {
	PLM_JSON_NULL, PLM_JSON_BOOL, PLM_JSON_NUM, PLM_JSON_STR,
	PLM_JSON_ARR, PLM_JSON_OBJ,
};

typedef struct plm_json plm_json;
struct plm_json {
	enum plm_json_type type;
	int b;                 /* BOOL */
	double num;            /* NUM */
	int is_int;            /* NUM written as an integer that fits int64 */
	int64_t i;             /* NUM when is_int */
	const char *s;         /* STR (NUL-terminated), size in len */
	size_t len;            /* STR bytes; ARR/OBJ element count */
	plm_json *kids;        /* ARR/OBJ elements, in order */
	const char **keys;     /* OBJ keys, parallel to kids */
};

typedef struct plm_json_doc plm_json_doc;

/* NULL on error, with "offset N: what" in err.  Nesting depth is capped
 * (256) so hostile input cannot exhaust the stack. */
plm_json_doc *plm_json_parse(const char *text, size_t len, char *err,
			     size_t errlen);
const plm_json *plm_json_root(const plm_json_doc *d);
void plm_json_free(plm_json_doc *d);
/* Object member by key, or NULL (also when o is not an object). */
const plm_json *plm_json_get(const plm_json *o, const char *key);

/* Append s[0..n) as a JSON string literal (with quotes, escaped) to a
 * growable buffer *buf of *len bytes, capacity *cap.  0 or -1 (ENOMEM). */
int plm_json_put_str(char **buf, size_t *len, size_t *cap, const char *s,
		     size_t n);

#endif
