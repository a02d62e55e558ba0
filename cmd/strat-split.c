/* strat-split — stratified, grouped, seeded train/val/test split that does
 * not depend on input order, in one or two nested levels, or imported from
 * a frozen assignment; writes or checks a hash-locked manifest that records
 * its recipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/hash.h"
#include "plm/map.h"
#include "plm/recin.h"
#include "plm/rng.h"
#include "plm/split.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"assign records to splits by ratio, per stratum and group, independent of input order";

#define MAX_BY 16

typedef struct ctx {
	const char *idf, *seqf, *groupf;
	char *by[MAX_BY];
	int nby;
	int need_hash;
	/* per record */
	plm_manifest m;        /* ids (unique), hashes, split indices */
	uint32_t *rec_item;    /* with --group: record → group */
	/* per item */
	plm_strmap *groups;    /* group key → item index */
	plm_strmap *strata;    /* stratum key → index */
	plm_strmap *gs;        /* (group, stratum) → record count */
	uint32_t *rec_stratum; /* without groups: record → stratum */
	/* field indices of the current input */
	int fid, fseq, fgroup, fby[MAX_BY];
	size_t icap, scap;
	/* between the passes and in the second */
	const plm_ratios *ra;   /* the first level */
	const plm_ratios *ra2;  /* --then: the second level, or NULL */
	const plm_ratios *fin;  /* the final splits (ratios multiplied) */
	uint32_t parent;        /* --then: the first-level split divided */
	uint32_t *map1, *map2;  /* level index → final split index */
	const char *ratios, *manifest, *lock, *import;
	plm_manifest lk;        /* --lock's manifest, or --import's table */
	size_t ndup;            /* --import: ids assigned twice */
	long long seed;         /* -1: none (a lock without one) */
	plm_out *mo;            /* --manifest, closed after the records */
	char hex[33];           /* the split digest, "" for none */
	plm_strmap *names;      /* split index → name */
	int fsplit;
	size_t nin, rec;
	const plm_verb *v;
} ctx;

static int need_field(const plm_schema *s, const char *name, const char *what,
		      char *err, size_t errlen)
{
	int i = plm_schema_find(s, name);
	if (i < 0) {
		plm_nofield(err, errlen, s, "no field '%s' (%s)", name, what);
		return -1;
	}
	enum plm_type t = s->f[i].type;
	if (t != PLM_T_STR && t != PLM_T_INT && t != PLM_T_BOOL && t != PLM_T_FLOAT) {
		snprintf(err, errlen, "field '%s' (%s) must be a scalar, not a vector", name, what);
		return -1;
	}
	return i;
}

static int bind_fields(ctx *x, const plm_schema *s, char *err, size_t errlen)
{
	if ((x->fid = need_field(s, x->idf, "--id", err, errlen)) < 0)
		return -1;
	x->fseq = plm_schema_find(s, x->seqf);
	if (x->need_hash && x->fseq < 0) {
		plm_nofield(err, errlen, s, "no field '%s' (--seq; needed for "
			    "the manifest)", x->seqf);
		return -1;
	}
	if (x->fseq >= 0 && s->f[x->fseq].type != PLM_T_STR) {
		if (x->need_hash) {
			snprintf(err, errlen, "field '%s' (--seq) must be str", x->seqf);
			return -1;
		}
		x->fseq = -1;
	}
	x->fgroup = -1;
	if (x->groupf && (x->fgroup = need_field(s, x->groupf, "--group", err, errlen)) < 0)
		return -1;
	for (int b = 0; b < x->nby; b++)
		if ((x->fby[b] = need_field(s, x->by[b], "--by", err, errlen)) < 0)
			return -1;
	return 0;
}

/* Text key of field f in row, its length; -1 and err on nil when must
 * is set. */
static long key_of(const plm_schema *s, const plm_val *row, int f, char *buf,
		   size_t cap, const char **out, int must, char *err,
		   size_t errlen)
{
	if (row[f].nil) {
		if (must) {
			snprintf(err, errlen, "missing value in field '%s'", s->f[f].name);
			return -1;
		}
		*out = "\\N";    /* a missing stratum value is a level of its own */
		return 2;
	}
	return (long)plm_val_key(&row[f], s->f[f].type, buf, cap, out);
}

