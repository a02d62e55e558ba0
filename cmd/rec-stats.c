/* rec-stats — record count, length summary and value counts of a stream.
 *
 * Output is itself a record stream, one statistic per row:
 *   stat:str field:str value:str count:int x:float
 * so that scripts can rec-filter it (see man/rec-stats.1). */
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/recin.h"
#include "plm/stats.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [--progress] [-c FIELD]... [-l FIELD] [-o FILE] [--shard K/N] [FILE ...]";
static const char summary[] =
	"count records, summarise lengths, count the values of fields";

struct state {
	const char *len_name;   /* field the length comes from, NULL: none */
	int len_i, len_str;     /* its index; 1 = length of a str */
	int shard_i;
	plm_strlist *cnames;
	int *ci;                /* index of each -c field */
	enum plm_type *ctype;
};

/* Which field gives the length: -l FIELD, else an int `len`, else the
 * length of a str `seq`, else none.  Decided on the first header. */
static void pick_len(struct state *st, const plm_schema *s, const char *l)
{
	int i;
	if (l)
		st->len_name = l;
	else if ((i = plm_schema_find(s, "len")) >= 0 && s->f[i].type == PLM_T_INT)
		st->len_name = "len";
	else if ((i = plm_schema_find(s, "seq")) >= 0 && s->f[i].type == PLM_T_STR)
		st->len_name = "seq";
}

/* Resolve field indices in (a new section's) schema s. */
static void bind(struct state *st, const plm_schema *s, const plm_shard *sh)
{
	char tn[64], err[512];
	if (st->len_name) {
		int i = plm_schema_find(s, st->len_name);
		if (i < 0)
			plm_die("no field '%s' in input", st->len_name);
		if (s->f[i].type != PLM_T_INT && s->f[i].type != PLM_T_STR)
			plm_die("field '%s' is %s: a length comes from an int "
				"or the length of a str", st->len_name,
				plm_type_name(s->f[i].type, s->f[i].dim, tn, sizeof tn));
		st->len_i = i;
		st->len_str = s->f[i].type == PLM_T_STR;
	}
	for (size_t j = 0; j < st->cnames->n; j++) {
		const char *name = st->cnames->v[j];
		int i = plm_schema_find(s, name);
		if (i < 0)
			plm_die("no field '%s' in input", name);
		if (!plm_key_type_ok(s->f[i].type))
			plm_die("field '%s' is %s: -c counts str, int or bool "
				"values", name, plm_type_name(s->f[i].type,
				s->f[i].dim, tn, sizeof tn));
		if (st->ctype[j] && st->ctype[j] != s->f[i].type)
			plm_die("field '%s' changes type between sections", name);
		st->ci[j] = i;
		st->ctype[j] = s->f[i].type;
	}
	if (sh->n && (st->shard_i = plm_shard_field(s, "id", err, sizeof err)) < 0)
		plm_die("--shard: %s", err);
}

/* A schema with new fields and the input's meta (so meta.prov goes on). */
static void out_schema(plm_schema *out, const plm_schema *in)
{
	plm_schema_init(out);
	unsigned char *m = malloc(in->meta_len ? in->meta_len : 1);
	if (!m)
		plm_die("out of memory");
	memcpy(m, in->meta, in->meta_len);
	free(out->meta);
	out->meta = m;
	out->meta_len = in->meta_len;
	plm_schema_add(out, "stat", PLM_T_STR, 0);
	plm_schema_add(out, "field", PLM_T_STR, 0);
	plm_schema_add(out, "value", PLM_T_STR, 0);
	plm_schema_add(out, "count", PLM_T_INT, 0);
	plm_schema_add(out, "x", PLM_T_FLOAT, 0);
	plm_schema_add_prov(out, plm_tool(), PLM_VERSION, plm_argc(),
			    plm_argv(), 0, 0);
}

static void emit(plm_writer *w, const char *stat, const char *field,
		 const plm_val *value, int64_t count, const plm_val *x)
{
	plm_val v[5] = {
		plm_v_str(stat, strlen(stat)),
		field ? plm_v_str(field, strlen(field)) : plm_v_nil(),
		value ? *value : plm_v_nil(),
		plm_v_int(count),
		x ? *x : plm_v_nil(),
	};
	if (plm_writer_row(w, v)) {
		plm_die("%s", plm_writer_error(w));
	}
}

