/* t-stream.c — record streams: types, float text, f16/bf16, MessagePack and
 * TSV round trips for every type, sections, every reader error with its
 * record number, truncation, compressed input, meta.prov. */
#include "plm/float.h"
#include "plm/stream.h"
#include "tap.h"
#include "testutil.h"

#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* ---- types -------------------------------------------------------------- */

static void test_types(void)
{
	static const char *good[] = { "str", "int", "float", "bool", "f32[1]",
		"f16[320]", "bf16[1280]", "f32[*,4]", "f32[16777216]" };
	static const char *bad[] = { "", "string", "f32", "f32[]", "f32[0]",
		"f32[01]", "f64[3]", "f32[*,]", "f32[-1]", "f32[3", "f32[16777217]",
		"f16[*,4]", "str ", "f32[ 3]" };
	char b[32];
	enum plm_type t;
	uint32_t d;

	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		int rc = plm_type_parse(good[i], strlen(good[i]), &t, &d);
		ok(rc == 0 && !strcmp(plm_type_name(t, d, b, sizeof b), good[i]),
		   "type '%s' parses and prints back", good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		ok(plm_type_parse(bad[i], strlen(bad[i]), &t, &d) == -1,
		   "type '%s' rejected", bad[i]);
	is_int(plm_type_elsize(PLM_T_F32M), 4, "elsize f32[*,N]");
	is_int(plm_type_elsize(PLM_T_BF16), 2, "elsize bf16");
	is_int(plm_type_elsize(PLM_T_STR), 0, "elsize str");
}

/* ---- floats ------------------------------------------------------------- */

static int same32(float a, float b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return !memcmp(&a, &b, 4);
}

static int same64(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return !memcmp(&a, &b, 8);
}

static void test_floats(void)
{
	char b[40];
	int bad = 0, n;

	for (int i = 0; i < 200000; i++) {
		uint32_t u = (uint32_t)rnd();
		if (i % 4 == 1)
			u &= 0x807fffff;        /* subnormals and zeros */
		if (i % 4 == 2)
			u |= 0x7f000000;        /* huge exponents, inf, nan */
		float x;
		memcpy(&x, &u, 4);
		n = plm_fmt_f32(b, x);
		if (n != (int)strlen(b) || !same32(strtof(b, NULL), x)) {
			if (bad++ < 5)
				diag("f32 %08x -> '%s'", u, b);
		}
	}
	is_int(bad, 0, "200k random f32 bit patterns round-trip");
	bad = 0;
	for (int i = 0; i < 200000; i++) {
		uint64_t u = rnd();
		if (i % 4 == 1)
			u &= 0x800fffffffffffffull;
		if (i % 4 == 2)
			u |= 0x7fe0000000000000ull;
		double x;
		memcpy(&x, &u, 8);
		n = plm_fmt_f64(b, x);
		if (n != (int)strlen(b) || !same64(strtod(b, NULL), x)) {
			if (bad++ < 5)
				diag("f64 %016llx -> '%s'", (unsigned long long)u, b);
		}
	}
	is_int(bad, 0, "200k random f64 bit patterns round-trip");

	static const struct { float x; const char *s; } f32s[] = {
		{ 0.1f, "0.1" }, { 1.0f, "1" }, { -0.0f, "-0" }, { 0.0f, "0" },
		{ 1e10f, "1e+10" }, { 3.4028235e38f, "3.4028235e+38" },
		{ 1.4e-45f, "1e-45" }, { 0x1.8p-148f, "4e-45" }, { 16777216.0f, "16777216" },
		{ 0.3f, "0.3" }, { 1.0f / 3, "0.33333334" },
		{ INFINITY, "inf" }, { -INFINITY, "-inf" }, { NAN, "nan" },
	};
	for (size_t i = 0; i < sizeof f32s / sizeof *f32s; i++) {
		plm_fmt_f32(b, f32s[i].x);
		if (!ok(!strcmp(b, f32s[i].s), "f32 spelling %s", f32s[i].s))
			diag("got '%s'", b);
	}
	static const struct { double x; const char *s; } f64s[] = {
		{ 0.1, "0.1" }, { -0.0, "-0" }, { 1.0 / 3, "0.3333333333333333" },
		{ 5e-324, "5e-324" }, { 2.2250738585072014e-308, "2.2250738585072014e-308" }, { 1e300, "1e+300" },
		{ 0.1 + 0.2, "0.30000000000000004" }, { 123456789012, "123456789012" },
		{ -INFINITY, "-inf" },
	};
	for (size_t i = 0; i < sizeof f64s / sizeof *f64s; i++) {
		plm_fmt_f64(b, f64s[i].x);
		if (!ok(!strcmp(b, f64s[i].s), "f64 spelling %s", f64s[i].s))
			diag("got '%s'", b);
	}
}

static void test_half(void)
{
	static const struct { float f; uint16_t h; } f16[] = {
		{ 1.0f, 0x3c00 }, { -2.0f, 0xc000 }, { 65504.0f, 0x7bff },
		{ 65519.0f, 0x7bff }, { 65520.0f, 0x7c00 }, { 1e6f, 0x7c00 },
		{ 0x1p-14f, 0x0400 }, { 0x1p-24f, 0x0001 }, { 0x1p-25f, 0x0000 },
		{ 0x1.8p-24f, 0x0002 }, { 0x1.000002p-25f, 0x0001 },
		{ 0.1f, 0x2e66 }, { 1.0f / 3, 0x3555 }, { -0.0f, 0x8000 },
		{ INFINITY, 0x7c00 }, { -INFINITY, 0xfc00 },
		{ 1.0009765625f, 0x3c01 }, { 1.00048828125f, 0x3c00 },  /* tie → even */
		{ 1.00146484375f, 0x3c02 },                              /* tie → even */
		{ 0x1.ffcp-15f, 0x0400 },  /* largest subnormal + half: rounds up */
	};
	for (size_t i = 0; i < sizeof f16 / sizeof *f16; i++)
		is_int(plm_f32_to_f16(f16[i].f), f16[i].h, "f32→f16 %a", f16[i].f);
	ok(isnan(plm_f16_to_f32(plm_f32_to_f16(NAN))), "f16 nan stays nan");
	is_int(plm_f16_to_f32(0x0001) == 0x1p-24f, 1, "f16 smallest subnormal");
	is_int(plm_f16_to_f32(0x7bff) == 65504.0f, 1, "f16 max");
	ok(signbit(plm_f16_to_f32(0x8000)), "f16 -0");
	int bad = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = plm_f16_to_f32((uint16_t)h);
		if (isnan(f))
			continue;
		bad += plm_f32_to_f16(f) != h;
	}
	is_int(bad, 0, "every f16 survives f16→f32→f16");
	bad = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = plm_bf16_to_f32((uint16_t)h);
		if (isnan(f))
			continue;
		bad += plm_f32_to_bf16(f) != h;
	}
	is_int(bad, 0, "every bf16 survives bf16→f32→bf16");
	is_int(plm_f32_to_bf16(1.0f), 0x3f80, "bf16 1.0");
	is_int(plm_f32_to_bf16(3.14159265f), 0x4049, "bf16 pi");
	is_int(plm_f32_to_bf16(0x1.01p0f), 0x3f80, "bf16 tie to even (down)");
	is_int(plm_f32_to_bf16(0x1.03p0f), 0x3f82, "bf16 tie to even (up)");
	is_int(plm_f32_to_bf16(3.4e38f), 0x7f80, "bf16 overflow to inf");
	ok(isnan(plm_bf16_to_f32(plm_f32_to_bf16(NAN))), "bf16 nan");
}

