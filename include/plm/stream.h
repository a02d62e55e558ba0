/* stream.h — plmkit record streams (man 5 plm-stream).
 *
 * A stream is a sequence of sections.  Each section: a header map
 *   {"plm": 1, "fields": [[name, type], ...], "meta": {"prov": [...], ...}}
 * then rows (arrays, one element per field, nil = missing), then a trailer
 *   {"end": <rows in this section>}.
 * Types: str int float bool f32[N] f16[N] bf16[N] f32[*,N]; vectors are a
 * MessagePack bin of little-endian values, a matrix is rows × N in one bin.
 *
 * Typed TSV form (PLM_FMT_TSV_TYPED, exact): optional comment lines
 * "#plm\t1" and "#meta\t<JSON of meta>", then one line of "name:type"
 * columns, then tab-separated rows; "" is missing (nil) except for str,
 * where the empty string is "" and nil is "\N"; vectors are
 * comma-separated numbers; floats are printed so that they parse back to
 * the same bits ("nan", "inf", "-inf"); str values escape \t \n \r \\ as
 * two-character sequences.  TSV has no trailer: the end of the text is the
 * end; a new "#plm" line starts a new section.
 *
 * Plain TSV (PLM_FMT_TSV, what pandas and R read): one line of bare
 * names, nil empty, str quoted the CSV way when needed, vectors as JSON
 * arrays.  Read without "#plm" and with a bare name in the header, the
 * bare columns' types are inferred from a bounded lookahead (man 5
 * plm-stream).

 * Nesting: a MessagePack reader opens at most PLM_MP_DEPTH containers at
 * once; the header map holds meta, so meta (itself one level) may nest at
 * most PLM_META_DEPTH levels, in either form.  Readers check this on input
 * (the TSV "#meta" line included), so whatever a reader accepted can be
 * written in either form and read back.
 *
 * Readers auto-detect the form from the first byte (a MessagePack map
 * starts with 0x80..0x8f / 0xde / 0xdf; anything else is TSV).  Input may
 * be gzip or zstd compressed (io.h).
 *
 * Values handed out by the reader point into the reader's buffers and are
 * valid until the next plm_reader_next() call. */
#ifndef PLM_STREAM_H
#define PLM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "plm/io.h"

#define PLM_MP_DEPTH 24
#define PLM_META_DEPTH 23       /* PLM_MP_DEPTH - 1 (the header map) */

/* Is p[0..n) whole MessagePack objects, safe to hand to msgpack_unpack?
 * msgpack-c allocates a container's slots when it reads the count, so a
 * few hostile bytes could ask for gigabytes: this walks the bytes first
 * and refuses a count that the bytes do not hold (each element takes at
 * least one byte, so memory stays within a small multiple of n), nesting
 * deeper than PLM_MP_DEPTH, the byte 0xc1 and a truncated object.  0, or
 * -1 with err. */
int plm_mp_check(const void *p, size_t n, char *err, size_t errlen);

enum plm_type {
	PLM_T_STR = 1,
	PLM_T_INT,
	PLM_T_FLOAT,
	PLM_T_BOOL,
	PLM_T_F32,      /* f32[N]   */
	PLM_T_F16,      /* f16[N]   */
	PLM_T_BF16,     /* bf16[N]  */
	PLM_T_F32M,     /* f32[*,N] */
};

typedef struct plm_field {
	char *name;
	enum plm_type type;
	uint32_t dim;          /* N for vectors and matrices, 0 otherwise */
} plm_field;

typedef struct plm_schema {
	size_t n, cap;
	plm_field *f;
	/* meta map as packed MessagePack bytes; NULL / 0 bytes reads as {} */
	unsigned char *meta;
	size_t meta_len;
} plm_schema;

/* "f32[320]" → PLM_T_F32, dim 320.  0 on success, -1 if not a type. */
int plm_type_parse(const char *s, size_t len, enum plm_type *t, uint32_t *dim);
/* Writes the spelling ("f32[*,320]") into buf; returns buf. */
const char *plm_type_name(enum plm_type t, uint32_t dim, char *buf, size_t len);
/* Bytes per element of a vector type (4 for f32, 2 for f16/bf16), 0 else. */
size_t plm_type_elsize(enum plm_type t);

void plm_schema_init(plm_schema *s);
void plm_schema_free(plm_schema *s);
int plm_schema_copy(plm_schema *dst, const plm_schema *src);
/* Index of the field, or -1. */
int plm_schema_find(const plm_schema *s, const char *name);
/* Append a field (name copied); if a field of that name exists it is
 * retyped in place.  Returns its index. */
int plm_schema_add(plm_schema *s, const char *name, enum plm_type t,
		   uint32_t dim);
/* Same field names, types and dims? */
int plm_schema_equal(const plm_schema *a, const plm_schema *b);
/* Append {"tool", "version", "argv": [...], "seed": seed or nil} to
 * meta.prov, creating it if needed.  has_seed = 0 writes nil. */
int plm_schema_add_prov(plm_schema *s, const char *tool, const char *version,
			int argc, char **argv, int has_seed, uint64_t seed);
/* out = in's fields and meta plus this program's meta.prov entry (the
 * tool and argv given to plm_init, as typed).  out is overwritten, not
 * freed first.  0, or -1 when out of memory. */
int plm_schema_derive(plm_schema *out, const plm_schema *in, int has_seed,
		      uint64_t seed);
