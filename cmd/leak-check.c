/* leak-check — exact and near-duplicate sequences across splits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/kmer_index.h"
#include "plm/map.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [-o FILE] [-s SIM] [-k K] [--forbid A:B,...] [--scale S] "
	"[--max-occ N] [--threads N] [--id FIELD] [--seq FIELD] [--split FIELD] [FILE ...]";
static const char summary[] =
	"report identical and near-identical sequences in different splits; exit 1 on a forbidden pair";

typedef struct data {
	size_t n, cap;
	char *arena;           /* ids then sequences, packed */
	size_t alen, acap;
	size_t *id_off, *seq_off;
	uint32_t *id_len, *seq_len;
	uint8_t *split;
	plm_h128 *hash;
	plm_strmap *splits;
} data;

static size_t put(data *d, const char *s, size_t n)
{
	if (d->alen + n > d->acap) {
		d->acap = (d->alen + n) * 3 / 2 + 65536;
		d->arena = plm_xrealloc(d->arena, d->acap);
	}
	memcpy(d->arena + d->alen, s, n);
	d->alen += n;
	return d->alen - n;
}

static int field(const plm_schema *s, const char *name, const char *opt, const char *file)
{
	int i = plm_schema_find(s, name);
	if (i < 0)
		plm_die("%s: no field '%s' (%s)", file, name, opt);
	if (s->f[i].type != PLM_T_STR)
		plm_die("%s: field '%s' (%s) must be str", file, name, opt);
	return i;
}

