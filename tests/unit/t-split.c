/* t-split.c — split.h (ratios, quotas, assignment, manifest) and the
 * exact k-mer similarity of kmer_index.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/io.h"
#include "plm/kmer_index.h"
#include "plm/split.h"
#include "tap.h"

static void ratios(void)
{
	plm_ratios r;
	char err[256];
	ok(plm_ratios_parse("train=0.8,val=0.1,test=0.1", &r, err, sizeof err) == 0, "parse");
	is_int(r.n, 3, "three splits");
	is_str(r.name[2], "test", "names kept in order");
	uint64_t q[3];
	plm_split_quotas(7, &r, q);
	/* 5.6, 0.7, 0.7 -> 5, 0, 0 + 2 to the largest remainders (val, test) */
	ok(q[0] == 5 && q[1] == 1 && q[2] == 1, "largest remainder 7 -> 5 1 1");
	plm_split_quotas(1, &r, q);
	ok(q[0] == 1 && q[1] == 0 && q[2] == 0, "a single item goes to train");
	plm_ratios_free(&r);
	ok(plm_ratios_parse("a=0.5,b=0.4", &r, err, sizeof err) == -1 && strstr(err, "sum"), "sum checked: %s", err);
	ok(plm_ratios_parse("a=0.5,a=0.5", &r, err, sizeof err) == -1, "duplicate name");
	ok(plm_ratios_parse("a=x", &r, err, sizeof err) == -1, "bad number");
	ok(plm_ratios_parse("=1", &r, err, sizeof err) == -1, "empty name");
	ok(plm_ratios_parse("a=0.3333333333,b=0.3333333333,c=0.3333333334", &r, err, sizeof err) == 0, "1e-9 tolerance");
	plm_ratios_free(&r);
}

static const char *key_of(void *keys, uint32_t tag, size_t *len)
{
	const char *k = ((char (*)[8])keys)[tag];
	*len = strlen(k);
	return k;
}

static void assign(void)
{
	plm_ratios r;
	char err[256], keys[1000][8];
	plm_split_item it[1000];
	uint32_t split[1000];
	plm_ratios_parse("a=0.6,b=0.3,c=0.1", &r, err, sizeof err);
	for (int i = 0; i < 1000; i++) {
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		it[i] = (plm_split_item){ .stratum = (uint32_t)(i % 7),
					  .tag = (uint32_t)i };
		it[i].order = plm_split_order(11, keys[i], strlen(keys[i]));
	}
	ok(plm_split_assign(it, 1000, NULL, key_of, keys, &r, split) == 0, "assign");
	int bad = 0;
	for (uint32_t s = 0; s < 7; s++) {
		int n = 0, c[3] = { 0 };
		for (int i = 0; i < 1000; i++)
			if (i % 7 == (int)s) {
				n++;
				c[split[i]]++;
			}
		for (int k = 0; k < 3; k++)
			if (c[k] - r.r[k] * n > 1 || c[k] - r.r[k] * n < -1)
				bad++;
	}
	is_int(bad, 0, "every stratum within +-1");
	/* a zero ratio gets nothing even when groups overshoot */
	plm_ratios z;
	plm_ratios_parse("a=0.5,b=0,c=0.5", &z, err, sizeof err);
	char gk[3][8] = { "x", "y", "z" };
	uint32_t w[3] = { 10, 10, 10 }, gs[3];
	plm_split_item g[3];
	for (uint32_t i = 0; i < 3; i++)
		g[i] = (plm_split_item){ plm_split_order(11, gk[i], 1), 0, i };
	plm_split_assign(g, 3, w, key_of, gk, &z, gs);
	ok(gs[0] != 1 && gs[1] != 1 && gs[2] != 1, "ratio 0 split stays empty");
	/* equal orders are put in key order, whatever the input order */
	char tk[3][8] = { "c", "a", "b" };
	plm_split_item t[3];
	for (uint32_t i = 0; i < 3; i++)
		t[i] = (plm_split_item){ 5, 0, i };
	plm_split_assign(t, 3, NULL, key_of, tk, &z, gs);
	ok(t[0].tag == 1 && t[1].tag == 2 && t[2].tag == 0, "ties by key bytes");
	plm_ratios_free(&z);
	plm_ratios_free(&r);
}

static void manifest(void)
{
	plm_manifest m, back;
	char err[256], path[] = "/tmp/t-split.XXXXXX";
	int fd = mkstemp(path), dup;
	close(fd);
	ok(plm_manifest_init(&m) == 0, "init");
	plm_manifest_add(&m, "b\tx", 3, plm_seq_hash("MK", 2), "test", 4, &dup);
	plm_manifest_add(&m, "a", 1, plm_seq_hash("MKV", 3), "train", 5, &dup);
	ok(plm_manifest_add(&m, "a", 1, plm_seq_hash("Q", 1), "train", 5, &dup) == -1 && dup, "duplicate id refused");
	plm_manifest_info(&m, "seed", "11");
	plm_out *o = plm_out_open(path, err, sizeof err);
	ok(o && plm_manifest_write(&m, o) == 0 && plm_out_close(o, err, sizeof err) == 0, "write");
	ok(plm_manifest_read(&back, path, err, sizeof err) == 0, "read back: %s", err);
	is_int(back.n, 2, "two records");
	ok(back.digest.hi == m.digest.hi && back.digest.lo == m.digest.lo, "same digest");
	long i = plm_strmap_index(back.ids, "b\tx", 3);
	ok(i >= 0 && back.hash[i].lo == plm_seq_hash("MK", 2).lo, "escaped id round-trips");
	char *seed = plm_manifest_get_info(&back, "seed");
	is_str(seed, "11", "info kept");
	free(seed);
	plm_manifest_free(&back);
	FILE *f = fopen(path, "r+");
	fseek(f, -10, SEEK_END);
	fputc('0' == fgetc(f) ? '1' : '0', f);   /* flip one digest digit */
	fclose(f);
	ok(plm_manifest_read(&back, path, err, sizeof err) == -1 && strstr(err, "digest mismatch"), "tamper detected: %s", err);
	unlink(path);
	plm_manifest_free(&m);
}

static void kmer(void)
{
	is_int((long long)(plm_kmer_sim("ACDEFG", 6, "ACDEFG", 6, 5) * 100), 100, "identical");
	ok(plm_kmer_sim("ACDEFGHIK", 9, "ACDEFGHYY", 9, 5) == 3.0 / 5.0, "shared over the smaller set");
	ok(plm_kmer_sim("ACDEFGHIK", 9, "XXACDEFGHXX", 11, 5) == 1, "a fragment scores 1");
	ok(plm_kmer_sim("ACDE", 4, "ACDEF", 5, 5) == -1, "shorter than k: undefined");
	ok(plm_kmer_sim("acdefg", 6, "ACDEFG", 6, 5) == 1, "case-insensitive");
	ok(plm_kmer_sim("ACDEXFGHIK", 10, "ACDEFGHIK", 9, 5) == 1, "X breaks k-mers");
}

int main(void)
{
	ratios();
	assign();
	manifest();
	kmer();
	return done_testing();
}
