/* t-stats.c — lib/stats.c (histogram median, value counts), lib/rows.c
 * (row copies, keys) and the reservoir of lib/sample.c. */
#include <stdlib.h>
#include <string.h>

#include "plm/rng.h"
#include "plm/rows.h"
#include "plm/sample.h"
#include "plm/stats.h"
#include "tap.h"

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void test_hist(void)
{
	plm_hist h;
	plm_summary s;
	plm_hist_init(&h);
	ok(plm_hist_summary(&h, &s) == 0 && s.n == 0, "empty histogram");
	int64_t xs[] = { 5, 3, 9, 3, 2000000, -4, 7 };
	for (size_t i = 0; i < 7; i++)
		plm_hist_add(&h, xs[i]);
	plm_hist_summary(&h, &s);
	is_int(s.n, 7, "n");
	is_int(s.min, -4, "min (sparse negative)");
	is_int(s.max, 2000000, "max (sparse large)");
	ok(s.median == 5, "odd median %g", s.median);
	ok(s.mean == (5 + 3 + 9 + 3 + 2000000 - 4 + 7) / 7.0, "mean %g", s.mean);
	plm_hist_add(&h, 8);
	plm_hist_summary(&h, &s);
	ok(s.median == 6, "even median averages the middle two: %g", s.median);
	plm_hist_free(&h);

	/* Random values against sorting. */
	plm_rng r;
	plm_rng_seed(&r, 1);
	enum { N = 10001 };
	int64_t *v = malloc(N * sizeof *v);
	plm_hist_init(&h);
	double sum = 0;
	for (int i = 0; i < N; i++) {
		v[i] = (int64_t)plm_rng_below(&r, 3000000) - 1000;
		sum += v[i];
		plm_hist_add(&h, v[i]);
	}
	qsort(v, N, sizeof *v, cmp_i64);
	plm_hist_summary(&h, &s);
	ok(s.min == v[0] && s.max == v[N - 1], "random min/max");
	ok(s.median == v[N / 2], "random median");
	ok(s.mean == sum / N, "random mean");
	free(v);
	plm_hist_free(&h);
}

static void test_counts(void)
{
	plm_counts c;
	plm_keybuf kb = { 0 };
	const char *words[] = { "b", "a", "c", "a", "b", "a", "c" };
	plm_counts_init(&c);
	for (int i = 0; i < 7; i++) {
		plm_val v = plm_v_str(words[i], 1);
		plm_counts_add(&c, &kb, &v, PLM_T_STR);
	}
	plm_val nil = plm_v_nil();
	plm_counts_add(&c, &kb, &nil, PLM_T_STR);
	plm_counts_add(&c, &kb, &nil, PLM_T_STR);
	size_t *o = plm_counts_order(&c);
	char got[64] = "";
	for (size_t i = 0; i < plm_strmap_size(c.map); i++) {
		size_t n, pos = 0;
		const char *k = plm_strmap_key(c.map, o[i], &n);
		plm_val v;
		enum plm_type t;
		char text[16];
		plm_key_next(k, n, &pos, &v, &t);
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s:%d ",
			 plm_val_text(&v, t, text, sizeof text),
			 (int)*plm_strmap_val(c.map, o[i]));
	}
	is_str(got, "a:3 b:2 c:2 \\N:2 ", "count desc, then value, nil last");
	free(o);
	plm_counts_free(&c);

	plm_counts_init(&c);
	int64_t ints[] = { 10, 9, 10, -1, 9 };
	for (int i = 0; i < 5; i++) {
		plm_val v = plm_v_int(ints[i]);
		plm_counts_add(&c, &kb, &v, PLM_T_INT);
	}
	o = plm_counts_order(&c);
	size_t n, pos = 0;
	plm_val v;
	enum plm_type t;
	const char *k0 = plm_strmap_key(c.map, o[0], &n);
	plm_key_next(k0, n, &pos, &v, &t);
	ok(v.i == 9, "ints sort numerically on ties (9 before 10)");
	free(o);
	plm_counts_free(&c);
	plm_key_free(&kb);
}

