/* io.h — byte streams in and out.
 *
 * Input: a file or stdin, plain, gzip or zstd, detected from the first bytes
 * (never from the name).  Concatenated gzip members and zstd frames are read
 * through.  The reader exposes its buffer so parsers can scan it with memchr
 * (kseq style) instead of copying byte by byte.
 *
 * Output: stdout or a file.  A file is written under a temporary name in the
 * same directory and renamed into place by plm_out_close(), so a failed run
 * never leaves a partial file; the temporary name is registered with
 * plm_tmp_register() so plm_die() and signals remove it.  It is named
 * PATH.tmp.PID.XXXXXX; opening PATH removes the PATH.tmp.PID.* left by
 * processes that no longer exist (killed with SIGKILL).  Names ending in
 * ".gz" or ".zst" are compressed.
 *
 * Errors: functions return -1 / NULL and leave a message ("path: what") in
 * the object or in err[]; they never exit. */
#ifndef PLM_IO_H
#define PLM_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum plm_codec { PLM_CODEC_PLAIN, PLM_CODEC_GZIP, PLM_CODEC_ZSTD };

typedef struct plm_in {
	/* The window of decompressed bytes not yet consumed: buf[pos..len).
	 * Parsers read it directly and advance pos. */
	unsigned char *buf;
	size_t pos, len;
	/* private below */
	struct plm_in_impl *impl;
} plm_in;

/* path NULL or "-" = stdin.  Returns NULL and fills err on failure. */
plm_in *plm_in_open(const char *path, char *err, size_t errlen);
/* Reads the bytes p[0..n) (not copied: they must outlive the plm_in) as
 * if they were a file called name (plain, gzip or zstd).  For fuzzers and
 * tests.  NULL only when out of memory. */
plm_in *plm_in_mem(const void *p, size_t n, const char *name);
/* Discards buf[0..pos), reads more so that len - pos grows.  Returns the
 * number of new bytes (> 0), 0 at end of input, -1 on error (see
 * plm_in_error).  Bytes in buf[pos..len) are kept (moved to the front). */
ssize_t plm_in_fill(plm_in *in);
/* Ensure at least n unconsumed bytes if the input has them (for sniffing).
 * Returns the number available (may be < n at EOF), -1 on error. */
ssize_t plm_in_peek(plm_in *in, size_t n);
/* Copy up to n bytes out; returns bytes copied, 0 at EOF, -1 error. */
ssize_t plm_in_read(plm_in *in, void *dst, size_t n);
const char *plm_in_name(const plm_in *in);   /* "-" shown as "stdin" */
const char *plm_in_error(const plm_in *in);
enum plm_codec plm_in_codec(const plm_in *in);
/* Compressed bytes behind the bytes the parser has consumed (estimated in
 * proportion inside a decompressed buffer) and the file size (0 if
 * unknown, e.g. a pipe): for progress. */
uint64_t plm_in_raw_pos(const plm_in *in);
uint64_t plm_in_raw_size(const plm_in *in);
void plm_in_close(plm_in *in);
/* The whole of path (as plm_in_open: "-" stdin, decompressed) in *buf
 * (malloc'd, *len bytes).  0, or -1 with err "PATH: what". */
int plm_in_slurp(const char *path, char **buf, size_t *len, char *err,
		 size_t errlen);

/* An input read more than once (two-pass tools).  A regular file is opened
 * again by its path for each reading; anything else (stdin, a pipe, a
 * FIFO) is read to its end by plm_spool_open() and its decompressed bytes
 * kept in a temporary file in $TMPDIR (default /tmp).  That file is
 * unlinked as soon as it exists (O_TMPFILE where the system has it) and
 * read back through the file, never mapped, so no kill can leave it
 * behind; it costs disk, not memory (nor resident pages).  Messages name the input ("stdin" for "-"), never the
 * spool. */
typedef struct plm_spool plm_spool;

/* path NULL or "-" = stdin.  Returns NULL and fills err on failure (a
 * read or decompression error, "NAME: cannot spool to DIR: why",
 * "NAME: spooling: why" for a full disk). */
plm_spool *plm_spool_open(const char *path, char *err, size_t errlen);
/* A new reader of all the input's bytes, from the first; the spool must
 * outlive it.  NULL and err on failure. */
plm_in *plm_spool_in(const plm_spool *s, char *err, size_t errlen);
const char *plm_spool_name(const plm_spool *s);
/* The rest of in (from in->pos to its end, decompressed) in an unlinked
 * temporary file in $TMPDIR, as plm_spool_open() keeps it: its descriptor
 * (read it with pread), or -1 and err ("NAME: spooling: why"). */
int plm_spool_fd_from(plm_in *in, char *err, size_t errlen);
void plm_spool_close(plm_spool *s);

static inline int plm_in_getc(plm_in *in)
{
	if (in->pos >= in->len && plm_in_fill(in) <= 0)
		return -1;
	return in->buf[in->pos++];
}

typedef struct plm_out plm_out;

/* path NULL or "-" = stdout (never compressed).  Returns NULL + err. */
plm_out *plm_out_open(const char *path, char *err, size_t errlen);
int plm_out_write(plm_out *o, const void *p, size_t n);
int plm_out_puts(plm_out *o, const char *s);
int plm_out_putc(plm_out *o, int c);
int plm_out_printf(plm_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Writes the buffered bytes now (to the compressor when compressing), so
 * that a reader (a terminal) sees the lines written so far.  0 or -1. */
int plm_out_flush(plm_out *o);
/* Is the destination a terminal? (decides TSV vs MessagePack) */
int plm_out_isatty(const plm_out *o);
/* Flush, finish compression, fsync-free close and rename into place.
 * Returns 0, or -1 with the message in plm_out_error (the temporary file is
 * removed).  Frees o either way. */
int plm_out_close(plm_out *o, char *err, size_t errlen);
/* Give up: remove the temporary file, free o. */
void plm_out_abort(plm_out *o);
const char *plm_out_error(const plm_out *o);

/* For a writer that cannot go through plm_out (HDF5 opens files by name):
 * a new empty file named as plm_out names its temporaries,
 * PATH.tmp.PID.XXXXXX, after removing those of processes that no longer
 * exist; registered with plm_tmp_register().  The caller renames it over
 * PATH, or unlinks it, then calls plm_tmp_forget() and frees the name.
 * NULL + err. */
char *plm_tmp_name(const char *path, char *err, size_t errlen);

#endif
