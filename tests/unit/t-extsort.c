/* t-extsort.c — external sort against qsort, at budgets from two records
 * (many runs, several merge passes) to everything in memory. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/extsort.h"
#include "tap.h"

typedef struct rec {
	uint32_t key, seq;     /* seq: input position, makes the order total */
	double payload;
} rec;

static int rec_cmp(const void *pa, const void *pb)
{
	const rec *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Sorts n records (keys below range) with budget mem; 1 when the output
 * equals qsort's. */
static int check(size_t n, uint32_t range, size_t mem, const char *dir,
		 size_t *runs, int *left)
{
	char err[256];
	rec *v = malloc((n + 1) * sizeof *v);
	plm_extsort *s = plm_extsort_new(sizeof (rec), mem, rec_cmp, dir);
	int good = s != NULL;
	for (size_t i = 0; good && i < n; i++) {
		v[i] = (rec){ next_rand() % range, (uint32_t)i, (double)i / 3 };
		good = !plm_extsort_add(s, &v[i], err, sizeof err);
	}
	good = good && !plm_extsort_sort(s, err, sizeof err);
	*left = entries(dir);
	qsort(v, n, sizeof *v, rec_cmp);
	size_t got = 0;
	const void *p;
	int rc;
	while (good && (rc = plm_extsort_next(s, &p, err, sizeof err)) > 0) {
		good = got < n && !memcmp(p, &v[got], sizeof *v);
		got++;
	}
	good = good && rc == 0 && got == n &&
	       plm_extsort_count(s) == n &&
	       plm_extsort_next(s, &p, err, sizeof err) == 0;
	if (!good)
		printf("# n=%zu mem=%zu: got %zu: %s\n", n, mem, got, err);
	*runs = s ? plm_extsort_runs(s) : 0;
	plm_extsort_free(s);
	free(v);
	return good;
}

int main(void)
{
	char dir[] = "/tmp/t-extsort.XXXXXX";
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP no temporary directory\n");
		return 0;
	}
	static const struct {
		size_t n;
		uint32_t range;
		size_t mem;
		int spills;
	} c[] = {
		{ 0, 1, 1 << 20, 0 },
		{ 0, 1, 1, 0 },
		{ 1, 1, 1, 0 },
		{ 2, 5, 1, 0 },
		{ 3, 5, 1, 1 },            /* budget of two records */
		{ 1000, 10, 1, 1 },        /* 500 runs, many passes */
		{ 1000, 1000000, 100, 1 },
		{ 5000, 1000000, 1000, 1 },
		{ 20000, 50, 4096, 1 },    /* many equal keys */
		{ 20000, 1u << 31, 1 << 16, 1 },
		{ 20000, 1u << 31, 1 << 20, 0 },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		size_t runs;
		int left;
		ok(check(c[i].n, c[i].range, c[i].mem, dir, &runs, &left),
		   "n=%zu range=%u mem=%zu: the qsort order", c[i].n,
		   c[i].range, c[i].mem);
		ok(c[i].spills ? runs > 1 : runs == 0,
		   "n=%zu mem=%zu: %zu runs on disk", c[i].n, c[i].mem, runs);
		is_int(left, 0, "no file left in the directory");
	}

	size_t v = 0;
	ok(!plm_size_parse("64M", &v) && v == 64u << 20, "64M");
	ok(!plm_size_parse("1k", &v) && v == 1024, "1k");
	ok(!plm_size_parse("2GiB", &v) && v == (size_t)2 << 30, "2GiB");
	ok(!plm_size_parse("1000", &v) && v == 1000, "1000");
	ok(!plm_size_parse("10KB", &v) && v == 10240, "10KB");
	ok(plm_size_parse("", &v) < 0, "empty");
	ok(plm_size_parse("0", &v) < 0, "zero");
	ok(plm_size_parse("-1", &v) < 0, "negative");
	ok(plm_size_parse("1X", &v) < 0, "bad suffix");
	ok(plm_size_parse("1 M", &v) < 0, "space");
	ok(plm_size_parse("99999999999999999999", &v) < 0, "too large");
	ok(plm_size_parse("99999999999T", &v) < 0, "too large with suffix");
	rmdir(dir);
	return done_testing();
}
