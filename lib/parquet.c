/* parquet.c — a Parquet reader with no dependency beyond the codecs
 * (parquet.h).  The footer and page headers are Thrift compact protocol,
 * decoded here by a small cursor (tc_*) that never reads past its bytes. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "plm/alloc.h"
#include "plm/parquet.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "parquet.c loads Parquet's little-endian values with memcpy and assumes such a host"
#endif

/* ---- Thrift compact protocol ------------------------------------------ */

enum { T_STOP, T_TRUE, T_FALSE, T_BYTE, T_I16, T_I32, T_I64, T_DOUBLE,
       T_BIN, T_LIST, T_SET, T_MAP, T_STRUCT };

typedef struct tc {
	const uint8_t *p, *end;
	int bad;
} tc;

static uint64_t tc_varint(tc *c)
{
	uint64_t v = 0;
	for (int sh = 0; sh < 64; sh += 7) {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		uint8_t b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << sh;
		if (!(b & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static int64_t tc_zz(tc *c)
{
	uint64_t v = tc_varint(c);
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int32_t tc_i32(tc *c)
{
	int64_t v = tc_zz(c);
	if (v < INT32_MIN || v > INT32_MAX)
		c->bad = 1;
	return (int32_t)v;
}

static const uint8_t *tc_bin(tc *c, size_t *n)
{
	uint64_t len = tc_varint(c);
	if (c->bad || len > (uint64_t)(c->end - c->p)) {
		c->bad = 1;
		*n = 0;
		return NULL;
	}
	const uint8_t *s = c->p;
	c->p += len;
	*n = (size_t)len;
	return s;
}

/* A list or set header: the element count (etype set). */
static size_t tc_list(tc *c, int *etype)
{
	if (c->p >= c->end) {
		c->bad = 1;
		return 0;
	}
	uint8_t h = *c->p++;
	uint64_t n = h >> 4;
	*etype = h & 15;
	if (n == 15)
		n = tc_varint(c);
	/* each element takes a byte at least */
	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = 1;
		return 0;
	}
	return (size_t)n;
}

/* The next field of a struct: 0 at its end (T_STOP), else the type;
 * *id follows the deltas. */
static int tc_field(tc *c, int *id)
{
	if (c->bad || c->p >= c->end) {
		c->bad = 1;
		return 0;
	}
	uint8_t h = *c->p++;
	int t = h & 15;
	if (t == T_STOP)
		return 0;
	if (h >> 4)
		*id += h >> 4;
	else
		*id = (int)tc_zz(c);
	return t;
}

static void tc_skip(tc *c, int t, int depth)
{
	size_t n;
	int et, id = 0;

	if (depth > 32) {
		c->bad = 1;
		return;
	}
	switch (t) {
	case T_TRUE: case T_FALSE:
		break;
	case T_BYTE:
		if (c->p < c->end)
			c->p++;
		else
			c->bad = 1;
		break;
	case T_I16: case T_I32: case T_I64:
		tc_varint(c);
		break;
	case T_DOUBLE:
		if (c->end - c->p < 8)
			c->bad = 1;
		else
			c->p += 8;
		break;
	case T_BIN:
		tc_bin(c, &n);
		break;
	case T_LIST: case T_SET:
		n = tc_list(c, &et);
		for (size_t i = 0; i < n && !c->bad; i++)
			tc_skip(c, et == T_TRUE ? T_BYTE : et, depth + 1);
		break;
	case T_MAP:
		n = tc_varint(c);
		if (n && !c->bad) {
			if (c->p >= c->end || n > (uint64_t)(c->end - c->p)) {
				c->bad = 1;
				break;
			}
			uint8_t kv = *c->p++;
			for (size_t i = 0; i < n && !c->bad; i++) {
				tc_skip(c, kv >> 4 == T_TRUE ? T_BYTE : kv >> 4, depth + 1);
				tc_skip(c, (kv & 15) == T_TRUE ? T_BYTE : kv & 15, depth + 1);
			}
		}
		break;
	case T_STRUCT:
		while (!c->bad && (t = tc_field(c, &id)))
			tc_skip(c, t, depth + 1);
		break;
	default:
		c->bad = 1;
	}
}

/* ---- the file's metadata ---------------------------------------------- */

enum { P_BOOLEAN, P_INT32, P_INT64, P_INT96, P_FLOAT, P_DOUBLE,
       P_BYTE_ARRAY, P_FLBA };
enum { R_REQUIRED, R_OPTIONAL, R_REPEATED };
enum { E_PLAIN = 0, E_PLAIN_DICT = 2, E_RLE = 3, E_BIT_PACKED = 4,
       E_DBP = 5, E_DLBA = 6, E_DBA = 7, E_RLE_DICT = 8, E_BSS = 9 };
enum { C_NONE, C_SNAPPY, C_GZIP, C_LZO, C_BROTLI, C_LZ4, C_ZSTD, C_LZ4_RAW };

typedef struct selem {
	int type;               /* -1: a group */
	int32_t tlen, rep, nkids, conv, logical, scale;
	int uns;                /* an unsigned INTEGER logical type */
	char *name;
} selem;

typedef struct chunk {
	int type, codec;
	int64_t nvals, data_off, dict_off, comp_size;
	int external, encrypted;
} chunk;

typedef struct rgroup {
	int64_t nrows;
	size_t nchunks;
	chunk *c;
} rgroup;

/* A decoded value: int, bool, float, or bytes (s, n). */
typedef struct pqv {
	union {
		int64_t i;
		double f;
		const char *s;
	} u;
	uint32_t n;
} pqv;

/* A top-level field and, when read, its cursor. */
typedef struct pqcol {
	char *name;
	size_t leaf;            /* index among the leaves (column chunks) */
	int ptype;
	int32_t tlen;
	int uns;                /* UINT_8..UINT_64: zero-extend or range-check */
	char unsup[160];        /* why it cannot be read; "" if it can */
	int list;
	int maxdef, maxrep;
	int def_row;            /* list: def >= this: the list is not null */
	int def_elem;           /* list: def >= this: an element exists */
	enum plm_type out;
	uint32_t dim;
	/* cursor over one column chunk */
	int codec;
	int64_t off, end, left;
	pqv *dict;
	size_t ndict;
	uint8_t *dictbuf;
	uint8_t *raw, *pg, *strbuf;
	size_t rawcap, pgcap, strcap;
	uint32_t *rep, *def, *idx;
	size_t repcap, defcap, idxcap;
	pqv *vals;
	size_t valcap;
	size_t n, i, vi;        /* entries in the page; next entry, value */
	float *vec;
	size_t veccap;
} pqcol;

struct plm_pq {
	char *name;
	int fd;
	const uint8_t *mem;
	uint64_t size, pos;
	uint8_t *foot;
	selem *se;
	size_t nse;
	rgroup *rg;
	size_t nrg;
	size_t nleaves;
	pqcol *cols;            /* top-level fields */
	size_t ncols;
	pqcol **sel;            /* the columns read, in schema order */
	plm_schema s;
	plm_val *row;
	size_t cur;             /* row group being read */
	int64_t rg_row;
	int started, in_rg;
	uint64_t recno;
	char *meta;
	size_t meta_len;
	char err[512];
};

#define MAX_PAGE_VALUES (1u << 24)
#define MAX_PAGE_BYTES ((size_t)1 << 30)

static int fail(plm_pq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "NAME: record N: what" once rows are read, "NAME: what" before. */
static int fail(plm_pq *q, const char *fmt, ...)
{
	char m[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	if (q->started)
		snprintf(q->err, sizeof q->err, "%s: record %" PRIu64 ": %s",
			 q->name, q->recno + 1, m);
	else
		snprintf(q->err, sizeof q->err, "%s: %s", q->name, m);
	return -1;
}

static int read_at(plm_pq *q, uint64_t off, size_t n, void *dst)
{
	if (off > q->size || n > q->size - off)
		return fail(q, "truncated file (%zu bytes at offset %" PRIu64
			    " are past its end)", n, off);
	if (q->mem) {
		memcpy(dst, q->mem + off, n);
	} else {
		for (size_t got = 0; got < n;) {
			ssize_t r = pread(q->fd, (char *)dst + got, n - got,
					  (off_t)(off + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return fail(q, "read error: %s",
					    r < 0 ? strerror(errno) : "short read");
			got += (size_t)r;
		}
	}
	if (off + n > q->pos)
		q->pos = off + n;
	return 0;
}

static void parse_logical(tc *c, selem *e)
{
	int id = 0, t;
	while ((t = tc_field(c, &id))) {
		e->logical = id;
		if (id != 10 || t != T_STRUCT) {
			tc_skip(c, t, 1);
			continue;
		}
		/* IntType: 1 bitWidth, 2 isSigned (a bool: the type is its value) */
		int k = 0, u;
		while ((u = tc_field(c, &k))) {
			if (k == 2 && (u == T_TRUE || u == T_FALSE))
				e->uns = u == T_FALSE;
			else
				tc_skip(c, u, 2);
		}
	}
}

static int parse_selem(tc *c, selem *e)
{
	int id = 0, t;
	size_t n;
	e->type = -1;
	e->conv = -1;
	while ((t = tc_field(c, &id))) {
		switch (id) {
		case 1: e->type = tc_i32(c); break;
		case 2: e->tlen = tc_i32(c); break;
		case 3: e->rep = tc_i32(c); break;
		case 4: {
			const uint8_t *s = tc_bin(c, &n);
			free(e->name);          /* a repeated field */
			e->name = NULL;
			if (s && !(e->name = strndup((const char *)s, n)))
				return -1;
			break;
		}
		case 5: e->nkids = tc_i32(c); break;
		case 6: e->conv = tc_i32(c); break;
		case 7: e->scale = tc_i32(c); break;
		case 10:
			if (t == T_STRUCT)
				parse_logical(c, e);
			else
				tc_skip(c, t, 0);
			break;
		default: tc_skip(c, t, 0);
		}
	}
	return 0;
}

static void parse_colmeta(tc *c, chunk *k)
{
	int id = 0, t;
	while ((t = tc_field(c, &id))) {
		switch (id) {
		case 1: k->type = tc_i32(c); break;
		case 4: k->codec = tc_i32(c); break;
		case 5: k->nvals = tc_zz(c); break;
		case 7: k->comp_size = tc_zz(c); break;
		case 9: k->data_off = tc_zz(c); break;
		case 11: k->dict_off = tc_zz(c); break;
		default: tc_skip(c, t, 0);
		}
	}
}

static void parse_chunk(tc *c, chunk *k)
{
	int id = 0, t;
	k->dict_off = -1;
	while ((t = tc_field(c, &id))) {
		if (id == 1)
			k->external = 1, tc_skip(c, t, 0);
		else if (id == 3 && t == T_STRUCT)
			parse_colmeta(c, k);
		else if (id == 8 || id == 9)
			k->encrypted = 1, tc_skip(c, t, 0);
		else
			tc_skip(c, t, 0);
	}
}

static int parse_rgroup(tc *c, rgroup *g)
{
	int id = 0, t, et;
	while ((t = tc_field(c, &id))) {
		if (id == 1 && t == T_LIST) {
			size_t n = tc_list(c, &et);
			if (g->c || et != T_STRUCT) {
				c->bad = 1;
				return 0;
			}
			if (n && !(g->c = calloc(n, sizeof *g->c)))
				return -1;
			g->nchunks = n;
			for (size_t i = 0; i < n && !c->bad; i++)
				parse_chunk(c, &g->c[i]);
		} else if (id == 3) {
			g->nrows = tc_zz(c);
		} else {
			tc_skip(c, t, 0);
		}
	}
	return 0;
}

static void parse_kv(plm_pq *q, tc *c)
{
	int id = 0, t;
	size_t kn = 0, vn = 0;
	const uint8_t *k = NULL, *v = NULL;
	while ((t = tc_field(c, &id))) {
		if (id == 1 && t == T_BIN)
			k = tc_bin(c, &kn);
		else if (id == 2 && t == T_BIN)
			v = tc_bin(c, &vn);
		else
			tc_skip(c, t, 0);
	}
	if (k && v && kn == 8 && !memcmp(k, "plm.meta", 8)) {
		q->meta = (char *)v;
		q->meta_len = vn;
	}
}

static int parse_footer(plm_pq *q, const uint8_t *p, size_t n)
{
	tc c = { p, p + n, 0 };
	int id = 0, t, et;
	while ((t = tc_field(&c, &id))) {
		if (id == 2 && t == T_LIST && !q->se) {
			size_t k = tc_list(&c, &et);
			if (et != T_STRUCT || !k)
				return fail(q, "bad footer: no schema");
			if (!(q->se = calloc(k, sizeof *q->se)))
				return fail(q, "out of memory");
			q->nse = k;
			for (size_t i = 0; i < k && !c.bad; i++)
				if (parse_selem(&c, &q->se[i]))
					return fail(q, "out of memory");
		} else if (id == 4 && t == T_LIST && !q->rg) {
			size_t k = tc_list(&c, &et);
			if (et != T_STRUCT && k)
				return fail(q, "bad footer: row groups");
			if (k && !(q->rg = calloc(k, sizeof *q->rg)))
				return fail(q, "out of memory");
			q->nrg = k;
			for (size_t i = 0; i < k && !c.bad; i++)
				if (parse_rgroup(&c, &q->rg[i]))
					return fail(q, "out of memory");
		} else if (id == 5 && t == T_LIST) {
			size_t k = tc_list(&c, &et);
			for (size_t i = 0; i < k && !c.bad; i++) {
				if (et != T_STRUCT) {
					tc_skip(&c, et, 0);
					continue;
				}
				parse_kv(q, &c);
			}
		} else if (id == 8) {
			return fail(q, "encrypted files are not supported");
		} else {
			tc_skip(&c, t, 0);
		}
	}
	if (c.bad)
		return fail(q, "bad footer (Thrift metadata)");
	if (!q->se)
		return fail(q, "bad footer: no schema");
	return 0;
}

/* ---- the schema tree → top-level fields ---------------------------------- */

static int is_list(const selem *e)
{
	return e->conv == 3 || e->logical == 3;
}

/* Skips the subtree at *i (counting its leaves); -1 on a malformed tree. */
static int walk_skip(plm_pq *q, size_t *i, size_t *leaves, int depth)
{
	if (*i >= q->nse || depth > 64)
		return -1;
	const selem *e = &q->se[(*i)++];
	if (e->type >= 0 && e->nkids <= 0) {
		(*leaves)++;
		return 0;
	}
	if (e->nkids < 0)
		return -1;
	for (int32_t k = 0; k < e->nkids; k++)
		if (walk_skip(q, i, leaves, depth + 1))
			return -1;
	return 0;
}

static void set_unsup(pqcol *c, const char *fmt, const char *what)
{
	if (!c->unsup[0])
		snprintf(c->unsup, sizeof c->unsup, fmt, what);
}

static const char *ptype_name(int t)
{
	static const char *n[] = { "BOOLEAN", "INT32", "INT64", "INT96",
		"FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY" };
	return t >= 0 && t < 8 ? n[t] : "an unknown physical type";
}

/* A leaf's type: the stream type it reads as, or unsup. */
static void leaf_type(pqcol *c, const selem *e)
{
	c->ptype = e->type;
	c->tlen = e->tlen;
	if (e->conv == 5 || e->logical == 5) {
		set_unsup(c, "%s (DECIMAL) is not supported", ptype_name(e->type));
		return;
	}
	switch (e->type) {
	case P_BOOLEAN: c->out = PLM_T_BOOL; break;
	case P_INT32: case P_INT64:
		c->out = PLM_T_INT;
		c->uns = e->uns || (e->conv >= 11 && e->conv <= 14);
		break;
	case P_FLOAT: case P_DOUBLE: c->out = PLM_T_FLOAT; break;
	case P_BYTE_ARRAY: c->out = PLM_T_STR; break;
	case P_FLBA:
		c->out = PLM_T_STR;
		if (e->tlen < 0)
			set_unsup(c, "%s with a negative length", "FIXED_LEN_BYTE_ARRAY");
		break;
	case P_INT96: set_unsup(c, "%s is not supported", "INT96"); break;
	default: set_unsup(c, "%s", "an unknown physical type"); break;
	}
}

/* A list column: top (the LIST group or a bare repeated leaf). */
static void list_col(plm_pq *q, pqcol *c, size_t top)
{
	const selem *t = &q->se[top], *leaf;
	int d = t->rep != R_REQUIRED;
	c->list = 1;
	c->maxrep = 1;
	if (t->type >= 0) {             /* repeated float x */
		c->def_row = 0;
		c->def_elem = 1;
		leaf = t;
		d = 1;
	} else {
		const selem *r = top + 1 < q->nse ? &q->se[top + 1] : NULL;
		if (!r || t->nkids != 1 || r->rep != R_REPEATED) {
			set_unsup(c, "%s", "a LIST group not of one repeated field");
			return;
		}
		c->def_row = d;
		c->def_elem = d + 1;
		d++;
		if (r->type >= 0) {
			leaf = r;
		} else if (r->nkids == 1 && top + 2 < q->nse &&
			   q->se[top + 2].type >= 0 && q->se[top + 2].nkids <= 0) {
			leaf = &q->se[top + 2];
			if (leaf->rep == R_REPEATED) {
				set_unsup(c, "%s", "a list of lists");
				return;
			}
			d += leaf->rep == R_OPTIONAL;
		} else {
			set_unsup(c, "%s", "a list of groups");
			return;
		}
	}
	c->maxdef = d;
	c->ptype = leaf->type;
	if (leaf->type != P_FLOAT && leaf->type != P_DOUBLE) {
		set_unsup(c, "a list of %s (only lists of FLOAT or DOUBLE read, "
			  "as vectors)", ptype_name(leaf->type));
		return;
	}
	c->out = PLM_T_F32;
}

static int build_cols(plm_pq *q)
{
	const selem *root = &q->se[0];
	size_t i = 1, leaves = 0;
	if (root->nkids < 0 || (size_t)root->nkids > q->nse)
		return fail(q, "bad footer: schema");
	if (root->nkids && !(q->cols = calloc((size_t)root->nkids, sizeof *q->cols)))
		return fail(q, "out of memory");
	for (int32_t k = 0; k < root->nkids; k++) {
		if (i >= q->nse)
			return fail(q, "bad footer: schema");
		pqcol *c = &q->cols[q->ncols++];
		const selem *e = &q->se[i];
		c->name = strdup(e->name ? e->name : "");
		if (!c->name)
			return fail(q, "out of memory");
		c->leaf = leaves;
		if (e->type >= 0 && e->nkids <= 0) {
			if (e->rep == R_REPEATED) {
				list_col(q, c, i);
			} else {
				leaf_type(c, e);
				c->maxdef = e->rep == R_OPTIONAL;
			}
		} else if (is_list(e)) {
			list_col(q, c, i);
		} else {
			set_unsup(c, "%s", e->conv == 1 || e->logical == 2 ?
				  "a MAP is not supported" :
				  "a nested group (struct) is not supported");
		}
		size_t before = leaves;
		if (walk_skip(q, &i, &leaves, 0))
			return fail(q, "bad footer: schema");
		if (leaves - before != 1)
			set_unsup(c, "%s", "a nested group (struct) is not supported");
	}
	q->nleaves = leaves;
	if (i != q->nse)
		return fail(q, "bad footer: schema");
	for (size_t g = 0; g < q->nrg; g++) {
		if (q->rg[g].nchunks != leaves)
			return fail(q, "bad footer: row group %zu has %zu columns, "
				    "the schema %zu", g, q->rg[g].nchunks, leaves);
		if (q->rg[g].nrows < 0)
			return fail(q, "bad footer: row group %zu", g);
	}
	return 0;
}

/* ---- opening ---------------------------------------------------------- */

int plm_pq_sniff(plm_in *in)
{
	ssize_t n = plm_in_peek(in, 4);
	if (n < 0)
		return -1;
	return n >= 4 && !memcmp(in->buf + in->pos, "PAR1", 4);
}

static plm_pq *pq_new(const char *name, char *err, size_t errlen)
{
	plm_pq *q = calloc(1, sizeof *q);
	if (q && !(q->name = strdup(name))) {
		free(q);
		q = NULL;
	}
	if (!q)
		snprintf(err, errlen, "out of memory");
	else
		plm_schema_init(&q->s);
	return q;
}

static plm_pq *pq_footer(plm_pq *q, char *err, size_t errlen)
{
	uint8_t tail[8];
	if (q->size < 12 || read_at(q, q->size - 8, 8, tail)) {
		fail(q, "not a Parquet file (too short)");
		goto bad;
	}
	if (!memcmp(tail + 4, "PARE", 4)) {
		fail(q, "encrypted files are not supported");
		goto bad;
	}
	if (memcmp(tail + 4, "PAR1", 4)) {
		fail(q, "not a Parquet file (no PAR1 at the end)");
		goto bad;
	}
	uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 |
		(uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
	if (flen > q->size - 12) {
		fail(q, "bad footer length %" PRIu32, flen);
		goto bad;
	}
	if (!(q->foot = malloc(flen ? flen : 1))) {
		fail(q, "out of memory");
		goto bad;
	}
	if (read_at(q, q->size - 8 - flen, flen, q->foot) ||
	    parse_footer(q, q->foot, flen) || build_cols(q))
		goto bad;
	q->pos = 4;
	return q;
bad:
	snprintf(err, errlen, "%s", q->err);
	plm_pq_close(q);
	return NULL;
}

plm_pq *plm_pq_open_fd(int fd, const char *name, char *err, size_t errlen)
{
	struct stat st;
	plm_pq *q = pq_new(name, err, errlen);
	if (!q) {
		close(fd);
		return NULL;
	}
	q->fd = fd;
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		plm_pq_close(q);
		return NULL;
	}
	q->size = (uint64_t)st.st_size;
	return pq_footer(q, err, errlen);
}

plm_pq *plm_pq_open_mem(const void *p, size_t n, const char *name,
			char *err, size_t errlen)
{
	plm_pq *q = pq_new(name, err, errlen);
	if (!q)
		return NULL;
	q->fd = -1;
	q->mem = p;
	q->size = n;
	return pq_footer(q, err, errlen);
}

/* ---- decoding ----------------------------------------------------------- */

/* bw bits (<= 64) at bit position bit of p[0..n), LSB first; bits past
 * the end read as 0. */
static inline uint64_t bits_at(const uint8_t *p, size_t n, uint64_t bit, int bw)
{
	size_t b = (size_t)(bit >> 3);
	int sh = (int)(bit & 7);
	uint64_t v;
	if (bw == 0)
		return 0;
	if (b + 8 <= n && bw + sh <= 64) {
		memcpy(&v, p + b, 8);
		v >>= sh;
	} else {
		v = 0;
		for (int got = 0; got < bw; b++) {
			uint64_t x = b < n ? p[b] : 0;
			v |= (x >> sh) << got;
			got += 8 - sh;
			sh = 0;
		}
	}
	return bw == 64 ? v : v & (((uint64_t)1 << bw) - 1);
}

static uint64_t rd_varint(const uint8_t **p, const uint8_t *end, int *bad)
{
	tc c = { *p, end, 0 };
	uint64_t v = tc_varint(&c);
	*p = c.p;
	*bad |= c.bad;
	return v;
}

/* The RLE / bit-packed hybrid: n values of bw bits from p[0..end). */
static int rle_decode(const uint8_t *p, const uint8_t *end, int bw,
		      uint32_t *out, size_t n)
{
	int bad = 0;
	size_t k = 0, vb = ((size_t)bw + 7) / 8;
	if (bw > 32)
		return -1;
	while (k < n) {
		uint64_t h = rd_varint(&p, end, &bad);
		if (bad)
			return -1;
		if (h & 1) {
			uint64_t groups = h >> 1;
			size_t avail = (size_t)(end - p);
			if (!groups)
				return -1;
			size_t cnt = groups > (n - k) / 8 + 1 ? n - k : (size_t)groups * 8;
			if (cnt > n - k)
				cnt = n - k;
			size_t len = groups > avail ? avail : (size_t)groups * (size_t)bw;
			if (len > avail)
				len = avail;
			/* the last run may stop short of its groups, never of
			 * the values read from it */
			if ((uint64_t)cnt * (uint64_t)bw > (uint64_t)len * 8)
				return -1;
			for (size_t j = 0; j < cnt; j++)
				out[k + j] = (uint32_t)bits_at(p, len, (uint64_t)j * (uint64_t)bw, bw);
			p += len;
			k += cnt;
		} else {
			uint64_t cnt = h >> 1;
			uint32_t v = 0;
			if ((size_t)(end - p) < vb)
				return -1;
			for (size_t j = 0; j < vb; j++)
				v |= (uint32_t)p[j] << (8 * j);
			p += vb;
			if (bw < 32 && v >> bw)
				return -1;
			if (!cnt)
				return -1;
			if (cnt > n - k)
				cnt = n - k;
			for (size_t j = 0; j < cnt; j++)
				out[k + j] = v;
			k += (size_t)cnt;
		}
	}
	return 0;
}

static int bit_width(uint32_t max)
{
	int w = 0;
	while (max >> w)
		w++;
	return w;
}

/* DELTA_BINARY_PACKED: up to n values (out may be NULL to count).  *p
 * advances past the encoded block; the total count goes to *total. */
static int dbp_decode(const uint8_t **pp, const uint8_t *end, int64_t *out,
		      size_t n, size_t *total)
{
	int bad = 0;
	const uint8_t *p = *pp;
	uint64_t bs = rd_varint(&p, end, &bad);
	uint64_t nmb = rd_varint(&p, end, &bad);
	uint64_t cnt = rd_varint(&p, end, &bad);
	tc c0 = { p, end, 0 };
	uint64_t v = (uint64_t)tc_zz(&c0);
	p = c0.p;
	bad |= c0.bad;
	if (bad || !bs || bs % 128 || !nmb || bs % nmb || (bs / nmb) % 32 ||
	    bs > (1u << 20) || cnt > MAX_PAGE_VALUES)
		return -1;
	uint64_t per = bs / nmb;
	size_t k = 0;
	if (cnt && out && k < n)
		out[k] = (int64_t)v;
	if (cnt)
		k++;
	while (k < cnt) {
		tc c = { p, end, 0 };
		uint64_t mind = (uint64_t)tc_zz(&c);
		p = c.p;
		if (c.bad || (uint64_t)(end - p) < nmb)
			return -1;
		const uint8_t *w = p;
		p += nmb;
		for (uint64_t m = 0; m < nmb && k < cnt; m++) {
			int bw = w[m];
			if (bw > 64)
				return -1;
			size_t len = (size_t)(per * (uint64_t)bw / 8);
			if ((size_t)(end - p) < len)
				return -1;
			for (uint64_t j = 0; j < per && k < cnt; j++) {
				v += mind + bits_at(p, len, j * (uint64_t)bw, bw);
				if (out && k < n)
					out[k] = (int64_t)v;
				k++;
			}
			p += len;
		}
	}
	*pp = p;
	*total = (size_t)cnt;
	return 0;
}

static int decompress(plm_pq *q, pqcol *c, const uint8_t *src, size_t n,
		      uint8_t *dst, size_t un)
{
	switch (c->codec) {
	case C_NONE:
		if (n != un)
			return fail(q, "column '%s': page sizes disagree", c->name);
		memcpy(dst, src, n);
		return 0;
	case C_SNAPPY: {
		size_t len = un;
		if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
		    len != un)
			return fail(q, "column '%s': corrupt SNAPPY page", c->name);
		return 0;
	}
	case C_GZIP: {
		z_stream z;
		memset(&z, 0, sizeof z);
		if (inflateInit2(&z, 15 + 32) != Z_OK)
			return fail(q, "out of memory");
		z.next_in = (Bytef *)(uintptr_t)src;
		z.avail_in = (uInt)n;
		z.next_out = dst;
		z.avail_out = (uInt)un;
		int rc = inflate(&z, Z_FINISH);
		size_t out = z.total_out;
		inflateEnd(&z);
		if (rc != Z_STREAM_END || out != un)
			return fail(q, "column '%s': corrupt GZIP page", c->name);
		return 0;
	}
	case C_ZSTD: {
		size_t r = ZSTD_decompress(dst, un, src, n);
		if (ZSTD_isError(r) || r != un)
			return fail(q, "column '%s': corrupt ZSTD page", c->name);
		return 0;
	}
	}
	return -1;
}

/* Is un a plausible decompressed size of the n bytes (checked before it
 * is allocated)? */
static int size_ok(pqcol *c, const uint8_t *src, size_t n, size_t un)
{
	size_t len;
	unsigned long long z;
	if (un > MAX_PAGE_BYTES)
		return 0;
	switch (c->codec) {
	case C_NONE:
		return n == un;
	case C_SNAPPY:
		return snappy_uncompressed_length((const char *)src, n, &len) == SNAPPY_OK &&
			len == un;
	case C_GZIP:
		return un / 1100 <= n;
	case C_ZSTD:
		z = ZSTD_getFrameContentSize(src, n);
		return z == ZSTD_CONTENTSIZE_UNKNOWN || z == un;
	}
	return 0;
}

static const char *codec_name(int k)
{
	static const char *n[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
		"BROTLI", "LZ4", "ZSTD", "LZ4_RAW" };
	return k >= 0 && k < 8 ? n[k] : "unknown";
}

static const char *enc_name(int e)
{
	static const char *n[] = { "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY",
		"RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
		"DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY",
		"BYTE_STREAM_SPLIT" };
	return e >= 0 && e < 10 ? n[e] : "unknown";
}

static size_t type_size(const pqcol *c)
{
	switch (c->ptype) {
	case P_INT32: case P_FLOAT: return 4;
	case P_INT64: case P_DOUBLE: return 8;
	case P_FLBA: return (size_t)c->tlen;
	}
	return 0;
}

static void fixed_val(const pqcol *c, const uint8_t *p, pqv *v)
{
	int32_t i32;
	float f;
	switch (c->ptype) {
	case P_INT32: memcpy(&i32, p, 4); v->u.i = i32; break;
	case P_INT64: memcpy(&v->u.i, p, 8); break;
	case P_FLOAT: memcpy(&f, p, 4); v->u.f = f; break;
	case P_DOUBLE: memcpy(&v->u.f, p, 8); break;
	default: v->u.s = (const char *)p; v->n = (uint32_t)c->tlen; break;
	}
}

/* PLAIN: n values from p[0..end) into out. */
static int plain_decode(plm_pq *q, pqcol *c, const uint8_t *p,
			const uint8_t *end, pqv *out, size_t n)
{
	size_t avail = (size_t)(end - p);
	if (c->ptype == P_BOOLEAN) {
		if ((n + 7) / 8 > avail)
			goto short_;
		for (size_t k = 0; k < n; k++)
			out[k].u.i = p[k >> 3] >> (k & 7) & 1;
		return 0;
	}
	if (c->ptype == P_BYTE_ARRAY) {
		for (size_t k = 0; k < n; k++) {
			uint32_t len;
			if ((size_t)(end - p) < 4)
				goto short_;
			memcpy(&len, p, 4);
			p += 4;
			if ((size_t)(end - p) < len)
				goto short_;
			out[k].u.s = (const char *)p;
			out[k].n = len;
			p += len;
		}
		return 0;
	}
	size_t w = type_size(c);
	if (w && n > avail / w)
		goto short_;
	for (size_t k = 0; k < n; k++)
		fixed_val(c, p + k * w, &out[k]);
	return 0;
short_:
	return fail(q, "column '%s': page too short for its values", c->name);
}

/* DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY values. */
static int delta_bytes(plm_pq *q, pqcol *c, const uint8_t *p,
		       const uint8_t *end, pqv *out, size_t n, int prefixed)
{
	size_t np = 0, ns;
	int64_t *pre = NULL, *len = NULL;
	int rc = -1;
	if (!(len = calloc(n ? n : 1, sizeof *len)) ||
	    (prefixed && !(pre = calloc(n ? n : 1, sizeof *pre)))) {
		fail(q, "out of memory");
		goto out;
	}
	if ((prefixed && (dbp_decode(&p, end, pre, n, &np) || np < n)) ||
	    dbp_decode(&p, end, len, n, &ns) || ns < n) {
		fail(q, "column '%s': corrupt %s page", c->name,
		     prefixed ? "DELTA_BYTE_ARRAY" : "DELTA_LENGTH_BYTE_ARRAY");
		goto out;
	}
	size_t total = 0, prev = 0;
	for (size_t k = 0; k < n; k++) {
		if (len[k] < 0 || (uint64_t)len[k] > (uint64_t)(end - p) ||
		    (pre && (pre[k] < 0 || (uint64_t)pre[k] > prev))) {
			fail(q, "column '%s': corrupt delta-encoded strings", c->name);
			goto out;
		}
		prev = (size_t)len[k] + (pre ? (size_t)pre[k] : 0);
		total += prev;
		if (total > MAX_PAGE_BYTES) {
			fail(q, "column '%s': a page of strings over %zu bytes",
			     c->name, MAX_PAGE_BYTES);
			goto out;
		}
	}
	if (pre && PLM_GROW(c->strbuf, c->strcap, total + 1)) {
		fail(q, "out of memory");
		goto out;
	}
	size_t at = 0;
	const char *last = NULL;
	for (size_t k = 0; k < n; k++) {
		size_t l = (size_t)len[k];
		if ((size_t)(end - p) < l) {
			fail(q, "column '%s': corrupt delta-encoded strings", c->name);
			goto out;
		}
		if (pre) {
			char *d = (char *)c->strbuf + at;
			size_t pl = (size_t)pre[k];
			if (pl)
				memmove(d, last, pl);
			memcpy(d + pl, p, l);
			out[k].u.s = d;
			out[k].n = (uint32_t)(pl + l);
			last = d;
			at += pl + l;
		} else {
			out[k].u.s = (const char *)p;
			out[k].n = (uint32_t)l;
		}
		if (c->ptype == P_FLBA && out[k].n != (uint32_t)c->tlen) {
			fail(q, "column '%s': a value of %" PRIu32 " bytes in a "
			     "FIXED_LEN_BYTE_ARRAY(%" PRId32 ")", c->name, out[k].n, c->tlen);
			goto out;
		}
		p += l;
	}
	rc = 0;
out:
	free(pre);
	free(len);
	return rc;
}

static int decode_values(plm_pq *q, pqcol *c, int enc, const uint8_t *p,
			 const uint8_t *end, pqv *out, size_t n)
{
	switch (enc) {
	case E_PLAIN:
		return plain_decode(q, c, p, end, out, n);
	case E_PLAIN_DICT: case E_RLE_DICT:
		if (!c->dict)
			return fail(q, "column '%s': dictionary-encoded page "
				    "without a dictionary", c->name);
		if (n && (p >= end || *p > 32 ||
			  PLM_GROW(c->idx, c->idxcap, n)))
			return fail(q, "column '%s': corrupt dictionary indices", c->name);
		if (!n)
			return 0;
		if (rle_decode(p + 1, end, *p, c->idx, n))
			return fail(q, "column '%s': corrupt dictionary indices", c->name);
		for (size_t k = 0; k < n; k++) {
			if (c->idx[k] >= c->ndict)
				return fail(q, "column '%s': dictionary index %" PRIu32
					    " past its %zu entries", c->name,
					    c->idx[k], c->ndict);
			out[k] = c->dict[c->idx[k]];
		}
		return 0;
	case E_RLE:
		if (c->ptype != P_BOOLEAN)
			break;
		if (end - p < 4 || PLM_GROW(c->idx, c->idxcap, n))
			return fail(q, "column '%s': corrupt RLE booleans", c->name);
		if (rle_decode(p + 4, end, 1, c->idx, n))
			return fail(q, "column '%s': corrupt RLE booleans", c->name);
		for (size_t k = 0; k < n; k++)
			out[k].u.i = c->idx[k];
		return 0;
	case E_DBP: {
		size_t got;
		if (c->ptype != P_INT32 && c->ptype != P_INT64)
			break;
		int64_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
		if (!tmp)
			return fail(q, "out of memory");
		int rc = dbp_decode(&p, end, tmp, n, &got);
		for (size_t k = 0; !rc && k < n; k++)
			out[k].u.i = c->ptype == P_INT32 ? (int32_t)tmp[k] : tmp[k];
		free(tmp);
		if (rc || got < n)
			return fail(q, "column '%s': corrupt DELTA_BINARY_PACKED page",
				    c->name);
		return 0;
	}
	case E_DLBA:
		if (c->ptype != P_BYTE_ARRAY)
			break;
		return delta_bytes(q, c, p, end, out, n, 0);
	case E_DBA:
		if (c->ptype != P_BYTE_ARRAY && c->ptype != P_FLBA)
			break;
		return delta_bytes(q, c, p, end, out, n, 1);
	case E_BSS: {
		size_t w = type_size(c);
		uint8_t b[8];
		if (!w || w > 8 || c->ptype == P_FLBA)
			break;
		if (n > (size_t)(end - p) / w)
			return fail(q, "column '%s': page too short for its values", c->name);
		for (size_t k = 0; k < n; k++) {
			for (size_t j = 0; j < w; j++)
				b[j] = p[j * n + k];
			fixed_val(c, b, &out[k]);
		}
		return 0;
	}
	}
	return fail(q, "column '%s': encoding %s of %s is not supported",
		    c->name, enc_name(enc), ptype_name(c->ptype));
}

/* Page header fields that matter. */
typedef struct phdr {
	int type, enc, v2, compressed;
	int32_t usize, csize, nvals, dl_len, rl_len;
	int dl_enc, rl_enc;
} phdr;

static void parse_dph(tc *c, phdr *h, int v2)
{
	int id = 0, t;
	h->v2 = v2;
	h->compressed = 1;
	while ((t = tc_field(c, &id))) {
		if (id == 1)
			h->nvals = tc_i32(c);
		else if (!v2 && id == 2)
			h->enc = tc_i32(c);
		else if (!v2 && id == 3)
			h->dl_enc = tc_i32(c);
		else if (!v2 && id == 4)
			h->rl_enc = tc_i32(c);
		else if (v2 && id == 4)
			h->enc = tc_i32(c);
		else if (v2 && id == 5)
			h->dl_len = tc_i32(c);
		else if (v2 && id == 6)
			h->rl_len = tc_i32(c);
		else if (v2 && id == 7 && (t == T_TRUE || t == T_FALSE))
			h->compressed = t == T_TRUE;
		else
			tc_skip(c, t, 0);
	}
}

static int parse_phdr(const uint8_t *p, size_t n, phdr *h, size_t *used)
{
	tc c = { p, p + n, 0 };
	int id = 0, t;
	memset(h, 0, sizeof *h);
	h->type = -1;
	while ((t = tc_field(&c, &id))) {
		switch (id) {
		case 1: h->type = tc_i32(&c); break;
		case 2: h->usize = tc_i32(&c); break;
		case 3: h->csize = tc_i32(&c); break;
		case 5: case 7: case 8:
			if (t == T_STRUCT)
				parse_dph(&c, h, id == 8);
			else
				tc_skip(&c, t, 0);
			break;
		default: tc_skip(&c, t, 0);
		}
	}
	*used = (size_t)(c.p - p);
	return c.bad ? -1 : 0;
}

/* Levels of a v1 page (4-byte length, then the hybrid), or a v2 page's
 * (length from the header).  p advances. */
static int levels(plm_pq *q, pqcol *c, const uint8_t **pp, const uint8_t *end,
		  int max, uint32_t *out, size_t n, int v2, int32_t v2len, int enc)
{
	const uint8_t *p = *pp;
	uint32_t len;
	if (!max) {
		/* no levels: a v2 page that says it has some is corrupt (its
		 * values would be read from the level bytes) */
		if (v2 && v2len != 0)
			goto bad;
		return 0;
	}
	if (v2) {
		if (v2len < 0 || (size_t)(end - p) < (size_t)v2len)
			goto bad;
		len = (uint32_t)v2len;
	} else {
		if (enc != E_RLE)
			return fail(q, "column '%s': level encoding %s is not supported",
				    c->name, enc_name(enc));
		if (end - p < 4)
			goto bad;
		memcpy(&len, p, 4);
		p += 4;
		if ((size_t)(end - p) < len)
			goto bad;
	}
	if (rle_decode(p, p + len, bit_width((uint32_t)max), out, n))
		goto bad;
	for (size_t k = 0; k < n; k++)
		if (out[k] > (uint32_t)max)
			goto bad;
	*pp = p + len;
	return 0;
bad:
	return fail(q, "column '%s': corrupt levels", c->name);
}

/* Loads the next data page of the chunk: 1, 0 at its end, -1. */
static int load_page(plm_pq *q, pqcol *c)
{
	for (;;) {
		if (c->left <= 0 || c->off >= c->end)
			return 0;
		phdr h;
		size_t used = 0, want = 256;
		for (;;) {
			size_t room = (size_t)(c->end - c->off);
			if (want > room)
				want = room;
			if (PLM_GROW(c->raw, c->rawcap, want))
				return fail(q, "out of memory");
			if (read_at(q, (uint64_t)c->off, want, c->raw))
				return -1;
			if (!parse_phdr(c->raw, want, &h, &used))
				break;
			if (want == room || want >= (1u << 24))
				return fail(q, "column '%s': corrupt page header", c->name);
			want *= 4;
		}
		if (h.csize < 0 || h.usize < 0 ||
		    (uint64_t)h.csize > (uint64_t)(c->end - c->off) - used)
			return fail(q, "column '%s': corrupt page header", c->name);
		int64_t at = c->off + (int64_t)used;
		c->off = at + h.csize;
		if (h.type != 0 && h.type != 2 && h.type != 3)
			continue;       /* an index page */
		size_t cs = (size_t)h.csize, us = (size_t)h.usize;
		if (PLM_GROW(c->raw, c->rawcap, cs ? cs : 1))
			return fail(q, "out of memory");
		if (read_at(q, (uint64_t)at, cs, c->raw))
			return -1;
		if (h.nvals < 0 || (uint32_t)h.nvals > MAX_PAGE_VALUES)
			return fail(q, "column '%s': a page of %" PRId32 " values "
				    "(the limit is %u)", c->name, h.nvals, MAX_PAGE_VALUES);
		size_t nv = (size_t)h.nvals;
		/* v2: the levels are never compressed */
		size_t lv = 0;
		if (h.type == 3) {
			if (h.rl_len < 0 || h.dl_len < 0 ||
			    (uint64_t)h.rl_len + (uint64_t)h.dl_len > cs ||
			    (uint64_t)h.rl_len + (uint64_t)h.dl_len > us)
				return fail(q, "column '%s': corrupt page header", c->name);
			lv = (size_t)h.rl_len + (size_t)h.dl_len;
		}
		int comp = c->codec != C_NONE && (h.type != 3 || h.compressed);
		if (!comp && cs != us)
			return fail(q, "column '%s': page sizes disagree", c->name);
		if (comp && !size_ok(c, c->raw + lv, cs - lv, us - lv))
			return fail(q, "column '%s': corrupt %s page", c->name,
				    codec_name(c->codec));
		if (PLM_GROW(c->pg, c->pgcap, us ? us : 1))
			return fail(q, "out of memory");
		memcpy(c->pg, c->raw, lv);
		if (comp) {
			if (decompress(q, c, c->raw + lv, cs - lv, c->pg + lv, us - lv))
				return -1;
		} else {
			memcpy(c->pg + lv, c->raw + lv, cs - lv);
		}
		const uint8_t *p = c->pg, *end = c->pg + us;
		if (h.type == 2) {
			if (c->dict)
				return fail(q, "column '%s': a second dictionary page", c->name);
			if (h.enc != E_PLAIN && h.enc != E_PLAIN_DICT)
				return fail(q, "column '%s': dictionary encoding %s "
					    "is not supported", c->name, enc_name(h.enc));
			if (!(c->dict = calloc(nv ? nv : 1, sizeof *c->dict)))
				return fail(q, "out of memory");
			if (plain_decode(q, c, p, end, c->dict, nv))
				return -1;
			c->ndict = nv;
			/* the values point into pg: keep it as the dictionary's */
			c->dictbuf = c->pg;
			c->pg = NULL;
			c->pgcap = 0;
			continue;
		}
		if (PLM_GROW(c->rep, c->repcap, nv ? nv : 1) ||
		    PLM_GROW(c->def, c->defcap, nv ? nv : 1))
			return fail(q, "out of memory");
		if (levels(q, c, &p, end, c->maxrep, c->rep, nv, h.v2, h.rl_len, h.rl_enc) ||
		    levels(q, c, &p, end, c->maxdef, c->def, nv, h.v2, h.dl_len, h.dl_enc))
			return -1;
		size_t nn = nv;
		if (c->maxdef) {
			nn = 0;
			for (size_t k = 0; k < nv; k++)
				nn += c->def[k] == (uint32_t)c->maxdef;
		} else {
			memset(c->def, 0, nv * sizeof *c->def);
		}
		if (!c->maxrep)
			memset(c->rep, 0, nv * sizeof *c->rep);
		if (PLM_GROW(c->vals, c->valcap, nn ? nn : 1))
			return fail(q, "out of memory");
		if (decode_values(q, c, h.enc, p, end, c->vals, nn))
			return -1;
		c->n = nv;
		c->i = 0;
		c->vi = 0;
		c->left -= (int64_t)nv;
		if (nv)
			return 1;
	}
}

static void col_reset(pqcol *c)
{
	free(c->dict);
	free(c->dictbuf);
	c->dict = NULL;
	c->dictbuf = NULL;
	c->ndict = 0;
	c->n = c->i = c->vi = 0;
}

static int col_begin(plm_pq *q, pqcol *c, size_t g)
{
	const chunk *k = &q->rg[g].c[c->leaf];
	col_reset(c);
	if (k->external)
		return fail(q, "column '%s': column chunks in other files are "
			    "not supported", c->name);
	if (k->encrypted)
		return fail(q, "column '%s': encrypted columns are not supported",
			    c->name);
	if (k->codec != C_NONE && k->codec != C_SNAPPY && k->codec != C_GZIP &&
	    k->codec != C_ZSTD)
		return fail(q, "column '%s': compression %s is not supported",
			    c->name, codec_name(k->codec));
	if (k->type != c->ptype)
		return fail(q, "bad footer: column '%s' changes type", c->name);
	int64_t start = k->dict_off > 0 && k->dict_off < k->data_off ?
		k->dict_off : k->data_off;
	if (start < 4 || k->comp_size < 0 || (uint64_t)start > q->size ||
	    (uint64_t)k->comp_size > q->size - (uint64_t)start || k->nvals < 0)
		return fail(q, "bad footer: column '%s' chunk out of the file", c->name);
	c->codec = k->codec;
	c->off = start;
	c->end = start + k->comp_size;
	c->left = k->nvals;
	return 0;
}

/* The next entry of the column: 1 (def, rep and, when def is the
 * maximum, a value), 0 at the chunk's end, -1. */
static int col_peek(plm_pq *q, pqcol *c)
{
	if (c->i < c->n)
		return 1;
	return load_page(q, c);
}

static int col_take(pqcol *c, const pqv **v)
{
	int d = (int)c->def[c->i++];
	if (d == c->maxdef)
		*v = &c->vals[c->vi++];
	else
		*v = NULL;
	return d;
}

/* A list row into c->vec: its length, or -2 for nil, -1 on error. */
static int64_t list_row(plm_pq *q, pqcol *c)
{
	const pqv *v;
	int rc = col_peek(q, c);
	if (rc <= 0)
		return rc ? -1 : fail(q, "column '%s': fewer values than rows",
				      c->name);
	if (c->rep[c->i] != 0)
		return fail(q, "column '%s': corrupt repetition levels", c->name);
	size_t len = 0;
	for (;;) {
		int d = col_take(c, &v);
		if (d < c->def_row)
			return -2;
		if (d >= c->def_elem) {
			if (!v)
				return fail(q, "column '%s': a null element in a list",
					    c->name);
			if (PLM_GROW(c->vec, c->veccap, len + 1))
				return fail(q, "out of memory");
			c->vec[len++] = (float)v->u.f;
		}
		rc = col_peek(q, c);
		if (rc < 0)
			return -1;
		if (rc == 0 || c->rep[c->i] == 0)
			break;
	}
	return (int64_t)len;
}

/* The vector length: that of the first non-null list. */
static int find_dim(plm_pq *q, pqcol *c)
{
	for (size_t g = 0; g < q->nrg; g++) {
		if (col_begin(q, c, g))
			return -1;
		for (int64_t r = 0; r < q->rg[g].nrows; r++) {
			int64_t n = list_row(q, c);
			if (n == -1)
				return -1;
			if (n >= 0) {
				if (n == 0 || n > (1 << 24))
					return fail(q, "column '%s': a list of %" PRId64
						    " values cannot be a vector", c->name, n);
				c->dim = (uint32_t)n;
				col_reset(c);
				return 0;
			}
		}
	}
	col_reset(c);
	return fail(q, "column '%s': no non-null list to take the vector "
		    "length from", c->name);
}

int plm_pq_start(plm_pq *q, int n, const char *const *names, char *err,
		 size_t errlen)
{
	if (q->ncols && !(q->sel = calloc(q->ncols, sizeof *q->sel)))
		goto oom;
	size_t ns = 0;
	for (size_t k = 0; k < q->ncols; k++) {
		pqcol *c = &q->cols[k];
		int want = n < 0;
		for (int j = 0; j < n && !want; j++)
			want = !strcmp(names[j], c->name);
		if (!want)
			continue;
		for (size_t j = 0; j < ns; j++)
			if (!strcmp(q->sel[j]->name, c->name)) {
				fail(q, "column '%s' appears twice", c->name);
				goto bad;
			}
		if (c->unsup[0]) {
			fail(q, "column '%s': %s", c->name, c->unsup);
			goto bad;
		}
		if (c->list && find_dim(q, c))
			goto bad;
		q->sel[ns++] = c;
		if (plm_schema_add(&q->s, c->name, c->out, c->dim) < 0)
			goto oom;
	}
	if (q->meta) {
		char e[256];
		if (plm_schema_meta_json(&q->s, q->meta, q->meta_len, e, sizeof e)) {
			fail(q, "key plm.meta: %s", e);
			goto bad;
		}
	}
	if (!(q->row = calloc(ns ? ns : 1, sizeof *q->row)))
		goto oom;
	q->started = 1;
	return 0;
oom:
	fail(q, "out of memory");
bad:
	snprintf(err, errlen, "%s", q->err);
	return -1;
}

const plm_schema *plm_pq_schema(const plm_pq *q)
{
	return &q->s;
}

int plm_pq_next(plm_pq *q, const plm_val **row)
{
	const pqv *v;
	size_t ns = q->s.n;
	if (!q->started)
		return PLM_ERR;
	while (!q->in_rg || q->rg_row >= q->rg[q->cur].nrows) {
		if (q->in_rg) {
			/* nothing past the rows the footer counts */
			for (size_t k = 0; k < ns; k++) {
				int rc = col_peek(q, q->sel[k]);
				if (rc < 0)
					return PLM_ERR;
				if (rc > 0) {
					fail(q, "column '%s': more values than the "
					     "%" PRId64 " rows of row group %zu",
					     q->sel[k]->name, q->rg[q->cur].nrows,
					     q->cur + 1);
					return PLM_ERR;
				}
			}
			q->cur++;
		}
		if (q->cur >= q->nrg)
			return PLM_EOF;
		for (size_t k = 0; k < ns; k++)
			if (col_begin(q, q->sel[k], q->cur))
				return PLM_ERR;
		q->in_rg = 1;
		q->rg_row = 0;
	}
	for (size_t k = 0; k < ns; k++) {
		pqcol *c = q->sel[k];
		plm_val *o = &q->row[k];
		if (c->list) {
			int64_t len = list_row(q, c);
			if (len == -1)
				return PLM_ERR;
			if (len == -2) {
				*o = plm_v_nil();
			} else if ((uint64_t)len != c->dim) {
				fail(q, "column '%s': a list of %" PRId64 " values, "
				     "the file's vectors have %" PRIu32, c->name,
				     len, c->dim);
				return PLM_ERR;
			} else {
				*o = plm_v_bytes(c->vec, (size_t)len * 4, 1);
			}
			continue;
		}
		int rc = col_peek(q, c);
		if (rc <= 0) {
			if (!rc)
				fail(q, "column '%s': fewer values than rows", c->name);
			return PLM_ERR;
		}
		col_take(c, &v);
		if (!v) {
			*o = plm_v_nil();
			continue;
		}
		switch (c->out) {
		case PLM_T_FLOAT: *o = plm_v_float(v->u.f); break;
		case PLM_T_STR: *o = plm_v_str(v->u.s, v->n); break;
		case PLM_T_INT:
			if (c->uns && c->ptype == P_INT32) {
				*o = plm_v_int((int64_t)(uint32_t)v->u.i);
				break;
			}
			if (c->uns && v->u.i < 0) {
				fail(q, "column '%s': UINT_64 value %" PRIu64
				     " is past the int range", c->name,
				     (uint64_t)v->u.i);
				return PLM_ERR;
			}
			*o = plm_v_int(v->u.i);
			break;
		default: *o = plm_v_int(v->u.i); break;
		}
	}
	q->rg_row++;
	q->recno++;
	*row = q->row;
	return PLM_ROW;
}

const char *plm_pq_error(const plm_pq *q)
{
	return q->err;
}

uint64_t plm_pq_recno(const plm_pq *q)
{
	return q->recno;
}

uint64_t plm_pq_pos(const plm_pq *q)
{
	return q->pos;
}

uint64_t plm_pq_size(const plm_pq *q)
{
	return q->size;
}

void plm_pq_close(plm_pq *q)
{
	if (!q)
		return;
	for (size_t k = 0; k < q->ncols; k++) {
		pqcol *c = &q->cols[k];
		col_reset(c);
		free(c->name);
		free(c->raw);
		free(c->pg);
		free(c->strbuf);
		free(c->rep);
		free(c->def);
		free(c->idx);
		free(c->vals);
		free(c->vec);
	}
	free(q->cols);
	free(q->sel);
	for (size_t k = 0; k < q->nse; k++)
		free(q->se[k].name);
	free(q->se);
	for (size_t k = 0; k < q->nrg; k++)
		free(q->rg[k].c);
	free(q->rg);
	free(q->foot);
	free(q->row);
	plm_schema_free(&q->s);
	if (q->fd >= 0 && !q->mem)
		close(q->fd);
	free(q->name);
	free(q);
}
