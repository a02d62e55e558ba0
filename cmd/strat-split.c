/* strat-split — stratified, grouped, seeded train/val/test split that does
 * not depend on input order; writes or checks a hash-locked manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/fields.h"
#include "plm/hash.h"
#include "plm/map.h"
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
	const plm_ratios *ra;
	const char *ratios, *manifest, *lock;
	plm_manifest lk;        /* --lock's manifest */
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
	for (size_t i = 0; i < ni; i++) {
		size_t kl;
		const char *k = plm_strmap_key(keys, i, &kl);
		it[i].order = plm_split_order(seed, k, kl);
		it[i].stratum = gst ? gst[i] : x->rec_stratum[i];
		it[i].tag = (uint32_t)i;
	}
	if (plm_split_assign(it, ni, weight, item_key, keys, ra,
			     grouped ? gsplit : x->m.split))
		plm_die("out of memory");
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

/* --lock: the input must be exactly the manifest's records. */
static void check_lock(ctx *x, const plm_manifest *lk, const char *path)
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
				plm_warn("%s: new id '%.*s' (not in the locked split)", path, (int)il, id);
			continue;
		}
		seen[mi] = 1;
		if (lk->hash[mi].hi != x->m.hash[r].hi || lk->hash[mi].lo != x->m.hash[r].lo) {
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
			plm_warn("%s: missing id '%.*s' (in the locked split, not in the input)", path, (int)il, id);
	}
	free(seen);
	if (nnew || nchg || nmiss)
		plm_die("%s: input does not match the locked split: %zu new, %zu missing, %zu changed id(s)",
			path, nnew, nmiss, nchg);
}

/* Between the passes: the split of every record, and the digest. */
static void between(ctx *x)
{
	char err[512];
	x->names = x->m.splits;
	if (x->lock) {
		check_lock(x, &x->lk, x->lock);
		x->names = x->lk.splits;
		char *sv = plm_manifest_get_info(&x->lk, "seed");
		long long ls;
		if (sv && plm_strtoll(sv, 0, 0x7fffffffffffffffLL, &ls) == 0)
			x->seed = ls;
		else
			x->seed = -1;
		free(sv);
	} else {
		assign(x, x->ra, (uint64_t)x->seed);
		report_tiny(x, x->ra);
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
	if (x->fsplit < 0 ||
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
		return first_pass_row(x, s, in, x->lock != NULL, err, errlen)
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

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *ratios = NULL, *by = NULL, *manifest = NULL, *lock = NULL;
	long long seed = -1;
	int force = 0;
	ctx x = { .idf = "id", .seqf = "seq" };
	const plm_opt opts[] = {
		PLM_STR('r', "ratios", &ratios, "NAME=R,...", "split names and ratios, summing to 1 (train=0.8,val=0.1,test=0.1)"),
		PLM_STR('b', "by", &by, "FIELD,...", "stratify by these fields"),
		PLM_STR('g', "group", &x.groupf, "FIELD", "keep records with the same FIELD value in one split"),
		PLM_INT('s', "seed", &seed, "N", "seed of the assignment (default 11)", 0, 0x7fffffffffffffffLL),
		PLM_STR(0, "id", &x.idf, "FIELD", "unique record id (default id)"),
		PLM_STR(0, "seq", &x.seqf, "FIELD", "sequence hashed into the manifest (default seq)"),
		PLM_STR(0, "manifest", &manifest, "FILE", "write the split manifest with its digest to FILE"),
		PLM_FLAG(0, "force", &force, "replace an existing --manifest FILE (a frozen split is otherwise never overwritten)"),
		PLM_STR(0, "lock", &lock, "FILE", "reproduce the split in manifest FILE; fail if the input differs"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	char err[512];
	int i = plm_start("strat-split", argc, argv, opts, operands, summary);
	if (lock && (ratios || by || x.groupf || seed >= 0 || manifest))
		plm_usage_die("--lock takes the split from its manifest: --ratios, --by, --group, --seed and --manifest do not apply");
	if (!lock && !ratios)
		plm_usage_die("--ratios is required (or --lock FILE)");
	plm_ratios ra = { 0 };
	if (ratios && plm_ratios_parse(ratios, &ra, err, sizeof err))
		plm_usage_die("--ratios: %s", err);
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
	for (size_t s = 0; s < ra.n; s++) {   /* split index = ratio index */
		int added;
		uint64_t *v = plm_strmap_put(x.m.splits, ra.name[s], strlen(ra.name[s]), &added);
		if (!v)
			plm_die("out of memory");
		*v = s;
	}
	if (seed < 0)
		seed = PLM_DEFAULT_SEED;
	if (!lock) {
		char sb[32];
		snprintf(sb, sizeof sb, "%lld", seed);
		plm_manifest_info(&x.m, "seed", sb);
		plm_manifest_info(&x.m, "ratios", ratios);
		if (by)
			plm_manifest_info(&x.m, "by", by);
		if (x.groupf)
			plm_manifest_info(&x.m, "group", x.groupf);
	}
	x.ra = &ra;
	x.lock = lock;
	x.manifest = manifest;
	x.seed = seed;

	/* the first pass reads the ids, the second writes the records */
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .finish = finish, .passes = 2 };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	if (x.mo && plm_out_close(x.mo, err, sizeof err))
		plm_die("%s", err);
	plm_manifest_free(&x.m);
	if (lock)
		plm_manifest_free(&x.lk);
	plm_strmap_free(x.groups);
	plm_strmap_free(x.strata);
	plm_strmap_free(x.gs);
	free(x.rec_item);
	free(x.rec_stratum);
	plm_ratios_free(&ra);
	free(bycopy);
	return 0;
}
