/* leak-check — exact and near-duplicate sequences across splits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/extsort.h"
#include "plm/fields.h"
#include "plm/hash.h"
#include "plm/kmer_index.h"
#include "plm/map.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"report identical and near-identical sequences in different splits; exit 1 on a forbidden pair";

/* One record: its id and sequence in the arena, its split and hash. */
typedef struct item {
	size_t id_off, seq_off;
	uint32_t id_len;
	uint8_t split;
	plm_h128 hash;
} item;

typedef struct data {
	size_t n, icap, lcap;
	item *it;
	uint32_t *seq_len;     /* apart: plm_kmer_pairs() takes the array */
	char *arena;           /* ids then sequences, packed */
	size_t alen, acap;
	plm_strmap *splits;
	const char *idf, *seqf, *splitf;
	int fi, fs, fp;        /* the fields in the current section */
	plm_schema out;        /* the first section's output fields */
	struct search *search;
} data;

static const plm_fieldspec cols[] = {
	{ "a", PLM_T_STR, 0 }, { "b", PLM_T_STR, 0 },
	{ "split_a", PLM_T_STR, 0 }, { "split_b", PLM_T_STR, 0 },
	{ "sim", PLM_T_FLOAT, 0 }, { "exact", PLM_T_BOOL, 0 },
};

static size_t put(data *d, const char *s, size_t n)
{
	PLM_XGROW(d->arena, d->acap, d->alen + n);
	if (n)
		memcpy(d->arena + d->alen, s, n);
	d->alen += n;
	return d->alen - n;
}

static int field(const plm_schema *s, const char *name, const char *opt,
		 char *err, size_t errlen)
{
	int i = plm_schema_find(s, name);
	if (i < 0)
		plm_nofield(err, errlen, s, "no field '%s' (%s)", name, opt);
	else if (s->f[i].type != PLM_T_STR)
		snprintf(err, errlen, "field '%s' (%s) must be str", name, opt);
	else
		return i;
	return -1;
}

/* Every section has the fields of the first's report: the first input's
 * meta stands for the run. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	data *d = ctx;
	if ((d->fi = field(in, d->idf, "--id", err, errlen)) < 0 ||
	    (d->fs = field(in, d->seqf, "--seq", err, errlen)) < 0 ||
	    (d->fp = field(in, d->splitf, "--split", err, errlen)) < 0)
		return -1;
	if (!d->out.f && plm_schema_fields(&d->out, in, cols,
					   sizeof cols / sizeof *cols, 0, 0))
		return -1;
	return plm_schema_copy(out, &d->out);
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	data *d = ctx;
	const plm_val *id = &in[d->fi], *seq = &in[d->fs], *sp = &in[d->fp];
	(void)out;
	if (id->nil || seq->nil || sp->nil) {
		snprintf(err, errlen, "missing value in field '%s'",
			 id->nil ? d->idf : seq->nil ? d->seqf : d->splitf);
		return PLM_VERB_FAIL;
	}
	if (seq->n > UINT32_MAX || id->n > UINT32_MAX) {
		snprintf(err, errlen, "value too long");
		return PLM_VERB_FAIL;
	}
	int added;
	long split = plm_intern(d->splits, sp->s, sp->n, &added);
	if (split < 0)
		plm_oom();
	if (added && split >= 250) {
		snprintf(err, errlen, "more than 250 distinct splits");
		return PLM_VERB_FAIL;
	}
	PLM_XGROW(d->it, d->icap, d->n + 1);
	PLM_XGROW(d->seq_len, d->lcap, d->n + 1);
	item *x = &d->it[d->n];
	x->split = (uint8_t)split;
	x->id_off = put(d, id->s, id->n);
	x->id_len = (uint32_t)id->n;
	x->seq_off = put(d, seq->s, seq->n);
	x->hash = plm_seq_hash(seq->s, seq->n);
	d->seq_len[d->n++] = (uint32_t)seq->n;
	return PLM_VERB_SKIP;
}

/* want[a][b] = 1 for a forbidden pair of splits; from[a][b] = 1 when a
 * is the side named first (the pair is reported as a, b in that order). */
static void parse_forbid(const char *spec, data *d, unsigned char *want,
			 unsigned char *from, size_t ns, int given)
{
	char *s = strdup(spec), *save = NULL;
	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');
		if (!colon || colon == t || !colon[1])
			plm_usage_die("--forbid: '%s': expected SPLIT:SPLIT", t);
		*colon = 0;
		const char *b = colon + 1;
		if (strcmp(t, b) == 0)
			plm_usage_die("--forbid: '%s:%s': a split cannot leak into itself", t, b);
		long ia = plm_strmap_index(d->splits, t, strlen(t));
		long ib = plm_strmap_index(d->splits, b, strlen(b));
		if (ia < 0 || ib < 0) {
			if (given)
				plm_warn("note: --forbid %s:%s: no record in split '%s'", t, b, ia < 0 ? t : b);
			continue;
		}
		want[ia * ns + ib] = want[ib * ns + ia] = 1;
		from[ia * ns + ib] = 1;
		from[ib * ns + ia] = 0;
	}
	free(s);
}

