/* pqwrite.h — Apache Parquet output for the record writer (stream.h).
 *
 * plm_writer_open() hands a destination over here when its name ends in
 * ".parquet" (or the format is PLM_FMT_PARQUET): rows go in through
 * plm_pqw_row, the file is written front to back through the plm_out
 * (so stdout works too, and a file is still renamed into place only when
 * complete).  man 5 plm-stream, "Parquet output", is the user's view.
 *
 * Layout: one leaf column per field, every column optional (nil = null):
 *   int → INT64, float → DOUBLE, bool → BOOLEAN, str → BYTE_ARRAY (STRING),
 *   f32[N], f16[N], bf16[N] → LIST of FLOAT (the 3-level form pyarrow
 *   writes), f32[*,N] → LIST of LIST of FLOAT.
 * Data pages v1 (~1 MiB), PLAIN values and RLE levels; str columns start
 * dictionary encoded (RLE_DICTIONARY) and turn PLAIN for the rest of the
 * file when the dictionary gets large or most values are distinct.
 * Column chunks carry null_count and min/max.  key_value_metadata:
 * "plm.meta" (the meta map as JSON) and "plm.schema" (the fields as the
 * JSON array [[name, type], ...] of the MessagePack header), so a reader
 * restores the exact plmkit types.
 *
 * Memory: one row group is held, compressed, until it is complete, plus
 * one page per column; a row group closes at `row_group` rows or
 * `row_group_size` bytes of uncompressed values, whichever comes first.
 *
 * Settings come from the environment variable PLM_PARQUET, a comma-
 * separated list of key=value:
 *   codec=zstd|snappy|gzip|none   (zstd)
 *   level=N                       zstd or gzip level (zstd 3, gzip 6)
 *   row_group=N                   rows per row group (1048576)
 *   row_group_size=N[KMG]         value bytes per row group (128M)
 *   dict=on|off                   dictionary for str columns (on)
 */
#ifndef PLM_PQWRITE_H
#define PLM_PQWRITE_H

#include <stddef.h>

#include "plm/io.h"
#include "plm/stream.h"

typedef struct plm_pqw plm_pqw;

/* Starts a Parquet file on out (which stays the caller's: plm_pqw never
 * closes it).  meta_json: the schema's meta as JSON text (NUL-terminated).
 * Settings are read from PLM_PARQUET.  NULL + err on a bad setting or out
 * of memory. */
plm_pqw *plm_pqw_open(plm_out *out, const plm_schema *s,
		      const char *meta_json, char *err, size_t errlen);
/* One row of s->n values, already checked against the types. */
int plm_pqw_row(plm_pqw *p, const plm_val *vals);
/* The last row group and the footer.  0 or -1 (plm_pqw_error). */
int plm_pqw_finish(plm_pqw *p);
const char *plm_pqw_error(const plm_pqw *p);
void plm_pqw_free(plm_pqw *p);

#endif
