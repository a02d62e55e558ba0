/* pair-make — same-group (positive) and cross-group (negative) id pairs
 * for pair classifiers, never mixing splits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/map.h"
#include "plm/rng.h"
#include "plm/split.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-o FILE] -g FIELD [-t FIELD] [-n R] [-s SEED] [--id FIELD] "
	"[--split FIELD] [FILE ...]";
static const char summary[] =
	"make positive (same group) and negative (different group) pairs within each split";

typedef struct rec {
	uint32_t id, group, type, split;   /* indices into the maps */
} rec;

typedef struct pair {
	uint32_t a, b;         /* record indices, a's id sorts first */
	int label;
} pair;

static plm_strmap *ids, *groups, *types, *splits;
static rec *recs;
static size_t nrec, rcap;

static int field(const plm_schema *s, const char *name, const char *opt, const char *file)
{
	int i = plm_schema_find(s, name);
	if (i < 0)
		plm_die("%s: no field '%s' (%s)", file, name, opt);
	enum plm_type t = s->f[i].type;
	if (t != PLM_T_STR && t != PLM_T_INT && t != PLM_T_BOOL)
		plm_die("%s: field '%s' (%s) must be str or int", file, name, opt);
	return i;
}

static uint32_t intern(plm_strmap *m, const plm_schema *s, const plm_val *row,
		       int f, const char *where, int *added)
{
	char buf[64];
	const char *k;
	if (row[f].nil)
		plm_die("%s: missing value in field '%s'", where, s->f[f].name);
	long n = plm_val_key(&row[f], s->f[f].type, buf, sizeof buf, &k);
	uint64_t *v = plm_strmap_put(m, k, (size_t)n, added);
	if (!v)
		plm_die("out of memory");
	if (*added)
		*v = plm_strmap_size(m) - 1;
	return (uint32_t)*v;
}

static void load(const char *path, const char *idf, const char *groupf,
		 const char *typef, const char *splitf, plm_schema *first)
{
	char err[512], where[600];
	const char *name = path ? path : "stdin";
	plm_reader *r = plm_reader_open(path, err, sizeof err);
	if (!r)
		plm_die("%s", err);
	const plm_schema *s = plm_reader_schema(r);
	if (!first->f && plm_schema_copy(first, s))
		plm_die("out of memory");
	const plm_val *row;
	int rc = PLM_HEADER;
	int fi = 0, fg = 0, ft = -1, fs = 0;
	do {
		if (rc == PLM_ERR)
			plm_die("%s", plm_reader_error(r));
		if (rc == PLM_HEADER) {
			s = plm_reader_schema(r);
			fi = field(s, idf, "--id", name);
			fg = field(s, groupf, "--group", name);
			ft = typef ? field(s, typef, "--type", name) : -1;
			fs = plm_schema_find(s, splitf);
			if (fs < 0)
				plm_die("%s: no field '%s' (--split; make it with strat-split --group %s)",
					name, splitf, groupf);
			fs = field(s, splitf, "--split", name);
			continue;
		}
		snprintf(where, sizeof where, "%s: record %llu", name,
			 (unsigned long long)plm_reader_recno(r));
		if (nrec == rcap) {
			rcap = rcap ? 2 * rcap : 4096;
			recs = plm_xrealloc(recs, rcap * sizeof *recs);
		}
		rec *x = &recs[nrec];
		int added;
		x->id = intern(ids, s, row, fi, where, &added);
		if (!added)
			plm_die("%s: duplicate id '%s'", where, plm_strmap_key(ids, x->id, NULL));
		x->group = intern(groups, s, row, fg, where, &added);
		x->type = ft >= 0 ? intern(types, s, row, ft, where, &added) : 0;
		x->split = intern(splits, s, row, fs, where, &added);
		nrec++;
	} while ((rc = plm_reader_next(r, &row)) != PLM_EOF);
	plm_reader_close(r);
}

static int key_cmp(plm_strmap *m, uint32_t a, uint32_t b)
{
	size_t la, lb;
	const char *x = plm_strmap_key(m, a, &la), *y = plm_strmap_key(m, b, &lb);
	int c = memcmp(x, y, la < lb ? la : lb);
	return c ? c : (la < lb ? -1 : la > lb);
}

/* Records ordered by (split, group, id) names: everything downstream is
 * then independent of input order. */