/* The first pass: the record's id, hash, stratum and group; -1 + err. */
static int first_pass_row(ctx *x, const plm_schema *s, const plm_val *row,
			  int lock, char *err, size_t errlen)
{
	char kb[64], sb[4096];
	const char *k;
	long kl = key_of(s, row, x->fid, kb, sizeof kb, &k, 1, err, errlen);
	if (kl < 0)
		return -1;
	plm_h128 h = { 0, 0 };
	if (x->fseq >= 0) {
		if (row[x->fseq].nil && x->need_hash) {
			snprintf(err, errlen, "missing value in field '%s'", x->seqf);
			return -1;
		}
		if (!row[x->fseq].nil)
			h = plm_seq_hash(row[x->fseq].s, row[x->fseq].n);
	}
	int dup;
	size_t r = x->m.n;
	if (plm_manifest_add(&x->m, k, (size_t)kl, h, "", 0, &dup)) {
		if (!dup)
			plm_oom();
		snprintf(err, errlen, "duplicate id '%.*s'", (int)kl, k);
		return -1;
	}
	if (lock)
		return 0;
	/* stratum key: the --by values joined by '\x1f' */
	size_t sl = 0;
	for (int b = 0; b < x->nby; b++) {
		const char *v;
		char vb[64];
		long vl = key_of(s, row, x->fby[b], vb, sizeof vb, &v, 0, err, errlen);
		if (sl + (size_t)vl + 1 >= sizeof sb) {
			snprintf(err, errlen, "stratum value too long");
			return -1;
		}
		if (b)
			sb[sl++] = '\x1f';
		memcpy(sb + sl, v, (size_t)vl);
		sl += (size_t)vl;
	}
	int added;
	uint64_t *sv = plm_strmap_put(x->strata, sb, sl, &added);
	if (!sv)
		plm_oom();
	if (added)
		*sv = plm_strmap_size(x->strata) - 1;
	uint32_t stratum = (uint32_t)*sv;
	PLM_XGROW(x->rec_stratum, x->scap, r + 1);
	x->rec_stratum[r] = stratum;
	if (x->fgroup < 0)
		return 0;
	PLM_XGROW(x->rec_item, x->icap, r + 1);
	const char *g;
	char gb[64];
	long gl = key_of(s, row, x->fgroup, gb, sizeof gb, &g, 1, err, errlen);
	if (gl < 0)
		return -1;
	uint64_t *gv = plm_strmap_put(x->groups, g, (size_t)gl, &added);
	if (!gv)
		plm_oom();
	if (added)
		*gv = plm_strmap_size(x->groups) - 1;
	x->rec_item[r] = (uint32_t)*gv;
	uint32_t pair[2] = { (uint32_t)*gv, stratum };
	uint64_t *c = plm_strmap_put(x->gs, pair, sizeof pair, &added);
	if (!c)
		plm_oom();
	++*c;
	return 0;
}

/* Group → stratum: the stratum holding most of its records; ties to the
 * smaller stratum key, so the choice does not depend on input order. */
static uint32_t *group_strata(ctx *x, size_t ng, size_t *spanning)
{
	uint32_t *gst = plm_xrealloc(NULL, ng * sizeof *gst);
	uint64_t *best = calloc(ng ? ng : 1, sizeof *best);
	unsigned char *nst = calloc(ng ? ng : 1, 1);
	if (!best || !nst)
		plm_die("out of memory");
	for (size_t i = 0; i < plm_strmap_size(x->gs); i++) {
		const uint32_t *pr = (const uint32_t *)plm_strmap_key(x->gs, i, NULL);
		uint32_t pair[2];
		memcpy(pair, pr, sizeof pair);
		uint64_t c = *plm_strmap_val(x->gs, i);
		uint32_t g = pair[0], st = pair[1];
		if (nst[g] < 2)
			nst[g]++;
		int better = c > best[g];
		if (c == best[g]) {
			size_t la, lb;
			const char *a = plm_strmap_key(x->strata, st, &la);
			const char *b = plm_strmap_key(x->strata, gst[g], &lb);
			int cmp = memcmp(a, b, la < lb ? la : lb);
			better = cmp < 0 || (cmp == 0 && la < lb);
		}
		if (better) {
			best[g] = c;
			gst[g] = st;
		}
	}
	*spanning = 0;
	for (size_t g = 0; g < ng; g++)
		*spanning += nst[g] > 1;
	free(best);
	free(nst);
	return gst;
}

static const char *item_key(void *keys, uint32_t tag, size_t *len)
{
	return plm_strmap_key(keys, tag, len);
}