static void emit_len(plm_writer *w, const char *field, const plm_hist *h)
{
	plm_summary s;
	if (plm_hist_summary(h, &s))
		plm_die("out of memory");
	const char *names[4] = { "min", "median", "mean", "max" };
	double xs[4] = { (double)s.min, s.median, s.mean, (double)s.max };
	for (int k = 0; k < 4; k++) {
		plm_val x = s.n ? plm_v_float(xs[k]) : plm_v_nil();
		emit(w, names[k], field, NULL, (int64_t)s.n, &x);
	}
}

static void emit_counts(plm_writer *w, const char *field, const plm_counts *c,
			uint64_t records)
{
	size_t *o = plm_counts_order(c);
	if (!o)
		plm_die("out of memory");
	for (size_t k = 0; k < plm_strmap_size(c->map); k++) {
		size_t kn, pos = 0;
		const char *key = plm_strmap_key(c->map, o[k], &kn);
		uint64_t n = *plm_strmap_val(c->map, o[k]);
		plm_val v;
		enum plm_type t;
		char text[32];
		plm_key_next(key, kn, &pos, &v, &t);
		if (!v.nil && t != PLM_T_STR) {
			plm_val_text(&v, t, text, sizeof text);
			v = plm_v_str(text, strlen(text));
		}
		plm_val x = plm_v_float((double)n / (double)records);
		emit(w, "count", field, &v, (int64_t)n, &x);
	}
	free(o);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	plm_strlist cnames = { 0 };
	const char *lname = NULL;
	const plm_opt opts[] = {
		PLM_LIST('c', "count", &cnames, "FIELD",
			 "count the values of FIELD (repeatable)"),
		PLM_STR('l', "length", &lname, "FIELD",
			"lengths from FIELD (int, or length of a str); "
			"default len, else seq"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("rec-stats", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	plm_shard sh = plm_shard_parse(c.shard);
	plm_recin *in = plm_recin_open(argc - i, argv + i, err, sizeof err);
	if (!in)
		plm_die("%s", err);

	struct state st = { .cnames = &cnames };
	st.ci = calloc(cnames.n + 1, sizeof *st.ci);
	st.ctype = calloc(cnames.n + 1, sizeof *st.ctype);
	plm_counts *counts = calloc(cnames.n + 1, sizeof *counts);
	if (!st.ci || !st.ctype || !counts)
		plm_die("out of memory");
	for (size_t j = 0; j < cnames.n; j++)
		if (plm_counts_init(&counts[j]))
			plm_die("out of memory");
	pick_len(&st, plm_recin_schema(in), lname);
	bind(&st, plm_recin_schema(in), &sh);

	plm_hist h;
	plm_hist_init(&h);
	plm_keybuf kb = { 0 };
	plm_progress pg;
	plm_progress_init(&pg, c.progress, "B");
	uint64_t records = 0;
	const plm_val *row;
	int rc;
	while ((rc = plm_recin_next(in, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(in));
		if (rc == PLM_HEADER) {
			bind(&st, plm_recin_schema(in), &sh);
			continue;
		}
		const plm_schema *s = plm_recin_schema(in);
		if (sh.n && !plm_shard_keep_val(&sh, &row[st.shard_i],
						s->f[st.shard_i].type))
			continue;
		records++;
		if (st.len_name && !row[st.len_i].nil &&
		    plm_hist_add(&h, st.len_str ? (int64_t)row[st.len_i].n :
				 row[st.len_i].i))
			plm_die("out of memory");
		for (size_t j = 0; j < cnames.n; j++)
			if (plm_counts_add(&counts[j], &kb, &row[st.ci[j]],
					   st.ctype[j]))
				plm_die("out of memory");
		if (pg.on) {
			uint64_t done, total;
			plm_recin_bytes(in, &done, &total);
			plm_progress_update(&pg, done, total, records);
		}
	}
	if (pg.on) {
		uint64_t done, total;
		plm_recin_bytes(in, &done, &total);
		plm_progress_end(&pg, done, records);
	}

	plm_schema out;
	out_schema(&out, plm_recin_schema(in));
	plm_writer *w = plm_writer_open(c.output, plm_common_format(&c), &out,
					err, sizeof err);
	if (!w)
		plm_die("%s", err);
	emit(w, "records", NULL, NULL, (int64_t)records, NULL);
	if (st.len_name)
		emit_len(w, st.len_name, &h);
	for (size_t j = 0; j < cnames.n; j++)
		emit_counts(w, cnames.v[j], &counts[j], records);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);

	for (size_t j = 0; j < cnames.n; j++)
		plm_counts_free(&counts[j]);
	free(counts);
	free(st.ci);
	free(st.ctype);
	free(cnames.v);
	plm_key_free(&kb);
	plm_hist_free(&h);
	plm_schema_free(&out);
	plm_recin_close(in);
	return 0;
}
