/* t-esmbatch — cutting windows into batches (plm/esm_batch.h): batches
 * within the workspace's budget, every sequence once, sorted by length,
 * longer sequences alone; results put back in window order equal each
 * sequence embedded alone, bit for bit. */
#include "tap.h"
#include "plm/esm_batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545f4914f6cdd1dull;

static size_t rnd(size_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (size_t)(rng % n);
}

/* Checks plan p of lens[0 .. n) against budget; "" or what is wrong. */
static const char *check_plan(const plm_esm_plan *p, const size_t *lens,
			      size_t n, size_t budget)
{
	unsigned char *seen = calloc(n + 1, 1);
	const char *bad = "";
	size_t next = 0;
	if (p->n != n)
		bad = "wrong count";
	for (size_t b = 0; !*bad && b < p->nbatch; b++) {
		const plm_esm_batch *bt = &p->batch[b];
		size_t T = 0;
		if (bt->first != next || !bt->n)
			bad = "batches not contiguous";
		for (size_t k = bt->first; !*bad && k < bt->first + bt->n; k++) {
			size_t i = p->order[k];
			if (i >= n || seen[i]++)
				bad = "index twice or out of range";
			else if (p->lens[k] != lens[i])
				bad = "lens not in plan order";
			else if (k && (p->lens[k - 1] > p->lens[k] ||
				       (p->lens[k - 1] == p->lens[k] &&
					p->order[k - 1] > i)))
				bad = "not sorted by length, then index";
			T += lens[i] + 2;
		}
		if (*bad)
			break;
		if (T != bt->tokens)
			bad = "tokens wrong";
		else if (bt->alone != (T > budget))
			bad = "alone wrong";
		else if (bt->alone && bt->n != 1)
			bad = "an alone batch holds more than one";
		else if (bt->first + bt->n < n && !bt->alone &&
			 T + p->lens[bt->first + bt->n] + 2 <= budget)
			bad = "a batch left room for the next sequence";
		next = bt->first + bt->n;
	}
	if (!*bad && next != n)
		bad = "sequences left out";
	free(seen);
	return bad;
}

static void check_cuts(const plm_esm *m)
{
	static const size_t budgets[] = { 3, 4, 10, 40, 300, 4096 };
	char err[256];
	plm_esm_plan p = { 0 };
	for (size_t bi = 0; bi < sizeof budgets / sizeof *budgets; bi++) {
		const size_t budget = budgets[bi];
		plm_esm_ctx *c = plm_esm_ctx_new(m, budget, 1, err, sizeof err);
		const char *bad = c ? "" : err;
		size_t trials = 0, alone = 0, batches = 0;
		is_int(c ? plm_esm_window_residues(c) : 0, 8 * budget,
		       "budget %zu: a window is 8 budgets of residues", budget);
		for (; c && !*bad && trials < 200; trials++) {
			size_t n = rnd(60), lens[64];
			const char *seqs[64];
			for (size_t i = 0; i < n; i++) {
				/* many ties, some over the budget */
				lens[i] = 1 + (rnd(4) ? rnd(budget / 2 + 3)
						      : rnd(budget + 50));
				seqs[i] = "";
			}
			if (plm_esm_plan_cut(&p, c, n, seqs, lens))
				bad = "out of memory";
			else
				bad = check_plan(&p, lens, n, budget);
			for (size_t b = 0; b < p.nbatch; b++)
				alone += (size_t)p.batch[b].alone;
			batches += p.nbatch;
		}
		ok(!*bad, "budget %zu: %zu windows, %zu batches (%zu alone) "
		   "within the budget, every sequence once, in length order%s%s",
		   budget, trials, batches, alone, *bad ? ": " : "", bad);
		plm_esm_ctx_free(c);
	}
	plm_esm_ctx *c = plm_esm_ctx_new(m, 10, 1, err, sizeof err);
	ok(c && !plm_esm_plan_cut(&p, c, 0, NULL, NULL) && p.nbatch == 0 &&
	   p.n == 0, "an empty window has no batches");
	/* exactly the budget: len + 2 == budget is a batch, not alone */
	size_t l2[3] = { 8, 9, 1 };
	const char *s2[3] = { "", "", "" };
	ok(c && !plm_esm_plan_cut(&p, c, 3, s2, l2) && p.nbatch == 3 &&
	   p.batch[0].n == 1 && p.order[0] == 2 && !p.batch[1].alone &&
	   p.batch[1].tokens == 10 && p.batch[2].alone &&
	   p.batch[2].tokens == 11, "len + 2 == budget fits; one more is alone");
	plm_esm_ctx_free(c);
	plm_esm_plan_free(&p);
}