static plm_split_item make_item(const ctx *x, plm_strmap *keys,
				const uint32_t *gst, size_t i, uint64_t seed)
{
	size_t kl;
	const char *k = plm_strmap_key(keys, i, &kl);
	return (plm_split_item){ plm_split_order(seed, k, kl),
				 gst ? gst[i] : x->rec_stratum[i], (uint32_t)i };
}

/* The second level: the items the first gave x->parent are split again by
 * x->ra2, per stratum, ordered with seed2; split[] becomes final indices. */
static void nest(ctx *x, plm_split_item *it, size_t ni, const uint32_t *weight,
		 plm_strmap *keys, const uint32_t *gst, uint64_t seed2,
		 uint32_t *split)
{
	size_t k = 0;
	for (size_t i = 0; i < ni; i++)
		if (split[i] == x->parent)
			it[k++] = make_item(x, keys, gst, i, seed2);
	uint32_t *s2 = plm_xrealloc(NULL, (ni ? ni : 1) * sizeof *s2);
	if (plm_split_assign(it, k, weight, item_key, keys, x->ra2, s2))
		plm_die("out of memory");
	for (size_t i = 0; i < ni; i++)
		split[i] = split[i] == x->parent ? x->map2[s2[i]] : x->map1[split[i]];
	free(s2);
}

/* Sets x->m.split[] of every record: items are the records, or the
 * groups (weighted by their record counts). */
static void assign(ctx *x, const plm_ratios *ra, uint64_t seed)
{
	size_t nrec = x->m.n;
	int grouped = x->fgroup >= 0;
	size_t ni = grouped ? plm_strmap_size(x->groups) : nrec;
	plm_strmap *keys = grouped ? x->groups : x->m.ids;
	plm_split_item *it = plm_xrealloc(NULL, (ni ? ni : 1) * sizeof *it);
	uint32_t *gst = NULL, *weight = NULL, *gsplit = NULL;
	if (grouped) {
		size_t spanning;
		gst = group_strata(x, ni, &spanning);
		if (spanning && x->nby)
			plm_warn("note: %zu group(s) have records in more than one stratum; each is placed by the stratum of most of its records",
				 spanning);
		weight = calloc(ni ? ni : 1, sizeof *weight);
		gsplit = plm_xrealloc(NULL, (ni ? ni : 1) * sizeof *gsplit);
		if (!weight)
			plm_die("out of memory");
		for (size_t r = 0; r < nrec; r++)
			weight[x->rec_item[r]]++;
	}
	for (size_t i = 0; i < ni; i++)
		it[i] = make_item(x, keys, gst, i, seed);
	uint32_t *out = grouped ? gsplit : x->m.split;
	if (plm_split_assign(it, ni, weight, item_key, keys, ra, out))
		plm_die("out of memory");
	if (x->ra2)
		nest(x, it, ni, weight, keys, gst, seed + 1, out);
	free(it);
	if (grouped)
		for (size_t r = 0; r < nrec; r++)
			x->m.split[r] = gsplit[x->rec_item[r]];
	free(gst);
	free(weight);
	free(gsplit);
}

/* A stratum too small to reach every split is reported, never fatal. */
static void report_tiny(ctx *x, const plm_ratios *ra)
{
	size_t ns = plm_strmap_size(x->strata), shown = 0, tiny = 0;
	uint64_t *cnt = calloc(ns * ra->n + 1, sizeof *cnt);
	if (!cnt)
		plm_die("out of memory");
	for (size_t r = 0; r < x->m.n; r++)
		cnt[x->rec_stratum[r] * ra->n + x->m.split[r]]++;
	for (size_t st = 0; st < ns; st++) {
		char miss[512];
		size_t ml = 0;
		uint64_t tot = 0;
		miss[0] = 0;
		for (size_t s = 0; s < ra->n; s++) {
			tot += cnt[st * ra->n + s];
			if (ra->r[s] > 0 && cnt[st * ra->n + s] == 0 && ml < sizeof miss - 64)
				ml += (size_t)snprintf(miss + ml, sizeof miss - ml, "%s%s",
						       ml ? ", " : "", ra->name[s]);
		}
		if (!ml)
			continue;
		tiny++;
		if (shown++ >= 10)
			continue;
		size_t kl;
		const char *k = plm_strmap_key(x->strata, st, &kl);
		char name[256];
		size_t n = kl < sizeof name - 1 ? kl : sizeof name - 1;
		for (size_t i = 0; i < n; i++)
			name[i] = k[i] == '\x1f' ? ',' : k[i];
		name[n] = 0;
		plm_warn("note: stratum '%s' has %llu record(s): none in %s",
			 x->nby ? name : "(all)", (unsigned long long)tot, miss);
	}
	if (tiny > 10)
		plm_warn("note: %zu strata in all are too small to reach every split", tiny);
	free(cnt);
}