static void test_rows(void)
{
	plm_schema s;
	plm_schema_init(&s);
	plm_schema_add(&s, "id", PLM_T_STR, 0);
	plm_schema_add(&s, "n", PLM_T_INT, 0);
	plm_schema_add(&s, "v", PLM_T_F32, 2);
	plm_rows r;
	plm_rows_init(&r, &s);
	char id[8] = "abc";
	float vec[2] = { 1.5f, -2 };
	plm_val row[3] = { plm_v_str(id, 3), plm_v_int(42),
			   plm_v_bytes(vec, sizeof vec, 1) };
	for (int i = 0; i < 100; i++)
		plm_rows_add(&r, row);
	strcpy(id, "xyz");
	vec[0] = 0;
	const plm_val *g = plm_rows_get(&r, 99);
	ok(r.n == 100 && g[0].n == 3 && !memcmp(g[0].s, "abc", 3),
	   "row copies own their strings");
	ok(g[1].i == 42 && g[2].n == 8 && ((const float *)g[2].s)[0] == 1.5f,
	   "and their vectors");
	row[0] = plm_v_nil();
	plm_rows_set(&r, 5, row);
	g = plm_rows_get(&r, 5);
	ok(g[0].nil && ((const float *)g[2].s)[0] == 0, "replace a row");
	ok(r.bytes == 100 * 16 - 8, "bytes held %zu (8-aligned)", r.bytes);
	plm_rows_free(&r);

	/* Keys: int 7 and str "7" differ; a str tuple boundary is kept. */
	plm_keybuf a = { 0 }, b = { 0 };
	plm_val i7 = plm_v_int(7), s7 = plm_v_str("7", 1);
	plm_key_add(&a, &i7, PLM_T_INT);
	plm_key_add(&b, &s7, PLM_T_STR);
	ok(a.n != b.n || memcmp(a.p, b.p, a.n), "int 7 != str \"7\"");
	plm_key_reset(&a);
	plm_key_reset(&b);
	plm_val ab = plm_v_str("ab", 2), c = plm_v_str("c", 1);
	plm_val x = plm_v_str("a", 1), bc = plm_v_str("bc", 2);
	plm_key_add(&a, &ab, PLM_T_STR);
	plm_key_add(&a, &c, PLM_T_STR);
	plm_key_add(&b, &x, PLM_T_STR);
	plm_key_add(&b, &bc, PLM_T_STR);
	ok(a.n != b.n || memcmp(a.p, b.p, a.n), "(ab,c) != (a,bc)");
	plm_val f = plm_v_float(1);
	ok(plm_key_add(&a, &f, PLM_T_FLOAT) == -1, "float is not a key");
	plm_key_free(&a);
	plm_key_free(&b);
	plm_schema_free(&s);
}

/* Every one of 5 records should land in a 2-reservoir about 2/5 of the
 * time; output order is input order. */
static void test_reservoir(void)
{
	plm_schema s;
	plm_schema_init(&s);
	plm_schema_add(&s, "n", PLM_T_INT, 0);
	int hits[5] = { 0 }, ordered = 1;
	plm_rng r;
	plm_rng_seed(&r, 7);
	for (int t = 0; t < 20000; t++) {
		plm_reservoir rs;
		plm_reservoir_init(&rs, &s, 2);
		for (int i = 0; i < 5; i++) {
			plm_val v = plm_v_int(i);
			plm_reservoir_offer(&rs, &r, &v, (uint64_t)i);
		}
		plm_pick *p;
		size_t n;
		plm_reservoir_order(&rs, 1, &p, &n);
		for (size_t k = 0; k < n; k++) {
			const plm_val *v = plm_rows_get(&rs.rows, p[k].slot);
			hits[v->i]++;
			if (k && p[k].pos <= p[k - 1].pos)
				ordered = 0;
		}
		free(p);
		plm_reservoir_free(&rs);
	}
	ok(ordered, "picks come in input order");
	for (int i = 0; i < 5; i++)
		ok(hits[i] > 7600 && hits[i] < 8400, "record %d kept %d/20000 "
		   "(expect 8000)", i, hits[i]);
	plm_schema_free(&s);
}

int main(void)
{
	test_hist();
	test_counts();
	test_rows();
	test_reservoir();
	return done_testing();
}
