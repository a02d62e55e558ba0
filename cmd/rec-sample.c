/* rec-sample — seeded sampling: a fixed number of records (reservoir), a
 * fraction (Bernoulli, streaming), or a quota per stratum from a table. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/rng.h"
#include "plm/sample.h"
#include "plm/stream.h"
#include "plm/verb.h"

static const char operands[] = "[FILE ...]";
static const char summary[] =
	"sample records: N of them, a fraction, or quotas per stratum (seeded)";

struct smp {
	double p;               /* -p; < 0: -n or --quota */
	long long n;            /* -n; < 0: -p or --quota */
	const char *path;       /* --quota */
	int strict;
	uint64_t seed;
	plm_rng rng;
	uint64_t kept;          /* records past --shard */
	plm_quota q;
	int *idx;               /* the quota table's fields in the input */
	plm_reservoir *rs;      /* one for -n, one per stratum */
	size_t nres;
	plm_keybuf kb;
	uint64_t outside;       /* records in no stratum of the table */
	const plm_verb *v;
};

/* Sampled records are held and written under one header: one set of
 * fields per run. */
static int section(void *ctx, const plm_schema *in, plm_schema *out,
		   char *err, size_t errlen)
{
	struct smp *x = ctx;
	if (x->v->where)
		plm_die("record %" PRIu64 ": the fields change; "
			"rec-sample needs one set of fields (see rec-cut)",
			x->v->recno + 1);
	if (x->path) {
		if (plm_quota_load(&x->q, x->path, err, errlen))
			plm_die("%s", err);
		x->idx = plm_xcalloc(x->q.nf, sizeof *x->idx);
		if (plm_quota_bind(&x->q, in, x->idx, err, errlen))
			plm_die("%s: %s", x->path, err);
		x->nres = x->q.n;
	} else if (x->n >= 0) {
		x->nres = 1;
	}
	x->rs = plm_xcalloc(x->nres ? x->nres : 1, sizeof *x->rs);
	for (size_t k = 0; k < x->nres; k++)
		if (plm_reservoir_init(&x->rs[k], in, x->path ? x->q.quota[k]
							      : (uint64_t)x->n))
			plm_oom();
	return plm_schema_derive(out, in, 1, x->seed);
}

static int row(void *ctx, const plm_val *in, plm_val *out, char *err,
	       size_t errlen)
{
	struct smp *x = ctx;
	(void)out, (void)err, (void)errlen;
	x->kept++;
	if (x->p >= 0)
		return plm_rng_double(&x->rng) < x->p ? PLM_VERB_PASS
						      : PLM_VERB_SKIP;
	long k = 0;
	if (x->path) {
		k = plm_quota_find(&x->q, x->idx, in, &x->kb);
		if (k == -2)
			plm_oom();
		if (k < 0) {
			x->outside++;
			return PLM_VERB_SKIP;
		}
	}
	if (plm_reservoir_offer(&x->rs[k], &x->rng, in, x->kept))
		plm_oom();
	return PLM_VERB_SKIP;
}

/* Shortfalls are warned about; 1 if any. */
static int shortfalls(struct smp *x)
{
	char lab[512];
	int n = 0;
	if (!x->path) {
		uint64_t seen = x->rs[0].seen, want = (uint64_t)x->n;
		if (seen < want)
			plm_warn("only %" PRIu64 " record%s, fewer than -n %"
				 PRIu64 "; all written", seen,
				 seen == 1 ? "" : "s", want);
		return seen < want;
	}
	for (size_t k = 0; k < x->q.n; k++) {
		if (x->rs[k].seen >= x->q.quota[k])
			continue;
		n++;
		plm_warn("stratum %s: %" PRIu64 " record%s, quota %" PRIu64
			 " (short by %" PRIu64 ")",
			 plm_quota_label(&x->q, k, lab, sizeof lab),
			 x->rs[k].seen, x->rs[k].seen == 1 ? "" : "s",
			 x->q.quota[k], x->q.quota[k] - x->rs[k].seen);
	}
	if (x->outside)
		plm_warn("%" PRIu64 " record%s in strata not in %s (not "
			 "sampled)", x->outside, x->outside == 1 ? "" : "s",
			 x->path);
	return n > 0;
}

/* The reservoirs' rows, in input order. */
static int finish(void *ctx, plm_verb *v, char *err, size_t errlen)
{
	struct smp *x = ctx;
	plm_pick *p;
	size_t n;
	(void)err, (void)errlen;
	if (x->p >= 0)
		return 0;
	if (plm_reservoir_order(x->rs, x->nres, &p, &n))
		plm_oom();
	for (size_t k = 0; k < n; k++)
		plm_verb_emit(v, plm_rows_get(&x->rs[p[k].res].rows, p[k].slot));
	free(p);
	if (shortfalls(x) && x->strict)
		plm_die("--strict: sample is short (see above)");
	return 0;
}

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	long long n = -1, seed = PLM_DEFAULT_SEED;
	double p = -1;
	const char *quota = NULL;
	int strict = 0;
	const plm_opt opts[] = {
		PLM_INT('n', "number", &n, "N",
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
		PLM_OPTS_STREAM(&c),
	};
	int i = plm_start("rec-sample", argc, argv, opts, operands, summary);
	if ((n >= 0) + (p >= 0) + (quota != NULL) != 1)
		plm_usage_die("give exactly one of -n, -p and --quota");
	struct smp x = { .p = p, .n = n, .path = quota, .strict = strict,
			 .seed = (uint64_t)seed };
	plm_rng_seed(&x.rng, x.seed);
	plm_verb v = { .common = &c, .ctx = &x, .section = section,
		       .row = row, .finish = finish };
	x.v = &v;
	plm_verb_run(&v, argc - i, argv + i);
	for (size_t k = 0; k < x.nres; k++)
		plm_reservoir_free(&x.rs[k]);
	free(x.rs);
	free(x.idx);
	plm_key_free(&x.kb);
	if (quota)
		plm_quota_free(&x.q);
	return 0;
}
