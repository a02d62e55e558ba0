/* t-npy.c — .npy headers (written and parsed back, malformed ones
 * refused), rows of every float dtype in both orders, string elements,
 * zip members stored and deflated (CRC checked), and the .npy writer's
 * patched header. */
#include "plm/npy.h"
#include "tap.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static size_t hdr(unsigned char *buf, const char *dict)
{
	size_t n = strlen(dict), pad = 64 - (10 + n + 1) % 64;
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (unsigned char)((n + pad + 1) & 0xff);
	buf[9] = (unsigned char)((n + pad + 1) >> 8);
	memcpy(buf + 10, dict, n);
	memset(buf + 10 + n, ' ', pad);
	buf[10 + n + pad] = '\n';
	return 10 + n + pad + 1;
}

static void test_header(void)
{
	unsigned char b[256];
	char err[256];
	plm_npy h;
	plm_npy_header_f32(b, 12345678901ull, 768);
	ok(plm_npy_parse(b, PLM_NPY_HDR, &h, err, sizeof err) == 0,
	   "written header parses: %s", err);
	is_int(h.data_off, PLM_NPY_HDR, "data after the reserved header");
	is_int(h.dtype, PLM_NPY_F32, "<f4");
	is_int(h.rank, 2, "rank 2");
	ok(h.shape[0] == 12345678901ull && h.shape[1] == 768, "shape");
	is_int(h.fortran, 0, "C order");

	hdr(b, "{'descr': '<f2', 'fortran_order': True, 'shape': (3,), }");
	ok(plm_npy_parse(b, sizeof b, &h, err, sizeof err) == 0 &&
	   h.dtype == PLM_NPY_F16 && h.fortran && h.rank == 1 &&
	   h.shape[0] == 3 && h.nbytes == 6, "f2, Fortran, 1-D");
	hdr(b, "{'descr': '<U7', 'fortran_order': False, 'shape': (2,)}");
	ok(plm_npy_parse(b, sizeof b, &h, err, sizeof err) == 0 &&
	   h.dtype == PLM_NPY_U && h.itemsize == 28, "<U7: 28 bytes");

	hdr(b, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }");
	ok(plm_npy_parse(b, sizeof b, &h, err, sizeof err) < 0 &&
	   strstr(err, "big-endian"), "big-endian refused: %s", err);
	hdr(b, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }");
	ok(plm_npy_parse(b, sizeof b, &h, err, sizeof err) < 0 &&
	   strstr(err, "pickled"), "object refused: %s", err);
	hdr(b, "{'descr': '<f4', 'shape': (2,), }");
	ok(plm_npy_parse(b, sizeof b, &h, err, sizeof err) < 0 &&
	   strstr(err, "malformed"), "fortran_order missing: %s", err);
	hdr(b, "{'descr': '<f4', 'fortran_order': False, 'shape': "
	       "(4294967296, 4294967296, 4294967296), }");
	ok(plm_npy_parse(b, sizeof b, &h, err, sizeof err) < 0 &&
	   strstr(err, "too large"), "overflowing shape: %s", err);
	ok(plm_npy_parse("\x93NUMPX", 6, &h, err, sizeof err) < 0,
	   "no magic");
	size_t n = hdr(b, "{'descr': '<f4', 'fortran_order': False, "
			  "'shape': (2, 2), }");
	ok(plm_npy_parse(b, n - 5, &h, err, sizeof err) < 0 &&
	   strstr(err, "truncated"), "truncated header: %s", err);

	/* The header ends in blanks right after 'descr': — nothing may be
	 * read past it (a heap copy of exactly that size, for ASan). */
	static const char cut[] = "\x93NUMPY\x01\x00\x11\x00{'descr':"
				  "        ";
	char *c = malloc(sizeof cut - 1);
	memcpy(c, cut, sizeof cut - 1);
	ok(plm_npy_parse(c, sizeof cut - 1, &h, err, sizeof err) < 0 &&
	   strstr(err, "malformed"), "header ending after 'descr': %s", err);
	free(c);
}

