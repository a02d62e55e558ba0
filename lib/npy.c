/* npy.c — .npy headers and rows, .npz members, the .npy writer (npy.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "plm/cli.h"
#include "plm/float.h"
#include "plm/npy.h"

static const unsigned char magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* ---- the header dict -------------------------------------------------- */

struct scan {
	const char *p, *end;
};

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int eat(struct scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return 1;
	}
	return 0;
}

/* A quoted Python string without escapes into buf. */
static int qstr(struct scan *s, char *buf, size_t len)
{
	ws(s);
	if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
		return -1;
	char q = *s->p++;
	size_t n = 0;
	while (s->p < s->end && *s->p != q) {
		if (*s->p == '\\' || n + 1 >= len)
			return -1;
		buf[n++] = *s->p++;
	}
	if (s->p >= s->end)
		return -1;
	s->p++;
	buf[n] = 0;
	return 0;
}

static int word(struct scan *s, const char *w)
{
	size_t n = strlen(w);
	ws(s);
	if ((size_t)(s->end - s->p) >= n && memcmp(s->p, w, n) == 0) {
		s->p += n;
		return 1;
	}
	return 0;
}

static int shape(struct scan *s, plm_npy *h)
{
	h->rank = 0;
	if (!eat(s, '('))
		return -1;
	for (;;) {
		if (eat(s, ')'))
			return 0;
		ws(s);
		uint64_t v = 0;
		int digits = 0;
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(*s->p++ - '0');
			digits++;
		}
		if (s->p < s->end && *s->p == 'L')   /* Python 2 longs */
			s->p++;
		if (!digits || h->rank == PLM_NPY_MAXRANK)
			return -1;
		h->shape[h->rank++] = v;
		if (!eat(s, ',')) {
			if (!eat(s, ')'))
				return -1;
			return 0;
		}
	}
}

static int descr(const char *d, plm_npy *h, char *err, size_t errlen)
{
	char *end;
	if (strcmp(d, "<f2") == 0 || strcmp(d, "<e") == 0) {
		h->dtype = PLM_NPY_F16, h->itemsize = 2;
	} else if (strcmp(d, "<f4") == 0) {
		h->dtype = PLM_NPY_F32, h->itemsize = 4;
	} else if (strcmp(d, "<f8") == 0) {
		h->dtype = PLM_NPY_F64, h->itemsize = 8;
	} else if ((strncmp(d, "<U", 2) == 0 || strncmp(d, "|S", 2) == 0) &&
		   d[2] >= '1' && d[2] <= '9') {
		errno = 0;
		unsigned long long k = strtoull(d + 2, &end, 10);
		if (*end || errno || k > (1u << 20)) {
			snprintf(err, errlen, "dtype '%s' is not supported", d);
			return -1;
		}
		h->dtype = d[0] == '<' ? PLM_NPY_U : PLM_NPY_S;
		h->itemsize = (size_t)k * (d[0] == '<' ? 4 : 1);
	} else if (d[0] == '>' && d[1] && strcmp(d + 1, "f1")) {
		snprintf(err, errlen, "dtype '%s': big-endian data is not "
			 "supported", d);
		return -1;
	} else if (strcmp(d, "|O") == 0) {
		snprintf(err, errlen, "dtype '|O': object arrays (pickled) "
			 "are not supported");
		return -1;
	} else {
		snprintf(err, errlen, "dtype '%s' is not supported (float16, "
			 "float32 or float64; '<U' or '|S' for ids)", d);
		return -1;
	}
	return 0;
}

