/* verb.h — the loop of a record-stream tool, written once.
 *
 * A tool that makes one pass over records is an option table plus two
 * callbacks (Miller's verbs): `section` builds the output fields for the
 * input's fields, `row` turns one input row into an output row.  The
 * driver owns the rest: the FILE operands read as one stream (recin.h),
 * --shard K/N on a key field, new sections, progress, the writer (-o,
 * -T/-M), error messages that name the file and the record, and closing.
 *
 *	static int section(void *ctx, const plm_schema *in, plm_schema *out,
 *			   char *err, size_t errlen)
 *	{ return plm_schema_derive(out, in, 0, 0); }     // + added fields
 *	static int row(void *ctx, const plm_val *in, plm_val *out,
 *		       char *err, size_t errlen)
 *	{ ...; return PLM_VERB_EMIT; }
 *
 *	plm_verb v = { .common = &c, .section = section, .row = row, .ctx = &x };
 *	plm_verb_run(&v, argc - i, argv + i);
 *
 * A tool that needs the whole input before it can write a row of it
 * (weights from counts, a split from every id) sets passes = 2: the
 * operands are spooled (io.h: stdin and pipes are read once into an
 * unlinked temporary file) and read twice, each time with section, row and
 * finish; v->pass says which reading it is.  The first reading writes
 * nothing (row's EMIT and PASS are ignored, the limit does not apply) and
 * is for counting; the writer opens at the start of the second.
 *
 * Errors end the process (plm_die: exit 1, temporary output removed), so
 * the driver and its callbacks belong to cmd/ code. */
#ifndef PLM_VERB_H
#define PLM_VERB_H

#include <stdint.h>

#include "plm/cli.h"
#include "plm/stream.h"

enum plm_verb_rc {
	PLM_VERB_SKIP,          /* nothing written for this row */
	PLM_VERB_EMIT,          /* write out[] */
	PLM_VERB_PASS,          /* write the input row as it is */
	PLM_VERB_STOP,          /* write nothing more; close normally */
	PLM_VERB_FAIL,          /* err says why: "FILE: record N: err" */
};

typedef struct plm_verb {
	const plm_common *common;   /* -o, -T/-M, --shard, --progress */
	const char *shard_key;      /* field hashed for --shard; NULL: "id" */
	void *ctx;                  /* passed to the callbacks */
	/* Output fields (and meta) for input fields `in`, into `out` (not
	 * initialised).  NULL: plm_schema_derive (the input's fields, its
	 * meta and this tool's prov entry).  -1 and err: the run fails;
	 * the callback may also die itself (e.g. a usage error). */
	int (*section)(void *ctx, const plm_schema *in, plm_schema *out,
		       char *err, size_t errlen);
	/* One input row that --shard kept; out has room for the output's
	 * fields.  NULL: the row passes unchanged. */
	int (*row)(void *ctx, const plm_val *in, plm_val *out, char *err,
		   size_t errlen);
	/* After the input ends (or a row returned STOP): a tool that
	 * collects rows (sorts, samples, sums) writes them here with
	 * plm_verb_emit(), in the last section's output fields.  NULL:
	 * nothing more.  -1 and err: the run fails ("FILE: err").  With
	 * two passes it runs after each (the first must not emit). */
	int (*finish)(void *ctx, struct plm_verb *v, char *err,
		      size_t errlen);
	int64_t limit;              /* > 0: stop after this many rows out */
	int limit_set;              /* limit applies (also when 0) */
	int no_output;              /* count only: no writer is opened */
	int passes;                 /* 2: read the input twice; 0, 1: once */
	/* The tool draws its own progress (its own unit, e.g. residues
	 * computed, with plm_verb_bytes for an estimate): the driver
	 * draws none. */
	int own_progress;
	/* Set by plm_verb_run. */
	int pass;                   /* the reading under way: 0, then 1 */
	const char *where;          /* during section(): NULL for the first,
				     * the file being read for later ones */
	uint64_t emitted;           /* rows written (or counted) */
	uint64_t recno;             /* rows read (in this pass) */
	const char *file;           /* during row(): the file being read
				     * ("stdin" for -), valid until the
				     * next row */
	uint64_t file_recno;        /* and the row's number in it */
	const plm_schema *in;       /* the current input fields */
	const plm_schema *out;      /* the current output fields */
	void *writer_;              /* private */
	void *src_;                 /* private */
} plm_verb;

/* Runs the tool over FILE operands files[0 .. n) (none: stdin).  Returns
 * 0; every error ends the process with a message. */
int plm_verb_run(plm_verb *v, int n, char **files);

/* From row() (a row that becomes several: return SKIP after emitting
 * them), finish(), or section() of a later section (a tool that holds
 * rows back writes them there, before the output changes: v->out is then
 * still the previous section's output fields): writes one row of v->out
 * fields.  Returns 0, or 1 when the limit is reached (the row is not
 * written; stop emitting).  A write error ends the process. */
int plm_verb_emit(plm_verb *v, const plm_val *row);

/* Input bytes read so far and the total (0 when unknown: stdin, a pipe),
 * over all the operands of this pass: for a tool's own progress.  Zeros
 * outside plm_verb_run. */
void plm_verb_bytes(const plm_verb *v, uint64_t *done, uint64_t *total);

/* For section() of a tool that writes a table of its own (counts,
 * statistics): out gets no fields, the input's meta (so its provenance
 * goes on) and this tool's prov entry; the tool adds its fields.  0, or
 * -1 when out of memory. */
int plm_verb_table(plm_schema *out, const plm_schema *in);

#endif
