/* rec-stats — record count, length summary and value counts of a stream.
 *
 * Output is itself a record stream, one statistic per row:
 *   stat:str field:str value:str count:int x:float
 * so that scripts can rec-filter it (see man/rec-stats.1). */
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/stats.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"count records, summarise lengths, count the values of fields";

struct state {
	const char *lname;      /* -l FIELD */
	const char *len_name;   /* field the length comes from, NULL: none */
	int len_i, len_str;     /* its index; 1 = length of a str */
	plm_strlist *cnames;
	int *ci;                /* index of each -c field */
	enum plm_type *ctype;
	uint64_t records;
	plm_hist h;
	plm_counts *counts;     /* of each -c field */
	plm_keybuf kb;
	const plm_verb *v;
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
static void bind(struct state *st, const plm_schema *s)
{
	char tn[64];
	if (st->len_name) {
		int i = plm_schema_find(s, st->len_name);
		if (i < 0)
			plm_die_nofield(s, "no field '%s' in input",
					st->len_name);
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
			plm_die_nofield(s, "no field '%s' in input", name);
		if (!plm_key_type_ok(s->f[i].type))
			plm_die("field '%s' is %s: -c counts str, int or bool "
				"values", name, plm_type_name(s->f[i].type,
				s->f[i].dim, tn, sizeof tn));
		if (st->ctype[j] && st->ctype[j] != s->f[i].type)
			plm_die("field '%s' changes type between sections", name);
		st->ci[j] = i;
		st->ctype[j] = s->f[i].type;
	}
}

static void emit(plm_verb *w, const char *stat, const char *field,
		 const plm_val *value, int64_t count, const plm_val *x)
{
	plm_val v[5] = {
		plm_v_str(stat, strlen(stat)),
		field ? plm_v_str(field, strlen(field)) : plm_v_nil(),
		value ? *value : plm_v_nil(),
		plm_v_int(count),
		x ? *x : plm_v_nil(),
	};
	plm_verb_emit(w, v);
}

static void emit_len(plm_verb *w, const char *field, const plm_hist *h)
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

static void emit_counts(plm_verb *w, const char *field, const plm_counts *c,
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

/* One row a statistic: stat, field, value, count, x. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct state *st = ctx;
	(void)err, (void)errlen;
	if (!st->v->where)
		pick_len(st, in, st->lname);
	bind(st, in);
	return plm_verb_table(out, in) ||
	       plm_schema_add(out, "stat", PLM_T_STR, 0) < 0 ||
	       plm_schema_add(out, "field", PLM_T_STR, 0) < 0 ||
	       plm_schema_add(out, "value", PLM_T_STR, 0) < 0 ||
	       plm_schema_add(out, "count", PLM_T_INT, 0) < 0 ||
	       plm_schema_add(out, "x", PLM_T_FLOAT, 0) < 0 ? -1 : 0;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct state *st = ctx;
	(void)out, (void)err, (void)errlen;
	st->records++;
	if (st->len_name && !in[st->len_i].nil &&
	    plm_hist_add(&st->h, st->len_str ? (int64_t)in[st->len_i].n :
			 in[st->len_i].i))
		plm_oom();
	for (size_t j = 0; j < st->cnames->n; j++)
		if (plm_counts_add(&st->counts[j], &st->kb, &in[st->ci[j]],
				   st->ctype[j]))
			plm_oom();
	return PLM_VERB_SKIP;
}

static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	struct state *st = ctx;
	(void)err, (void)errlen;
	emit(v, "records", NULL, NULL, (int64_t)st->records, NULL);
	if (st->len_name)
		emit_len(v, st->len_name, &st->h);
	for (size_t j = 0; j < st->cnames->n; j++)
		emit_counts(v, st->cnames->v[j], &st->counts[j], st->records);
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	plm_strlist cnames = { 0 };
	const char *lname = NULL;
	const plm_opt opts[] = {
		PLM_LIST('c', "values", &cnames, "FIELD",
			 "count the values of FIELD (repeatable)"),
		PLM_STR('l', "length", &lname, "FIELD",
			"lengths from FIELD (int, or length of a str); "
			"default len, else seq"),
		PLM_OPTS_STREAM(&c),
	};
	int i = plm_start("rec-stats", argc, argv, opts, operands, summary);
	struct state st = { .lname = lname, .cnames = &cnames };
	st.ci = plm_xcalloc(cnames.n + 1, sizeof *st.ci);
	st.ctype = plm_xcalloc(cnames.n + 1, sizeof *st.ctype);
	st.counts = plm_xcalloc(cnames.n + 1, sizeof *st.counts);
	for (size_t j = 0; j < cnames.n; j++)
		if (plm_counts_init(&st.counts[j]))
			plm_oom();
	plm_hist_init(&st.h);
	plm_verb v = { .common = &c, .ctx = &st, .section = section,
		       .row = row, .finish = finish };
	st.v = &v;
	plm_verb_run(&v, argc - i, argv + i);

	for (size_t j = 0; j < cnames.n; j++)
		plm_counts_free(&st.counts[j]);
	free(st.counts);
	free(st.ci);
	free(st.ctype);
	free(cnames.v);
	plm_key_free(&st.kb);
	plm_hist_free(&st.h);
	return 0;
}