static void test_rows(void)
{
	/* [[1, 2, 3], [4, 5, nan]] as f64 in Fortran order */
	double f[6] = { 1, 4, 2, 5, 3, NAN };
	float out[3];
	plm_npy h = { .dtype = PLM_NPY_F64, .itemsize = 8, .fortran = 1,
		      .rank = 2, .shape = { 2, 3 } };
	is_int(plm_npy_row_f32(&h, (unsigned char *)f, 0, out), -1,
	       "row 0 finite");
	ok(out[0] == 1 && out[1] == 2 && out[2] == 3, "Fortran row 0");
	is_int(plm_npy_row_f32(&h, (unsigned char *)f, 1, out), 2,
	       "row 1: column 2 is NaN");
	ok(out[0] == 4 && out[1] == 5 && isnan(out[2]), "Fortran row 1");
	double big[2] = { 1e300, 0.1 };
	h = (plm_npy){ .dtype = PLM_NPY_F64, .itemsize = 8, .rank = 2,
		       .shape = { 1, 2 } };
	is_int(plm_npy_row_f32(&h, (unsigned char *)big, 0, out), 0,
	       "f64 beyond float32 is not finite there");
	ok(out[1] == 0.1f, "f64 rounded to nearest");
	uint16_t hf[4] = { 0x3c00, 0x0001, 0x7bff, 0x8000 };
	h = (plm_npy){ .dtype = PLM_NPY_F16, .itemsize = 2, .rank = 2,
		       .shape = { 2, 2 } };
	plm_npy_row_f32(&h, (unsigned char *)hf, 1, out);
	ok(out[0] == 65504.0f && out[1] == 0 && signbit(out[1]),
	   "f16 C order row 1: 65504, -0");
	plm_npy_row_f32(&h, (unsigned char *)hf, 0, out);
	ok(out[0] == 1 && out[1] == 0x1p-24f, "f16 subnormal exact");
}

static void test_str(void)
{
	char buf[64], err[128];
	/* '<U3': "aé", then U+D800 */
	uint32_t u[6] = { 'a', 0xe9, 0, 0xd800, 0, 0 };
	plm_npy h = { .dtype = PLM_NPY_U, .itemsize = 12, .rank = 1,
		      .shape = { 2 } };
	is_int(plm_npy_str(&h, (unsigned char *)u, 0, buf, sizeof buf, err,
			   sizeof err), 3, "UTF-8 of 'a\\u00e9': 3 bytes");
	is_str(buf, "a\xc3\xa9", "UTF-8 bytes");
	ok(plm_npy_str(&h, (unsigned char *)u, 1, buf, sizeof buf, err,
		       sizeof err) < 0, "a surrogate refused: %s", err);
	const char s[8] = { 'x', 'y', 0, 0, 'q', 0, 'r', 0 };
	h = (plm_npy){ .dtype = PLM_NPY_S, .itemsize = 4, .rank = 1,
		       .shape = { 2 } };
	is_int(plm_npy_str(&h, (const unsigned char *)s, 0, buf, sizeof buf,
			   err, sizeof err), 2, "|S4 trailing NULs stripped");
	ok(plm_npy_str(&h, (const unsigned char *)s, 1, buf, sizeof buf, err,
		       sizeof err) < 0, "a NUL inside refused: %s", err);
}