int plm_npy_parse(const void *vp, size_t n, plm_npy *h, char *err,
		  size_t errlen)
{
	const unsigned char *p = vp;
	size_t hl, off;
	char d[64];
	int have_d = 0, have_f = 0, have_s = 0;

	memset(h, 0, sizeof *h);
	if (n < 10 || memcmp(p, magic, 6) != 0) {
		snprintf(err, errlen, "not a .npy file (no \\x93NUMPY magic)");
		return -1;
	}
	if (p[6] == 1) {
		hl = rd16(p + 8), off = 10;
	} else if ((p[6] == 2 || p[6] == 3) && n >= 12) {
		hl = rd32(p + 8), off = 12;
	} else {
		snprintf(err, errlen, ".npy version %d.%d is not supported",
			 p[6], p[7]);
		return -1;
	}
	if (hl > n - off) {
		snprintf(err, errlen, "truncated .npy header");
		return -1;
	}
	struct scan s = { (const char *)p + off, (const char *)p + off + hl };
	if (!eat(&s, '{'))
		goto bad;
	while (!eat(&s, '}')) {
		char key[32];
		if (qstr(&s, key, sizeof key) || !eat(&s, ':'))
			goto bad;
		if (strcmp(key, "descr") == 0) {
			ws(&s);
			if (s.p < s.end && *s.p == '[') {
				snprintf(err, errlen, "structured dtypes are "
					 "not supported");
				return -1;
			}
			if (qstr(&s, d, sizeof d))
				goto bad;
			have_d = 1;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (word(&s, "True"))
				h->fortran = 1;
			else if (!word(&s, "False"))
				goto bad;
			have_f = 1;
		} else if (strcmp(key, "shape") == 0) {
			if (shape(&s, h))
				goto bad;
			have_s = 1;
		} else {
			goto bad;
		}
		if (!eat(&s, ',')) {
			if (!eat(&s, '}'))
				goto bad;
			break;
		}
	}
	if (!have_d || !have_f || !have_s)
		goto bad;
	if (descr(d, h, err, errlen))
		return -1;
	h->data_off = off + hl;
	uint64_t cnt = 1;
	for (int k = 0; k < h->rank; k++) {
		if (h->shape[k] && cnt > UINT64_MAX / h->shape[k])
			goto big;
		cnt *= h->shape[k];
	}
	if (cnt > UINT64_MAX / h->itemsize)
		goto big;
	h->nbytes = cnt * h->itemsize;
	return 0;
big:
	snprintf(err, errlen, "shape too large");
	return -1;
bad:
	snprintf(err, errlen, "malformed .npy header");
	return -1;
}

const char *plm_npy_dtype_name(const plm_npy *h, char *buf, size_t len)
{
	switch (h->dtype) {
	case PLM_NPY_F16: snprintf(buf, len, "<f2"); break;
	case PLM_NPY_F32: snprintf(buf, len, "<f4"); break;
	case PLM_NPY_F64: snprintf(buf, len, "<f8"); break;
	case PLM_NPY_U: snprintf(buf, len, "<U%zu", h->itemsize / 4); break;
	case PLM_NPY_S: snprintf(buf, len, "|S%zu", h->itemsize); break;
	default: snprintf(buf, len, "?"); break;
	}
	return buf;
}

/* ---- rows ------------------------------------------------------------- */

long plm_npy_row_f32(const plm_npy *h, const unsigned char *data, uint64_t i,
		     float *out)
{
	uint64_t n = h->shape[0], d = h->shape[1];
	long bad = -1;
	for (uint64_t j = 0; j < d; j++) {
		uint64_t e = h->fortran ? j * n + i : i * d + j;
		const unsigned char *q = data + e * h->itemsize;
		float f;
		int fin;
		if (h->dtype == PLM_NPY_F16) {
			f = plm_f16_to_f32(rd16(q));
			fin = isfinite(f);
		} else if (h->dtype == PLM_NPY_F32) {
			f = plm_bits_f32(rd32(q));
			fin = isfinite(f);
		} else {
			uint64_t u = rd64(q);
			double x;
			memcpy(&x, &u, 8);
			f = (float)x;
			fin = isfinite(x) && isfinite(f);
		}
		out[j] = f;
		if (!fin && bad < 0)
			bad = (long)j;
	}
	return bad;
}