/* ---- a schema with every type, and rows ------------------------------- */

enum { NF = 9, NROWS = 50 };

static void make_schema(plm_schema *s)
{
	plm_schema_init(s);
	plm_schema_add(s, "id", PLM_T_STR, 0);
	plm_schema_add(s, "n", PLM_T_INT, 0);
	plm_schema_add(s, "x", PLM_T_FLOAT, 0);
	plm_schema_add(s, "ok", PLM_T_BOOL, 0);
	plm_schema_add(s, "v", PLM_T_F32, 3);
	plm_schema_add(s, "h", PLM_T_F16, 2);
	plm_schema_add(s, "b", PLM_T_BF16, 2);
	plm_schema_add(s, "m", PLM_T_F32M, 2);
	plm_schema_add(s, "s2", PLM_T_STR, 0);
}

struct rowbuf {
	char id[64];
	unsigned char v[12], h[4], b[4], m[4 * 2 * 5];
	plm_val vals[NF];
};

static const char *odd_strs[] = { "", "a\tb", "line\nbreak", "cr\rx",
	"back\\slash", "#plm", "#comment\t1", "\\N", "N\\", "plain" };

static void make_row(struct rowbuf *rb, int i)
{
	static const double dbl[] = { 0.0, -0.0, 1e-310, 1.0 / 3, -1e300,
				      INFINITY, -INFINITY, 42 };
	plm_val *v = rb->vals;
	snprintf(rb->id, sizeof rb->id, "%s%d", odd_strs[i % 10], i);
	v[0] = i % 10 == 9 ? plm_v_str(odd_strs[i % 10], 5) :
	       plm_v_str(rb->id, strlen(rb->id));
	if (i == 0)
		v[0] = plm_v_str(odd_strs[5], strlen(odd_strs[5]));
	v[1] = plm_v_int(i % 3 == 0 ? INT64_MIN + i : i % 3 == 1 ? INT64_MAX - i :
			 -i);
	v[2] = plm_v_float(i < 8 ? dbl[i] : (double)rnd() / 7e12 - 1e6);
	v[3] = plm_v_int(i & 1);
	for (int k = 0; k < 3; k++) {
		float f = (float)((int64_t)rnd() % 100000) / 977.0f;
		if (i == 1 && k == 0)
			f = 1e-40f;             /* subnormal */
		memcpy(rb->v + 4 * k, &f, 4);
	}
	v[4] = plm_v_bytes(rb->v, 12, 1);
	for (int k = 0; k < 2; k++) {
		uint16_t h = plm_f32_to_f16((float)(i * 7 + k) / 3.0f);
		uint16_t b = plm_f32_to_bf16((float)(i * 11 - k) / 9.0f);
		rb->h[2 * k] = (unsigned char)h;
		rb->h[2 * k + 1] = (unsigned char)(h >> 8);
		rb->b[2 * k] = (unsigned char)b;
		rb->b[2 * k + 1] = (unsigned char)(b >> 8);
	}
	v[5] = plm_v_bytes(rb->h, 4, 1);
	v[6] = plm_v_bytes(rb->b, 4, 1);
	int rows = 1 + i % 5;
	for (int k = 0; k < rows * 2; k++) {
		float f = (float)(i - k) * 0.25f;
		memcpy(rb->m + 4 * k, &f, 4);
	}
	v[7] = plm_v_bytes(rb->m, (size_t)rows * 8, (uint32_t)rows);
	v[8] = plm_v_str(odd_strs[(i + 3) % 10], strlen(odd_strs[(i + 3) % 10]));
	/* sprinkle nils */
	if (i % 7 == 3)
		v[i % NF] = plm_v_nil();
	if (i % 11 == 5)
		v[8] = plm_v_nil();
}

