/* rec-sample — seeded sampling: a fixed number of records (reservoir), a
 * fraction (Bernoulli, streaming), or a quota per stratum from a table. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/recin.h"
#include "plm/rng.h"
#include "plm/sample.h"
#include "plm/stream.h"

static const char usage[] =
	"[-TM] [--progress] [--strict] -n N | -p FRACTION | --quota FILE "
	"[-s SEED] [-o FILE] [--shard K/N] [FILE ...]";
static const char summary[] =
	"sample records: N of them, a fraction, or quotas per stratum (seeded)";

struct run {
	plm_recin *in;
	plm_shard sh;
	int shard_i;
	plm_progress pg;
	uint64_t kept;          /* records past --shard */
};

/* Next record past --shard; 0 at the end.  A change of fields is an
 * error: sampled records are held and written under one header. */
static int next(struct run *r, const plm_val **row)
{
	int rc;
	while ((rc = plm_recin_next(r->in, row)) != PLM_EOF) {
		if (rc == PLM_ERR)
			plm_die("%s", plm_recin_error(r->in));
		if (rc == PLM_HEADER)
			plm_die("record %" PRIu64 ": the fields change; "
				"rec-sample needs one set of fields (see rec-cut)",
				plm_recin_recno(r->in) + 1);
		if (r->pg.on) {
			uint64_t done, total;
			plm_recin_bytes(r->in, &done, &total);
			plm_progress_update(&r->pg, done, total,
					    plm_recin_recno(r->in));
		}
		const plm_schema *s = plm_recin_schema(r->in);
		if (r->sh.n && !plm_shard_keep_val(&r->sh, &(*row)[r->shard_i],
						   s->f[r->shard_i].type))
			continue;
		r->kept++;
		return 1;
	}
	if (r->pg.on) {
		uint64_t done, total;
		plm_recin_bytes(r->in, &done, &total);
		plm_progress_end(&r->pg, done, plm_recin_recno(r->in));
	}
	return 0;
}

static void put(plm_writer *w, const plm_val *row)
{
	if (plm_writer_row(w, row))
		plm_die("%s", plm_writer_error(w));
}

/* Write the reservoirs' rows in input order. */
static void flush(plm_writer *w, const plm_reservoir *rs, size_t nres)
{
	plm_pick *p;
	size_t n;
	if (plm_reservoir_order(rs, nres, &p, &n))
		plm_die("out of memory");
	for (size_t k = 0; k < n; k++)
		put(w, plm_rows_get(&rs[p[k].res].rows, p[k].slot));
	free(p);
}

static void by_fraction(struct run *r, plm_writer *w, plm_rng *rng, double p)
{
	const plm_val *row;
	while (next(r, &row))
		if (plm_rng_double(rng) < p)
			put(w, row);
}

static int by_count(struct run *r, plm_writer *w, plm_rng *rng, uint64_t n,
		    int strict)
{
	plm_reservoir rs;
	const plm_val *row;
	if (plm_reservoir_init(&rs, plm_recin_schema(r->in), n))
		plm_die("out of memory");
	while (next(r, &row))
		if (plm_reservoir_offer(&rs, rng, row, r->kept))
			plm_die("out of memory");
	flush(w, &rs, 1);
	int short_ = rs.seen < n;
	if (short_)
		plm_warn("only %" PRIu64 " record%s, fewer than -n %" PRIu64
			 "; all written", rs.seen, rs.seen == 1 ? "" : "s", n);
	plm_reservoir_free(&rs);
	return short_ && strict;
}