/* --lock: the input must be exactly the manifest's records; --import
 * (imp): every input id assigned once, and no other id. */
static void check_lock(ctx *x, const plm_manifest *lk, const char *path,
		       int imp)
{
	size_t nnew = 0, nchg = 0, nmiss = 0;
	unsigned char *seen = calloc(lk->n + 1, 1);
	if (!seen)
		plm_die("out of memory");
	for (size_t r = 0; r < x->m.n; r++) {
		size_t il;
		const char *id = plm_strmap_key(x->m.ids, r, &il);
		long mi = plm_strmap_index(lk->ids, id, il);
		if (mi < 0) {
			if (nnew++ < 20)
				plm_warn(imp ? "%s: input id '%.*s' has no assignment"
					 : "%s: new id '%.*s' (not in the locked split)",
					 path, (int)il, id);
			continue;
		}
		seen[mi] = 1;
		if (!imp && (lk->hash[mi].hi != x->m.hash[r].hi || lk->hash[mi].lo != x->m.hash[r].lo)) {
			if (nchg++ < 20)
				plm_warn("%s: changed sequence for id '%.*s'", path, (int)il, id);
		}
		x->m.split[r] = lk->split[mi];
	}
	for (size_t i = 0; i < lk->n; i++) {
		if (seen[i])
			continue;
		size_t il;
		const char *id = plm_strmap_key(lk->ids, i, &il);
		if (nmiss++ < 20)
			plm_warn(imp ? "%s: id '%.*s' is not in the input"
				 : "%s: missing id '%.*s' (in the locked split, not in the input)",
				 path, (int)il, id);
	}
	free(seen);
	if (imp && (nnew || nmiss || x->ndup))
		plm_die("%s: assignment refused: %zu input id(s) with no assignment, "
			"%zu id(s) not in the input, %zu id(s) assigned more than once",
			path, nnew, nmiss, x->ndup);
	if (nnew || nchg || nmiss)
		plm_die("%s: input does not match the locked split: %zu new, %zu missing, %zu changed id(s)",
			path, nnew, nmiss, nchg);
}

/* Between the passes: the split of every record, and the digest. */
static void between(ctx *x)
{
	char err[512];
	x->names = x->m.splits;
	if (x->import) {
		check_lock(x, &x->lk, x->import, 1);
		x->names = x->lk.splits;
	} else if (x->lock) {
		check_lock(x, &x->lk, x->lock, 0);
		x->names = x->lk.splits;
		char *sv = plm_manifest_get_info(&x->lk, "seed");
		long long ls;
		if (sv && plm_strtoll(sv, 0, 0x7fffffffffffffffLL, &ls) == 0)
			x->seed = ls;
		else
			x->seed = -1;
		free(sv);
	} else if (!x->import) {
		assign(x, x->ra, (uint64_t)x->seed);
		report_tiny(x, x->fin);
	}
	if (x->import) {    /* the table's splits, under the input's hashes */
		plm_strmap_free(x->m.splits);
		x->m.splits = x->lk.splits;
		x->lk.splits = NULL;
		x->names = x->m.splits;
	}
	if (!x->lock && x->fseq >= 0) {     /* the input digest: part of the recipe */
		plm_h128 in;
		if (plm_manifest_cols_digest(&x->m, PLM_MCOL_HASH, &in) ||
		    plm_manifest_info(&x->m, "input", plm_h128_hex(in, x->hex)))
			plm_die("out of memory");
		x->hex[0] = 0;
	}
	if (x->lock) {
		plm_h128_hex(x->lk.digest, x->hex);
	} else if (x->manifest) {
		if (!(x->mo = plm_out_open(x->manifest, err, sizeof err)))
			plm_die("%s", err);
		if (plm_manifest_write(&x->m, x->mo))
			plm_die("%s: %s", x->manifest, plm_out_error(x->mo));
		plm_h128_hex(x->m.digest, x->hex);
	} else if (x->fseq >= 0) {
		if (plm_manifest_digest(&x->m))
			plm_die("out of memory");
		plm_h128_hex(x->m.digest, x->hex);
	}
}

