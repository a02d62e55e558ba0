/* recin.h — the FILE operands of a record tool read as one stream.
 *
 * Files are opened one after the other (none or "-" = stdin).  When the
 * next file's fields equal the current ones its rows simply follow (its
 * meta is dropped: the first section's meta stands for the run, as in
 * rec-cat); when they differ, plm_recin_next() returns PLM_HEADER, exactly
 * as plm_reader_next() does for a new section inside one file.  Each file
 * must end with its trailer: a truncated file is an error, not an EOF.
 *
 * A file (or stdin) whose first non-blank byte after decompression is '>'
 * or '@' is FASTA or FASTQ (plm_fasta_sniff): it reads as one section of
 * the records fasta-cat writes with its defaults, fields id, desc, seq
 * (str) and len (int), in the same order and with the same values, and no
 * meta.  Malformed FASTA fails with fasta-cat's message ("FILE:LINE:
 * what"); plm_recin_file_recno() counts its records.
 *
 * A file (or stdin) whose first four bytes after decompression are
 * "PAR1" is Parquet (parquet.h, man 5 plm-stream "Parquet input"): it
 * reads as one section, one field per column, with the meta stored under
 * its "plm.meta" key (none without).  A regular uncompressed file is read
 * in place; stdin, a pipe or a compressed file is spooled to $TMPDIR
 * first (the footer is at the end).
 *
 * Also the --shard helpers every per-record tool shares. */
#ifndef PLM_RECIN_H
#define PLM_RECIN_H

#include <stddef.h>
#include <stdint.h>

#include "plm/cli.h"
#include "plm/stream.h"

typedef struct plm_recin plm_recin;

/* Opens paths[0] (n == 0: stdin) and reads its header.  NULL + err on
 * failure (message as plm_reader_open's). */
plm_recin *plm_recin_open(int n, char **paths, char *err, size_t errlen);
/* The same with paths[0] (or stdin when n == 0) already opened as in0,
 * e.g. after peeking at its first bytes; in0 is taken over (closed on
 * failure too). */
plm_recin *plm_recin_from(plm_in *in0, int n, char **paths, char *err,
			  size_t errlen);
/* PLM_ROW, PLM_HEADER (fields changed: see plm_recin_schema), PLM_EOF
 * (every file ended cleanly) or PLM_ERR (plm_recin_error). */
int plm_recin_next(plm_recin *r, const plm_val **row);
/* The current section's fields; the pointer is stable, the contents change
 * only when plm_recin_next() returns PLM_HEADER. */
const plm_schema *plm_recin_schema(const plm_recin *r);
const char *plm_recin_error(const plm_recin *r);
uint64_t plm_recin_recno(const plm_recin *r);     /* rows read, all files */
/* Rows read from the current file: N in "FILE: record N" messages. */
uint64_t plm_recin_file_recno(const plm_recin *r);
/* The file being read ("stdin" for -), for messages about a section. */
const char *plm_recin_name(const plm_recin *r);
/* Input bytes consumed so far and the total (0 when unknown: stdin, a
 * pipe), over all files: for plm_progress_update(). */
void plm_recin_bytes(const plm_recin *r, uint64_t *done, uint64_t *total);
/* plm_progress_update() (end = 0) or plm_progress_end() (end = 1) with
 * the bytes above and the rows read; a no-op when p is off. */
void plm_recin_progress(const plm_recin *r, plm_progress *p, int end);
void plm_recin_close(plm_recin *r);
/* Column selection, for every recin opened afterwards: a Parquet file
 * decodes only the columns named in names[0..n) (its fields are those, in
 * the file's order; names it lacks are ignored), other inputs are not
 * affected.  n < 0 (the default): every column.  names must stay valid. */
void plm_recin_want(int n, const char *const *names);

/* --shard K/N support.  plm_shard_field() finds the key field (str or int)
 * or fills err ("no field 'id' in input" / "field 'id' is f32[3]: a shard
 * key must be str or int") and returns -1.  plm_shard_keep_val() hashes a str value's
 * bytes, an int's decimal text; nil hashes as the empty key. */
int plm_shard_field(const plm_schema *s, const char *name, char *err,
		    size_t errlen);
int plm_shard_keep_val(const plm_shard *sh, const plm_val *v, enum plm_type t);
/* The one sharding rule: the bucket (0 .. n-1) of a key value, the hash of
 * a str's bytes, of an int's decimal text, of "" for nil (rec-shard and
 * --shard K/N agree by construction). */
uint64_t plm_shard_bucket(const plm_val *v, enum plm_type t, uint64_t n);

#endif