static int val_eq(const plm_field *f, const plm_val *a, const plm_val *b)
{
	if (a->nil || b->nil)
		return a->nil == b->nil;
	switch (f->type) {
	case PLM_T_INT:
		return a->i == b->i;
	case PLM_T_BOOL:
		return !!a->i == !!b->i;
	case PLM_T_FLOAT:
		return same64(a->f, b->f);
	default:
		return a->n == b->n && (a->n == 0 || !memcmp(a->s, b->s, a->n));
	}
}

static int write_file(const char *p, int tsv, int sections)
{
	plm_schema s;
	char err[512];
	struct rowbuf rb;

	make_schema(&s);
	plm_schema_add_prov(&s, "t-stream", "0", 1, (char *[]){ "t" }, 1, 7);
	plm_writer *w = plm_writer_open(p, tsv ? PLM_FMT_TSV_TYPED : 0, &s, err,
					 sizeof err);
	if (!w) {
		diag("%s", err);
		return -1;
	}
	rs = 12345;
	for (int i = 0; i < NROWS; i++) {
		if (sections && i == NROWS / 2)
			plm_writer_section(w, &s);
		make_row(&rb, i);
		if (plm_writer_row(w, rb.vals)) {
			diag("%s", plm_writer_error(w));
			plm_writer_abort(w);
			return -1;
		}
	}
	plm_schema_free(&s);
	return plm_writer_close(w, err, sizeof err);
}

/* Read p back and compare with the rows write_file made. */
static int check_file(const char *p, int *is_tsv)
{
	char err[512];
	struct rowbuf rb;
	const plm_val *row;
	plm_schema s;
	int rc, bad = 0, n = 0;

	plm_reader *r = plm_reader_open(p, err, sizeof err);
	if (!r) {
		diag("%s", err);
		return -1;
	}
	make_schema(&s);
	if (!plm_schema_equal(&s, plm_reader_schema(r)))
		bad++;
	if (is_tsv)
		*is_tsv = plm_reader_is_tsv(r);
	rs = 12345;
	while ((rc = plm_reader_next(r, &row)) == PLM_ROW) {
		make_row(&rb, n);
		for (int f = 0; f < NF; f++)
			if (!val_eq(&s.f[f], &rb.vals[f], &row[f])) {
				if (bad++ < 5)
					diag("row %d field %s differs", n,
					     s.f[f].name);
			}
		n++;
	}
	if (rc != PLM_EOF) {
		diag("rc %d: %s", rc, plm_reader_error(r));
		bad++;
	}
	if (n != NROWS)
		bad++;
	plm_reader_close(r);
	plm_schema_free(&s);
	return bad;
}

static char *slurp(const char *p, size_t *n)
{
	FILE *fp = fopen(p, "rb");
	char *b = NULL;
	*n = 0;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	b = malloc((size_t)len + 1);
	*n = fread(b, 1, (size_t)len, fp);
	fclose(fp);
	return b;
}

static void spit(const char *p, const void *b, size_t n)
{
	FILE *fp = fopen(p, "wb");
	fwrite(b, 1, n, fp);
	fclose(fp);
}

