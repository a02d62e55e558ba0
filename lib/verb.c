/* verb.c — the record-tool loop of include/plm/verb.h. */
#include "plm/verb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/recin.h"

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

int plm_verb_run(plm_verb *v, int n, char **files)
{
	const plm_common *c = v->common;
	const char *key = v->shard_key ? v->shard_key : "id";
	plm_shard sh = plm_shard_parse(c->shard);
	char err[1024];
	plm_recin *in = plm_recin_open(n, files, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(in);
	int ki = sh.n ? plm_shard_field(s, key, err, sizeof err) : 0;
	if (ki < 0)
		plm_die("%s", err);
	plm_schema out;
	make_section(v, in, s, &out, NULL);
	plm_writer *w = NULL;
	if (!v->no_output &&
	    !(w = plm_writer_open(c->output, plm_common_format(c), &out, err,
				  sizeof err)))
		plm_die("%s", err);
	plm_val *vals = v->row ? grow_vals(NULL, out.n) : NULL;
	plm_progress pg;
	plm_progress_init(&pg, c->progress, "B");
	v->emitted = v->recno = 0;
	v->in = s;
	v->out = &out;
	v->writer_ = w;

	for (;;) {
		if (v->limit_set && v->emitted >= (uint64_t)v->limit)
			break;  /* never read more than needed */
		const plm_val *row;
		int rc = plm_recin_next(in, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR)
			plm_die_in(NULL, plm_recin_error(in));
		if (rc == PLM_HEADER) {
			const char *where = plm_recin_name(in);
			if (sh.n && (ki = plm_shard_field(s, key, err,
							  sizeof err)) < 0)
				plm_die_in(where, err);
			plm_schema next;
			make_section(v, in, s, &next, where);
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
		plm_recin_progress(in, &pg, 0);
		if (sh.n && !plm_shard_keep_val(&sh, &row[ki], s->f[ki].type))
			continue;
		const plm_val *o = row;
		if (v->row) {
			*err = 0;
			rc = v->row(v->ctx, row, vals, err, sizeof err);
			if (rc == PLM_VERB_FAIL)
				plm_die("%s: record %" PRIu64 ": %s",
					plm_recin_name(in), plm_recin_recno(in),
					err);
			if (rc == PLM_VERB_STOP)
				break;
			if (rc == PLM_VERB_SKIP)
				continue;
			if (rc == PLM_VERB_EMIT)
				o = vals;
		}
		plm_verb_emit(v, o);
	}
	plm_recin_progress(in, &pg, 1);
	if (v->finish) {
		*err = 0;
		if (v->finish(v->ctx, v, err, sizeof err)) {
			if (!*err)
				snprintf(err, sizeof err, "out of memory");
			plm_die_in(plm_recin_name(in), err);
		}
	}
	plm_recin_close(in);
	if (w && plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	free(vals);
	return 0;
}
