/* Unit tests for cli.c numbers/shards, hash.c and rng.c. */
#include <stdlib.h>
#include <string.h>

#include "plm/cli.h"
#include "plm/hash.h"
#include "plm/rng.h"
#include "tap.h"

static void test_hash(void)
{
	char hex[33];
	/* Published XXH3 test vectors for the empty input, seed 0. */
	ok(plm_key_hash("", 0) == 0x2D06800538D394C2ULL, "XXH3-64 of empty input");
	plm_h128 h = plm_seq_hash("", 0);
	is_str(plm_h128_hex(h, hex), "99aa06d3014798d86001c324468d497f",
	       "XXH3-128 of empty input");
	plm_h128 back;
	ok(plm_h128_parse(hex, 32, &back) == 0 && back.hi == h.hi && back.lo == h.lo,
	   "hex round trip");
	ok(plm_h128_parse("zz", 2, &back) == -1, "short hex rejected");
	ok(plm_h128_parse("99aa06d3014798d86001c324468d497g", 32, &back) == -1,
	   "bad hex digit rejected");
	plm_h128 a = plm_seq_hash("MKV", 3), b = plm_seq_hash("MKL", 3);
	ok(a.hi != b.hi || a.lo != b.lo, "different sequences, different hashes");
}

static void test_rng(void)
{
	plm_rng r, r2;
	plm_rng_seed(&r, 42);
	plm_rng_seed(&r2, 42);
	int same = 1;
	for (int i = 0; i < 1000; i++)
		same &= plm_rng_next(&r) == plm_rng_next(&r2);
	ok(same, "same seed, same sequence");
	plm_rng_seed(&r2, 43);
	ok(plm_rng_next(&r) != plm_rng_next(&r2), "different seed differs");

	/* Uniformity of plm_rng_below over 10 buckets: chi-square with 9
	 * degrees of freedom stays below 27.9 (p = 0.001) for a fair
	 * generator. */
	long cnt[10] = { 0 };
	int in_range = 1;
	for (int i = 0; i < 100000; i++) {
		uint64_t x = plm_rng_below(&r, 10);
		in_range &= x < 10;
		if (x < 10)
			cnt[x]++;
	}
	double chi = 0;
	for (int i = 0; i < 10; i++)
		chi += (cnt[i] - 10000.0) * (cnt[i] - 10000.0) / 10000.0;
	ok(in_range, "below(10) stays in range");
	ok(chi < 27.9, "below(10) uniform (chi2 = %.2f)", chi);

	double d, lo = 1, hi = 0;
	for (int i = 0; i < 10000; i++) {
		d = plm_rng_double(&r);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	ok(lo >= 0 && hi < 1 && lo < 0.01 && hi > 0.99, "double in [0,1)");

	int v[100], seen[100] = { 0 };
	for (int i = 0; i < 100; i++)
		v[i] = i;
	plm_rng_shuffle(&r, v, 100, sizeof v[0]);
	int perm = 1, moved = 0;
	for (int i = 0; i < 100; i++) {
		perm &= v[i] >= 0 && v[i] < 100 && !seen[v[i]]++;
		moved += v[i] != i;
	}
	ok(perm && moved > 50, "shuffle is a permutation that moves things");
}

static void test_numbers(void)
{
	long long x;
	double d;
	ok(plm_strtoll("42", 0, 100, &x) == 0 && x == 42, "strtoll ok");
	ok(plm_strtoll("101", 0, 100, &x) == -1, "strtoll range");
	ok(plm_strtoll("4x", 0, 100, &x) == -1, "strtoll trailing junk");
	ok(plm_strtoll("", 0, 100, &x) == -1, "strtoll empty");
	ok(plm_strtod("0.25", &d) == 0 && d == 0.25, "strtod ok");
	ok(plm_strtod("1e999", &d) == -1, "strtod overflow");
	ok(plm_strtod("abc", &d) == -1, "strtod junk");
}

static void test_shard(void)
{
	plm_shard s = plm_shard_parse("1/3"), none = plm_shard_parse(NULL);
	ok(s.k == 1 && s.n == 3, "shard parse");
	ok(plm_shard_keep(&none, "x", 1), "no shard keeps everything");
	int total = 0;
	for (int i = 0; i < 300; i++) {
		char key[16];
		int n = snprintf(key, sizeof key, "id%d", i), hits = 0;
		for (uint64_t k = 0; k < 3; k++) {
			plm_shard t = { k, 3 };
			hits += plm_shard_keep(&t, key, n);
		}
		total += hits == 1;
	}
	is_int(total, 300, "every key in exactly one of 3 shards");
}

int main(void)
{
	test_hash();
	test_rng();
	test_numbers();
	test_shard();
	return done_testing();
}