static void test_roundtrip(void)
{
	int tsv = -1;

	is_int(write_file(tu_path("a.mp"), 0, 0), 0, "write MessagePack");
	is_int(check_file(tu_path("a.mp"), &tsv), 0, "MessagePack round trip");
	is_int(tsv, 0, "detected as MessagePack");
	is_int(write_file(tu_path("a.tsv"), 1, 0), 0, "write TSV");
	is_int(check_file(tu_path("a.tsv"), &tsv), 0, "TSV round trip");
	is_int(tsv, 1, "detected as TSV");
	is_int(write_file(tu_path("s.mp"), 0, 1), 0, "write two sections");
	is_int(check_file(tu_path("s.mp"), NULL), 0,
	       "identical section header absorbed (MessagePack)");
	is_int(write_file(tu_path("s.tsv"), 1, 1), 0, "write two TSV sections");
	is_int(check_file(tu_path("s.tsv"), NULL), 0,
	       "identical section header absorbed (TSV)");

	/* TSV → MessagePack → TSV is byte-identical, meta included */
	char err[512];
	plm_reader *r = plm_reader_open(tu_path("a.tsv"), err, sizeof err);
	plm_writer *w = plm_writer_open(tu_path("b.mp"), 0, plm_reader_schema(r),
					err, sizeof err);
	const plm_val *row;
	while (plm_reader_next(r, &row) == PLM_ROW)
		plm_writer_row(w, row);
	plm_reader_close(r);
	plm_writer_close(w, err, sizeof err);
	r = plm_reader_open(tu_path("b.mp"), err, sizeof err);
	w = plm_writer_open(tu_path("c.tsv"), PLM_FMT_TSV_TYPED,
			    plm_reader_schema(r), err,
			    sizeof err);
	while (plm_reader_next(r, &row) == PLM_ROW)
		plm_writer_row(w, row);
	plm_reader_close(r);
	plm_writer_close(w, err, sizeof err);
	size_t n1, n2, n3;
	char *a = slurp(tu_path("a.tsv"), &n1), *c = slurp(tu_path("c.tsv"), &n2);
	ok(n1 == n2 && n1 > 0 && !memcmp(a, c, n1),
	   "TSV → MessagePack → TSV byte-identical");
	free(c);
	char *m1 = slurp(tu_path("a.mp"), &n2), *m2 = slurp(tu_path("b.mp"), &n3);
	ok(n2 == n3 && !memcmp(m1, m2, n2),
	   "MessagePack written from TSV equals the original");
	free(m2);
	free(a);

	/* compressed input */
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "gzip -c %s > %s && zstd -q -c %s > %s",
		 tu_path("a.mp"), tu_path("a.mp.gz"), tu_path("a.tsv"), tu_path("a.tsv.zst"));
	if (system(cmd) == 0) {
		is_int(check_file(tu_path("a.mp.gz"), NULL), 0, "gzip input");
		is_int(check_file(tu_path("a.tsv.zst"), NULL), 0, "zstd TSV input");
	} else {
		ok(1, "# skip gzip/zstd missing");
	}

	/* concatenated files: same schema absorbed */
	char *both = malloc(2 * n2);
	memcpy(both, m1, n2);
	memcpy(both + n2, m1, n2);
	spit(tu_path("cat.mp"), both, 2 * n2);
	r = plm_reader_open(tu_path("cat.mp"), err, sizeof err);
	int rows = 0, rc;
	while ((rc = plm_reader_next(r, &row)) == PLM_ROW)
		rows++;
	ok(rc == PLM_EOF && rows == 2 * NROWS, "concatenated streams: %d rows",
	   rows);
	plm_reader_close(r);
	free(both);
	free(m1);
}

static void test_sections(void)
{
	plm_schema s1, s2;
	char err[512];
	const plm_val *row;
	plm_val v[2];

	plm_schema_init(&s1);
	plm_schema_add(&s1, "id", PLM_T_STR, 0);
	plm_schema_init(&s2);
	plm_schema_add(&s2, "id", PLM_T_STR, 0);
	plm_schema_add(&s2, "len", PLM_T_INT, 0);
	for (int tsv = 0; tsv < 2; tsv++) {
		plm_writer *w = plm_writer_open(tu_path("sec"),
						tsv ? PLM_FMT_TSV_TYPED : 0, &s1, err,
						sizeof err);
		v[0] = plm_v_str("a", 1);
		plm_writer_row(w, v);
		plm_writer_section(w, &s2);
		v[1] = plm_v_int(5);
		plm_writer_row(w, v);
		plm_writer_row(w, v);
		is_int(plm_writer_rows(w), 3, "writer counts rows");
		is_int(plm_writer_close(w, err, sizeof err), 0, "close");
		plm_reader *r = plm_reader_open(tu_path("sec"), err, sizeof err);
		is_int(plm_reader_schema(r)->n, 1, "first section: 1 field");
		is_int(plm_reader_next(r, &row), PLM_ROW, "row 1");
		is_int(plm_reader_next(r, &row), PLM_HEADER,
		       "different schema: PLM_HEADER (%s)", tsv ? "TSV" : "MP");
		is_int(plm_reader_schema(r)->n, 2, "new schema has 2 fields");
		is_int(plm_reader_next(r, &row), PLM_ROW, "row 2");
		ok(row[1].i == 5 && row[0].n == 1, "row 2 values");
		is_int(plm_reader_next(r, &row), PLM_ROW, "row 3");
		is_int(plm_reader_next(r, &row), PLM_EOF, "clean end");
		is_int(plm_reader_next(r, &row), PLM_EOF, "EOF again");
		is_int(plm_reader_recno(r), 3, "recno");
		plm_reader_close(r);
	}
	plm_schema_free(&s1);
	plm_schema_free(&s2);
}

/* ---- error cases ---------------------------------------------------------- */

static msgpack_sbuffer sb;
static msgpack_packer pk;

