/* pair-make — same-group (positive) and cross-group (negative) id pairs
 * for pair classifiers, never mixing splits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/h128set.h"
#include "plm/map.h"
#include "plm/rng.h"
#include "plm/split.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
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

/* The options the callbacks use, and the fields in the current section. */
static struct {
	const char *id, *group, *type, *split;
	uint64_t seed;
	int fi, fg, ft, fs;
	plm_schema out;         /* the first section's output fields */
} F;

struct make {
	double ratio;
	const plm_verb *v;
	pair *p;
	size_t np, cap;
};

static const plm_fieldspec cols[] = {
	{ "a", PLM_T_STR, 0 }, { "b", PLM_T_STR, 0 },
	{ "label", PLM_T_INT, 0 }, { "split", PLM_T_STR, 0 },
};

static int field(const plm_schema *s, const char *name, const char *opt,
		 char *err, size_t errlen)
{
	int i = plm_schema_find(s, name);
	if (i < 0) {
		plm_nofield(err, errlen, s, "no field '%s' (%s)", name, opt);
		return -1;
	}
	enum plm_type t = s->f[i].type;
	if (t != PLM_T_STR && t != PLM_T_INT && t != PLM_T_BOOL) {
		snprintf(err, errlen, "field '%s' (%s) must be str or int",
			 name, opt);
		return -1;
	}
	return i;
}