static int put_utf8(char *buf, size_t buflen, size_t *n, uint32_t c)
{
	unsigned char t[4];
	size_t k;
	if (c < 0x80) {
		t[0] = (unsigned char)c, k = 1;
	} else if (c < 0x800) {
		t[0] = (unsigned char)(0xc0 | c >> 6);
		t[1] = (unsigned char)(0x80 | (c & 0x3f)), k = 2;
	} else if (c < 0x10000) {
		if (c >= 0xd800 && c <= 0xdfff)
			return -1;
		t[0] = (unsigned char)(0xe0 | c >> 12);
		t[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		t[2] = (unsigned char)(0x80 | (c & 0x3f)), k = 3;
	} else if (c <= 0x10ffff) {
		t[0] = (unsigned char)(0xf0 | c >> 18);
		t[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		t[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		t[3] = (unsigned char)(0x80 | (c & 0x3f)), k = 4;
	} else {
		return -1;
	}
	if (*n + k >= buflen)
		return -1;
	memcpy(buf + *n, t, k);
	*n += k;
	return 0;
}

long plm_npy_str(const plm_npy *h, const unsigned char *data, uint64_t i,
		 char *buf, size_t buflen, char *err, size_t errlen)
{
	const unsigned char *q = data + i * h->itemsize;
	size_t w = h->dtype == PLM_NPY_U ? 4 : 1;
	size_t m = h->itemsize / w, n = 0;
	/* numpy strips trailing NULs */
	while (m > 0 && (w == 4 ? rd32(q + (m - 1) * 4) : q[m - 1]) == 0)
		m--;
	for (size_t k = 0; k < m; k++) {
		uint32_t c = w == 4 ? rd32(q + k * 4) : q[k];
		if (c == 0) {
			snprintf(err, errlen, "element %" PRIu64 ": a NUL "
				 "inside the string", i);
			return -1;
		}
		if (w == 1) {
			if (n + 1 >= buflen)
				goto small;
			buf[n++] = (char)c;
		} else if (put_utf8(buf, buflen, &n, c)) {
			snprintf(err, errlen, "element %" PRIu64 ": U+%04" PRIX32
				 " is not a Unicode character", i, c);
			return -1;
		}
	}
	buf[n] = 0;
	return (long)n;
small:
	snprintf(err, errlen, "element %" PRIu64 ": string too long", i);
	return -1;
}

/* ---- zip -------------------------------------------------------------- */

/* The central directory: offset, size and count, zip64 included. */
static int zip_cd(const unsigned char *p, size_t n, uint64_t *cdoff,
		  uint64_t *cdsize, uint64_t *cnt, char *err, size_t errlen)
{
	if (n < 22)
		goto bad;
	size_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
	size_t e = n - 22 + 1;
	while (e-- > lo)
		if (rd32(p + e) == 0x06054b50)
			break;
	if (e < lo || e > n - 22 || rd32(p + e) != 0x06054b50)
		goto bad;
	*cnt = rd16(p + e + 10);
	*cdsize = rd32(p + e + 12);
	*cdoff = rd32(p + e + 16);
	if ((*cnt == 0xffff || *cdsize == 0xffffffff || *cdoff == 0xffffffff) &&
	    e >= 20 && rd32(p + e - 20) == 0x07064b50) {
		uint64_t z = rd64(p + e - 20 + 8);
		if (z > n || n - z < 56 || rd32(p + z) != 0x06064b50)
			goto bad;
		*cnt = rd64(p + z + 32);
		*cdsize = rd64(p + z + 40);
		*cdoff = rd64(p + z + 48);
	}
	if (*cdoff > n || *cdsize > n - *cdoff)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "not a zip archive (.npz)");
	return -1;
}

static int zip_entry(const unsigned char *p, size_t n, const unsigned char *c,
		     size_t left, plm_zip_member *m, size_t *len, char *err,
		     size_t errlen)
{
	if (left < 46 || rd32(c) != 0x02014b50)
		goto bad;
	size_t nl = rd16(c + 28), xl = rd16(c + 30), cl = rd16(c + 32);
	if (46 + nl + xl + cl > left)
		goto bad;
	*len = 46 + nl + xl + cl;
	m->method = rd16(c + 10);
	m->crc = rd32(c + 16);
	m->csize = rd32(c + 20);
	m->usize = rd32(c + 24);
	uint64_t lh = rd32(c + 42);
	if (rd16(c + 8) & 1) {
		snprintf(err, errlen, "encrypted zip members are not supported");
		return -1;
	}
	/* zip64 extra: the fields that were 0xffffffff, in this order */
	const unsigned char *x = c + 46 + nl, *xe = x + xl;
	while (xe - x >= 4) {
		uint16_t id = rd16(x), sz = rd16(x + 2);
		if ((size_t)(xe - x - 4) < sz)
			goto bad;
		if (id == 1) {
			const unsigned char *f = x + 4, *fe = f + sz;
			if (m->usize == 0xffffffff && fe - f >= 8)
				m->usize = rd64(f), f += 8;
			if (m->csize == 0xffffffff && fe - f >= 8)
				m->csize = rd64(f), f += 8;
			if (lh == 0xffffffff && fe - f >= 8)
				lh = rd64(f);
		}
		x += 4 + sz;
	}
	if (lh > n || n - lh < 30 || rd32(p + lh) != 0x04034b50)
		goto bad;
	uint64_t off = lh + 30 + rd16(p + lh + 26) + rd16(p + lh + 28);
	if (off > n || m->csize > n - off)
		goto bad;
	m->off = off;
	return 0;
bad:
	snprintf(err, errlen, "malformed zip archive (.npz)");
	return -1;
}

int plm_zip_find(const unsigned char *p, size_t n, const char *name,
		 plm_zip_member *m, char *names, size_t namelen, char *err,
		 size_t errlen)
{
	uint64_t cdoff, cdsize, cnt;
	size_t want = strlen(name), used = 0;
	if (zip_cd(p, n, &cdoff, &cdsize, &cnt, err, errlen))
		return -1;
	if (namelen)
		names[0] = 0;
	const unsigned char *c = p + cdoff, *ce = c + cdsize;
	for (uint64_t k = 0; k < cnt; k++) {
		size_t len;
		plm_zip_member e;
		if (zip_entry(p, n, c, (size_t)(ce - c), &e, &len, err, errlen))
			return -1;
		size_t nl = rd16(c + 28);
		const char *nm = (const char *)c + 46;
		if (nl == want && memcmp(nm, name, want) == 0) {
			if (e.method != 0 && e.method != 8) {
				snprintf(err, errlen, "member '%s': zip "
					 "method %d is not supported (stored "
					 "or deflate)", name, e.method);
				return -1;
			}
			*m = e;
			return 0;
		}
		if (namelen && used + nl + 3 < namelen) {
			if (used)
				memcpy(names + used, ", ", 2), used += 2;
			memcpy(names + used, nm, nl);
			used += nl;
			names[used] = 0;
		}
		c += len;
	}
	return 1;
}

int plm_zip_inflate(const unsigned char *p, size_t n, const plm_zip_member *m,
		    unsigned char *out, char *err, size_t errlen)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (m->off > n || m->csize > n - m->off) {
		snprintf(err, errlen, "malformed zip archive (.npz)");
		return -1;
	}
	if (inflateInit2(&z, -15) != Z_OK) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const unsigned char *in = p + m->off;
	uint64_t inleft = m->csize, outdone = 0;
	int rc = Z_OK;
	while (rc == Z_OK) {
		uInt ci = inleft > (1u << 30) ? 1u << 30 : (uInt)inleft;
		uint64_t ol = m->usize - outdone;
		uInt co = ol > (1u << 30) ? 1u << 30 : (uInt)ol;
		z.next_in = (unsigned char *)in, z.avail_in = ci;
		z.next_out = out + outdone, z.avail_out = co;
		rc = inflate(&z, Z_NO_FLUSH);
		in += ci - z.avail_in, inleft -= ci - z.avail_in;
		outdone += co - z.avail_out;
		if (rc == Z_BUF_ERROR && outdone == m->usize) {
			/* more data than the directory says */
			break;
		}
	}
	inflateEnd(&z);
	if (rc != Z_STREAM_END || outdone != m->usize) {
		snprintf(err, errlen, "corrupt deflate data in the archive");
		return -1;
	}
	uLong crc = crc32(0L, Z_NULL, 0);
	for (uint64_t o = 0; o < outdone;) {
		uInt k = outdone - o > (1u << 30) ? 1u << 30 : (uInt)(outdone - o);
		crc = crc32(crc, out + o, k);
		o += k;
	}
	if ((uint32_t)crc != m->crc) {
		snprintf(err, errlen, "CRC-32 mismatch in the archive");
		return -1;
	}
	return 0;
}

/* ---- mapped files ----------------------------------------------------- */

int plm_map_file(const char *path, const unsigned char **p, size_t *n,
		 char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	*p = NULL, *n = 0;
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
			       fd, 0);
		if (m == MAP_FAILED) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
		*p = m, *n = (size_t)st.st_size;
	}
	close(fd);
	return 0;
}

