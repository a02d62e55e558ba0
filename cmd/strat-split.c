/* strat-split — stratified, grouped, seeded train/val/test split that does
 * not depend on input order; writes or checks a hash-locked manifest. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/map.h"
#include "plm/rng.h"
#include "plm/split.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-o FILE] (-r NAME=R,... [-b FIELD,...] [-g FIELD] [-s SEED] "
	"[--manifest FILE] | --lock FILE) [--id FIELD] [--seq FIELD] [FILE ...]";
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
	uint32_t *rec_item;    /* record → item (group or record) */
	size_t rcap;
	/* per item */
	plm_strmap *groups;    /* group key → item index */
	plm_strmap *strata;    /* stratum key → index */
	plm_strmap *gs;        /* (group, stratum) → record count */
	uint32_t *rec_stratum; /* without groups: record → stratum */
	/* field indices of the current input */
	int fid, fseq, fgroup, fby[MAX_BY];
} ctx;

/* An input that is read twice: a regular file by its path, anything else
 * (stdin, pipes) through a spool of its decompressed bytes, mapped. */
typedef struct input {
	const char *name;       /* for messages: "stdin" for "-" */
	char *path;             /* NULL: spooled */
	void *map;
	size_t len;
} input;

/* The spool file is unlinked as soon as it exists and read through the
 * mapping of its descriptor, so no kill (SIGPIPE, SIGKILL) can leave it
 * behind in the temporary directory. */
static int spool_file(const char *name)
{
	const char *dir = getenv("TMPDIR");
	int fd = -1;
	if (!dir || !*dir)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		char *tmp = plm_xrealloc(NULL, strlen(dir) + 32);
		sprintf(tmp, "%s/plm-strat-split.XXXXXX", dir);
		fd = mkstemp(tmp);
		if (fd >= 0)
			unlink(tmp);
		free(tmp);
	}
	if (fd < 0)
		plm_die("%s: cannot spool to %s: %s", name, dir, strerror(errno));
	return fd;
}

static void spool(input *f, const char *arg)
{
	struct stat st;
	f->name = strcmp(arg, "-") ? arg : "stdin";
	if (strcmp(arg, "-") != 0 && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		if (!(f->path = strdup(arg)))
			plm_die("out of memory");
		return;
	}
	char err[512];
	plm_in *in = plm_in_open(arg, err, sizeof err);
	if (!in)
		plm_die("%s", err);
	int fd = spool_file(f->name);
	for (;;) {
		ssize_t r = plm_in_fill(in);
		if (r < 0)
			plm_die("%s", plm_in_error(in));
		if (r == 0 && in->pos >= in->len)
			break;
		size_t n = in->len - in->pos;
		for (size_t off = 0; off < n;) {
			ssize_t w = write(fd, in->buf + in->pos + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				plm_die("%s: spooling: %s", f->name, strerror(errno));
			off += (size_t)w;
		}
		f->len += n;
		in->pos = in->len;
	}
	plm_in_close(in);
	if (f->len) {
		f->map = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f->map == MAP_FAILED)
			plm_die("%s: spooling: %s", f->name, strerror(errno));
	}
	close(fd);
}

static plm_reader *input_open(const input *f, char *err, size_t len)
{
	if (f->path)
		return plm_reader_open(f->path, err, len);
	plm_in *in = plm_in_mem(f->map ? f->map : "", f->len, f->name);
	if (!in) {
		snprintf(err, len, "%s: out of memory", f->name);
		return NULL;
	}
	return plm_reader_from(in, err, len);
}

static int need_field(const plm_schema *s, const char *name, const char *what,
		      const char *file)
{
	int i = plm_schema_find(s, name);
	if (i < 0)
		plm_die("%s: no field '%s' (%s)", file, name, what);
	enum plm_type t = s->f[i].type;
	if (t != PLM_T_STR && t != PLM_T_INT && t != PLM_T_BOOL && t != PLM_T_FLOAT)
		plm_die("%s: field '%s' (%s) must be a scalar, not a vector", file, name, what);
	return i;
}