static void mp_begin(void)
{
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void pstr(const char *s)
{
	msgpack_pack_str_with_body(&pk, s, strlen(s));
}

/* header with fields given as "name", "type" pairs */
static void mp_header(int n, const char **nt)
{
	msgpack_pack_map(&pk, 3);
	pstr("plm");
	msgpack_pack_int(&pk, 1);
	pstr("fields");
	msgpack_pack_array(&pk, (size_t)n);
	for (int i = 0; i < n; i++) {
		msgpack_pack_array(&pk, 2);
		pstr(nt[2 * i]);
		pstr(nt[2 * i + 1]);
	}
	pstr("meta");
	msgpack_pack_map(&pk, 0);
}

static void mp_trailer(uint64_t n)
{
	msgpack_pack_map(&pk, 1);
	pstr("end");
	msgpack_pack_uint64(&pk, n);
}

static const char *std3[] = { "id", "str", "len", "int", "v", "f32[2]" };

static void mp_good_row(int i)
{
	char id[16];
	float f[2] = { 1.5f, (float)i };
	snprintf(id, sizeof id, "r%d", i);
	msgpack_pack_array(&pk, 3);
	pstr(id);
	msgpack_pack_int(&pk, i);
	msgpack_pack_bin_with_body(&pk, f, 8);
}

/* A stream from a script of space-separated steps: H (header of std3),
 * rN (good row N), tN (trailer of N records), mN / aN (map / array of N),
 * iN (int N), s:TEXT (str TEXT). */
static void mp_script(const char *ops)
{
	char tok[64];
	int len;

	mp_begin();
	while (sscanf(ops, " %63s%n", tok, &len) == 1) {
		ops += len;
		long n = strtol(tok + 1, NULL, 10);
		switch (tok[0]) {
		case 'H': mp_header(3, std3); break;
		case 'r': mp_good_row((int)n); break;
		case 't': mp_trailer((uint64_t)n); break;
		case 'm': msgpack_pack_map(&pk, (size_t)n); break;
		case 'a': msgpack_pack_array(&pk, (size_t)n); break;
		case 'i': msgpack_pack_int(&pk, (int)n); break;
		case 's': pstr(tok + 2); break;
		default: ok(0, "mp_script: bad step %s", tok);
		}
	}
}

/* Read the bytes; expect rows good rows then an error containing want. */
static void expect_err(const void *p, size_t n, int rows, const char *want,
		       const char *name)
{
	char err[512];
	const plm_val *row;
	int got = 0, rc = 0;
	const char *msg;

	plm_reader *r = plm_reader_from(plm_in_mem(p, n, "in"), err, sizeof err);
	if (!r) {
		msg = err;
	} else {
		while ((rc = plm_reader_next(r, &row)) == PLM_ROW ||
		       rc == PLM_HEADER)
			got += rc == PLM_ROW;
		msg = plm_reader_error(r);
	}
	ok((r ? rc == PLM_ERR : 1) && got == rows && strstr(msg, want),
	   "%s: \"%s\"", name, msg);
	if (got != rows)
		diag("got %d rows, want %d", got, rows);
	if (!strstr(msg, want))
		diag("want \"%s\"", want);
	if (r)
		is_int(plm_reader_next(r, &row), PLM_ERR, "%s: error sticks",
		       name);
	plm_reader_close(r);
}

static void test_errors(void)
{
	/* a good stream first, to be sure the helpers are right */
	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	mp_good_row(2);
	mp_trailer(2);
	{
		char err[512];
		const plm_val *row;
		plm_reader *r = plm_reader_from(plm_in_mem(sb.data, sb.size, "in"),
						err, sizeof err);
		int n = 0, rc;
		while ((rc = plm_reader_next(r, &row)) == PLM_ROW)
			n++;
		ok(rc == PLM_EOF && n == 2, "hand-built stream reads");
		plm_reader_close(r);
	}
	/* every prefix of it: truncated, never a crash, never EOF */
	{
		int bad = 0;
		for (size_t k = 1; k < sb.size; k++) {
			char err[512];
			const plm_val *row;
			int rc = PLM_ERR;
			plm_reader *r = plm_reader_from(plm_in_mem(sb.data, k,
								   "in"),
							err, sizeof err);
			const char *m = err;
			if (r) {
				while ((rc = plm_reader_next(r, &row)) == PLM_ROW)
					;
				m = plm_reader_error(r);
			}
			if (rc != PLM_ERR || !strstr(m, "truncated input"))
				bad++;
			plm_reader_close(r);
		}
		is_int(bad, 0, "every prefix is \"truncated input\"");
	}

	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	expect_err(sb.data, sb.size, 1, "in: truncated input after record 1",
		   "no trailer");

	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	msgpack_pack_array(&pk, 3);
	pstr("x");
	expect_err(sb.data, sb.size, 1, "in: truncated input in record 2",
		   "cut inside a row");

	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	msgpack_sbuffer_write(&sb, "\xc1garbage", 8);
	expect_err(sb.data, sb.size, 1, "in: record 2: not MessagePack",
		   "garbage bytes");

	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	msgpack_sbuffer_write(&sb, "\xdd\xff\xff\xff\xff", 5);
	expect_err(sb.data, sb.size, 1, "in: record 2: MessagePack array or map "
		   "too large", "huge array count");

	mp_begin();
	mp_header(3, std3);
	for (int i = 0; i < 30; i++)
		msgpack_pack_array(&pk, 1);
	expect_err(sb.data, sb.size, 0, "record 1: MessagePack nested deeper "
		   "than 24 levels (meta at most 23)",
		   "deep nesting");

	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	mp_good_row(2);
	msgpack_pack_array(&pk, 2);
	pstr("a");
	msgpack_pack_int(&pk, 3);
	expect_err(sb.data, sb.size, 2, "in: record 3: expected 3 fields, got 2",
		   "row too narrow");

	mp_begin();
	mp_header(3, std3);
	msgpack_pack_array(&pk, 3);
	pstr("a");
	pstr("12");
	msgpack_pack_nil(&pk);
	expect_err(sb.data, sb.size, 0,
		   "in: record 1: field 'len' (int): got str", "str for int");

	mp_begin();
	mp_header(3, std3);
	mp_good_row(1);
	msgpack_pack_array(&pk, 3);
	pstr("a");
	msgpack_pack_int(&pk, 1);
	msgpack_pack_bin_with_body(&pk, "1234567", 7);
	expect_err(sb.data, sb.size, 1,
		   "in: record 2: field 'v' (f32[2]): 7 bytes, expected 8",
		   "bin of the wrong length");

	mp_begin();
	mp_header(3, std3);
	msgpack_pack_array(&pk, 3);
	pstr("a");
	msgpack_pack_uint64(&pk, UINT64_MAX);
	msgpack_pack_nil(&pk);
	expect_err(sb.data, sb.size, 0, "record 1: field 'len' (int): integer "
		   "out of range", "uint64 overflow");

	mp_begin();
	mp_header(3, std3);
	msgpack_pack_array(&pk, 3);
	pstr("a");
	msgpack_pack_nil(&pk);
	pstr("xxxxxxxx");
	expect_err(sb.data, sb.size, 0, "field 'v' (f32[2]): got str",
		   "str for a vector");

	static const char *mat[] = { "m", "f32[*,2]", "ok", "bool", "x", "float" };
	mp_begin();
	mp_header(3, mat);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_bin_with_body(&pk, "12345678abcdefgh", 16);
	msgpack_pack_true(&pk);
	msgpack_pack_int(&pk, -3);      /* int accepted for float */
	msgpack_pack_array(&pk, 3);
	msgpack_pack_bin_with_body(&pk, "123456789012", 12);
	msgpack_pack_true(&pk);
	msgpack_pack_float(&pk, 1.5f);
	expect_err(sb.data, sb.size, 1, "record 2: field 'm' (f32[*,2]): 12 "
		   "bytes, not a positive multiple of 8", "matrix length");

	mp_begin();
	mp_header(3, mat);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_nil(&pk);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_nil(&pk);
	expect_err(sb.data, sb.size, 0, "field 'ok' (bool): got int",
		   "int for bool");

	/* ext values of every size: skipped correctly, then refused */
	static const char *exts[] = { "\xd4\x01\x00", "\xd8\x01" "0123456789abcdef",
		"\xc7\x03\x05" "abc", "\xc8\x00\x02\x05" "ab",
		"\xc9\x00\x00\x00\x01\x05" "a" };
	static const size_t extlen[] = { 3, 18, 6, 6, 7 };
	for (int k = 0; k < 5; k++) {
		mp_begin();
		mp_header(3, std3);
		msgpack_pack_array(&pk, 3);
		pstr("a");
		msgpack_pack_int(&pk, 1);
		msgpack_sbuffer_write(&sb, exts[k], extlen[k]);
		mp_good_row(2);
		mp_trailer(2);
		expect_err(sb.data, sb.size, 0, "in: record 1: field 'v' (f32[2]): "
			   "got ext", "ext value");

		/* in meta an ext is fine: the guard must skip it in step */
		mp_begin();
		msgpack_pack_map(&pk, 3);
		pstr("plm");
		msgpack_pack_int(&pk, 1);
		pstr("fields");
		msgpack_pack_array(&pk, 0);
		pstr("meta");
		msgpack_pack_map(&pk, 1);
		pstr("x");
		msgpack_pack_array(&pk, 2);
		msgpack_sbuffer_write(&sb, exts[k], extlen[k]);
		/* 0xc1 is harmless only inside a payload */
		msgpack_pack_bin_with_body(&pk, "\xc1\xc1\xc1\xc1", 4);
		msgpack_pack_array(&pk, 0);
		mp_trailer(1);
		char err[512];
		const plm_val *row;
		plm_reader *r = plm_reader_from(plm_in_mem(sb.data, sb.size, "in"),
						err, sizeof err);
		ok(r && plm_reader_next(r, &row) == PLM_ROW &&
		   plm_reader_next(r, &row) == PLM_EOF, "ext %d in meta skipped",
		   k);
		plm_reader_close(r);
	}

	/* streams out of order or without the header keys */
	static const struct {
		const char *ops;
		int rows;
		const char *want, *name;
	} bad[] = {
		{ "H r1 m1 s:id s:x", 1, "in: record 2: expected a row, got a map",
		  "map where a row should be" },
		{ "H r1 s:x", 1, "record 2: expected a row (array), got str",
		  "str where a row should be" },
		{ "H r1 r2 t3", 2, "trailer after record 2", "wrong trailer" },
		{ "H r1 H", 1, "record 2: header without a trailer",
		  "header without trailer" },
		{ "H r1 t1 r2", 1, "header after record 1: expected a header "
		  "map, got array", "row after trailer" },
		{ "m1 s:fields a0", 0, "in: header: not a plm stream header",
		  "no plm key" },
		{ "m1 s:plm i1", 0, "in: header: no \"fields\" list", "no fields" },
		{ "m2 s:plm i2 s:fields a0", 0, "unsupported format version",
		  "plm: 2" },
	};
	for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
		mp_script(bad[k].ops);
		expect_err(sb.data, sb.size, bad[k].rows, bad[k].want, bad[k].name);
	}

	static const char *unk[] = { "id", "str", "v", "f64[3]" };
	mp_begin();
	mp_header(2, unk);
	expect_err(sb.data, sb.size, 0, "in: header: unknown type 'f64[3]' for "
		   "field 'v'", "unknown type");

	static const char *dup[] = { "id", "str", "id", "int" };
	mp_begin();
	mp_header(2, dup);
	expect_err(sb.data, sb.size, 0, "in: header: duplicate field name 'id'",
		   "duplicate names");

	expect_err("", 0, 0, "in: empty input", "empty input");

	/* TSV */
	const char *t1 = "id:str\tn:int\na\t1\nb\t2\t3\n";
	expect_err(t1, strlen(t1), 1, "in:3: expected 2 fields, got 3",
		   "TSV width");
	const char *t2 = "id:str\tn:int\na\t1\nb\tx\n";
	expect_err(t2, strlen(t2), 1, "in:3: field 'n' (int): bad value 'x'",
		   "TSV int");
	const char *t3 = "#plm\t1\nid:str\tv:f32[3]\na\t1,2\n";
	expect_err(t3, strlen(t3), 0, "in:3: field 'v' (f32[3]): expected 3 "
		   "values, got 2", "TSV vector length");
	const char *t4 = "id:str\tv:f32[2]\na\t1,z\n";
	expect_err(t4, strlen(t4), 0, "field 'v' (f32[2]): bad number 2",
		   "TSV bad number");
	const char *t5 = "id:str\tv:f32[*,2]\na\t1,2,3\n";
	expect_err(t5, strlen(t5), 0, "3 values, not a multiple of 2",
		   "TSV matrix");
	const char *t6 = "id:str\tv:f33\n";
	expect_err(t6, strlen(t6), 0, "in:1: header: unknown type 'f33'",
		   "TSV unknown type");
	const char *t7 = "#plm\t1\n#meta\t{\"prov\": [\n";
	expect_err(t7, strlen(t7), 0, "in:2: #meta:", "TSV bad meta JSON");
	const char *t8 = "#plm\t1\n";
	expect_err(t8, strlen(t8), 0, "in:1: no header line", "TSV no header");
	const char *t9 = "a:int\tb\ta:str\n";
	expect_err(t9, strlen(t9), 0, "in:1: header: duplicate field name 'a'",
		   "TSV duplicate names");
}