/* A window of real sequences, some longer than the budget: the batches'
 * results, put back by order, equal each sequence alone. */
static void check_run(const plm_esm *m, enum plm_esm_pool pool)
{
	static const char aa[] = "ACDEFGHIKLMNPQRSTVWY";
	const size_t H = (size_t)plm_esm_info(m)->hidden, n = 40, budget = 64;
	char err[256], *buf[40];
	const char *seqs[40];
	size_t lens[40], row[41], T = 0;
	for (size_t i = 0; i < n; i++) {
		lens[i] = 1 + (i % 7 == 3 ? 60 + rnd(100) : rnd(30));
		buf[i] = malloc(lens[i]);
		for (size_t k = 0; k < lens[i]; k++)
			buf[i][k] = aa[rnd(20)];
		seqs[i] = buf[i];
		row[i] = T;
		T += pool == PLM_ESM_POOL_NONE ? lens[i] : 1;
	}
	row[n] = T;
	float *want = malloc(T * H * sizeof *want);
	float *got = malloc(T * H * sizeof *got);
	float *bout = malloc(T * H * sizeof *bout);
	plm_esm_out o = { .layer = -1, .pool = pool };
	plm_esm_ctx *big = plm_esm_ctx_new(m, 200, 1, err, sizeof err);
	plm_esm_ctx *c = plm_esm_ctx_new(m, budget, 2, err, sizeof err);
	int rc = !big || !c;
	for (size_t i = 0; !rc && i < n; i++) {
		o.out = want + row[i] * H;
		rc = plm_esm_forward(big, 1, &seqs[i], &lens[i], &o);
	}
	plm_esm_plan p = { 0 };
	size_t alone = 0;
	rc = rc || plm_esm_plan_cut(&p, c, n, seqs, lens);
	memset(got, 0xff, T * H * sizeof *got);
	for (size_t b = 0; !rc && b < p.nbatch; b++) {
		const plm_esm_batch *bt = &p.batch[b];
		o.out = bout;
		rc = plm_esm_plan_run(c, &p, b, &o);
		const float *po = bout;
		for (size_t k = bt->first; !rc && k < bt->first + bt->n; k++) {
			size_t i = p.order[k], ne = (row[i + 1] - row[i]) * H;
			memcpy(got + row[i] * H, po, ne * sizeof *po);
			po += ne;
		}
		alone += (size_t)bt->alone;
	}
	ok(!rc && alone > 0 && alone < p.nbatch &&
	   !memcmp(got, want, T * H * sizeof *got),
	   "pool %d: %zu batches (%zu alone) put back in window order == "
	   "each sequence alone, bit for bit", (int)pool, p.nbatch, alone);

	/* An alone batch's error comes back on c; a sequence no workspace
	 * can hold is left without a result. */
	o.layer = 99;
	size_t last = p.nbatch - 1;
	ok(p.nbatch && p.batch[last].alone &&
	   plm_esm_plan_run(c, &p, last, &o) == -1 &&
	   strstr(plm_esm_error(c), "layer 99"), "alone, error: %s",
	   plm_esm_error(c));
	o.layer = -1;
	size_t huge = (size_t)1 << 28;
	const char *none = "";
	ok(!plm_esm_plan_cut(&p, c, 1, &none, &huge) && p.batch[0].alone &&
	   plm_esm_plan_run(c, &p, 0, &o) == PLM_ESM_NO_ROOM,
	   "a sequence over any workspace: PLM_ESM_NO_ROOM");
	plm_esm_plan_free(&p);
	plm_esm_ctx_free(c);
	plm_esm_ctx_free(big);
	for (size_t i = 0; i < n; i++)
		free(buf[i]);
	free(want);
	free(got);
	free(bout);
}

int main(void)
{
	const char *top = getenv("PLM_TOP");
	char dir[1024], err[512];
	snprintf(dir, sizeof dir, "%s/tests/data/esm2/esm2_tiny",
		 top ? top : "..");
	plm_esm *m = plm_esm_load(dir, err, sizeof err);
	if (!ok(m != NULL, "load %s", dir)) {
		printf("# %s\n", err);
		return done_testing();
	}
	check_cuts(m);
	check_run(m, PLM_ESM_POOL_MEAN);
	check_run(m, PLM_ESM_POOL_NONE);
	plm_esm_free(m);
	return done_testing();
}