static void bind_fields(ctx *x, const plm_schema *s, const char *file)
{
	x->fid = need_field(s, x->idf, "--id", file);
	x->fseq = plm_schema_find(s, x->seqf);
	if (x->need_hash && x->fseq < 0)
		plm_die("%s: no field '%s' (--seq; needed for the manifest)", file, x->seqf);
	if (x->fseq >= 0 && s->f[x->fseq].type != PLM_T_STR) {
		if (x->need_hash)
			plm_die("%s: field '%s' (--seq) must be str", file, x->seqf);
		x->fseq = -1;
	}
	x->fgroup = x->groupf ? need_field(s, x->groupf, "--group", file) : -1;
	for (int b = 0; b < x->nby; b++)
		x->fby[b] = need_field(s, x->by[b], "--by", file);
}

/* Text key of field f in row; dies on nil when must is set. */
static size_t key_of(const plm_schema *s, const plm_val *row, int f, char *buf,
		     size_t cap, const char **out, const char *where, int must)
{
	if (row[f].nil) {
		if (must)
			plm_die("%s: missing value in field '%s'", where, s->f[f].name);
		*out = "\\N";    /* a missing stratum value is a level of its own */
		return 2;
	}
	return (size_t)plm_val_key(&row[f], s->f[f].type, buf, cap, out);
}

static void first_pass_row(ctx *x, const plm_schema *s, const plm_val *row,
			   const char *where, int lock)
{
	char kb[64], sb[4096];
	const char *k;
	size_t kl = key_of(s, row, x->fid, kb, sizeof kb, &k, where, 1);
	plm_h128 h = { 0, 0 };
	if (x->fseq >= 0) {
		if (row[x->fseq].nil && x->need_hash)
			plm_die("%s: missing value in field '%s'", where, x->seqf);
		if (!row[x->fseq].nil)
			h = plm_seq_hash(row[x->fseq].s, row[x->fseq].n);
	}
	int dup;
	size_t r = x->m.n;
	if (plm_manifest_add(&x->m, k, kl, h, "", 0, &dup)) {
		if (!dup)
			plm_die("out of memory");
		plm_die("%s: duplicate id '%.*s'", where, (int)kl, k);
	}
	if (lock)
		return;
	/* stratum key: the --by values joined by '\x1f' */
	size_t sl = 0;
	for (int b = 0; b < x->nby; b++) {
		const char *v;
		char vb[64];
		size_t vl = key_of(s, row, x->fby[b], vb, sizeof vb, &v, where, 0);
		if (sl + vl + 1 >= sizeof sb)
			plm_die("%s: stratum value too long", where);
		if (b)
			sb[sl++] = '\x1f';
		memcpy(sb + sl, v, vl);
		sl += vl;
	}
	int added;
	uint64_t *sv = plm_strmap_put(x->strata, sb, sl, &added);
	if (!sv)
		plm_die("out of memory");
	if (added)
		*sv = plm_strmap_size(x->strata) - 1;
	uint32_t stratum = (uint32_t)*sv;
	if (r >= x->rcap) {
		x->rcap = x->rcap ? 2 * x->rcap : 4096;
		x->rec_item = plm_xrealloc(x->rec_item, x->rcap * sizeof *x->rec_item);
		x->rec_stratum = plm_xrealloc(x->rec_stratum, x->rcap * sizeof *x->rec_stratum);
	}
	x->rec_stratum[r] = stratum;
	if (x->fgroup < 0) {
		x->rec_item[r] = (uint32_t)r;
		return;
	}
	const char *g;
	char gb[64];
	size_t gl = key_of(s, row, x->fgroup, gb, sizeof gb, &g, where, 1);
	uint64_t *gv = plm_strmap_put(x->groups, g, gl, &added);
	if (!gv)
		plm_die("out of memory");
	if (added)
		*gv = plm_strmap_size(x->groups) - 1;
	x->rec_item[r] = (uint32_t)*gv;
	uint32_t pair[2] = { (uint32_t)*gv, stratum };
	uint64_t *c = plm_strmap_put(x->gs, pair, sizeof pair, &added);
	if (!c)
		plm_die("out of memory");
	++*c;
}

typedef struct out_ctx {
	plm_writer *w;
	plm_val *vals;
	int fsplit;
	size_t rec;
	plm_strmap *names;     /* split index → name */
} out_ctx;

/* Reads every input once, checking that all have the first one's fields.
 * o is NULL in the first pass. */
typedef void (*row_fn)(ctx *x, const plm_schema *s, const plm_val *row,
		       const char *where, int lock, out_ctx *o);

