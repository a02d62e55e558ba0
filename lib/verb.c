/* verb.c — the record-tool loop of include/plm/verb.h. */
#include "plm/verb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/fields.h"
#include "plm/recin.h"

/* The input of one pass: the FILE operands as one recin, or (two passes)
 * each operand's spool in turn, joined as recin joins files: the next
 * file's rows follow when its fields are the same, else a new section. */
typedef struct src {
	int n, cur;
	char **files;
	plm_spool **sp;         /* NULL: one recin over the files */
	plm_recin *in;
	uint64_t recno0;        /* rows of the spooled files before cur */
	uint64_t bytes0;        /* and their bytes */
} src;

static char *dash = "-";

static plm_recin *src_recin(src *x, int k)
{
	char err[1024];
	plm_recin *r;
	if (!x->sp) {
		r = plm_recin_open(x->n, x->files, err, sizeof err);
	} else {
		plm_in *in = plm_spool_in(x->sp[k], err, sizeof err);
		r = in ? plm_recin_from(in, 1, x->files ? &x->files[k] : &dash, err,
					sizeof err) : NULL;
	}
	if (!r)
		plm_die("%s", err);
	return r;
}

static void src_open(src *x)
{
	x->cur = 0;
	x->recno0 = x->bytes0 = 0;
	x->in = src_recin(x, 0);
}

static int src_next(src *x, const plm_val **row)
{
	for (;;) {
		int rc = plm_recin_next(x->in, row);
		if (rc != PLM_EOF || !x->sp || x->cur + 1 >= x->n)
			return rc;
		plm_recin *next = src_recin(x, x->cur + 1);
		uint64_t done, total;
		plm_recin_bytes(x->in, &done, &total);
		x->bytes0 += done;
		x->recno0 += plm_recin_recno(x->in);
		int same = plm_schema_equal(plm_recin_schema(x->in),
					    plm_recin_schema(next));
		plm_recin_close(x->in);
		x->in = next;
		x->cur++;
		if (!same)
			return PLM_HEADER;
	}
}

static uint64_t src_recno(const src *x)
{
	return x->recno0 + plm_recin_recno(x->in);
}

/* Spooled operands: the bytes of the files before cur, total unknown. */
static void src_bytes(const src *x, uint64_t *done, uint64_t *total)
{
	plm_recin_bytes(x->in, done, total);
	if (x->sp) {
		*done += x->bytes0;
		*total = 0;
	}
}

static void src_progress(const src *x, plm_progress *pg, int end)
{
	uint64_t done, total;
	if (!pg->on)
		return;
	if (!x->sp) {
		plm_recin_progress(x->in, pg, end);
		return;
	}
	plm_recin_bytes(x->in, &done, &total);
	if (end)
		plm_progress_end(pg, x->bytes0 + done, src_recno(x));
	else
		plm_progress_update(pg, x->bytes0 + done, 0, src_recno(x));
}

/* where: NULL for the first section; errors name the file either way. */
static void make_section(plm_verb *v, const plm_recin *r,
			 const plm_schema *in, plm_schema *out,
			 const char *where)
{
	char err[1024] = "";
	v->where = where;
	int rc = v->section ? v->section(v->ctx, in, out, err, sizeof err)
			    : plm_schema_derive(out, in, 0, 0);
	if (rc) {
		if (!*err)
			snprintf(err, sizeof err, "out of memory");
		plm_die_in(plm_recin_name(r), err);
	}
}

static plm_val *grow_vals(plm_val *vals, size_t n)
{
	return plm_xrealloc(vals, (n + 1) * sizeof *vals);
}

void plm_verb_bytes(const plm_verb *v, uint64_t *done, uint64_t *total)
{
	const src *x = v->src_;
	*done = *total = 0;
	if (x && x->in)
		src_bytes(x, done, total);
}

int plm_verb_table(plm_schema *out, const plm_schema *in)
{
	return plm_schema_fields(out, in, NULL, 0, 0, 0);
}

int plm_verb_emit(plm_verb *v, const plm_val *row)
{
	if (v->limit_set && v->emitted >= (uint64_t)v->limit)
		return 1;
	v->emitted++;
	plm_writer *w = v->writer_;
	if (w && plm_writer_row(w, row))
		plm_die_in(NULL, plm_writer_error(w));
	return 0;
}