/* Every section has the fields of the first's pairs: the first input's
 * meta stands for the run. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	(void)ctx;
	if ((F.fi = field(in, F.id, "--id", err, errlen)) < 0 ||
	    (F.fg = field(in, F.group, "--group", err, errlen)) < 0 ||
	    (F.type && (F.ft = field(in, F.type, "--type", err, errlen)) < 0))
		return -1;
	if (plm_schema_find(in, F.split) < 0) {
		plm_nofield(err, errlen, in, "no field '%s' (--split; make it with "
			 "strat-split --group %s)", F.split, F.group);
		return -1;
	}
	if ((F.fs = field(in, F.split, "--split", err, errlen)) < 0)
		return -1;
	if (!F.out.f && plm_schema_fields(&F.out, in, cols,
					 sizeof cols / sizeof *cols, 1, F.seed))
		return -1;
	return plm_schema_copy(out, &F.out);
}

/* The number of row[f]'s value in m; -1 and err when it is nil. */
static long intern(plm_strmap *m, const plm_schema *s, const plm_val *row,
		   int f, int *added, char *err, size_t errlen)
{
	char buf[64];
	const char *k;
	if (row[f].nil) {
		snprintf(err, errlen, "missing value in field '%s'",
			 s->f[f].name);
		return -1;
	}
	long n = plm_val_key(&row[f], s->f[f].type, buf, sizeof buf, &k);
	long i = plm_intern(m, k, (size_t)n, added);
	if (i < 0)
		plm_oom();
	return i;
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	const plm_schema *s = ((const struct make *)ctx)->v->in;
	int added;
	long id, group, type = 0, split;
	(void)out;
	if ((id = intern(ids, s, in, F.fi, &added, err, errlen)) < 0)
		return PLM_VERB_FAIL;
	if (!added) {
		snprintf(err, errlen, "duplicate id '%s'",
			 plm_strmap_key(ids, (size_t)id, NULL));
		return PLM_VERB_FAIL;
	}
	if ((group = intern(groups, s, in, F.fg, &added, err, errlen)) < 0 ||
	    (F.type && (type = intern(types, s, in, F.ft, &added, err,
				     errlen)) < 0) ||
	    (split = intern(splits, s, in, F.fs, &added, err, errlen)) < 0)
		return PLM_VERB_FAIL;
	PLM_XGROW(recs, rcap, nrec + 1);
	recs[nrec++] = (rec){ (uint32_t)id, (uint32_t)group, (uint32_t)type,
			      (uint32_t)split };
	return PLM_VERB_SKIP;
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
	PLM_XGROW(*p, *cap, *n + 1);
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
	uint64_t *tc = plm_xcalloc(nt, sizeof *tc);
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

/* A group must sit in one split. */
static void check_groups(void)
{
	size_t ng = plm_strmap_size(groups);
	uint32_t *gsplit = plm_xmalloc(ng * sizeof *gsplit);
	memset(gsplit, 0xff, ng * sizeof *gsplit);
	for (size_t r = 0; r < nrec; r++) {
		uint32_t *g = &gsplit[recs[r].group];
		if (*g == UINT32_MAX)
			*g = recs[r].split;
		else if (*g != recs[r].split)
			plm_die("group '%s' is in splits '%s' and '%s' (split with strat-split --group %s)",
				plm_strmap_key(groups, recs[r].group, NULL),
				plm_strmap_key(splits, *g, NULL),
				plm_strmap_key(splits, recs[r].split, NULL), F.group);
	}
	free(gsplit);
}

static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	struct make *m = ctx;
	(void)err;
	(void)errlen;
	check_groups();
	/* A stream with a header and no records leaves recs NULL, and qsort
	 * must not be handed a null pointer even for no elements. */
	if (nrec)
		qsort(recs, nrec, sizeof *recs, rec_cmp);
	plm_rng rng;
	plm_rng_seed(&rng, F.seed);
	for (size_t lo = 0; lo < nrec;) {
		size_t hi = lo + 1;
		while (hi < nrec && recs[hi].split == recs[lo].split)
			hi++;
		split_pairs(lo, hi, F.type != NULL, m->ratio, &rng, &m->p,
			    &m->np, &m->cap);
		lo = hi;
	}
	for (size_t k = 0; k < m->np; k++) {
		const pair *q = &m->p[k];
		size_t la, lb, ls;
		const char *a = plm_strmap_key(ids, recs[q->a].id, &la);
		const char *b = plm_strmap_key(ids, recs[q->b].id, &lb);
		const char *s = plm_strmap_key(splits, recs[q->a].split, &ls);
		plm_val row[4] = { plm_v_str(a, la), plm_v_str(b, lb),
				   plm_v_int(q->label), plm_v_str(s, ls) };
		plm_verb_emit(v, row);
	}
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *groupf = NULL, *typef = NULL, *idf = "id", *splitf = "split";
	double ratio = 1;
	long long seed = PLM_DEFAULT_SEED;
	const plm_opt opts[] = {
		PLM_STR_REQ('g', "group", &groupf, "FIELD", "records with the same FIELD value form positive pairs (required)"),
		PLM_STR('t', "type", &typef, "FIELD", "pair only records whose FIELD values differ (e.g. segment)"),
		PLM_DBL('n', "neg-ratio", &ratio, "R", "negative pairs per positive pair in each split (default 1)", 0, 1e6),
		PLM_INT('s', "seed", &seed, "N", "seed for drawing negatives (default 11)", 0, 0x7fffffffffffffffLL),
		PLM_STR(0, "id", &idf, "FIELD", "unique record id (default id)"),
		PLM_STR(0, "split", &splitf, "FIELD", "split of each record (default split)"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	int i = plm_start("pair-make", argc, argv, opts, operands, summary);
	if (!groupf)
		plm_usage_die("--group is required");
	ids = plm_strmap_new();
	groups = plm_strmap_new();
	types = plm_strmap_new();
	splits = plm_strmap_new();
	if (!ids || !groups || !types || !splits)
		plm_oom();
	F.id = idf;
	F.group = groupf;
	F.type = typef;
	F.split = splitf;
	F.seed = (uint64_t)seed;
	struct make m = { .ratio = ratio };
	plm_verb v = { .common = &c, .ctx = &m, .section = section,
		       .row = row, .finish = finish };
	m.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	free(m.p);
	free(recs);
	plm_schema_free(&F.out);
	plm_strmap_free(ids);
	plm_strmap_free(groups);
	plm_strmap_free(types);
	plm_strmap_free(splits);
	return 0;
}
