/* parquet.h — Apache Parquet files read as a record stream (man 5
 * plm-stream, "Parquet input").
 *
 * The reader needs random access (the metadata is in the footer): it
 * reads a file descriptor with pread, or bytes in memory.  recin.c opens a
 * regular uncompressed file by its path and spools anything else (stdin, a
 * pipe, a compressed file) into an unlinked temporary file first.
 *
 * Every top-level column becomes a field: BOOLEAN → bool, INT32/INT64 →
 * int (an unsigned one by its value: a UINT_64 past INT64_MAX is an error
 * naming the record), FLOAT/DOUBLE → float, BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY → str,
 * and a LIST of FLOAT or DOUBLE (the 3-level list<element> pyarrow and
 * DuckDB write, or a legacy 2-level list) → f32[D], D taken from the first
 * non-null list of the file; a list of another length is an error naming
 * the record and the column.  A null value (an optional column) is nil.
 * Anything else (other nested groups, INT96, DECIMAL, encryption, an
 * unknown codec or encoding) is an error naming the column and the
 * feature, raised only when the column is read (a column left out by
 * plm_pq_start() costs nothing and may be of any kind).
 *
 * Memory: the footer, and per column read: one compressed page, the same
 * page decompressed, its decoded levels and values, and the column
 * chunk's dictionary — never a whole row group or file. */
#ifndef PLM_PARQUET_H
#define PLM_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "plm/io.h"
#include "plm/stream.h"

typedef struct plm_pq plm_pq;

/* Do the next bytes of in start with "PAR1"?  1, 0, or -1 (read error,
 * plm_in_error). */
int plm_pq_sniff(plm_in *in);
/* Reads and checks the footer.  fd is taken over (closed by
 * plm_pq_close, and on failure).  name is used in messages.  NULL + err
 * ("NAME: what") on failure. */
plm_pq *plm_pq_open_fd(int fd, const char *name, char *err, size_t errlen);
/* The same over p[0..n) (not copied; must outlive the reader). */
plm_pq *plm_pq_open_mem(const void *p, size_t n, const char *name,
			char *err, size_t errlen);
/* Chooses the columns to read and builds the schema: names[0..n) in the
 * file's column order (names the file lacks are ignored), or every column
 * when n < 0.  Called once, before plm_pq_next().  0, or -1 + err (an
 * unsupported column, no list to take a vector length from). */
int plm_pq_start(plm_pq *q, int n, const char *const *names, char *err,
		 size_t errlen);
const plm_schema *plm_pq_schema(const plm_pq *q);
/* PLM_ROW (row holds schema->n values, valid until the next call),
 * PLM_EOF or PLM_ERR (plm_pq_error: "NAME: record N: what"). */
int plm_pq_next(plm_pq *q, const plm_val **row);
const char *plm_pq_error(const plm_pq *q);
uint64_t plm_pq_recno(const plm_pq *q);
/* Bytes of the file read past so far, and the file size: for progress. */
uint64_t plm_pq_pos(const plm_pq *q);
uint64_t plm_pq_size(const plm_pq *q);
void plm_pq_close(plm_pq *q);

#endif