/* One reading of the input; the last pass writes. */
static void run_pass(plm_verb *v, src *x, const plm_shard *sh, int last)
{
	const plm_common *c = v->common;
	const char *key = v->shard_key ? v->shard_key : "id";
	int limit = last && v->limit_set;
	char err[1024];
	src_open(x);
	const plm_schema *s = plm_recin_schema(x->in);
	int ki = sh->n ? plm_shard_field(s, key, err, sizeof err) : 0;
	if (ki < 0)
		plm_die("%s", err);
	plm_schema out;
	v->emitted = v->recno = 0;
	make_section(v, x->in, s, &out, NULL);
	plm_writer *w = NULL;
	if (last && !v->no_output &&
	    !(w = plm_writer_open(c->output, plm_common_format(c), &out, err,
				  sizeof err)))
		plm_die("%s", err);
	plm_val *vals = v->row ? grow_vals(NULL, out.n) : NULL;
	plm_progress pg;
	plm_progress_init(&pg, c->progress, "B");
	if (v->own_progress)
		pg.on = 0;
	v->in = s;
	v->out = &out;
	v->writer_ = w;
	v->src_ = x;

	for (;;) {
		if (limit && v->emitted >= (uint64_t)v->limit)
			break;  /* never read more than needed */
		const plm_val *row;
		int rc = src_next(x, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			plm_die_in(NULL, plm_recin_error(x->in));
		s = v->in = plm_recin_schema(x->in);
		if (rc == PLM_HEADER) {
			const char *where = plm_recin_name(x->in);
			if (sh->n && (ki = plm_shard_field(s, key, err,
							   sizeof err)) < 0)
				plm_die_in(where, err);
			plm_schema next;
			make_section(v, x->in, s, &next, where);
			/* the same output fields: the section goes on */
			if (w && !plm_schema_equal(&next, &out) &&
			    plm_writer_section(w, &next))
				plm_die_in(NULL, plm_writer_error(w));
			plm_schema_free(&out);
			out = next;
			if (v->row)
				vals = grow_vals(vals, out.n);
			continue;
		}
		v->recno++;
		src_progress(x, &pg, 0);
		if (sh->n && !plm_shard_keep_val(sh, &row[ki], s->f[ki].type))
			continue;
		const plm_val *o = row;
		if (v->row) {
			*err = 0;
			v->file = plm_recin_name(x->in);
			v->file_recno = plm_recin_file_recno(x->in);
			rc = v->row(v->ctx, row, vals, err, sizeof err);
			if (rc == PLM_VERB_FAIL)
				plm_die("%s: record %" PRIu64 ": %s", v->file,
					v->file_recno, err);
			if (rc == PLM_VERB_STOP)
				break;
			if (rc == PLM_VERB_SKIP)
				continue;
			if (rc == PLM_VERB_EMIT)
				o = vals;
		}
		if (last)
			plm_verb_emit(v, o);
	}
	src_progress(x, &pg, 1);
	if (v->finish) {
		*err = 0;
		if (v->finish(v->ctx, v, err, sizeof err)) {
			if (!*err)
				snprintf(err, sizeof err, "out of memory");
			plm_die_in(plm_recin_name(x->in), err);
		}
	}
	plm_recin_close(x->in);
	x->in = NULL;
	v->file = NULL;
	if (w && plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	v->writer_ = NULL;
	v->src_ = NULL;
	plm_schema_free(&out);
	free(vals);
}

int plm_verb_run(plm_verb *v, int n, char **files)
{
	plm_shard sh = plm_shard_parse(v->common->shard);
	int passes = v->passes > 1 ? v->passes : 1;
	src x = { .n = n, .files = files };
	char err[1024];
	if (passes > 1) {
		int ns = n ? n : 1;
		x.sp = plm_xcalloc((size_t)ns, sizeof *x.sp);
		for (int k = 0; k < ns; k++)
			if (!(x.sp[k] = plm_spool_open(n ? files[k] : NULL, err,
						       sizeof err)))
				plm_die("%s", err);
		if (!n)
			x.n = 1;
	}
	for (v->pass = 0; v->pass < passes; v->pass++)
		run_pass(v, &x, &sh, v->pass == passes - 1);
	if (x.sp)
		for (int k = 0; k < x.n; k++)
			plm_spool_close(x.sp[k]);
	free(x.sp);
	return 0;
}