static void test_tsv_details(void)
{
	const char *t = "#plm\t1\n# a comment\nid\tn:int\tx:float\tb:bool\th:f16[2]\n"
			"\\#x\t-5\t1e-310\t1\t0.1,-inf\r\n"
			"\\N\t\t\t0\t\n"
			"\tq\\z\t";     /* last line: no newline; bad int */
	char err[512];
	const plm_val *row;

	plm_reader *r = plm_reader_from(plm_in_mem(t, strlen(t), "t"), err,
					sizeof err);
	ok(r != NULL, "TSV with comment and untyped column opens");
	if (!r)
		return;
	is_int(plm_reader_schema(r)->f[0].type, PLM_T_STR, "no type = str");
	is_int(plm_reader_next(r, &row), PLM_ROW, "row 1");
	ok(row[0].n == 2 && !memcmp(row[0].s, "#x", 2), "\\# unescaped");
	ok(row[1].i == -5 && row[2].f == 1e-310 && row[3].i == 1,
	   "int, subnormal float, bool 1");
	uint16_t h0 = (uint16_t)((unsigned char)row[4].s[0] |
				 (unsigned char)row[4].s[1] << 8);
	is_int(h0, plm_f32_to_f16(0.1f), "f16 from text (CRLF stripped)");
	is_int(plm_reader_next(r, &row), PLM_ROW, "row 2");
	ok(row[0].nil && row[1].nil && row[2].nil && !row[3].nil && row[3].i == 0
	   && row[4].nil, "\\N and empty are nil, bool 0");
	is_int(plm_reader_next(r, &row), PLM_ERR, "row 3: bad int, no newline");
	is_str(plm_reader_error(r), "t:6: expected 5 fields, got 3",
	       "last line without newline is still read");
	plm_reader_close(r);

	const char *u = "id:str\nx\n#plm\t1\nid:str\ny\n#plm\t1\nid:int\n7\n";
	r = plm_reader_from(plm_in_mem(u, strlen(u), "u"), err, sizeof err);
	is_int(plm_reader_next(r, &row), PLM_ROW, "TSV section 1");
	is_int(plm_reader_next(r, &row), PLM_ROW, "TSV same header absorbed");
	ok(row[0].n == 1 && row[0].s[0] == 'y', "row from section 2");
	is_int(plm_reader_next(r, &row), PLM_HEADER, "TSV new schema");
	is_int(plm_reader_next(r, &row), PLM_ROW, "TSV section 3");
	is_int(row[0].i, 7, "int value");
	is_int(plm_reader_next(r, &row), PLM_EOF, "end");
	plm_reader_close(r);
}