/* s->meta from the text of a JSON object (the TSV "#meta" line, a
 * Parquet file's plm.meta key).  0, or -1 with a message in err. */
int plm_schema_meta_json(plm_schema *s, const char *text, size_t len,
			 char *err, size_t errlen);
/* Add a string key/value to the last prov entry (e.g. a split digest). */
int plm_schema_prov_set(plm_schema *s, const char *key, const char *value);

typedef struct plm_val {
	int nil;               /* 1 = missing; the rest is then meaningless */
	int64_t i;             /* int, bool (0/1) */
	double f;              /* float */
	/* str: bytes (not NUL-terminated); vectors/matrices: the raw
	 * little-endian bytes, n = byte count, rows = n / (elsize * dim). */
	const char *s;
	size_t n;
	uint32_t rows;
} plm_val;

/* Convenience constructors for writers. */
static inline plm_val plm_v_nil(void) { plm_val v = { 0 }; v.nil = 1; return v; }
static inline plm_val plm_v_int(int64_t i) { plm_val v = { 0 }; v.i = i; return v; }
static inline plm_val plm_v_float(double f) { plm_val v = { 0 }; v.f = f; return v; }
static inline plm_val plm_v_str(const char *s, size_t n) { plm_val v = { 0 }; v.s = s; v.n = n; return v; }
static inline plm_val plm_v_bytes(const void *p, size_t n, uint32_t rows)
{ plm_val v = { 0 }; v.s = (const char *)p; v.n = n; v.rows = rows; return v; }

/* ---- reading ---------------------------------------------------------- */

typedef struct plm_reader plm_reader;

enum {
	PLM_ERR = -1,          /* message in plm_reader_error()               */
	PLM_EOF = 0,           /* clean end: every section had its trailer    */
	PLM_ROW = 1,           /* *row holds schema->n values                 */
	PLM_HEADER = 2,        /* a later section whose fields differ from the
	                        * previous one; plm_reader_schema() has them.
	                        * (A repeated identical header is absorbed.) */
};

/* Opens path (NULL or "-" = stdin) and reads the first header.  An empty
 * input is an error ("empty input").  NULL + err on failure. */
plm_reader *plm_reader_open(const char *path, char *err, size_t errlen);
/* The same over an already opened plm_in (taken over: closed by
 * plm_reader_close). */
plm_reader *plm_reader_from(plm_in *in, char *err, size_t errlen);
int plm_reader_next(plm_reader *r, const plm_val **row);
const plm_schema *plm_reader_schema(const plm_reader *r);
/* "file: record N: what" — a missing trailer reads "truncated input". */
const char *plm_reader_error(const plm_reader *r);
uint64_t plm_reader_recno(const plm_reader *r);   /* rows read so far */
int plm_reader_is_tsv(const plm_reader *r);
plm_in *plm_reader_in(plm_reader *r);              /* for progress */
void plm_reader_close(plm_reader *r);

/* ---- writing ---------------------------------------------------------- */

typedef struct plm_writer plm_writer;

/* Output forms.  PLM_FMT_TSV is plain TSV (one line of bare field names,
 * values that spreadsheets and data frames read as they are; types and
 * provenance are dropped), PLM_FMT_TSV_TYPED the exact form ("#plm",
 * "#meta", name:type columns), PLM_FMT_VIEW the table a terminal shows
 * (view.h: for people, not for reading back). */
enum plm_fmt {
	PLM_FMT_AUTO = -1,
	PLM_FMT_MSGPACK = 0,
	PLM_FMT_TSV = 1,
	PLM_FMT_TSV_TYPED = 2,
	PLM_FMT_VIEW = 3
};

/* Apache Parquet (pqwrite.h): also whenever the path ends in ".parquet",
 * whatever the format asked for.  One section only: a later section with
 * other fields is an error (with the same fields it continues the file). */
enum { PLM_FMT_PARQUET = 4 };

/* fmt: an enum plm_fmt or PLM_FMT_PARQUET.  PLM_FMT_AUTO is the format $PLM_FORMAT names
 * (tsv, typed, msgpack; another value is an error), else PLM_FMT_VIEW
 * when the destination is a terminal, else MessagePack.
 * path NULL or "-" = stdout, else atomic file (io.h).  The header is
 * written at once. */
plm_writer *plm_writer_open(const char *path, int fmt, const plm_schema *s,
			    char *err, size_t errlen);
/* One row of schema->n values, checked against the types (a vector of the
 * wrong byte length is an error, not a silent truncation). */
int plm_writer_row(plm_writer *w, const plm_val *vals);
/* Close the current section (trailer) and start a new one. */
int plm_writer_section(plm_writer *w, const plm_schema *s);
/* Trailer, flush, rename into place.  0 or -1 + err; frees w. */
int plm_writer_close(plm_writer *w, char *err, size_t errlen);
void plm_writer_abort(plm_writer *w);
const char *plm_writer_error(const plm_writer *w);
uint64_t plm_writer_rows(const plm_writer *w);

/* ---- floats ----------------------------------------------------------- */

/* Shortest text that parses back to the same bits ("%.9g"/"%.17g"-class;
 * "nan", "inf", "-inf").  Returns the length written (buf >= 32 bytes). */
int plm_fmt_f32(char *buf, float x);
int plm_fmt_f64(char *buf, double x);
/* f16 and bf16 to and from float: float.h. */

#endif
