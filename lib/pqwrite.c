/* pqwrite.c — Apache Parquet writer (include/plm/pqwrite.h).
 *
 * A file: "PAR1", row groups, the footer (Thrift compact protocol
 * FileMetaData), its length and "PAR1".  Each column collects one page of
 * levels and values at a time; a full page is encoded, compressed and
 * appended to the column's chunk buffer; when the row group is full the
 * chunks are written one after the other (dictionary page first) and
 * their offsets and statistics kept for the footer.
 *
 * The Thrift compact protocol (only what Parquet's structures use): a
 * field is a byte (id delta << 4 | type), or the type and a zigzag varint
 * id when the delta is not 1..15; integers are zigzag varints; binary is a
 * varint length and bytes; a bool field's value is its type (1 true,
 * 2 false); a list is a byte (size << 4 | element type), or 0xf0 | type
 * and a varint size from 15 elements on; a struct ends with a 0 byte.
 *
 * Levels and dictionary indices use the RLE / bit-packing hybrid: runs of
 * 8 and more equal values as (count << 1, value), the rest bit-packed in
 * groups of 8 ((groups << 1 | 1), then groups * width bytes, LSB first). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "plm/alloc.h"
#include "plm/float.h"
#include "plm/json.h"
#include "plm/pqwrite.h"

/* parquet.thrift enums */
enum { PQ_BOOLEAN = 0, PQ_INT64 = 2, PQ_FLOAT = 4, PQ_DOUBLE = 5,
       PQ_BYTE_ARRAY = 6 };
enum { ENC_PLAIN = 0, ENC_RLE = 3, ENC_RLE_DICT = 8 };
enum { CODEC_NONE = 0, CODEC_SNAPPY = 1, CODEC_GZIP = 2, CODEC_ZSTD = 6 };
enum { REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CONV_UTF8 = 0, CONV_LIST = 3 };
enum { PAGE_DATA = 0, PAGE_DICT = 2 };
/* Thrift compact types */
enum { TT_TRUE = 1, TT_FALSE = 2, TT_I32 = 5, TT_I64 = 6, TT_BIN = 8,
       TT_LIST = 9, TT_STRUCT = 12 };

#define PAGE_BYTES (1u << 20)           /* values + levels per page */
#define DICT_MAX_BYTES (4u << 20)       /* dictionary page, PLAIN bytes */
#define DICT_CHECK 8192                 /* distinct share checked every ... */
#define STAT_MAX 4096                   /* longest str min/max kept */

typedef struct bytes {
	unsigned char *p;
	size_t len, cap;
} bytes;

static int b_reserve(bytes *b, size_t more)
{
	return more > SIZE_MAX - b->len ? -1 :
	       PLM_GROW(b->p, b->cap, b->len + more);
}

/* Appends n bytes: p's, or c's when p is NULL. */
static int b_add(bytes *b, const void *p, int c, size_t n)
{
	if (!n || b_reserve(b, n))
		return n ? -1 : 0;
	if (p)
		memcpy(b->p + b->len, p, n);
	else
		memset(b->p + b->len, c, n);
	b->len += n;
	return 0;
}

static int b_put(bytes *b, const void *p, size_t n)
{
	return b_add(b, p, 0, n);
}

static int b_fill(bytes *b, int c, size_t n)
{
	return b_add(b, NULL, c, n);
}

static int b_u32(bytes *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	return b_put(b, x, 4);
}

static int b_u64(bytes *b, uint64_t v)
{
	return b_u32(b, (uint32_t)v) | b_u32(b, (uint32_t)(v >> 32));
}