static void test_writer_errors(void)
{
	plm_schema s;
	char err[512];
	plm_val v[2];

	plm_schema_init(&s);
	plm_schema_add(&s, "id", PLM_T_STR, 0);
	plm_schema_add(&s, "v", PLM_T_F16, 4);
	plm_writer *w = plm_writer_open(tu_path("w.mp"), 0, &s, err, sizeof err);
	v[0] = plm_v_str("a", 1);
	v[1] = plm_v_bytes("12345678", 8, 1);
	is_int(plm_writer_row(w, v), 0, "good row");
	v[1] = plm_v_bytes("1234567", 7, 1);
	is_int(plm_writer_row(w, v), -1, "short vector refused");
	is_str(plm_writer_error(w), "record 2: field 'v' (f16[4]): 7 bytes, "
	       "expected 8", "writer message");
	is_int(plm_writer_close(w, err, sizeof err), -1, "close fails");
	ok(access(tu_path("w.mp"), F_OK) != 0, "no output file left behind");

	plm_schema_add(&s, "id", PLM_T_INT, 0);
	is_int(s.n, 2, "schema_add retypes in place");
	is_int(s.f[0].type, PLM_T_INT, "retyped");
	plm_schema_free(&s);
}

/* ---- meta ----------------------------------------------------------------- */

