/* fields.h — the output fields of a tool that writes new columns (a
 * report, pairs, metrics) rather than its input's, and the numbering of
 * key values by first appearance.
 *
 *	static const plm_fieldspec cols[] = {
 *		{ "a", PLM_T_STR, 0 }, { "b", PLM_T_STR, 0 },
 *		{ "sim", PLM_T_FLOAT, 0 },
 *	};
 *	plm_schema_fields(&out, in, cols, 3, 0, 0);
 */
#ifndef PLM_FIELDS_H
#define PLM_FIELDS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "plm/map.h"
#include "plm/stream.h"

typedef struct plm_fieldspec {
	const char *name;
	enum plm_type type;
	uint32_t dim;
} plm_fieldspec;

/* out = the fields spec[0 .. n), in order, with in's meta (so meta.prov
 * goes on; in NULL: no meta) and this program's meta.prov entry, as
 * plm_schema_derive() writes it.  out is overwritten, not freed first.
 * 0, or -1 when out of memory (out is then empty, nothing to free). */
int plm_schema_fields(plm_schema *out, const plm_schema *in,
		      const plm_fieldspec *spec, size_t n, int has_seed,
		      uint64_t seed);

/* The number of key k[0 .. n) in m: keys are numbered 0, 1, ... in the
 * order they are first interned, and the number is the key's value in m
 * (so plm_strmap_key(m, i, ...) names number i).  *added (may be NULL)
 * says whether the key is new.  -1 when out of memory. */
long plm_intern(plm_strmap *m, const void *k, size_t n, int *added);

/* A missing field says which there are: err = the message fmt makes
 * ("no field 'label' in input"), then " (fields: id, desc, seq, len)",
 * s's field names (cut with "..." after about 300 bytes; "(no fields)"
 * when s has none).  Returns -1. */
int plm_nofield(char *err, size_t errlen, const plm_schema *s,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same message, then plm_die (cmd/ only). */
noreturn void plm_die_nofield(const plm_schema *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