/* A pair found; sorted on disk when there are more than --mem holds. */
typedef struct hit {
	uint32_t a, b;         /* record indices, a on the "from" side */
	double sim;
	uint32_t exact, pad;   /* pad: no uninitialised bytes are written */
} hit;

static int hit_cmp(const void *pa, const void *pb)
{
	const hit *x = pa, *y = pb;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

static const data *sort_d;

static int by_hash(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	const plm_h128 *x = &sort_d->it[a].hash, *y = &sort_d->it[b].hash;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int same_seq(const data *d, uint32_t a, uint32_t b)
{
	return d->it[a].hash.hi == d->it[b].hash.hi &&
	       d->it[a].hash.lo == d->it[b].hash.lo;
}

/* The search: the forbidden pairs of splits and what was found. */
struct search {
	data *d;
	const char *forbid;
	double min_sim;
	long long k, scale, max_occ, threads;
	size_t ns;
	unsigned char *want, *from;
	plm_extsort *sort;     /* the pairs, by (a, b) */
	size_t nh, nexact;
	long long max_per;     /* pairs written per record a; 0: all */
	uint64_t nout;         /* pairs written */
	plm_kmer_stats st;
};

static void add_hit(struct search *x, uint32_t a, uint32_t b, double sim,
		    int exact)
{
	const item *it = x->d->it;
	char err[256];
	if (!x->from[it[a].split * x->ns + it[b].split]) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	hit h = { a, b, sim, (uint32_t)exact, 0 };
	if (plm_extsort_add(x->sort, &h, err, sizeof err))
		plm_die("%s", err);
	x->nh++;
}

/* Exact duplicates: runs of equal hashes. */
static void find_exact(struct search *x)
{
	const data *d = x->d;
	uint32_t *ord = plm_xmalloc(d->n * sizeof *ord);
	for (size_t r = 0; r < d->n; r++)
		ord[r] = (uint32_t)r;
	sort_d = d;
	if (d->n)
		qsort(ord, d->n, sizeof *ord, by_hash);
	for (size_t a = 0; a < d->n;) {
		size_t b = a + 1;
		while (b < d->n && same_seq(d, ord[b], ord[a]))
			b++;
		for (size_t i = a; i < b; i++)
			for (size_t j = i + 1; j < b; j++)
				if (x->want[d->it[ord[i]].split * x->ns +
					    d->it[ord[j]].split]) {
					add_hit(x, ord[i], ord[j], 1.0, 1);
					x->nexact++;
				}
		a = b;
	}
	free(ord);
}

/* Pairs from the k-mer index go straight to the sorter (one thread at a
 * time): they are never all in memory. */
static int near_pairs(void *arg, const plm_kmer_pair *p, size_t n)
{
	struct search *x = arg;
	for (size_t i = 0; i < n; i++)
		if (!same_seq(x->d, p[i].a, p[i].b))  /* else reported as exact */
			add_hit(x, p[i].a, p[i].b, p[i].sim, 0);
	return 0;
}

/* Near duplicates: only records of splits in some forbidden pair. */
static int find_near(struct search *x, char *err, size_t errlen)
{
	const data *d = x->d;
	size_t ns = x->ns;
	uint8_t *cls = plm_xmalloc(d->n);
	const char **seq = plm_xmalloc(d->n * sizeof *seq);
	unsigned char *involved = plm_xcalloc(ns + 1, 1);
	for (size_t a = 0; a < ns; a++)
		for (size_t b = 0; b < ns; b++)
			involved[a] |= x->want[a * ns + b];
	for (size_t r = 0; r < d->n; r++) {
		uint8_t sp = d->it[r].split;
		cls[r] = involved[sp] ? sp : 0xff;
		seq[r] = d->arena + d->it[r].seq_off;
	}
	plm_kmer_opts ko = { (int)x->k, (uint32_t)x->scale,
			     plm_kmer_short_max((uint32_t)x->scale, x->min_sim),
			     (uint32_t)x->max_occ, x->min_sim, (int)x->threads };
	int rc = plm_kmer_pairs_fn(seq, d->seq_len, d->n, cls, x->want, ns,
				   &ko, near_pairs, x, &x->st, err, errlen);
	free(cls);
	free(seq);
	free(involved);
	return rc;
}

static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	data *d = ctx;
	struct search *x = d->search;
	size_t ns = x->ns = plm_strmap_size(d->splits);
	x->want = plm_xcalloc(ns * ns + 1, 1);
	x->from = plm_xcalloc(ns * ns + 1, 1);
	parse_forbid(x->forbid, d, x->want, x->from, ns,
		     strcmp(x->forbid, "train:test,val:test") != 0);
	find_exact(x);
	if (find_near(x, err, errlen))
		plm_die("%s", err);
	if (plm_extsort_sort(x->sort, err, errlen))
		plm_die("%s", err);
	const void *p;
	int rc;
	uint32_t last = UINT32_MAX;
	long long run = 0;
	while ((rc = plm_extsort_next(x->sort, &p, err, errlen)) > 0) {
		const hit *h = p;
		run = h->a == last ? run + 1 : 1;
		last = h->a;
		if (x->max_per && run > x->max_per)
			continue;
		const item *a = &d->it[h->a], *b = &d->it[h->b];
		size_t la, lb;
		const char *sa = plm_strmap_key(d->splits, a->split, &la);
		const char *sb = plm_strmap_key(d->splits, b->split, &lb);
		plm_val row[6] = {
			plm_v_str(d->arena + a->id_off, a->id_len),
			plm_v_str(d->arena + b->id_off, b->id_len),
			plm_v_str(sa, la), plm_v_str(sb, lb),
			plm_v_float(h->sim), plm_v_int(h->exact),
		};
		plm_verb_emit(v, row);
		x->nout++;
	}
	if (rc < 0)
		plm_die("%s", err);
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	double min_sim = 0.5;
	long long k = 5, scale = 8, max_occ = 20000, threads = 0, max_per = 0;
	const char *forbid = "train:test,val:test", *idf = "id", *seqf = "seq";
	const char *mem = "64M";
	const char *splitf = "split";
	const plm_opt opts[] = {
		PLM_DBL(0, "min-sim", &min_sim, "SIM", "report near-duplicates with k-mer containment >= SIM (default 0.5)", 1e-9, 1),
		PLM_INT(0, "kmer", &k, "K", "k-mer length, 3..6 (default 5)", 3, 6),
		PLM_STR(0, "forbid", &forbid, "A:B,...", "split pairs that must not share sequences (default train:test,val:test)"),
		PLM_INT(0, "scale", &scale, "S", "index 1 in S k-mers of long sequences (default 8; 1 = all)", 1, 1 << 20),
		PLM_INT(0, "max-occ", &max_occ, "N", "skip k-mers indexed for more than N sequences when finding candidates (default 20000; 0 = none)", 0, 0xffffffffLL),
		PLM_INT(0, "threads", &threads, "N", "search threads (default: online CPUs, at most 8)", 1, 256),
		PLM_INT(0, "max-pairs-per-record", &max_per, "N", "write at most the first N pairs of each record a (default 0: all)", 0, 0xffffffffLL),
		PLM_STR(0, "mem", &mem, "SIZE", "memory for the pairs before they are sorted on disk, as sort -S: 64M, 1G (default 64M)"),
		PLM_STR(0, "id", &idf, "FIELD", "record id (default id)"),
		PLM_STR(0, "seq", &seqf, "FIELD", "sequence (default seq)"),
		PLM_STR(0, "split", &splitf, "FIELD", "split name (default split)"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPT_END_,
	};
	int i = plm_start("leak-check", argc, argv, opts, operands, summary);
	if (!threads) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		threads = nc < 1 ? 1 : nc > 8 ? 8 : nc;
	}
	size_t memb;
	if (plm_size_parse(mem, &memb))
		plm_usage_die("--mem: '%s': want a size such as 500k, 64M or 2G", mem);
	data d = { .idf = idf, .seqf = seqf, .splitf = splitf };
	if (!(d.splits = plm_strmap_new()))
		plm_oom();
	struct search x = { .d = &d, .forbid = forbid, .min_sim = min_sim,
			    .k = k, .scale = scale, .max_occ = max_occ,
			    .threads = threads, .max_per = max_per };
	if (!(x.sort = plm_extsort_new(sizeof (hit), memb, hit_cmp, NULL)))
		plm_oom();
	d.search = &x;
	/* the driver reads the input; the report is written at the end */
	plm_verb v = { .common = &c, .ctx = &d, .section = section,
		       .row = row, .finish = finish };
	plm_verb_run(&v, argc - i, argv + i);
	if (x.st.empty)
		plm_warn("note: %llu sequence(s) have no %lld-mer of standard amino acids: checked for exact duplicates only",
			 (unsigned long long)x.st.empty, k);
	if (x.nh)
		plm_warn("%zu pair(s) cross forbidden split boundaries (%zu exact, %zu near-duplicate at sim >= %g)",
			 x.nh, x.nexact, x.nh - x.nexact, min_sim);
	if (x.nout < x.nh)
		plm_warn("%llu of them written: at most %lld per record (--max-pairs-per-record)",
			 (unsigned long long)x.nout, max_per);
	if (getenv("PLM_LEAK_STATS"))
		plm_warn("stats: %zu records, %llu postings, %llu hits, %llu verified, %llu frequent k-mers skipped, index %zu bytes, %zu pair run(s) on disk",
			 d.n, (unsigned long long)x.st.postings, (unsigned long long)x.st.hits,
			 (unsigned long long)x.st.verified, (unsigned long long)x.st.frequent, x.st.bytes,
			 plm_extsort_runs(x.sort));
	plm_extsort_free(x.sort);
	free(x.want);
	free(x.from);
	free(d.it);
	free(d.seq_len);
	free(d.arena);
	plm_strmap_free(d.splits);
	plm_schema_free(&d.out);
	return x.nh ? 1 : 0;
}