static void test_prov(void)
{
	plm_schema s, c;
	char *argv[] = { "tool-a", "-x", "in put" };
	msgpack_unpacked u;
	size_t off = 0;

	plm_schema_init(&s);
	plm_schema_add(&s, "id", PLM_T_STR, 0);
	is_int(plm_schema_add_prov(&s, "tool-a", "1.0", 3, argv, 0, 0), 0,
	       "add_prov");
	is_int(plm_schema_add_prov(&s, "tool-b", "1.1", 1, argv, 1, 42), 0,
	       "add_prov again");
	is_int(plm_schema_prov_set(&s, "digest", "abc"), 0, "prov_set");
	is_int(plm_schema_prov_set(&s, "digest", "abd"), 0, "prov_set replace");
	plm_schema_copy(&c, &s);
	ok(c.meta_len == s.meta_len && !memcmp(c.meta, s.meta, s.meta_len),
	   "schema_copy copies meta");
	ok(plm_schema_equal(&c, &s) && plm_schema_find(&c, "id") == 0 &&
	   plm_schema_find(&c, "x") == -1, "equal and find");
	msgpack_unpacked_init(&u);
	msgpack_unpack_next(&u, (const char *)s.meta, s.meta_len, &off);
	char txt[1024];
	msgpack_object_print_buffer(txt, sizeof txt, u.data);
	is_str(txt, "{\"prov\"=>[{\"tool\"=>\"tool-a\", \"version\"=>\"1.0\", "
	       "\"argv\"=>[\"tool-a\", \"-x\", \"in put\"], \"seed\"=>nil}, "
	       "{\"tool\"=>\"tool-b\", \"version\"=>\"1.1\", \"argv\"=>"
	       "[\"tool-a\"], \"seed\"=>42, \"digest\"=>\"abd\"}]}",
	       "meta.prov content");
	msgpack_unpacked_destroy(&u);

	/* meta survives TSV (JSON) and back, byte for byte */
	char err[512];
	plm_writer *w = plm_writer_open(tu_path("p.tsv"), PLM_FMT_TSV_TYPED, &s,
					 err, sizeof err);
	plm_writer_close(w, err, sizeof err);
	plm_reader *r = plm_reader_open(tu_path("p.tsv"), err, sizeof err);
	const plm_schema *rs2 = plm_reader_schema(r);
	ok(r && rs2->meta_len == s.meta_len &&
	   !memcmp(rs2->meta, s.meta, s.meta_len), "meta round-trips via TSV");
	plm_reader_close(r);
	plm_schema_free(&s);
	plm_schema_free(&c);
}

int main(void)
{
	if (tu_mkdir("t-stream"))
		return 1;
	test_types();
	test_floats();
	test_half();
	test_roundtrip();
	test_sections();
	test_errors();
	test_tsv_details();
	test_writer_errors();
	test_prov();
	msgpack_sbuffer_destroy(&sb);
	tu_rmdir();
	return done_testing();
}