static int b_varint(bytes *b, uint64_t v)
{
	unsigned char x[10];
	int n = 0;
	while (v >= 0x80) {
		x[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (unsigned char)v;
	return b_put(b, x, (size_t)n);
}

static uint32_t ld32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- Thrift compact protocol ------------------------------------------ */

typedef struct tw {
	bytes *b;
	int last[12];           /* last field id, per open struct */
	int d, rc;
} tw;

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void tw_byte(tw *t, unsigned c)
{
	unsigned char x = (unsigned char)c;
	t->rc |= b_put(t->b, &x, 1);
}

static void tw_field(tw *t, int id, int type)
{
	int delta = id - t->last[t->d];
	if (delta > 0 && delta <= 15) {
		tw_byte(t, (unsigned)(delta << 4 | type));
	} else {
		tw_byte(t, (unsigned)type);
		t->rc |= b_varint(t->b, zigzag(id));
	}
	t->last[t->d] = id;
}

static void tw_i32(tw *t, int id, int32_t v)
{
	tw_field(t, id, TT_I32);
	t->rc |= b_varint(t->b, zigzag(v));
}

static void tw_i64(tw *t, int id, int64_t v)
{
	tw_field(t, id, TT_I64);
	t->rc |= b_varint(t->b, zigzag(v));
}

static void tw_bin(tw *t, int id, const void *p, size_t n)
{
	if (id)
		tw_field(t, id, TT_BIN);
	t->rc |= b_varint(t->b, n) | b_put(t->b, p, n);
}

static void tw_str(tw *t, int id, const char *s)
{
	tw_bin(t, id, s, strlen(s));
}

/* A struct field (id > 0), a list element or the top level (id 0). */
static void tw_begin(tw *t, int id)
{
	if (id)
		tw_field(t, id, TT_STRUCT);
	t->last[++t->d] = 0;
}

static void tw_end(tw *t)
{
	tw_byte(t, 0);
	t->d--;
}

static void tw_list(tw *t, int id, int type, size_t n)
{
	tw_field(t, id, TT_LIST);
	if (n < 15) {
		tw_byte(t, (unsigned)(n << 4 | (unsigned)type));
	} else {
		tw_byte(t, 0xf0u | (unsigned)type);
		t->rc |= b_varint(t->b, n);
	}
}

/* An empty struct as a field: StringType, ListType, TypeDefinedOrder. */
static void tw_empty(tw *t, int id)
{
	tw_begin(t, id);
	tw_end(t);
}

/* ---- RLE / bit-packing hybrid ----------------------------------------- */

static uint32_t rle_get(const void *v, int wide, size_t i)
{
	return wide ? ((const uint32_t *)v)[i] : ((const uint8_t *)v)[i];
}

/* v[a..e) bit-packed, padded with zeros to a multiple of 8. */
static int rle_lit(bytes *o, const void *v, int wide, size_t a, size_t e,
		   int bw)
{
	if (a == e)
		return 0;
	size_t groups = (e - a + 7) / 8;
	if (b_varint(o, groups << 1 | 1) || b_reserve(o, groups * (size_t)bw))
		return -1;
	unsigned char *q = o->p + o->len;
	uint64_t acc = 0;
	int nb = 0;
	for (size_t i = a; i < a + groups * 8; i++) {
		acc |= (uint64_t)(i < e ? rle_get(v, wide, i) : 0) << nb;
		nb += bw;
		while (nb >= 8) {
			*q++ = (unsigned char)acc;
			acc >>= 8;
			nb -= 8;
		}
	}
	o->len += groups * (size_t)bw;
	return 0;
}

static int rle_run(bytes *o, uint32_t x, size_t n, int bw)
{
	int rc = b_varint(o, (uint64_t)n << 1);
	for (int k = 0; k < (bw + 7) / 8; k++) {
		unsigned char c = (unsigned char)(x >> (8 * k));
		rc |= b_put(o, &c, 1);
	}
	return rc;
}

static int rle_put(bytes *o, const void *v, int wide, size_t n, int bw)
{
	size_t i = 0, lit = 0;
	int rc = 0;

	while (i < n && !rc) {
		uint32_t x = rle_get(v, wide, i);
		size_t r = 1;
		while (i + r < n && rle_get(v, wide, i + r) == x)
			r++;
		/* the literal before a run must be whole groups of 8: the
		 * run lends it values */
		size_t k = (8 - (i - lit) % 8) % 8;
		if (r >= k + 8) {
			i += k;
			rc |= rle_lit(o, v, wide, lit, i, bw);
			rc |= rle_run(o, x, r - k, bw);
			i += r - k;
			lit = i;
		} else {
			i += r;
		}
	}
	return rc | rle_lit(o, v, wide, lit, n, bw);
}

static int bit_width(uint32_t max)
{
	int w = 1;
	while (w < 32 && (max >> w))
		w++;
	return w;
}

/* ---- columns ------------------------------------------------------------ */

typedef struct dent {
	uint64_t h;
	uint32_t off, len;      /* the value at dict.p + off + 4 */
} dent;

/* What the footer needs of one column chunk. */
typedef struct chunkmeta {
	int64_t off, dict_off;  /* dict_off -1: none */
	int64_t nvals, unc, comp, nulls;
	int encs;               /* bit per encoding */
	int has_mm;
	unsigned char *min, *max;
	size_t minlen, maxlen;
} chunkmeta;

typedef struct col {
	const plm_field *f;
	int ptype, max_def, max_rep;
	/* the page being filled */
	bytes vals;             /* PLAIN values, or uint32 dictionary ids */
	bytes def, rep;         /* one byte per level */
	/* dictionary (str) */
	int dict_on, dict_never;
	bytes dict;             /* PLAIN: u32 length + bytes, per entry */
	dent *dent;
	size_t ndict, dentcap;
	uint32_t *ht;           /* entry + 1, 0 = empty */
	size_t htcap;
	uint64_t chunk_vals;    /* non-null values in this chunk */
	/* the chunk */
	bytes chunk;
	chunkmeta m;
	double dmin, dmax;
	int64_t imin, imax;
	int mm_drop;
	bytes smin, smax;
} col;

struct plm_pqw {
	plm_out *out;
	plm_schema s;
	col *c;
	int codec, level, dict;
	uint64_t rg_max_rows, rg_max_bytes;
	uint64_t rows, rg_rows, rg_bytes;
	int64_t pos;            /* bytes written to out */
	bytes body, z, hdr;     /* scratch */
	ZSTD_CCtx *zc;
	chunkmeta *cm;          /* row groups × columns */
	size_t ncm, cmcap;
	uint64_t *rg_nrows;
	size_t nrg, rgcap;
	char *meta_json;
	int failed;
	char err[256];
};

static int pfail(plm_pqw *p, const char *msg)
{
	if (!p->failed)
		snprintf(p->err, sizeof p->err, "%s", msg);
	p->failed = 1;
	return -1;
}

static int oom(plm_pqw *p)
{
	return pfail(p, "out of memory");
}

/* ---- settings ----------------------------------------------------------- */

static int parse_size(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i = 0;
	for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (i == 0)
		return -1;
	int sh = 0;
	if (i + 1 == n) {
		switch (v[i]) {
		case 'k': case 'K': sh = 10; break;
		case 'm': case 'M': sh = 20; break;
		case 'g': case 'G': sh = 30; break;
		default: return -1;
		}
	} else if (i != n) {
		return -1;
	}
	if (x > (UINT64_MAX >> sh) || x == 0)
		return -1;
	*out = x << sh;
	return 0;
}

static int is_kv(const char *k, size_t kn, const char *name)
{
	return kn == strlen(name) && !memcmp(k, name, kn);
}

static int settings(plm_pqw *p, const char *s, char *err, size_t errlen)
{
	p->codec = CODEC_ZSTD;
	p->level = -1;
	p->dict = 1;
	p->rg_max_rows = 1u << 20;
	p->rg_max_bytes = 128u << 20;
	while (s && *s) {
		size_t n = strcspn(s, ",");
		const char *eq = memchr(s, '=', n);
		if (!eq) {
			snprintf(err, errlen, "PLM_PARQUET: '%.*s': not key=value",
				 (int)n, s);
			return -1;
		}
		size_t kn = (size_t)(eq - s), vn = n - kn - 1;
		const char *v = eq + 1;
		uint64_t x;
		int bad = 0;
		if (is_kv(s, kn, "codec")) {
			if (is_kv(v, vn, "zstd"))
				p->codec = CODEC_ZSTD;
			else if (is_kv(v, vn, "snappy"))
				p->codec = CODEC_SNAPPY;
			else if (is_kv(v, vn, "gzip"))
				p->codec = CODEC_GZIP;
			else if (is_kv(v, vn, "none"))
				p->codec = CODEC_NONE;
			else
				bad = 1;
		} else if (is_kv(s, kn, "level")) {
			x = 0;          /* gzip's "stored", zstd's default */
			bad = !is_kv(v, vn, "0") &&
			      (parse_size(v, vn, &x) || x > 22);
			if (!bad)
				p->level = (int)x;
		} else if (is_kv(s, kn, "row_group")) {
			bad = parse_size(v, vn, &x) || x > (1u << 30);
			if (!bad)
				p->rg_max_rows = x;
		} else if (is_kv(s, kn, "row_group_size")) {
			bad = parse_size(v, vn, &p->rg_max_bytes);
		} else if (is_kv(s, kn, "dict")) {
			if (is_kv(v, vn, "on"))
				p->dict = 1;
			else if (is_kv(v, vn, "off"))
				p->dict = 0;
			else
				bad = 1;
		} else {
			snprintf(err, errlen, "PLM_PARQUET: unknown key '%.*s' "
				 "(codec, level, row_group, row_group_size, "
				 "dict)", (int)kn, s);
			return -1;
		}
		if (bad) {
			snprintf(err, errlen, "PLM_PARQUET: bad value '%.*s' "
				 "for %.*s%s", (int)vn, v, (int)kn, s,
				 is_kv(s, kn, "codec") ?
				 " (zstd, snappy, gzip, none)" : "");
			return -1;
		}
		s += n + (s[n] == ',');
	}
	if (p->level < 0)
		p->level = p->codec == CODEC_GZIP ? 6 : 3;
	if (p->codec == CODEC_GZIP && p->level > 9) {
		snprintf(err, errlen, "PLM_PARQUET: gzip level is 0..9");
		return -1;
	}
	return 0;
}

/* ---- compression -------------------------------------------------------- */

static int pq_compress(plm_pqw *p, const bytes *in, bytes *out)
{
	out->len = 0;
	switch (p->codec) {
	case CODEC_SNAPPY: {
		size_t cap = snappy_max_compressed_length(in->len);
		if (b_reserve(out, cap))
			return oom(p);
		if (snappy_compress((const char *)in->p, in->len,
				    (char *)out->p, &cap) != SNAPPY_OK)
			return pfail(p, "snappy: compression failed");
		out->len = cap;
		return 0;
	}
	case CODEC_ZSTD: {
		size_t cap = ZSTD_compressBound(in->len);
		if (b_reserve(out, cap))
			return oom(p);
		size_t r = ZSTD_compressCCtx(p->zc, out->p, cap, in->p, in->len,
					     p->level);
		if (ZSTD_isError(r))
			return pfail(p, "zstd: compression failed");
		out->len = r;
		return 0;
	}
	case CODEC_GZIP: {
		z_stream zs;
		memset(&zs, 0, sizeof zs);
		if (deflateInit2(&zs, p->level, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return oom(p);
		size_t cap = deflateBound(&zs, (uLong)in->len) + 32;
		if (in->len > UINT32_MAX / 2 || b_reserve(out, cap)) {
			deflateEnd(&zs);
			return oom(p);
		}
		zs.next_in = in->p;
		zs.avail_in = (uInt)in->len;
		zs.next_out = out->p;
		zs.avail_out = (uInt)cap;
		int r = deflate(&zs, Z_FINISH);
		out->len = cap - zs.avail_out;
		deflateEnd(&zs);
		return r == Z_STREAM_END ? 0 : pfail(p, "gzip: compression failed");
	}
	default:
		return b_put(out, in->p, in->len) ? oom(p) : 0;
	}
}

/* Header then compressed body, appended to the chunk. */
static int put_page(plm_pqw *p, col *c, int type, size_t nvals, int enc)
{
	if (nvals > INT32_MAX || p->body.len > INT32_MAX)
		return pfail(p, "a Parquet page over 2 GiB");
	if (pq_compress(p, &p->body, &p->z))
		return -1;
	if (p->z.len > INT32_MAX)
		return pfail(p, "a Parquet page over 2 GiB");
	p->hdr.len = 0;
	tw t = { .b = &p->hdr };
	tw_begin(&t, 0);
	tw_i32(&t, 1, type);
	tw_i32(&t, 2, (int32_t)p->body.len);
	tw_i32(&t, 3, (int32_t)p->z.len);
	if (type == PAGE_DATA) {
		tw_begin(&t, 5);
		tw_i32(&t, 1, (int32_t)nvals);
		tw_i32(&t, 2, enc);
		tw_i32(&t, 3, ENC_RLE);
		tw_i32(&t, 4, ENC_RLE);
		tw_end(&t);
	} else {
		tw_begin(&t, 7);
		tw_i32(&t, 1, (int32_t)nvals);
		tw_i32(&t, 2, ENC_PLAIN);
		tw_end(&t);
	}
	tw_end(&t);
	if (t.rc || b_put(&c->chunk, p->hdr.p, p->hdr.len) ||
	    b_put(&c->chunk, p->z.p, p->z.len))
		return oom(p);
	c->m.unc += (int64_t)(p->hdr.len + p->body.len);
	c->m.comp += (int64_t)(p->hdr.len + p->z.len);
	c->m.encs |= 1 << enc;
	return 0;
}

static int levels(bytes *o, const bytes *lv, int max)
{
	size_t at = o->len;
	if (b_u32(o, 0) || rle_put(o, lv->p, 0, lv->len, bit_width((uint32_t)max)))
		return -1;
	uint32_t n = (uint32_t)(o->len - at - 4);
	unsigned char x[4] = { (unsigned char)n, (unsigned char)(n >> 8),
			       (unsigned char)(n >> 16), (unsigned char)(n >> 24) };
	memcpy(o->p + at, x, 4);
	return 0;
}

static int page_flush(plm_pqw *p, col *c)
{
	size_t nlev = c->def.len;       /* every column has definition levels */
	int enc = ENC_PLAIN, rc = 0;

	if (!nlev)
		return 0;
	bytes *b = &p->body;
	b->len = 0;
	if (c->max_rep)
		rc |= levels(b, &c->rep, c->max_rep);
	rc |= levels(b, &c->def, c->max_def);
	if (c->dict_on) {
		enc = ENC_RLE_DICT;
		int bw = bit_width(c->ndict ? (uint32_t)c->ndict - 1 : 0);
		unsigned char w = (unsigned char)bw;
		rc |= b_put(b, &w, 1);
		rc |= rle_put(b, c->vals.p, 1, c->vals.len / 4, bw);
	} else if (c->ptype == PQ_BOOLEAN) {
		size_t n = c->vals.len;
		if (!(rc |= b_fill(b, 0, (n + 7) / 8))) {
			unsigned char *q = b->p + b->len - (n + 7) / 8;
			for (size_t i = 0; i < n; i++)
				q[i / 8] |= (unsigned char)(c->vals.p[i] << (i % 8));
		}
	} else {
		rc |= b_put(b, c->vals.p, c->vals.len);
	}
	if (rc)
		return oom(p);
	if (put_page(p, c, PAGE_DATA, nlev, enc))
		return -1;
	c->m.encs |= 1 << ENC_RLE;
	c->m.nvals += (int64_t)nlev;
	c->vals.len = c->def.len = c->rep.len = 0;
	return 0;
}

/* ---- dictionary --------------------------------------------------------- */

static void dict_reset(col *c)
{
	c->dict.len = 0;
	c->ndict = 0;
	c->chunk_vals = 0;
	if (c->ht)
		memset(c->ht, 0, c->htcap * sizeof *c->ht);
	c->dict_on = !c->dict_never;
}

static int dict_grow(col *c)
{
	size_t cap = c->htcap ? 2 * c->htcap : 1024;
	uint32_t *ht = calloc(cap, sizeof *ht);
	if (!ht)
		return -1;
	for (size_t i = 0; i < c->ndict; i++) {
		size_t j = (size_t)c->dent[i].h & (cap - 1);
		while (ht[j])
			j = (j + 1) & (cap - 1);
		ht[j] = (uint32_t)i + 1;
	}
	free(c->ht);
	c->ht = ht;
	c->htcap = cap;
	return 0;
}

/* The id of s in the dictionary, added if new; -1 out of memory. */
static int64_t dict_id(col *c, const char *s, size_t n)
{
	uint64_t h = XXH3_64bits(s, n);

	if (2 * (c->ndict + 1) > c->htcap && dict_grow(c))
		return -1;
	size_t j = (size_t)h & (c->htcap - 1);
	for (; c->ht[j]; j = (j + 1) & (c->htcap - 1)) {
		const dent *e = &c->dent[c->ht[j] - 1];
		if (e->h == h && e->len == n &&
		    (!n || !memcmp(c->dict.p + e->off + 4, s, n)))
			return c->ht[j] - 1;
	}
	if (PLM_GROW(c->dent, c->dentcap, c->ndict + 1))
		return -1;
	dent *e = &c->dent[c->ndict];
	e->h = h;
	e->off = (uint32_t)c->dict.len;
	e->len = (uint32_t)n;
	if (b_u32(&c->dict, (uint32_t)n) || b_put(&c->dict, s, n))
		return -1;
	c->ht[j] = (uint32_t)++c->ndict;
	return (int64_t)c->ndict - 1;
}

/* Dictionary too big, or mostly distinct values: PLAIN from here on. */
static int dict_check(plm_pqw *p, col *c)
{
	if (c->dict.len <= DICT_MAX_BYTES &&
	    (c->chunk_vals % DICT_CHECK || 4 * c->ndict <= 3 * c->chunk_vals))
		return 0;
	if (page_flush(p, c))
		return -1;
	c->dict_on = 0;
	c->dict_never = 1;
	return 0;
}

/* ---- statistics ----------------------------------------------------------- */

/* s[0..n) against b, as unsigned bytes (Parquet's order for strings). */
static int bytes_cmp(const char *s, size_t n, const bytes *b)
{
	size_t k = n < b->len ? n : b->len;
	int d = k ? memcmp(s, b->p, k) : 0;
	return d ? d : (n > b->len) - (n < b->len);
}

static int str_stat(col *c, const char *s, size_t n)
{
	if (c->mm_drop)
		return 0;
	if (n > STAT_MAX) {
		c->mm_drop = 1;
		return 0;
	}
	int rc = 0;
	if (!c->m.has_mm) {
		c->smin.len = c->smax.len = 0;
		rc |= b_put(&c->smin, s, n) | b_put(&c->smax, s, n);
		c->m.has_mm = 1;
		return rc;
	}
	if (bytes_cmp(s, n, &c->smin) < 0) {
		c->smin.len = 0;
		rc |= b_put(&c->smin, s, n);
	}
	if (bytes_cmp(s, n, &c->smax) > 0) {
		c->smax.len = 0;
		rc |= b_put(&c->smax, s, n);
	}
	return rc;
}

static void dbl_stat(col *c, double x)
{
	if (isnan(x))
		return;         /* NaN is no bound */
	c->dmin = c->m.has_mm && c->dmin <= x ? c->dmin : x;
	c->dmax = c->m.has_mm && c->dmax >= x ? c->dmax : x;
	c->m.has_mm = 1;
}

static void int_stat(col *c, int64_t x)
{
	c->imin = c->m.has_mm && c->imin <= x ? c->imin : x;
	c->imax = c->m.has_mm && c->imax >= x ? c->imax : x;
	c->m.has_mm = 1;
}

/* The chunk's min and max, encoded as its PLAIN values, into c->m. */
static int stat_take(col *c)
{
	unsigned char a[8], b[8];
	size_t n = 8;
	const void *lo = a, *hi = b;

	if (!c->m.has_mm || c->mm_drop || c->ptype == PQ_BOOLEAN) {
		c->m.has_mm = 0;
		return 0;
	}
	switch (c->ptype) {
	case PQ_INT64:
		for (int k = 0; k < 8; k++) {
			a[k] = (unsigned char)((uint64_t)c->imin >> 8 * k);
			b[k] = (unsigned char)((uint64_t)c->imax >> 8 * k);
		}
		break;
	case PQ_DOUBLE:
	case PQ_FLOAT: {
		/* a zero bound is written -0.0 (min) and +0.0 (max) */
		double lo_d = c->dmin == 0 ? -0.0 : c->dmin;
		double hi_d = c->dmax == 0 ? 0.0 : c->dmax;
		uint64_t ul, uh;
		if (c->ptype == PQ_FLOAT) {
			ul = plm_f32_bits((float)lo_d);
			uh = plm_f32_bits((float)hi_d);
			n = 4;
		} else {
			ul = plm_f64_bits(lo_d);
			uh = plm_f64_bits(hi_d);
		}
		for (size_t k = 0; k < n; k++) {
			a[k] = (unsigned char)(ul >> 8 * k);
			b[k] = (unsigned char)(uh >> 8 * k);
		}
		break;
	}
	default:
		lo = c->smin.p;
		hi = c->smax.p;
		break;
	}
	size_t nl = c->ptype == PQ_BYTE_ARRAY ? c->smin.len : n;
	size_t nh = c->ptype == PQ_BYTE_ARRAY ? c->smax.len : n;
	c->m.min = malloc(nl + 1);
	c->m.max = malloc(nh + 1);
	if (!c->m.min || !c->m.max)
		return -1;
	if (nl)
		memcpy(c->m.min, lo, nl);
	if (nh)
		memcpy(c->m.max, hi, nh);
	c->m.minlen = nl;
	c->m.maxlen = nh;
	return 0;
}

/* ---- rows --------------------------------------------------------------- */

static int add_levels(col *c, int def, size_t n)
{
	return b_fill(&c->def, def, n);
}

/* A vector or matrix: LIST (of LIST) of FLOAT. */
static int add_vec(col *c, const plm_val *v)
{
	size_t es = plm_type_elsize(c->f->type), d = c->f->dim;
	size_t n = v->n / es, rows = n / d;

	if (b_reserve(&c->vals, n * 4) || add_levels(c, c->max_def, n) ||
	    b_reserve(&c->rep, n))
		return -1;
	unsigned char *o = c->vals.p + c->vals.len;
	const unsigned char *s = (const unsigned char *)v->s;
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		if (es == 4) {
			u = ld32(s + 4 * i);
		} else {
			uint16_t h = (uint16_t)(s[2 * i] | s[2 * i + 1] << 8);
			u = plm_f32_bits(c->f->type == PLM_T_F16 ?
					 plm_f16_to_f32(h) : plm_bf16_to_f32(h));
		}
		o[4 * i] = (unsigned char)u;
		o[4 * i + 1] = (unsigned char)(u >> 8);
		o[4 * i + 2] = (unsigned char)(u >> 16);
		o[4 * i + 3] = (unsigned char)(u >> 24);
		dbl_stat(c, plm_bits_f32(u));
	}
	c->vals.len += n * 4;
	/* repetition: 0 starts the row, 1 a new inner list, max a value */
	unsigned char *r = c->rep.p + c->rep.len;
	memset(r, c->max_rep, n);
	for (size_t k = 0; k < rows; k++)
		r[k * d] = 1;
	r[0] = 0;
	c->rep.len += n;
	return 0;
}

static int add_val(plm_pqw *p, col *c, const plm_val *v)
{
	if (v->nil) {
		c->m.nulls++;
		if (c->max_rep && b_fill(&c->rep, 0, 1))
			return -1;
		return add_levels(c, 0, 1);
	}
	c->chunk_vals++;
	switch (c->f->type) {
	case PLM_T_STR:
		if (str_stat(c, v->s, v->n))
			return -1;
		p->rg_bytes += v->n + 4;
		if (c->dict_on) {
			int64_t id = dict_id(c, v->s, v->n);
			if (id < 0 || b_u32(&c->vals, (uint32_t)id))
				return -1;
		} else if (b_u32(&c->vals, (uint32_t)v->n) ||
			   b_put(&c->vals, v->s, v->n)) {
			return -1;
		}
		break;
	case PLM_T_INT:
		int_stat(c, v->i);
		if (b_u64(&c->vals, (uint64_t)v->i))
			return -1;
		break;
	case PLM_T_FLOAT:
		dbl_stat(c, v->f);
		if (b_u64(&c->vals, plm_f64_bits(v->f)))
			return -1;
		break;
	case PLM_T_BOOL: {
		unsigned char x = !!v->i;
		if (b_put(&c->vals, &x, 1))
			return -1;
		break;
	}
	default:
		p->rg_bytes += v->n;
		return add_vec(c, v);
	}
	return add_levels(c, c->max_def, 1);
}

static int write_out(plm_pqw *p, const void *b, size_t n)
{
	if (plm_out_write(p->out, b, n))
		return pfail(p, plm_out_error(p->out));
	p->pos += (int64_t)n;
	return 0;
}

static int rg_flush(plm_pqw *p)
{
	if (!p->rg_rows)
		return 0;
	if (PLM_GROW(p->cm, p->cmcap, p->ncm + p->s.n) ||
	    PLM_GROW(p->rg_nrows, p->rgcap, p->nrg + 1))
		return oom(p);
	for (size_t i = 0; i < p->s.n; i++) {
		col *c = &p->c[i];
		if (page_flush(p, c))
			return -1;
		int64_t start = p->pos;
		c->m.dict_off = -1;
		if (c->ndict) {
			/* the dictionary page goes first */
			bytes keep = c->chunk;
			c->chunk = (bytes){ 0 };
			p->body.len = 0;
			if (b_put(&p->body, c->dict.p, c->dict.len)) {
				c->chunk = keep;
				return oom(p);
			}
			int rc = put_page(p, c, PAGE_DICT, c->ndict, ENC_PLAIN);
			bytes dp = c->chunk;
			c->chunk = keep;
			if (!rc)
				rc = write_out(p, dp.p, dp.len);
			free(dp.p);
			if (rc)
				return -1;
			c->m.dict_off = start;
		}
		c->m.off = p->pos;
		if (write_out(p, c->chunk.p, c->chunk.len))
			return -1;
		if (stat_take(c))
			return oom(p);
		p->cm[p->ncm++] = c->m;
		memset(&c->m, 0, sizeof c->m);
		c->chunk.len = 0;
		c->mm_drop = 0;
		dict_reset(c);
	}
	p->rg_nrows[p->nrg++] = p->rg_rows;
	p->rg_rows = p->rg_bytes = 0;
	return 0;
}

int plm_pqw_row(plm_pqw *p, const plm_val *vals)
{
	if (p->failed)
		return -1;
	for (size_t i = 0; i < p->s.n; i++) {
		col *c = &p->c[i];
		if (add_val(p, c, &vals[i]))
			return oom(p);
		if (c->dict_on && !vals[i].nil && dict_check(p, c))
			return -1;
		if (c->vals.len + c->def.len >= PAGE_BYTES && page_flush(p, c))
			return -1;
	}
	p->rows++;
	p->rg_rows++;
	p->rg_bytes += 8 * p->s.n;
	if (p->rg_rows >= p->rg_max_rows || p->rg_bytes >= p->rg_max_bytes)
		return rg_flush(p);
	return 0;
}

/* ---- footer ------------------------------------------------------------- */

static int leaf_type(const plm_field *f)
{
	switch (f->type) {
	case PLM_T_STR: return PQ_BYTE_ARRAY;
	case PLM_T_INT: return PQ_INT64;
	case PLM_T_FLOAT: return PQ_DOUBLE;
	case PLM_T_BOOL: return PQ_BOOLEAN;
	default: return PQ_FLOAT;
	}
}

/* SchemaElement of a LIST group: name, then its repeated "list". */
static void schema_list(tw *t, const char *name)
{
	tw_begin(t, 0);
	tw_i32(t, 3, REP_OPTIONAL);
	tw_str(t, 4, name);
	tw_i32(t, 5, 1);
	tw_i32(t, 6, CONV_LIST);
	tw_begin(t, 10);
	tw_empty(t, 3);         /* LogicalType.LIST */
	tw_end(t);
	tw_end(t);
	tw_begin(t, 0);
	tw_i32(t, 3, REP_REPEATED);
	tw_str(t, 4, "list");
	tw_i32(t, 5, 1);
	tw_end(t);
}

static size_t schema_elems(const plm_schema *s)
{
	size_t n = 1;
	for (size_t i = 0; i < s->n; i++)
		n += s->f[i].type == PLM_T_F32M ? 5 :
		     plm_type_elsize(s->f[i].type) ? 3 : 1;
	return n;
}

static void footer_schema(tw *t, const plm_schema *s)
{
	tw_list(t, 2, TT_STRUCT, schema_elems(s));
	tw_begin(t, 0);
	tw_str(t, 4, "schema");
	tw_i32(t, 5, (int32_t)s->n);
	tw_end(t);
	for (size_t i = 0; i < s->n; i++) {
		const plm_field *f = &s->f[i];
		const char *name = f->name;
		if (f->type == PLM_T_F32M) {
			schema_list(t, name);
			name = "element";
		}
		if (plm_type_elsize(f->type)) {
			schema_list(t, name);
			name = "element";
		}
		tw_begin(t, 0);
		tw_i32(t, 1, leaf_type(f));
		tw_i32(t, 3, REP_OPTIONAL);
		tw_str(t, 4, name);
		if (f->type == PLM_T_STR) {
			tw_i32(t, 6, CONV_UTF8);
			tw_begin(t, 10);
			tw_empty(t, 1);         /* LogicalType.STRING */
			tw_end(t);
		}
		tw_end(t);
	}
}

static void footer_chunk(tw *t, const plm_pqw *p, const plm_field *f,
			 const chunkmeta *m)
{
	tw_begin(t, 0);
	tw_i64(t, 2, m->dict_off >= 0 ? m->dict_off : m->off);
	tw_begin(t, 3);
	tw_i32(t, 1, leaf_type(f));
	int ne = 0;
	for (int e = 0; e < 16; e++)
		ne += !!(m->encs & 1 << e);
	tw_list(t, 2, TT_I32, (size_t)ne);
	for (int e = 0; e < 16; e++)
		if (m->encs & 1 << e)
			t->rc |= b_varint(t->b, zigzag(e));
	int depth = f->type == PLM_T_F32M ? 5 : plm_type_elsize(f->type) ? 3 : 1;
	tw_list(t, 3, TT_BIN, (size_t)depth);
	tw_bin(t, 0, f->name, strlen(f->name));
	for (int k = 1; k < depth; k++)
		tw_str(t, 0, k % 2 ? "list" : "element");
	tw_i32(t, 4, p->codec);
	tw_i64(t, 5, m->nvals);
	tw_i64(t, 6, m->unc);
	tw_i64(t, 7, m->comp);
	tw_i64(t, 9, m->off);
	if (m->dict_off >= 0)
		tw_i64(t, 11, m->dict_off);
	tw_begin(t, 12);
	tw_i64(t, 3, m->nulls);
	if (m->has_mm) {
		tw_bin(t, 5, m->max, m->maxlen);
		tw_bin(t, 6, m->min, m->minlen);
	}
	tw_end(t);
	tw_end(t);
	tw_end(t);
}

static void footer_kv(tw *t, const char *k, const char *v)
{
	tw_begin(t, 0);
	tw_str(t, 1, k);
	tw_str(t, 2, v);
	tw_end(t);
}

/* plm.schema: [[name, type], ...] */
static int schema_json(const plm_schema *s, char **out)
{
	char *b = NULL, tn[32];
	size_t len = 0, cap = 0;
	int rc = 0;

	if (PLM_GROW(b, cap, 2))
		return -1;
	b[len++] = '[';
	for (size_t i = 0; i < s->n && !rc; i++) {
		const char *ty = plm_type_name(s->f[i].type, s->f[i].dim, tn,
					       sizeof tn);
		rc |= PLM_GROW(b, cap, len + 2);
		if (!rc) {
			if (i)
				b[len++] = ',';
			b[len++] = '[';
		}
		rc |= plm_json_put_str(&b, &len, &cap, s->f[i].name,
				       strlen(s->f[i].name));
		rc |= PLM_GROW(b, cap, len + 1);
		if (!rc)
			b[len++] = ',';
		rc |= plm_json_put_str(&b, &len, &cap, ty, strlen(ty));
		rc |= PLM_GROW(b, cap, len + 1);
		if (!rc)
			b[len++] = ']';
	}
	rc |= PLM_GROW(b, cap, len + 2);
	if (rc) {
		free(b);
		return -1;
	}
	b[len++] = ']';
	b[len] = 0;
	*out = b;
	return 0;
}

int plm_pqw_finish(plm_pqw *p)
{
	char *sj = NULL;

	if (p->failed || rg_flush(p))
		return -1;
	if (schema_json(&p->s, &sj))
		return oom(p);
	bytes *b = &p->body;
	b->len = 0;
	tw t = { .b = b };
	tw_begin(&t, 0);
	tw_i32(&t, 1, 2);
	footer_schema(&t, &p->s);
	tw_i64(&t, 3, (int64_t)p->rows);
	tw_list(&t, 4, TT_STRUCT, p->nrg);
	for (size_t g = 0; g < p->nrg; g++) {
		const chunkmeta *m = &p->cm[g * p->s.n];
		int64_t unc = 0, comp = 0;
		for (size_t i = 0; i < p->s.n; i++) {
			unc += m[i].unc;
			comp += m[i].comp;
		}
		tw_begin(&t, 0);
		tw_list(&t, 1, TT_STRUCT, p->s.n);
		for (size_t i = 0; i < p->s.n; i++)
			footer_chunk(&t, p, &p->s.f[i], &m[i]);
		tw_i64(&t, 2, unc);
		tw_i64(&t, 3, (int64_t)p->rg_nrows[g]);
		tw_i64(&t, 5, m[0].dict_off >= 0 ? m[0].dict_off : m[0].off);
		tw_i64(&t, 6, comp);
		tw_end(&t);
	}
	tw_list(&t, 5, TT_STRUCT, 2);
	footer_kv(&t, "plm.meta", p->meta_json);
	footer_kv(&t, "plm.schema", sj);
	free(sj);
	tw_str(&t, 6, "plmkit version " PLM_VERSION);
	tw_list(&t, 7, TT_STRUCT, p->s.n);
	for (size_t i = 0; i < p->s.n; i++) {
		tw_begin(&t, 0);
		tw_empty(&t, 1);        /* TypeDefinedOrder */
		tw_end(&t);
	}
	tw_end(&t);
	if (t.rc || b->len > UINT32_MAX || b_u32(b, (uint32_t)b->len) ||
	    b_put(b, "PAR1", 4))
		return oom(p);
	return write_out(p, b->p, b->len);
}

/* ---- open / free -------------------------------------------------------- */

plm_pqw *plm_pqw_open(plm_out *out, const plm_schema *s,
		      const char *meta_json, char *err, size_t errlen)
{
	plm_pqw *p = calloc(1, sizeof *p);

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->out = out;
	if (!s->n) {
		snprintf(err, errlen, "Parquet: a file needs at least one field");
		free(p);
		return NULL;
	}
	if (settings(p, getenv("PLM_PARQUET"), err, errlen)) {
		free(p);
		return NULL;
	}
	if (plm_schema_copy(&p->s, s) ||
	    !(p->meta_json = strdup(meta_json ? meta_json : "{}")) ||
	    !(p->c = calloc(s->n ? s->n : 1, sizeof *p->c)) ||
	    (p->codec == CODEC_ZSTD && !(p->zc = ZSTD_createCCtx()))) {
		plm_pqw_free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < p->s.n; i++) {
		col *c = &p->c[i];
		c->f = &p->s.f[i];
		c->ptype = leaf_type(c->f);
		c->max_def = c->f->type == PLM_T_F32M ? 5 :
			     plm_type_elsize(c->f->type) ? 3 : 1;
		c->max_rep = c->f->type == PLM_T_F32M ? 2 :
			     plm_type_elsize(c->f->type) ? 1 : 0;
		c->dict_never = !(p->dict && c->f->type == PLM_T_STR);
		c->dict_on = !c->dict_never;
	}
	if (write_out(p, "PAR1", 4)) {
		snprintf(err, errlen, "%s", p->err);
		plm_pqw_free(p);
		return NULL;
	}
	return p;
}

const char *plm_pqw_error(const plm_pqw *p)
{
	return p->err;
}

void plm_pqw_free(plm_pqw *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->c && i < p->s.n; i++) {
		col *c = &p->c[i];
		PLM_FREE(c->vals.p, c->def.p, c->rep.p, c->dict.p, c->dent,
			 c->ht, c->chunk.p, c->smin.p, c->smax.p, c->m.min,
			 c->m.max);
	}
	for (size_t i = 0; i < p->ncm; i++)
		PLM_FREE(p->cm[i].min, p->cm[i].max);
	ZSTD_freeCCtx(p->zc);
	PLM_FREE(p->c, p->cm, p->rg_nrows, p->meta_json, p->body.p, p->z.p,
		 p->hdr.p);
	plm_schema_free(&p->s);
	free(p);
}
