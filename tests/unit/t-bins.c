/* Unit tests for lib/bins.c: edge parsing, bin lookup, quantile edges,
 * and largest-remainder quotas. */
#include <stdlib.h>
#include <string.h>

#include "plm/bins.h"
#include "plm/rng.h"
#include "tap.h"

static void test_parse_find(void)
{
	plm_bins b;
	char err[256], buf[64];
	ok(plm_bins_parse(&b, "0,100,200", err, sizeof err) == 0, "parse 0,100,200");
	is_int(b.n, 2, "two bins");
	is_str(plm_bins_format(&b, buf, sizeof buf), "0,100,200", "format");
	is_int(plm_bins_find(&b, 0), 0, "0 in bin 0");
	is_int(plm_bins_find(&b, 99), 0, "99 in bin 0");
	is_int(plm_bins_find(&b, 100), 1, "100 in bin 1 (half-open)");
	is_int(plm_bins_find(&b, 199), 1, "199 in bin 1");
	is_int(plm_bins_find(&b, 200), -2, "200 above");
	plm_bins_free(&b);
	ok(plm_bins_parse(&b, "5,10", err, sizeof err) == 0, "parse 5,10");
	is_int(plm_bins_find(&b, 4), -1, "4 below");
	plm_bins_free(&b);
	const char *bad[] = { "", "5", "1,1", "2,1", "0,,3", "0,x", "-1,3", "0,3,", NULL };
	for (int i = 0; bad[i]; i++)
		ok(plm_bins_parse(&b, bad[i], err, sizeof err) == -1, "'%s' rejected: %s",
		   bad[i], err);
}

static void test_quantiles(void)
{
	plm_lenhist h = { 0 };
	plm_bins b;
	char err[256], buf[128];
	for (int i = 0; i < 100; i++)
		plm_lenhist_add(&h, (i * 37) % 100);
	plm_lenhist_add(&h, (int64_t)1 << 30);     /* beyond the dense part */
	is_int(plm_lenhist_rank(&h, 0), 0, "rank 0");
	is_int(plm_lenhist_rank(&h, 99), 99, "rank 99");
	is_int(plm_lenhist_rank(&h, 100), (int64_t)1 << 30, "rank 100 (big)");
	ok(plm_bins_quantiles(&b, &h, 4, err, sizeof err) == 0, "quartiles");
	/* n = 101: ranks 25, 50, 75 */
	is_str(plm_bins_format(&b, buf, sizeof buf), "0,25,50,75,1073741825", "quartile edges");
	uint64_t cnt[4], out;
	plm_lenhist_bin(&h, &b, 0, cnt, &out);
	ok(cnt[0] == 25 && cnt[1] == 25 && cnt[2] == 25 && cnt[3] == 26 && out == 0,
	   "counts per quartile");
	plm_bins_free(&b);
	plm_lenhist_free(&h);

	/* Ties merge edges. */
	for (int i = 0; i < 10; i++)
		plm_lenhist_add(&h, 7);
	ok(plm_bins_quantiles(&b, &h, 5, err, sizeof err) == 0, "all tied");
	is_str(plm_bins_format(&b, buf, sizeof buf), "0,7,8", "tied edges merged");
	plm_bins_free(&b);
	plm_lenhist_free(&h);
	ok(plm_bins_quantiles(&b, &h, 5, err, sizeof err) == -1, "no lengths: error");
}

static void test_quota(void)
{
	uint64_t q[5];
	uint64_t c1[3] = { 10, 10, 80 };
	ok(plm_quota_lr(c1, 3, 7, q) == 0 && q[0] == 1 && q[1] == 1 && q[2] == 5,
	   "10/10/80 of 7 -> 1/1/5");
	uint64_t c2[4] = { 25, 25, 25, 25 };
	ok(plm_quota_lr(c2, 4, 10, q) == 0 && q[0] == 3 && q[1] == 3 && q[2] == 2 && q[3] == 2,
	   "ties go to the lower bin");
	uint64_t c3[3] = { 0, 0, 0 };
	ok(plm_quota_lr(c3, 3, 10, q) == -1, "all-zero counts: error");
	uint64_t c4[3] = { 0, 5, 0 };
	ok(plm_quota_lr(c4, 3, 10, q) == 0 && q[0] == 0 && q[1] == 10 && q[2] == 0,
	   "empty bins get nothing");
	/* Random: the sum is exact and each quota is floor or floor + 1. */
	plm_rng r;
	plm_rng_seed(&r, 3);
	int good = 1;
	for (int t = 0; t < 2000; t++) {
		uint64_t c[5], sum = 0, tot = plm_rng_below(&r, 100000), s = 0;
		for (int i = 0; i < 5; i++)
			sum += c[i] = plm_rng_below(&r, 1000);
		if (!sum)
			continue;
		plm_quota_lr(c, 5, tot, q);
		for (int i = 0; i < 5; i++) {
			uint64_t f = tot * c[i] / sum;
			good &= q[i] == f || q[i] == f + 1;
			s += q[i];
		}
		good &= s == tot;
	}
	ok(good, "random tables: exact sum, floor or floor + 1");
	/* Large totals do not overflow (128-bit products). */
	uint64_t c5[2] = { UINT64_MAX / 3, UINT64_MAX / 3 };
	ok(plm_quota_lr(c5, 2, UINT64_MAX - 1, q) == 0 && q[0] + q[1] == UINT64_MAX - 1,
	   "no overflow with huge counts");
}

int main(void)
{
	test_parse_find();
	test_quantiles();
	test_quota();
	return done_testing();
}