/* The recipe lines of m as "key=value; ..." (malloc'd; NULL if none). */
static char *recipe_text(const plm_manifest *m)
{
	if (!m->info_len)
		return NULL;
	char *t = plm_xrealloc(NULL, 2 * m->info_len + 1);
	size_t k = 0;
	for (size_t i = 0; i < m->info_len; i++) {
		char ch = m->info[i];
		if (ch == '#' && (i == 0 || m->info[i - 1] == '\n'))
			continue;       /* the line's mark, not a '#' in it */
		if (ch == '\n') {
			if (i + 1 < m->info_len) {
				t[k++] = ';';
				t[k++] = ' ';
			}
		} else {
			t[k++] = ch == '\t' ? '=' : ch;
		}
	}
	t[k] = 0;
	return t;
}

/* One set of fields in all the input; the second pass adds split. */
static int section(void *ctx_, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	ctx *x = ctx_;
	if (x->v->where) {
		snprintf(err, errlen, "fields differ from the first input's "
			 "(unify them with rec-cut first)");
		return -1;
	}
	if (bind_fields(x, in, err, errlen))
		return -1;
	x->nin = in->n;
	if (plm_schema_derive(out, in, x->seed >= 0, (uint64_t)x->seed))
		return -1;
	if (x->v->pass == 0)
		return 0;
	x->fsplit = plm_schema_add(out, "split", PLM_T_STR, 0);
	char *rc = recipe_text(x->lock ? &x->lk : &x->m);
	int bad = rc && plm_schema_prov_set(out, "split_recipe", rc);
	free(rc);
	if (x->fsplit < 0 || bad ||
	    (x->hex[0] && plm_schema_prov_set(out, "split_digest", x->hex)) ||
	    (x->lock && plm_schema_prov_set(out, "split_lock", x->lock)))
		return -1;
	return 0;
}

static int row(void *ctx_, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	ctx *x = ctx_;
	const plm_schema *s = x->v->in;
	if (x->v->pass == 0)
		return first_pass_row(x, s, in, x->lock || x->import, err, errlen)
			? PLM_VERB_FAIL : PLM_VERB_SKIP;
	char kb[64];
	const char *k;
	long kl = key_of(s, in, x->fid, kb, sizeof kb, &k, 1, err, errlen);
	if (kl < 0)
		return PLM_VERB_FAIL;
	if (plm_strmap_index(x->m.ids, k, (size_t)kl) != (long)x->rec) {
		snprintf(err, errlen, "input changed between the two passes");
		return PLM_VERB_FAIL;
	}
	memcpy(out, in, x->nin * sizeof *in);
	size_t nl;
	const char *nm = plm_strmap_key(x->names, x->m.split[x->rec], &nl);
	out[x->fsplit] = plm_v_str(nm, nl);
	x->rec++;
	return PLM_VERB_EMIT;
}

static int finish(void *ctx_, plm_verb *v, char *err, size_t errlen)
{
	ctx *x = ctx_;
	if (v->pass == 0) {
		between(x);
		return 0;
	}
	if (x->rec != x->m.n) {
		snprintf(err, errlen, "input changed between the two passes");
		return -1;
	}
	return 0;
}

/* An existing manifest is a frozen split: refused before any reading,
 * or with --force replaced, saying which split goes. */
static void guard_manifest(const char *path, int force)
{
	struct stat st;
	if (!strcmp(path, "-") || stat(path, &st))
		return;
	if (!force)
		plm_die("%s: manifest exists; a frozen split is never overwritten: "
			"reuse it with --lock %s, write a new path, or give --force "
			"to replace it", path, path);
	plm_manifest old = { 0 };
	char err[512], hex[33];
	if (plm_manifest_read(&old, path, err, sizeof err)) {
		plm_warn("--force: replacing %s (not a valid manifest: %s)", path, err);
	} else {
		char *sd = plm_manifest_get_info(&old, "seed");
		char *ra = plm_manifest_get_info(&old, "ratios");
		plm_h128_hex(old.digest, hex);
		plm_warn("--force: replacing manifest %s (%zu records, seed %s, "
			 "ratios %s, digest %s)", path, old.n, sd ? sd : "?",
			 ra ? ra : "?", hex);
		free(sd);
		free(ra);
	}
	plm_manifest_free(&old);
}