void plm_unmap_file(const unsigned char *p, size_t n)
{
	if (p)
		munmap((void *)p, n);
}

/* ---- writing ---------------------------------------------------------- */

void plm_npy_header_f32(unsigned char buf[PLM_NPY_HDR], uint64_t n,
			uint64_t d)
{
	char dict[PLM_NPY_HDR];
	int k = snprintf(dict, sizeof dict, "{'descr': '<f4', "
			 "'fortran_order': False, 'shape': (%" PRIu64 ", %"
			 PRIu64 "), }", n, d);
	memset(buf, ' ', PLM_NPY_HDR);
	memcpy(buf, magic, 6);
	buf[6] = 1, buf[7] = 0;
	buf[8] = (PLM_NPY_HDR - 10) & 0xff, buf[9] = (PLM_NPY_HDR - 10) >> 8;
	memcpy(buf + 10, dict, (size_t)k);   /* at most 103 bytes: fits */
	buf[PLM_NPY_HDR - 1] = '\n';
}

struct plm_npyw {
	char *path, *tmp;
	FILE *fp;
	uint32_t d;
	uint64_t rows;
	unsigned char *buf;
};

plm_npyw *plm_npyw_open(const char *path, uint32_t d, char *err,
			size_t errlen)
{
	plm_npyw *w = calloc(1, sizeof *w);
	unsigned char hdr[PLM_NPY_HDR];
	if (!w || !(w->path = strdup(path)) ||
	    !(w->tmp = malloc(strlen(path) + 64)) ||
	    !(w->buf = malloc((size_t)d * 4 + 1))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	w->d = d;
	sprintf(w->tmp, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
	int fd = mkstemp(w->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	plm_tmp_register(w->tmp);
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	if (!(w->fp = fdopen(fd, "wb"))) {
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_tmp;
	}
	plm_npy_header_f32(hdr, 0, d);
	if (fwrite(hdr, 1, sizeof hdr, w->fp) != sizeof hdr) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_tmp;
	}
	return w;
fail_tmp:
	plm_npyw_abort(w);
	return NULL;
fail:
	if (w) {
		free(w->path);
		free(w->tmp);
		free(w->buf);
		free(w);
	}
	return NULL;
}

int plm_npyw_row(plm_npyw *w, const float *row, char *err, size_t errlen)
{
	for (uint32_t j = 0; j < w->d; j++) {
		uint32_t u = plm_f32_bits(row[j]);
		w->buf[4 * j] = (unsigned char)u;
		w->buf[4 * j + 1] = (unsigned char)(u >> 8);
		w->buf[4 * j + 2] = (unsigned char)(u >> 16);
		w->buf[4 * j + 3] = (unsigned char)(u >> 24);
	}
	if (fwrite(w->buf, 4, w->d, w->fp) != w->d) {
		snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
		return -1;
	}
	w->rows++;
	return 0;
}

uint64_t plm_npyw_rows(const plm_npyw *w)
{
	return w->rows;
}

int plm_npyw_close(plm_npyw *w, char *err, size_t errlen)
{
	unsigned char hdr[PLM_NPY_HDR];
	plm_npy_header_f32(hdr, w->rows, w->d);
	if (fflush(w->fp) || fseek(w->fp, 0, SEEK_SET) ||
	    fwrite(hdr, 1, sizeof hdr, w->fp) != sizeof hdr ||
	    fclose(w->fp)) {
		snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
		w->fp = NULL;
		plm_npyw_abort(w);
		return -1;
	}
	w->fp = NULL;
	if (rename(w->tmp, w->path)) {
		snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
		plm_npyw_abort(w);
		return -1;
	}
	plm_tmp_forget(w->tmp);
	free(w->path);
	free(w->tmp);
	free(w->buf);
	free(w);
	return 0;
}

void plm_npyw_abort(plm_npyw *w)
{
	if (!w)
		return;
	if (w->fp)
		fclose(w->fp);
	unlink(w->tmp);
	plm_tmp_forget(w->tmp);
	free(w->path);
	free(w->tmp);
	free(w->buf);
	free(w);
}