static int rec_cmp(const void *pa, const void *pb)
{
	const rec *a = pa, *b = pb;
	int c;
	if (a->split != b->split && (c = key_cmp(splits, a->split, b->split)))
		return c;
	if (a->group != b->group && (c = key_cmp(groups, a->group, b->group)))
		return c;
	return key_cmp(ids, a->id, b->id);
}

static int pair_cmp(const void *pa, const void *pb)
{
	const pair *a = pa, *b = pb;
	if (a->label != b->label)
		return b->label - a->label;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	return a->b < b->b ? -1 : a->b > b->b;
}

static void push(pair **p, size_t *n, size_t *cap, uint32_t a, uint32_t b, int label)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		*p = plm_xrealloc(*p, *cap * sizeof **p);
	}
	/* records are sorted by id within a group, not across groups */
	if (key_cmp(ids, recs[a].id, recs[b].id) > 0) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	(*p)[(*n)++] = (pair){ a, b, label };
}

/* Pairs of records [lo, hi) (one split).  Negatives: uniform over pairs of
 * different groups (and different types with --type), without repeats. */
static void split_pairs(size_t lo, size_t hi, int typed, double ratio, plm_rng *rng,
			pair **p, size_t *np, size_t *cap)
{
	size_t npos = 0, n = hi - lo, start = *np;
	for (size_t g = lo; g < hi;) {
		size_t e = g + 1;
		while (e < hi && recs[e].group == recs[g].group)
			e++;
		for (size_t i = g; i < e; i++)
			for (size_t j = i + 1; j < e; j++)
				if (!typed || recs[i].type != recs[j].type) {
					push(p, np, cap, (uint32_t)i, (uint32_t)j, 1);
					npos++;
				}
		g = e;
	}
	/* pairs of different types in the split, minus the positives */
	size_t nt = plm_strmap_size(types) + 1;
	uint64_t *tc = calloc(nt, sizeof *tc);
	if (!tc)
		plm_die("out of memory");
	for (size_t i = lo; i < hi; i++)
		tc[typed ? recs[i].type : 0]++;
	double diff = (double)n * (double)n;
	for (size_t t = 0; t < nt; t++)
		diff -= (double)tc[t] * (double)tc[t];
	free(tc);
	if (!typed)
		diff = (double)n * (double)(n - (n > 0));
	uint64_t avail = (uint64_t)(diff / 2) - npos;
	uint64_t want = (uint64_t)llround(ratio * (double)npos);
	size_t kl;
	const char *sn = plm_strmap_key(splits, recs[lo].split, &kl);
	if (want > avail) {
		plm_warn("note: split '%s': %llu negative pair(s) asked for, %llu exist: using all",
			 sn, (unsigned long long)want, (unsigned long long)avail);
		want = avail;
	}
	if (!want) {
		if (*np > start)
			qsort(*p + start, *np - start, sizeof **p, pair_cmp);
		return;
	}
	if (avail <= 4 * want) {
		/* dense: enumerate every negative, keep a random subset */
		size_t base = *np;
		for (size_t i = lo; i < hi; i++)
			for (size_t j = i + 1; j < hi; j++)
				if (recs[i].group != recs[j].group &&
				    (!typed || recs[i].type != recs[j].type))
					push(p, np, cap, (uint32_t)i, (uint32_t)j, 0);
		size_t all = *np - base;
		for (size_t i = 0; i < want; i++) {   /* partial Fisher–Yates */
			size_t j = i + (size_t)plm_rng_below(rng, all - i);
			pair t = (*p)[base + i];
			(*p)[base + i] = (*p)[base + j];
			(*p)[base + j] = t;
		}
		*np = base + want;
	} else {
		plm_h128set *seen = plm_h128set_new(want);
		if (!seen)
			plm_die("out of memory");
		for (uint64_t got = 0; got < want;) {
			size_t i = lo + plm_rng_below(rng, n), j = lo + plm_rng_below(rng, n);
			if (recs[i].group == recs[j].group ||
			    (typed && recs[i].type == recs[j].type))
				continue;
			plm_h128 key = { i < j ? i : j, i < j ? j : i };
			int r = plm_h128set_add(seen, key, NULL);
			if (r < 0)
				plm_die("out of memory");
			if (r == 1) {
				push(p, np, cap, (uint32_t)i, (uint32_t)j, 0);
				got++;
			}
		}
		plm_h128set_free(seen);
	}
	qsort(*p + start, *np - start, sizeof **p, pair_cmp);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *groupf = NULL, *typef = NULL, *idf = "id", *splitf = "split";
	double ratio = 1;
	long long seed = PLM_DEFAULT_SEED;
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&c),
		PLM_STR('g', "group", &groupf, "FIELD", "records with the same FIELD value form positive pairs (required)"),
		PLM_STR('t', "type", &typef, "FIELD", "pair only records whose FIELD values differ (e.g. segment)"),
		PLM_DBL('n', "neg-ratio", &ratio, "R", "negative pairs per positive pair in each split (default 1)", 0, 1e6),
		PLM_INT('s', "seed", &seed, "N", "seed for drawing negatives (default 11)", 0, 0x7fffffffffffffffLL),
		PLM_STR(0, "id", &idf, "FIELD", "unique record id (default id)"),
		PLM_STR(0, "split", &splitf, "FIELD", "split of each record (default split)"),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("pair-make", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	int fmt = plm_common_format(&c);
	if (!groupf)
		plm_usage_die("--group is required");
	ids = plm_strmap_new();
	groups = plm_strmap_new();
	types = plm_strmap_new();
	splits = plm_strmap_new();
	if (!ids || !groups || !types || !splits)
		plm_die("out of memory");
	plm_schema in = { 0 };
	if (i >= argc)
		load(NULL, idf, groupf, typef, splitf, &in);
	for (; i < argc; i++)
		load(strcmp(argv[i], "-") ? argv[i] : NULL, idf, groupf, typef, splitf, &in);

	/* a group must sit in one split */
	size_t ng = plm_strmap_size(groups);
	uint32_t *gsplit = plm_xrealloc(NULL, ng * sizeof *gsplit);
	memset(gsplit, 0xff, ng * sizeof *gsplit);
	for (size_t r = 0; r < nrec; r++) {
		uint32_t *g = &gsplit[recs[r].group];
		if (*g == UINT32_MAX)
			*g = recs[r].split;
		else if (*g != recs[r].split)
			plm_die("group '%s' is in splits '%s' and '%s' (split with strat-split --group %s)",
				plm_strmap_key(groups, recs[r].group, NULL),
				plm_strmap_key(splits, *g, NULL),
				plm_strmap_key(splits, recs[r].split, NULL), groupf);
	}
	free(gsplit);
	/* A stream with a header and no records leaves recs NULL, and qsort
	 * must not be handed a null pointer even for no elements. */
	if (nrec)
		qsort(recs, nrec, sizeof *recs, rec_cmp);

	plm_rng rng;
	plm_rng_seed(&rng, (uint64_t)seed);
	pair *p = NULL;
	size_t np = 0, cap = 0;
	for (size_t lo = 0; lo < nrec;) {
		size_t hi = lo + 1;
		while (hi < nrec && recs[hi].split == recs[lo].split)
			hi++;
		split_pairs(lo, hi, typef != NULL, ratio, &rng, &p, &np, &cap);
		lo = hi;
	}

	plm_schema out;
	plm_schema_init(&out);
	free(out.meta);
	out.meta = plm_xrealloc(NULL, in.meta_len);
	memcpy(out.meta, in.meta, in.meta_len);
	out.meta_len = in.meta_len;
	plm_schema_add(&out, "a", PLM_T_STR, 0);
	plm_schema_add(&out, "b", PLM_T_STR, 0);
	plm_schema_add(&out, "label", PLM_T_INT, 0);
	plm_schema_add(&out, "split", PLM_T_STR, 0);
	plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 1, (uint64_t)seed);
	plm_writer *w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	for (size_t k = 0; k < np; k++) {
		size_t la, lb, ls;
		const char *a = plm_strmap_key(ids, recs[p[k].a].id, &la);
		const char *b = plm_strmap_key(ids, recs[p[k].b].id, &lb);
		const char *s = plm_strmap_key(splits, recs[p[k].a].split, &ls);
		plm_val v[4] = { plm_v_str(a, la), plm_v_str(b, lb),
				 plm_v_int(p[k].label), plm_v_str(s, ls) };
		if (plm_writer_row(w, v)) {
			snprintf(err, sizeof err, "%s", plm_writer_error(w));
			plm_writer_abort(w);
			plm_die("%s", err);
		}
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	free(p);
	free(recs);
	plm_schema_free(&out);
	plm_schema_free(&in);
	plm_strmap_free(ids);
	plm_strmap_free(groups);
	plm_strmap_free(types);
	plm_strmap_free(splits);
	return 0;
}