static void load(data *d, const char *path, const char *idf, const char *seqf,
		 const char *splitf, plm_schema *first)
{
	char err[512];
	plm_reader *r = plm_reader_open(path, err, sizeof err);
	if (!r)
		plm_die("%s", err);
	const char *name = path ? path : "stdin";
	const plm_schema *s = plm_reader_schema(r);
	if (!first->f && plm_schema_copy(first, s))
		plm_die("out of memory");
	int fi = field(s, idf, "--id", name), fs = field(s, seqf, "--seq", name);
	int fp = field(s, splitf, "--split", name);
	const plm_val *row;
	int rc;
	while ((rc = plm_reader_next(r, &row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_reader_error(r));
		if (rc == PLM_HEADER) {
			s = plm_reader_schema(r);
			fi = field(s, idf, "--id", name);
			fs = field(s, seqf, "--seq", name);
			fp = field(s, splitf, "--split", name);
			continue;
		}
		unsigned long long rec = (unsigned long long)plm_reader_recno(r);
		if (row[fi].nil || row[fs].nil || row[fp].nil)
			plm_die("%s: record %llu: missing value in field '%s'", name, rec,
				row[fi].nil ? idf : row[fs].nil ? seqf : splitf);
		if (row[fs].n > UINT32_MAX || row[fi].n > UINT32_MAX)
			plm_die("%s: record %llu: value too long", name, rec);
		if (d->n == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 4096;
			d->id_off = plm_xrealloc(d->id_off, d->cap * sizeof *d->id_off);
			d->seq_off = plm_xrealloc(d->seq_off, d->cap * sizeof *d->seq_off);
			d->id_len = plm_xrealloc(d->id_len, d->cap * sizeof *d->id_len);
			d->seq_len = plm_xrealloc(d->seq_len, d->cap * sizeof *d->seq_len);
			d->split = plm_xrealloc(d->split, d->cap);
			d->hash = plm_xrealloc(d->hash, d->cap * sizeof *d->hash);
		}
		int added;
		uint64_t *sv = plm_strmap_put(d->splits, row[fp].s, row[fp].n, &added);
		if (!sv)
			plm_die("out of memory");
		if (added) {
			if (plm_strmap_size(d->splits) > 250)
				plm_die("%s: record %llu: more than 250 distinct splits", name, rec);
			*sv = plm_strmap_size(d->splits) - 1;
		}
		d->split[d->n] = (uint8_t)*sv;
		d->id_off[d->n] = put(d, row[fi].s, row[fi].n);
		d->id_len[d->n] = (uint32_t)row[fi].n;
		d->seq_off[d->n] = put(d, row[fs].s, row[fs].n);
		d->seq_len[d->n] = (uint32_t)row[fs].n;
		d->hash[d->n] = plm_seq_hash(row[fs].s, row[fs].n);
		d->n++;
	}
	plm_reader_close(r);
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

typedef struct hit {
	uint32_t a, b;         /* record indices, a on the "from" side */
	double sim;
	int exact;
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
	const plm_h128 *x = &sort_d->hash[a], *y = &sort_d->hash[b];
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return a < b ? -1 : a > b;
}

static void add_hit(hit **h, size_t *n, size_t *cap, const data *d,
		    const unsigned char *from, size_t ns, uint32_t a, uint32_t b,
		    double sim, int exact)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*h = plm_xrealloc(*h, *cap * sizeof **h);
	}
	if (!from[d->split[a] * ns + d->split[b]]) {
		uint32_t t = a;
		a = b;
		b = t;
	}
	(*h)[(*n)++] = (hit){ a, b, sim, exact };
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	double min_sim = 0.5;
	long long k = 5, scale = 8, max_occ = 20000, threads = 0;
	const char *forbid = "train:test,val:test", *idf = "id", *seqf = "seq";
	const char *splitf = "split";
	const plm_opt opts[] = {
		PLM_OPTS_OUTPUT(&c),
		PLM_DBL('s', "min-sim", &min_sim, "SIM", "report near-duplicates with k-mer containment >= SIM (default 0.5)", 1e-9, 1),
		PLM_INT('k', "kmer", &k, "K", "k-mer length, 3..6 (default 5)", 3, 6),
		PLM_STR(0, "forbid", &forbid, "A:B,...", "split pairs that must not share sequences (default train:test,val:test)"),
		PLM_INT(0, "scale", &scale, "S", "index 1 in S k-mers of long sequences (default 8; 1 = all)", 1, 1 << 20),
		PLM_INT(0, "max-occ", &max_occ, "N", "skip k-mers indexed for more than N sequences when finding candidates (default 20000; 0 = none)", 0, 0xffffffffLL),
		PLM_INT(0, "threads", &threads, "N", "search threads (default: online CPUs, at most 8)", 1, 256),
		PLM_STR(0, "id", &idf, "FIELD", "record id (default id)"),
		PLM_STR(0, "seq", &seqf, "FIELD", "sequence (default seq)"),
		PLM_STR(0, "split", &splitf, "FIELD", "split name (default split)"),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("leak-check", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	int fmt = plm_common_format(&c);
	if (!threads) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		threads = nc < 1 ? 1 : nc > 8 ? 8 : nc;
	}
	data d = { 0 };
	d.splits = plm_strmap_new();
	if (!d.splits)
		plm_die("out of memory");
	plm_schema in = { 0 };
	if (i >= argc)
		load(&d, NULL, idf, seqf, splitf, &in);
	for (; i < argc; i++)
		load(&d, strcmp(argv[i], "-") ? argv[i] : NULL, idf, seqf, splitf, &in);

	size_t ns = plm_strmap_size(d.splits);
	unsigned char *want = calloc(ns * ns + 1, 1), *from = calloc(ns * ns + 1, 1);
	if (!want || !from)
		plm_die("out of memory");
	parse_forbid(forbid, &d, want, from, ns, strcmp(forbid, "train:test,val:test") != 0);

	hit *h = NULL;
	size_t nh = 0, hcap = 0, nexact = 0;
	/* exact duplicates: runs of equal hashes */
	uint32_t *ord = plm_xrealloc(NULL, d.n * sizeof *ord);
	for (size_t r = 0; r < d.n; r++)
		ord[r] = (uint32_t)r;
	sort_d = &d;
	qsort(ord, d.n, sizeof *ord, by_hash);
	for (size_t a = 0; a < d.n;) {
		size_t b = a + 1;
		while (b < d.n && d.hash[ord[b]].hi == d.hash[ord[a]].hi &&
		       d.hash[ord[b]].lo == d.hash[ord[a]].lo)
			b++;
		for (size_t x = a; x < b; x++)
			for (size_t y = x + 1; y < b; y++)
				if (want[d.split[ord[x]] * ns + d.split[ord[y]]]) {
					add_hit(&h, &nh, &hcap, &d, from, ns, ord[x], ord[y], 1.0, 1);
					nexact++;
				}
		a = b;
	}
	free(ord);

	/* near duplicates: only records of splits in some forbidden pair */
	uint8_t *cls = plm_xrealloc(NULL, d.n);
	const char **seq = plm_xrealloc(NULL, d.n * sizeof *seq);
	unsigned char *involved = calloc(ns + 1, 1);
	for (size_t a = 0; a < ns; a++)
		for (size_t b = 0; b < ns; b++)
			involved[a] |= want[a * ns + b];
	for (size_t r = 0; r < d.n; r++) {
		cls[r] = involved[d.split[r]] ? d.split[r] : 0xff;
		seq[r] = d.arena + d.seq_off[r];
	}
	/* fully index a sequence while a pair at min_sim would share fewer
	 * than 8 sampled k-mers: below that, sampling loses pairs */
	double smax = ceil(8.0 * (double)scale / min_sim);
	plm_kmer_opts ko = { (int)k, (uint32_t)scale,
			     smax > 4e9 ? 4000000000U : (uint32_t)smax,
			     (uint32_t)max_occ, min_sim, (int)threads };
	plm_kmer_pair *kp;
	size_t nkp;
	plm_kmer_stats st;
	if (plm_kmer_pairs(seq, d.seq_len, d.n, cls, want, ns, &ko, &kp, &nkp, &st,
			   err, sizeof err))
		plm_die("%s", err);
	for (size_t p = 0; p < nkp; p++) {
		uint32_t a = kp[p].a, b = kp[p].b;
		if (d.hash[a].hi == d.hash[b].hi && d.hash[a].lo == d.hash[b].lo)
			continue;   /* already reported as exact */
		add_hit(&h, &nh, &hcap, &d, from, ns, a, b, kp[p].sim, 0);
	}
	free(kp);
	if (nh)
		qsort(h, nh, sizeof *h, hit_cmp);

	plm_schema out = { 0 };
	plm_schema_init(&out);
	if (in.meta) {
		free(out.meta);
		out.meta = malloc(in.meta_len);
		if (!out.meta)
			plm_die("out of memory");
		memcpy(out.meta, in.meta, in.meta_len);
		out.meta_len = in.meta_len;
	}
	plm_schema_add(&out, "a", PLM_T_STR, 0);
	plm_schema_add(&out, "b", PLM_T_STR, 0);
	plm_schema_add(&out, "split_a", PLM_T_STR, 0);
	plm_schema_add(&out, "split_b", PLM_T_STR, 0);
	plm_schema_add(&out, "sim", PLM_T_FLOAT, 0);
	plm_schema_add(&out, "exact", PLM_T_BOOL, 0);
	plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 0, 0);
	plm_writer *w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	for (size_t p = 0; p < nh; p++) {
		size_t la, lb;
		const char *sa = plm_strmap_key(d.splits, d.split[h[p].a], &la);
		const char *sb = plm_strmap_key(d.splits, d.split[h[p].b], &lb);
		plm_val v[6] = {
			plm_v_str(d.arena + d.id_off[h[p].a], d.id_len[h[p].a]),
			plm_v_str(d.arena + d.id_off[h[p].b], d.id_len[h[p].b]),
			plm_v_str(sa, la), plm_v_str(sb, lb),
			plm_v_float(h[p].sim), plm_v_int(h[p].exact),
		};
		if (plm_writer_row(w, v)) {
			snprintf(err, sizeof err, "%s", plm_writer_error(w));
			plm_writer_abort(w);
			plm_die("%s", err);
		}
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	if (st.empty)
		plm_warn("note: %llu sequence(s) have no %lld-mer of standard amino acids: checked for exact duplicates only",
			 (unsigned long long)st.empty, k);
	if (nh)
		plm_warn("%zu pair(s) cross forbidden split boundaries (%zu exact, %zu near-duplicate at sim >= %g)",
			 nh, nexact, nh - nexact, min_sim);
	if (getenv("PLM_LEAK_STATS"))
		plm_warn("stats: %zu records, %llu postings, %llu hits, %llu verified, %llu frequent k-mers skipped, index %zu bytes",
			 d.n, (unsigned long long)st.postings, (unsigned long long)st.hits,
			 (unsigned long long)st.verified, (unsigned long long)st.frequent, st.bytes);
	free(h);
	free(cls);
	free(seq);
	free(involved);
	free(want);
	free(from);
	free(d.arena);
	free(d.id_off);
	free(d.seq_off);
	free(d.id_len);
	free(d.seq_len);
	free(d.split);
	free(d.hash);
	plm_strmap_free(d.splits);
	plm_schema_free(&out);
	plm_schema_free(&in);
	return nh ? 1 : 0;
}