static void le16(unsigned char *p, unsigned v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void le32(unsigned char *p, uint32_t v) { le16(p, v & 0xffff); le16(p + 2, v >> 16); }

/* A zip of one member "m.npy" holding data[0..n), deflated or stored. */
static size_t mkzip(unsigned char *z, const unsigned char *data, size_t n,
		    int defl, uint32_t crc_adj)
{
	unsigned char c[4096];
	size_t cn = n;
	if (defl) {
		z_stream s;
		memset(&s, 0, sizeof s);
		deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
		s.next_in = (unsigned char *)data, s.avail_in = (uInt)n;
		s.next_out = c, s.avail_out = sizeof c;
		deflate(&s, Z_FINISH);
		cn = sizeof c - s.avail_out;
		deflateEnd(&s);
	} else {
		memcpy(c, data, n);
	}
	uint32_t crc = (uint32_t)crc32(0, data, (uInt)n) ^ crc_adj;
	size_t o = 0;
	memset(z, 0, 30);
	le32(z, 0x04034b50);
	le16(z + 8, defl ? 8 : 0);
	le32(z + 14, crc), le32(z + 18, (uint32_t)cn), le32(z + 22, (uint32_t)n);
	le16(z + 26, 5);
	memcpy(z + 30, "m.npy", 5);
	memcpy(z + 35, c, cn);
	o = 35 + cn;
	size_t cd = o;
	memset(z + o, 0, 46);
	le32(z + o, 0x02014b50);
	le16(z + o + 10, defl ? 8 : 0);
	le32(z + o + 16, crc), le32(z + o + 20, (uint32_t)cn);
	le32(z + o + 24, (uint32_t)n), le16(z + o + 28, 5);
	memcpy(z + o + 46, "m.npy", 5);
	o += 51;
	memset(z + o, 0, 22);
	le32(z + o, 0x06054b50);
	le16(z + o + 8, 1), le16(z + o + 10, 1);
	le32(z + o + 12, 51), le32(z + o + 16, (uint32_t)cd);
	return o + 22;
}

static void test_zip(void)
{
	unsigned char data[300], z[8192], out[300];
	char err[256], names[64];
	plm_zip_member m;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i % 7);
	for (int d = 0; d < 2; d++) {
		size_t n = mkzip(z, data, sizeof data, d, 0);
		is_int(plm_zip_find(z, n, "m.npy", &m, names, sizeof names,
				    err, sizeof err), 0, "member found (%s)",
		       d ? "deflate" : "stored");
		is_int(m.method, d ? 8 : 0, "method");
		is_int(m.usize, sizeof data, "size");
		if (d)
			ok(plm_zip_inflate(z, n, &m, out, err, sizeof err) == 0 &&
			   memcmp(out, data, sizeof data) == 0,
			   "inflated: %s", err);
		else
			ok(memcmp(z + m.off, data, sizeof data) == 0,
			   "stored data in place");
		is_int(plm_zip_find(z, n, "x.npy", &m, names, sizeof names,
				    err, sizeof err), 1, "absent member");
		is_str(names, "m.npy", "members listed");
	}
	size_t n = mkzip(z, data, sizeof data, 1, 1);
	plm_zip_find(z, n, "m.npy", &m, names, sizeof names, err, sizeof err);
	ok(plm_zip_inflate(z, n, &m, out, err, sizeof err) < 0 &&
	   strstr(err, "CRC"), "bad CRC refused: %s", err);
	ok(plm_zip_find(z, 10, "m.npy", &m, names, sizeof names, err,
			sizeof err) < 0, "not a zip: %s", err);
}

static void test_writer(void)
{
	char err[256];
	const char *path = tu_path("w.npy");
	plm_npyw *w = plm_npyw_open(path, 3, err, sizeof err);
	ok(w != NULL, "writer opens: %s", err);
	ok(access(path, F_OK) != 0, "nothing at the path before close");
	float r[3] = { 1, -2, 0.5f };
	for (int i = 0; i < 5; i++)
		plm_npyw_row(w, r, err, sizeof err);
	ok(plm_npyw_close(w, err, sizeof err) == 0, "closes: %s", err);
	const unsigned char *p;
	size_t n;
	plm_npy h;
	ok(plm_map_file(path, &p, &n, err, sizeof err) == 0, "maps");
	is_int(n, PLM_NPY_HDR + 5 * 12, "header + 5 rows");
	ok(plm_npy_parse(p, n, &h, err, sizeof err) == 0 && h.shape[0] == 5 &&
	   h.shape[1] == 3, "patched shape (5, 3)");
	float out[3];
	plm_npy_row_f32(&h, p + h.data_off, 4, out);
	ok(memcmp(out, r, sizeof r) == 0, "row 4 read back");
	plm_unmap_file(p, n);

	w = plm_npyw_open(tu_path("x.npy"), 2, err, sizeof err);
	plm_npyw_abort(w);
	ok(access(tu_path("x.npy"), F_OK) != 0, "abort leaves nothing");
}

int main(void)
{
	if (tu_mkdir("t-npy"))
		return 1;
	test_header();
	test_rows();
	test_str();
	test_zip();
	test_writer();
	tu_rmdir();
	return done_testing();
}