static void each_row(const input *ins, int n, ctx *x, plm_schema *first,
		     row_fn fn, int lock, out_ctx *o)
{
	char err[512], where[600];
	for (int p = 0; p < n; p++) {
		const char *name = ins[p].name;
		plm_reader *r = input_open(&ins[p], err, sizeof err);
		if (!r)
			plm_die("%s", err);
		const plm_schema *s = plm_reader_schema(r);
		if (!first->f && plm_schema_copy(first, s))
			plm_die("out of memory");
		if (!plm_schema_equal(first, s))
			plm_die("%s: fields differ from the first input (unify them with rec-cut first)", name);
		bind_fields(x, s, name);
		const plm_val *row;
		int rc;
		while ((rc = plm_reader_next(r, &row)) != PLM_EOF) {
			if (rc == PLM_ERR) {
				if (o)
					plm_writer_abort(o->w);
				plm_die("%s", plm_reader_error(r));
			}
			if (rc == PLM_HEADER)
				plm_die("%s: a later section has different fields (unify them first)", name);
			snprintf(where, sizeof where, "%s: record %llu", name,
				 (unsigned long long)plm_reader_recno(r));
			fn(x, s, row, where, lock, o);
		}
		plm_reader_close(r);
	}
}

static void pass1(ctx *x, const plm_schema *s, const plm_val *row,
		  const char *where, int lock, out_ctx *o)
{
	(void)o;
	first_pass_row(x, s, row, where, lock);
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

static uint32_t *assign(ctx *x, const plm_ratios *ra, uint64_t seed)
{
	size_t nrec = x->m.n;
	size_t ni = x->fgroup >= 0 ? plm_strmap_size(x->groups) : nrec;
	plm_split_item *it = calloc(ni ? ni : 1, sizeof *it);
	uint32_t *isplit = plm_xrealloc(NULL, ni * sizeof *isplit);
	if (!it)
		plm_die("out of memory");
	uint32_t *gst = NULL;
	if (x->fgroup >= 0) {
		size_t spanning;
		gst = group_strata(x, ni, &spanning);
		if (spanning && x->nby)
			plm_warn("note: %zu group(s) have records in more than one stratum; each is placed by the stratum of most of its records",
				 spanning);
	}
	for (size_t i = 0; i < ni; i++) {
		plm_strmap *keys = x->fgroup >= 0 ? x->groups : x->m.ids;
		it[i].key = plm_strmap_key(keys, i, &it[i].keylen);
		it[i].order = plm_split_order(seed, it[i].key, it[i].keylen);
		it[i].stratum = gst ? gst[i] : x->rec_stratum[i];
		it[i].tag = i;
	}
	for (size_t r = 0; r < nrec; r++)
		it[x->fgroup >= 0 ? x->rec_item[r] : r].weight++;
	if (plm_split_assign(it, ni, ra))
		plm_die("out of memory");
	for (size_t i = 0; i < ni; i++)
		isplit[it[i].tag] = it[i].split;
	free(it);
	free(gst);
	return isplit;
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

static void pass2(ctx *x, const plm_schema *s, const plm_val *row,
		  const char *where, int lock, out_ctx *o)
{
	(void)lock;
	char kb[64];
	const char *k;
	size_t kl = key_of(s, row, x->fid, kb, sizeof kb, &k, where, 1);
	if (plm_strmap_index(x->m.ids, k, kl) != (long)o->rec) {
		plm_writer_abort(o->w);
		plm_die("%s: input changed between the two passes", where);
	}
	memcpy(o->vals, row, s->n * sizeof *row);
	size_t nl;
	const char *nm = plm_strmap_key(o->names, x->m.split[o->rec], &nl);
	o->vals[o->fsplit] = plm_v_str(nm, nl);
	if (plm_writer_row(o->w, o->vals)) {
		char err[512];
		snprintf(err, sizeof err, "%s", plm_writer_error(o->w));
		plm_writer_abort(o->w);
		plm_die("%s", err);
	}
	o->rec++;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *ratios = NULL, *by = NULL, *manifest = NULL, *lock = NULL;
	long long seed = -1;
	ctx x = { .idf = "id", .seqf = "seq" };
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&c),
		PLM_STR('r', "ratios", &ratios, "NAME=R,...", "split names and ratios, summing to 1 (train=0.8,val=0.1,test=0.1)"),
		PLM_STR('b', "by", &by, "FIELD,...", "stratify by these fields"),
		PLM_STR('g', "group", &x.groupf, "FIELD", "keep records with the same FIELD value in one split"),
		PLM_INT('s', "seed", &seed, "N", "seed of the assignment (default 11)", 0, 0x7fffffffffffffffLL),
		PLM_STR(0, "id", &x.idf, "FIELD", "unique record id (default id)"),
		PLM_STR(0, "seq", &x.seqf, "FIELD", "sequence hashed into the manifest (default seq)"),
		PLM_STR(0, "manifest", &manifest, "FILE", "write the split manifest with its digest to FILE"),
		PLM_STR(0, "lock", &lock, "FILE", "reproduce the split in manifest FILE; fail if the input differs"),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("strat-split", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
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
	int fmt = plm_common_format(&c);
	x.need_hash = manifest || lock;

	plm_manifest lk;
	if (lock && plm_manifest_read(&lk, lock, err, sizeof err))
		plm_die("%s", err);

	int n = i < argc ? argc - i : 1;
	input *ins = calloc((size_t)n, sizeof *ins);
	if (!ins)
		plm_die("out of memory");
	for (int p = 0; p < n; p++)
		spool(&ins[p], i < argc ? argv[i + p] : "-");
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

	plm_schema in = { 0 };
	each_row(ins, n, &x, &in, pass1, lock != NULL, NULL);

	plm_strmap *split_names = x.m.splits;
	if (lock) {
		check_lock(&x, &lk, lock);
		split_names = lk.splits;
		char *sv = plm_manifest_get_info(&lk, "seed");
		long long ls;
		if (sv && plm_strtoll(sv, 0, 0x7fffffffffffffffLL, &ls) == 0)
			seed = ls;
		else
			seed = -1;
		free(sv);
	} else {
		uint32_t *isplit = assign(&x, &ra, (uint64_t)seed);
		for (size_t r = 0; r < x.m.n; r++)
			x.m.split[r] = isplit[x.rec_item[r]];
		free(isplit);
		report_tiny(&x, &ra);
	}

	char hex[33] = "";
	plm_out *mo = NULL;
	if (lock) {
		plm_h128_hex(lk.digest, hex);
	} else if (manifest) {
		mo = plm_out_open(manifest, err, sizeof err);
		if (!mo)
			plm_die("%s", err);
		if (plm_manifest_write(&x.m, mo))
			plm_die("%s: %s", manifest, plm_out_error(mo));
		plm_h128_hex(x.m.digest, hex);
	} else if (x.fseq >= 0) {
		if (plm_manifest_digest(&x.m))
			plm_die("out of memory");
		plm_h128_hex(x.m.digest, hex);
	}

	plm_schema out;
	if (plm_schema_copy(&out, &in))
		plm_die("out of memory");
	out_ctx o = { .names = split_names };
	o.fsplit = plm_schema_add(&out, "split", PLM_T_STR, 0);
	plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), seed >= 0, (uint64_t)seed);
	if (hex[0])
		plm_schema_prov_set(&out, "split_digest", hex);
	if (lock)
		plm_schema_prov_set(&out, "split_lock", lock);
	o.w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!o.w)
		plm_die("%s", err);
	o.vals = plm_xrealloc(NULL, out.n * sizeof *o.vals);
	each_row(ins, n, &x, &in, pass2, 0, &o);
	if (o.rec != x.m.n) {
		plm_writer_abort(o.w);
		plm_die("input changed between the two passes");
	}
	if (plm_writer_close(o.w, err, sizeof err))
		plm_die("%s", err);
	if (mo && plm_out_close(mo, err, sizeof err))
		plm_die("%s", err);
	for (int p = 0; p < n; p++) {
		if (ins[p].map)
			munmap(ins[p].map, ins[p].len);
		free(ins[p].path);
	}
	free(ins);
	free(o.vals);
	plm_schema_free(&out);
	plm_schema_free(&in);
	plm_manifest_free(&x.m);
	if (lock)
		plm_manifest_free(&lk);
	plm_strmap_free(x.groups);
	plm_strmap_free(x.strata);
	plm_strmap_free(x.gs);
	free(x.rec_item);
	free(x.rec_stratum);
	plm_ratios_free(&ra);
	free(bycopy);
	return 0;
}