/* "name=R,..." with every ratio in its shortest exact form (into buf). */
static void canon_ratios(const plm_ratios *r, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < r->n && k < cap; i++) {
		char num[40];
		int nl = plm_fmt_f64(num, r->r[i]);
		k += (size_t)snprintf(buf + k, cap - k, "%s%s=%.*s", i ? "," : "",
				      r->name[i], nl, num);
	}
}

/* --then PARENT:NAME=R,...: the second level, the final splits (the first
 * level's, PARENT replaced in place by the second level's) and the maps. */
static void parse_then(const char *then, const plm_ratios *ra, plm_ratios *ra2,
		       plm_ratios *fin, ctx *x)
{
	char err[512];
	const char *colon = strchr(then, ':');
	if (!colon || colon == then)
		plm_usage_die("--then: '%s': expected SPLIT:NAME=RATIO,... (SPLIT one of --ratios)", then);
	size_t pl = (size_t)(colon - then);
	size_t p = ra->n;
	for (size_t s = 0; s < ra->n; s++)
		if (strlen(ra->name[s]) == pl && !memcmp(ra->name[s], then, pl))
			p = s;
	if (p == ra->n)
		plm_usage_die("--then: '%.*s' is not a split of --ratios", (int)pl, then);
	if (plm_ratios_parse(colon + 1, ra2, err, sizeof err))
		plm_usage_die("--then: %s", err);
	for (size_t j = 0; j < ra2->n; j++)
		for (size_t s = 0; s < ra->n; s++)
			if (s != p && !strcmp(ra2->name[j], ra->name[s]))
				plm_usage_die("--then: split '%s' is already a split of --ratios", ra->name[s]);
	size_t n = ra->n - 1 + ra2->n;
	fin->name = plm_xrealloc(NULL, n * sizeof *fin->name);
	fin->r = plm_xrealloc(NULL, n * sizeof *fin->r);
	x->map1 = plm_xrealloc(NULL, ra->n * sizeof *x->map1);
	x->map2 = plm_xrealloc(NULL, ra2->n * sizeof *x->map2);
	for (size_t s = 0; s < ra->n; s++) {
		if (s != p) {
			x->map1[s] = (uint32_t)fin->n;
			fin->name[fin->n] = strdup(ra->name[s]);
			fin->r[fin->n++] = ra->r[s];
			continue;
		}
		for (size_t j = 0; j < ra2->n; j++) {
			x->map2[j] = (uint32_t)fin->n;
			fin->name[fin->n] = strdup(ra2->name[j]);
			fin->r[fin->n++] = ra->r[s] * ra2->r[j];
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!fin->name[i])
			plm_die("out of memory");
	x->parent = (uint32_t)p;
}

/* The recipe lines of a fresh run, in a fixed order. */
static int recipe(plm_manifest *m, long long seed, const plm_ratios *ra,
		  const plm_ratios *ra2, uint32_t parent, const ctx *x)
{
	char b[4096], t[4200];
	snprintf(b, sizeof b, "%lld", seed);
	if (plm_manifest_info(m, "seed", b))
		return -1;
	canon_ratios(ra, b, sizeof b);
	if (ra->n && plm_manifest_info(m, "ratios", b))
		return -1;
	if (ra2) {
		canon_ratios(ra2, b, sizeof b);
		snprintf(t, sizeof t, "%s:%s", ra->name[parent], b);
		if (plm_manifest_info(m, "then", t))
			return -1;
	}
	size_t k = 0;
	for (int i = 0; i < x->nby && k < sizeof b; i++)
		k += (size_t)snprintf(b + k, sizeof b - k, "%s%s", i ? "," : "", x->by[i]);
	if (x->nby && plm_manifest_info(m, "by", b))
		return -1;
	if (x->groupf && plm_manifest_info(m, "group", x->groupf))
		return -1;
	return 0;
}

/* A recorded ratios value in canonical form (manifests of version 1 kept
 * the text as given); "PARENT:" kept in front for then. */
static char *canon_recorded(const char *key, char *v)
{
	if (!v || (strcmp(key, "ratios") && strcmp(key, "then")))
		return v;
	char *r = strchr(v, ':'), err[256], b[4096];
	char *spec = !strcmp(key, "then") && r ? r + 1 : v;
	plm_ratios p;
	if (plm_ratios_parse(spec, &p, err, sizeof err))
		return v;
	canon_ratios(&p, b, sizeof b);
	plm_ratios_free(&p);
	size_t pre = (size_t)(spec - v);
	char *o = plm_xrealloc(NULL, pre + strlen(b) + 1);
	memcpy(o, v, pre);
	strcpy(o + pre, b);
	free(v);
	return o;
}

/* --lock with recipe options: every element must equal the manifest's
 * (an element given on one side only differs too). */
static void check_recipe(const plm_manifest *want, const plm_manifest *lk,
			 const char *path)
{
	static const char *const keys[] = { "seed", "ratios", "then", "by",
					    "group", "import" };
	size_t nd = 0;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		char *a = plm_manifest_get_info(want, keys[i]);
		char *b = canon_recorded(keys[i], plm_manifest_get_info(lk, keys[i]));
		if (a || b) {
			if (!a || !b || strcmp(a, b)) {
				nd++;
				plm_warn("%s: recipe differs: %s is %s here, %s in the locked split",
					 path, keys[i], a ? a : "(none)", b ? b : "(none)");
			}
		}
		free(a);
		free(b);
	}
	if (nd)
		plm_die("%s: %zu recipe element(s) differ from the locked split; "
			"the split is never regenerated silently (drop the options "
			"to reuse it as it is)", path, nd);
}