static int by_quota(struct run *r, plm_writer *w, plm_rng *rng,
		    const char *path, int strict)
{
	plm_quota q;
	char err[512], lab[512];
	if (plm_quota_load(&q, path, err, sizeof err))
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(r->in);
	int *idx = calloc(q.nf, sizeof *idx);
	plm_reservoir *rs = calloc(q.n ? q.n : 1, sizeof *rs);
	if (!idx || !rs)
		plm_die("out of memory");
	if (plm_quota_bind(&q, s, idx, err, sizeof err))
		plm_die("%s: %s", path, err);
	for (size_t k = 0; k < q.n; k++)
		if (plm_reservoir_init(&rs[k], s, q.quota[k]))
			plm_die("out of memory");

	plm_keybuf kb = { 0 };
	const plm_val *row;
	uint64_t outside = 0;
	while (next(r, &row)) {
		long k = plm_quota_find(&q, idx, row, &kb);
		if (k == -2)
			plm_die("out of memory");
		if (k < 0)
			outside++;
		else if (plm_reservoir_offer(&rs[k], rng, row, r->kept))
			plm_die("out of memory");
	}
	flush(w, rs, q.n);

	int shortfalls = 0;
	for (size_t k = 0; k < q.n; k++) {
		if (rs[k].seen >= q.quota[k])
			continue;
		shortfalls++;
		plm_warn("stratum %s: %" PRIu64 " record%s, quota %" PRIu64
			 " (short by %" PRIu64 ")",
			 plm_quota_label(&q, k, lab, sizeof lab), rs[k].seen,
			 rs[k].seen == 1 ? "" : "s", q.quota[k],
			 q.quota[k] - rs[k].seen);
	}
	if (outside)
		plm_warn("%" PRIu64 " record%s in strata not in %s (not "
			 "sampled)", outside, outside == 1 ? "" : "s", path);
	for (size_t k = 0; k < q.n; k++)
		plm_reservoir_free(&rs[k]);
	free(rs);
	free(idx);
	plm_key_free(&kb);
	plm_quota_free(&q);
	return shortfalls && strict;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	long long n = -1, seed = PLM_DEFAULT_SEED;
	double p = -1;
	const char *quota = NULL;
	int strict = 0;
	const plm_opt opts[] = {
		PLM_INT('n', "count", &n, "N",
			"keep N records (reservoir; output in input order)",
			0, INT64_MAX),
		PLM_DBL('p', "fraction", &p, "FRACTION",
			"keep each record with probability FRACTION", 0, 1),
		PLM_STR(0, "quota", &quota, "FILE",
			"keep `quota` records per stratum, from a table in FILE"),
		PLM_INT('s', "seed", &seed, "SEED",
			"seed of the generator (default 11)", 0, INT64_MAX),
		PLM_FLAG(0, "strict", &strict,
			 "exit 1 when a stratum (or -n) falls short"),
		PLM_OPTS_OUTPUT(&c),
		PLM_OPTS_SHARD(&c),
		PLM_OPT_END_,
	};
	char err[512];
	plm_init("rec-sample", argc, argv);
	int i = plm_parse(argc, argv, opts, usage, summary);
	if ((n >= 0) + (p >= 0) + (quota != NULL) != 1)
		plm_usage_die("give exactly one of -n, -p and --quota");
	struct run r = { 0 };
	r.sh = plm_shard_parse(c.shard);
	int fmt = plm_common_format(&c);
	if (!(r.in = plm_recin_open(argc - i, argv + i, err, sizeof err)))
		plm_die("%s", err);
	const plm_schema *s = plm_recin_schema(r.in);
	if (r.sh.n && (r.shard_i = plm_shard_field(s, "id", err, sizeof err)) < 0)
		plm_die("--shard: %s", err);
	plm_progress_init(&r.pg, c.progress, "B");

	plm_schema out;
	if (plm_schema_copy(&out, s) ||
	    plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, plm_argc(), plm_argv(), 1,
				(uint64_t)seed))
		plm_die("out of memory");
	plm_writer *w = plm_writer_open(c.output, fmt, &out, err, sizeof err);
	if (!w)
		plm_die("%s", err);
	plm_rng rng;
	plm_rng_seed(&rng, (uint64_t)seed);
	int fail = 0;
	if (p >= 0)
		by_fraction(&r, w, &rng, p);
	else if (n >= 0)
		fail = by_count(&r, w, &rng, (uint64_t)n, strict);
	else
		fail = by_quota(&r, w, &rng, quota, strict);
	if (fail) {
		plm_writer_abort(w);
		plm_die("--strict: sample is short (see above)");
	}
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	plm_recin_close(r.in);
	return 0;
}