/* --import FILE: a stream with the --id field and a str field split into
 * x->lk (hashes 0); ids given twice are listed and counted. */
static void read_import(ctx *x, const char *path)
{
	char err[512], kb[64];
	char *paths[1] = { (char *)path };
	const plm_val *row;
	plm_recin *r = plm_recin_open(1, paths, err, sizeof err);
	if (!r)
		plm_die("%s", err);
	if (plm_manifest_init(&x->lk))
		plm_die("out of memory");
	int rc, fi = -1, fs = -1;
	const plm_schema *s = plm_recin_schema(r);
	for (int sec = 1; (rc = plm_recin_next(r, &row)) != PLM_EOF; sec = 0) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(r));
		if (sec || rc == PLM_HEADER) {
			fi = plm_schema_find(s, x->idf);
			fs = plm_schema_find(s, "split");
			if (fi < 0 || fs < 0 || s->f[fs].type != PLM_T_STR ||
			    need_field(s, x->idf, "--id", err, sizeof err) < 0)
				plm_die("%s: --import needs fields '%s' and 'split' (str)",
					path, x->idf);
			if (rc == PLM_HEADER)
				continue;
		}
		const char *k;
		long kl = key_of(s, row, fi, kb, sizeof kb, &k, 1, err, sizeof err);
		if (kl < 0 || row[fs].nil || !row[fs].n)
			plm_die("%s: record %llu: %s", path,
				(unsigned long long)plm_recin_file_recno(r),
				kl < 0 ? err : "missing split name");
		int dup;
		if (plm_manifest_add(&x->lk, k, (size_t)kl, (plm_h128){ 0, 0 },
				     row[fs].s, row[fs].n, &dup)) {
			if (!dup)
				plm_die("out of memory");
			if (x->ndup++ < 20)
				plm_warn("%s: record %llu: id '%.*s' is assigned more than once",
					 path, (unsigned long long)plm_recin_file_recno(r),
					 (int)kl, k);
		}
	}
	plm_recin_close(r);
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *ratios = NULL, *by = NULL, *manifest = NULL, *lock = NULL;
	const char *then = NULL, *import = NULL;
	long long seed = -1;
	int force = 0;
	ctx x = { .idf = "id", .seqf = "seq" };
	const plm_opt opts[] = {
		PLM_STR('r', "ratios", &ratios, "NAME=R,...", "split names and ratios, summing to 1 (train=0.8,val=0.1,test=0.1)"),
		PLM_STR(0, "then", &then, "SPLIT:NAME=R,...", "split SPLIT of --ratios again, per stratum (train:train=0.9,val=0.1)"),
		PLM_STR('b', "by", &by, "FIELD,...", "stratify by these fields"),
		PLM_STR('g', "group", &x.groupf, "FIELD", "keep records with the same FIELD value in one split"),
		PLM_INT('s', "seed", &seed, "N", "seed of the assignment (default 11)", 0, 0x7fffffffffffffffLL),
		PLM_STR(0, "id", &x.idf, "FIELD", "unique record id (default id)"),
		PLM_STR(0, "seq", &x.seqf, "FIELD", "sequence hashed into the manifest (default seq)"),
		PLM_STR(0, "manifest", &manifest, "FILE", "write the split manifest with its digest to FILE"),
		PLM_FLAG(0, "force", &force, "replace an existing --manifest FILE (a frozen split is otherwise never overwritten)"),
		PLM_STR(0, "lock", &lock, "FILE", "reproduce the split in manifest FILE; fail if the input (or a recipe option given) differs"),
		PLM_STR(0, "import", &import, "FILE", "take the split from FILE's id and split fields; every input id exactly once"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	char err[512];
	int i = plm_start("strat-split", argc, argv, opts, operands, summary);
	if (lock && (manifest || import))
		plm_usage_die("--lock takes the split from its manifest: --manifest and --import do not apply");
	if (import && (ratios || then || by || x.groupf || seed >= 0))
		plm_usage_die("--import takes the split from FILE: --ratios, --then, --by, --group and --seed do not apply");
	if (!lock && !import && !ratios)
		plm_usage_die("--ratios is required (or --lock FILE, or --import FILE)");
	if (then && !ratios)
		plm_usage_die("--then divides a split of --ratios: give --ratios");
	plm_ratios ra = { 0 }, ra2 = { 0 }, fin = { 0 };
	if (ratios && plm_ratios_parse(ratios, &ra, err, sizeof err))
		plm_usage_die("--ratios: %s", err);
	if (then)
		parse_then(then, &ra, &ra2, &fin, &x);
	char *bycopy = NULL;    /* x.by[] point into it */
	if (by) {
		char *b = bycopy = strdup(by), *save = NULL;
		if (!b)
			plm_die("out of memory");
		for (char *t = strtok_r(b, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (x.nby == MAX_BY)
				plm_usage_die("--by: at most %d fields", MAX_BY);
			x.by[x.nby++] = t;
		}
		if (!x.nby)
			plm_usage_die("--by: no field named");
	}
	plm_common_format(&c);  /* -T with -M: a usage error, before reading */
	if (force && !manifest)
		plm_usage_die("--force applies to --manifest FILE only");
	if (manifest)
		guard_manifest(manifest, force);
	x.need_hash = manifest || lock;

	if (lock && plm_manifest_read(&x.lk, lock, err, sizeof err))
		plm_die("%s", err);
	if (plm_manifest_init(&x.m))
		plm_die("out of memory");
	x.groups = plm_strmap_new();
	x.strata = plm_strmap_new();
	x.gs = plm_strmap_new();
	if (!x.groups || !x.strata || !x.gs)
		plm_die("out of memory");
	const plm_ratios *fr = then ? &fin : &ra;
	for (size_t s = 0; s < fr->n; s++) {   /* split index = ratio index */
		int added;
		uint64_t *v = plm_strmap_put(x.m.splits, fr->name[s], strlen(fr->name[s]), &added);
		if (!v)
			plm_die("out of memory");
		*v = s;
	}
	int given = ratios || then || by || x.groupf || seed >= 0;
	if (seed < 0)
		seed = PLM_DEFAULT_SEED;
	if (import) {
		read_import(&x, import);
		char hex[33];
		plm_h128 d;
		if (plm_manifest_cols_digest(&x.lk, PLM_MCOL_SPLIT, &d) ||
		    plm_manifest_info(&x.m, "import", plm_h128_hex(d, hex)))
			plm_die("out of memory");
	} else if (lock && given) {
		plm_manifest want;
		if (plm_manifest_init(&want) ||
		    recipe(&want, seed, &ra, then ? &ra2 : NULL, x.parent, &x))
			plm_die("out of memory");
		check_recipe(&want, &x.lk, lock);
		plm_manifest_free(&want);
	} else if (!lock) {
		if (recipe(&x.m, seed, &ra, then ? &ra2 : NULL, x.parent, &x))
			plm_die("out of memory");
	}
	x.ra = &ra;
	x.ra2 = then ? &ra2 : NULL;
	x.fin = fr;
	x.import = import;
	x.lock = lock;
	x.manifest = manifest;
	x.seed = import ? -1 : seed;

	/* the first pass reads the ids, the second writes the records */
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .finish = finish, .passes = 2 };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (x.mo && plm_out_close(x.mo, err, sizeof err))
		plm_die("%s", err);
	plm_manifest_free(&x.m);
	if (lock || import)
		plm_manifest_free(&x.lk);
	plm_strmap_free(x.groups);
	plm_strmap_free(x.strata);
	plm_strmap_free(x.gs);
	free(x.rec_item);
	free(x.rec_stratum);
	plm_ratios_free(&ra);
	plm_ratios_free(&ra2);
	plm_ratios_free(&fin);
	free(x.map1);
	free(x.map2);
	free(bycopy);
	return 0;
}
