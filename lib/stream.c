/* stream.c — record stream reader and writer, MessagePack and TSV
 * (man 5 plm-stream; the interface is include/plm/stream.h).
 *
 * Reading MessagePack: msgpack-c parses straight out of the plm_in window
 * (msgpack_unpack over buf[pos..bound)), so bytes are copied once, by
 * read(2) or the decompressor, and strings and bins point into the window.
 * The guard (below) scans each new stretch of the window first and records
 * where the last complete top-level object ends (bound): msgpack-c only
 * ever sees whole objects, so it never parses a partial one twice, and a
 * partial one at the end of the window is kept by plm_in_fill (which moves
 * the unconsumed bytes to the front) until the rest arrives.  One zone,
 * cleared before each object, holds the array and map slots, so in steady
 * state nothing is allocated per row; the plm_val array is reused.
 *
 * The guard: msgpack-c allocates an array's or map's element slots as soon
 * as it sees the count, so five hostile bytes (dd ff ff ff ff) would ask
 * for ~100 GB.  The guard walks the same bytes first, token by token,
 * keeping only a stack of remaining counts, and stops the feed at the
 * first token that declares too many elements, nests too deeply or is not
 * MessagePack at all.  Objects before that point are still delivered, so
 * the error names the right record.
 *
 * Reading TSV: lines are found with memchr in the plm_in window; fields
 * are split in place; str values are unescaped in place (they only
 * shrink); numeric vectors are parsed into one reused scratch buffer.
 *
 * Writing: a msgpack_packer whose callback appends to the plm_out buffer;
 * TSV rows are built in a reused text buffer and written in one call. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "plm/alloc.h"
#include "plm/float.h"
#include "plm/json.h"
#include "plm/pqwrite.h"
#include "plm/stream.h"
#include "plm/view.h"

#define GUARD_DEPTH PLM_MP_DEPTH        /* containers open at once */
#define STR_(x) #x
#define STR(x) STR_(x)
#define GUARD_MAX_ELEMS (1u << 22)      /* element slots per top-level object */

/* ---- small helpers ---------------------------------------------------- */

static uint32_t ld32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void st32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* A growable byte buffer. */
typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t more)
{
	if (more > SIZE_MAX - b->len)
		return -1;
	return PLM_GROW(b->p, b->cap, b->len + more);
}

static int buf_put(buf *b, const void *p, size_t n)
{
	/* room for one more byte at least: b->p is never NULL after a put,
	 * even of nothing (readers point into it) */
	if (buf_reserve(b, n ? n : 1))
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int buf_puts(buf *b, const char *s)
{
	return buf_put(b, s, strlen(s));
}

static char *u64_dec(char *end, uint64_t u)
{
	*--end = 0;
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

/* Decimal of v into buf (>= 21 bytes); returns the length. */
static size_t i64_fmt(char *out, int64_t v)
{
	char tmp[24], *p;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	p = u64_dec(tmp + sizeof tmp, u);
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(tmp + sizeof tmp - 1 - p);
	memcpy(out, p, n);
	return n;
}

static const char *mp_type_name(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return "nil";
	case MSGPACK_OBJECT_BOOLEAN: return "bool";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: return "float";
	case MSGPACK_OBJECT_STR: return "str";
	case MSGPACK_OBJECT_ARRAY: return "array";
	case MSGPACK_OBJECT_MAP: return "map";
	case MSGPACK_OBJECT_BIN: return "bin";
	default: return "ext";
	}
}

static int key_is(const msgpack_object *k, const char *s)
{
	size_t n = strlen(s);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, s, n) == 0;
}

static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (key_is(&m->via.map.ptr[i].key, key))
			return &m->via.map.ptr[i].val;
	return NULL;
}

/* ---- meta: MessagePack <-> JSON ----------------------------------------- */

static int json_put_f64(buf *b, double d)
{
	char t[40];
	if (isnan(d) || isinf(d))
		return buf_puts(b, "null");     /* JSON has no spelling for them */
	int n = plm_fmt_f64(t, d);
	/* keep it a float when read back: "1" would come back as an int */
	if (!strpbrk(t, ".eE"))
		memcpy(t + n, ".0", 3);
	return buf_puts(b, t);
}

static int mp_to_json(buf *b, const msgpack_object *o, int depth)
{
	char t[32];
	int rc = 0;

	if (depth > GUARD_DEPTH)
		return -1;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: return buf_puts(b, "null");
	case MSGPACK_OBJECT_BOOLEAN:
		return buf_puts(b, o->via.boolean ? "true" : "false");
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(t, sizeof t, "%llu", (unsigned long long)o->via.u64);
		return buf_puts(b, t);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(t, sizeof t, "%lld", (long long)o->via.i64);
		return buf_puts(b, t);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_put_f64(b, o->via.f64);
	case MSGPACK_OBJECT_STR:
		return plm_json_put_str(&b->p, &b->len, &b->cap,
					o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return plm_json_put_str(&b->p, &b->len, &b->cap,
					o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY:
		rc |= buf_puts(b, "[");
		for (uint32_t i = 0; i < o->via.array.size && !rc; i++) {
			if (i)
				rc |= buf_puts(b, ",");
			rc |= mp_to_json(b, &o->via.array.ptr[i], depth + 1);
		}
		return rc | buf_puts(b, "]");
	case MSGPACK_OBJECT_MAP:
		rc |= buf_puts(b, "{");
		for (uint32_t i = 0; i < o->via.map.size && !rc; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			if (i)
				rc |= buf_puts(b, ",");
			if (kv->key.type == MSGPACK_OBJECT_STR) {
				rc |= mp_to_json(b, &kv->key, depth + 1);
			} else {
				/* JSON keys are strings: quote the key's JSON */
				buf k = { 0 };
				rc |= mp_to_json(&k, &kv->key, depth + 1);
				if (!rc)
					rc |= plm_json_put_str(&b->p, &b->len,
							&b->cap, k.p, k.len);
				free(k.p);
			}
			rc |= buf_puts(b, ":");
			rc |= mp_to_json(b, &kv->val, depth + 1);
		}
		return rc | buf_puts(b, "}");
	default:
		return buf_puts(b, "null");
	}
}

/* Packed meta bytes → JSON text in b (NUL-terminated). */
static int meta_to_json(const plm_schema *s, buf *b)
{
	msgpack_unpacked u;
	size_t off = 0;
	int rc = -1;

	b->len = 0;
	msgpack_unpacked_init(&u);
	if (s->meta && s->meta_len &&
	    msgpack_unpack_next(&u, (const char *)s->meta, s->meta_len, &off) ==
	    MSGPACK_UNPACK_SUCCESS)
		rc = mp_to_json(b, &u.data, 0);
	else
		rc = buf_puts(b, "{}");
	msgpack_unpacked_destroy(&u);
	if (!rc)
		rc = buf_put(b, "", 1);
	if (!rc)
		b->len--;
	return rc;
}

static void json_to_mp(msgpack_packer *pk, const plm_json *j)
{
	switch (j->type) {
	case PLM_JSON_NULL: msgpack_pack_nil(pk); break;
	case PLM_JSON_BOOL:
		if (j->b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case PLM_JSON_NUM:
		if (j->is_int)
			msgpack_pack_int64(pk, j->i);
		else
			msgpack_pack_double(pk, j->num);
		break;
	case PLM_JSON_STR:
		msgpack_pack_str(pk, j->len);
		msgpack_pack_str_body(pk, j->s, j->len);
		break;
	case PLM_JSON_ARR:
		msgpack_pack_array(pk, j->len);
		for (size_t i = 0; i < j->len; i++)
			json_to_mp(pk, &j->kids[i]);
		break;
	case PLM_JSON_OBJ:
		msgpack_pack_map(pk, j->len);
		for (size_t i = 0; i < j->len; i++) {
			size_t n = strlen(j->keys[i]);
			msgpack_pack_str(pk, n);
			msgpack_pack_str_body(pk, j->keys[i], n);
			json_to_mp(pk, &j->kids[i]);
		}
		break;
	}
}

/* Nesting depth of j (a scalar is 0, {} or [] is 1). */
static int json_depth(const plm_json *j)
{
	int d = 0;

	if (j->type != PLM_JSON_ARR && j->type != PLM_JSON_OBJ)
		return 0;
	for (size_t i = 0; i < j->len; i++) {
		int k = json_depth(&j->kids[i]);
		if (k > d)
			d = k;
	}
	return d + 1;
}

/* JSON object text → s->meta.  0, or -1 with a message in err. */
static int meta_from_json(plm_schema *s, const char *text, size_t len,
			  char *err, size_t errlen)
{
	plm_json_doc *d = plm_json_parse(text, len, err, errlen);
	if (!d)
		return -1;
	const plm_json *root = plm_json_root(d);
	if (root->type != PLM_JSON_OBJ) {
		plm_json_free(d);
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	/* the MessagePack form could not be read back (see stream.h) */
	if (json_depth(root) > PLM_META_DEPTH) {
		plm_json_free(d);
		snprintf(err, errlen, "nested deeper than %d levels "
			 "(the limit of the MessagePack form)", PLM_META_DEPTH);
		return -1;
	}
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	json_to_mp(&pk, root);
	plm_json_free(d);
	if (!sb.data) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(s->meta);
	s->meta = (unsigned char *)sb.data;
	s->meta_len = sb.size;
	return 0;
}

int plm_schema_meta_json(plm_schema *s, const char *text, size_t len,
			 char *err, size_t errlen)
{
	return meta_from_json(s, text, len, err, errlen);
}

/* ---- the guard (see the top of the file) ------------------------------- */

typedef struct guard {
	unsigned char hdr[9];
	unsigned hlen, hneed;
	uint64_t skip;                  /* payload bytes still to pass */
	uint64_t rem[GUARD_DEPTH];      /* elements left per open container */
	int depth;
	uint64_t total;                 /* element slots in this object */
	int top_end;                    /* a top-level object just ended */
	const char *err;
} guard;

/* Length of the token header that starts with byte c (0: invalid). */
static unsigned guard_hlen(unsigned char c)
{
	if (c <= 0xbf || c >= 0xe0)
		return 1;
	switch (c) {
	case 0xc4: case 0xd9: case 0xc7: return 2;
	case 0xc5: case 0xda: case 0xdc: case 0xde: case 0xc8: return 3;
	case 0xc6: case 0xdb: case 0xdd: case 0xdf: case 0xc9: return 5;
	case 0xc1: return 0;
	default: return 1;
	}
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* One element finished: close every container it completes. */
static void guard_elem(guard *g)
{
	while (g->depth > 0) {
		if (--g->rem[g->depth - 1] > 0)
			return;
		g->depth--;
	}
	g->total = 0;
	g->top_end = 1;
}

/* A complete token header h[0..hlen): set skip or open a container. */
static int guard_token(guard *g, const unsigned char *h)
{
	unsigned char c = h[0];
	uint64_t count = 0, skip = 0;
	int container = 0;

	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
		skip = 0;
	} else if (c <= 0x8f) {
		container = 1, count = 2 * (uint64_t)(c & 0x0f);
	} else if (c <= 0x9f) {
		container = 1, count = c & 0x0f;
	} else if (c <= 0xbf) {
		skip = c & 0x1f;
	} else {
		switch (c) {
		case 0xc4: case 0xd9: skip = h[1]; break;
		case 0xc5: case 0xda: skip = be(h + 1, 2); break;
		case 0xc6: case 0xdb: skip = be(h + 1, 4); break;
		case 0xc7: skip = h[1] + 1; break;     /* + type byte */
		case 0xc8: skip = be(h + 1, 2) + 1; break;
		case 0xc9: skip = be(h + 1, 4) + 1; break;
		case 0xca: skip = 4; break;
		case 0xcb: skip = 8; break;
		case 0xcc: case 0xd0: skip = 1; break;
		case 0xcd: case 0xd1: skip = 2; break;
		case 0xce: case 0xd2: skip = 4; break;
		case 0xcf: case 0xd3: skip = 8; break;
		case 0xd4: skip = 2; break;
		case 0xd5: skip = 3; break;
		case 0xd6: skip = 5; break;
		case 0xd7: skip = 9; break;
		case 0xd8: skip = 17; break;
		case 0xdc: container = 1, count = be(h + 1, 2); break;
		case 0xdd: container = 1, count = be(h + 1, 4); break;
		case 0xde: container = 1, count = 2 * be(h + 1, 2); break;
		case 0xdf: container = 1, count = 2 * be(h + 1, 4); break;
		}
	}
	if (!container) {
		g->skip = skip;
		if (!skip)
			guard_elem(g);
		return 0;
	}
	if (count == 0) {
		guard_elem(g);
		return 0;
	}
	if (g->depth == GUARD_DEPTH) {
		g->err = "MessagePack nested deeper than " STR(PLM_MP_DEPTH)
			 " levels (meta at most " STR(PLM_META_DEPTH) ")";
		return -1;
	}
	g->total += count;
	if (g->total > GUARD_MAX_ELEMS) {
		g->err = "MessagePack array or map too large";
		return -1;
	}
	g->rem[g->depth++] = count;
	return 0;
}

/* Check p[0..n); returns how many bytes may be parsed (n unless g->err).
 * *end: the offset just past the last top-level object that ended in
 * p[0..n), or 0 when none did. */
static size_t guard_scan(guard *g, const unsigned char *p, size_t n,
			 size_t *end)
{
	size_t i = 0;

	*end = 0;
	while (i < n) {
		if (g->skip) {
			uint64_t take = n - i < g->skip ? n - i : g->skip;
			g->skip -= take;
			i += (size_t)take;
			if (!g->skip)
				guard_elem(g);
		} else {
			size_t start = i;
			const unsigned char *h = g->hdr;
			if (g->hlen == 0) {
				g->hneed = guard_hlen(p[i]);
				if (!g->hneed) {
					g->err = "not MessagePack (byte 0xc1)";
					return i;
				}
				if (n - i >= g->hneed) {
					/* the usual case: read it in place */
					h = p + i;
					i += g->hneed;
					g->hlen = g->hneed;
				}
			}
			while (g->hlen < g->hneed && i < n)
				g->hdr[g->hlen++] = p[i++];
			if (g->hlen < g->hneed)
				break;
			g->hlen = 0;
			if (guard_token(g, h))
				return start;
		}
		if (g->top_end) {
			g->top_end = 0;
			*end = i;
		}
	}
	return n;
}

static int guard_mid(const guard *g)
{
	return g->depth > 0 || g->hlen > 0 || g->skip > 0;
}

int plm_mp_check(const void *p, size_t n, char *err, size_t errlen)
{
	guard g = { 0 };
	size_t end;
	if (guard_scan(&g, p, n, &end) < n || g.err) {
		snprintf(err, errlen, "%s", g.err);
		return -1;
	}
	if (guard_mid(&g)) {
		snprintf(err, errlen, "truncated MessagePack");
		return -1;
	}
	return 0;
}

/* ---- reader ------------------------------------------------------------- */

enum { ST_ROWS, ST_AFTER_END, ST_DONE, ST_ERR };

struct plm_reader {
	plm_in *in;
	int tsv;
	int state;
	plm_schema schema;
	plm_val *row;
	size_t rowcap;
	uint64_t recno;         /* rows so far in this file */
	uint64_t sec_rows;      /* rows so far in this section */
	uint64_t line;          /* TSV line number */
	char err[512];
	/* MessagePack: buf[pos..bound) of the plm_in window holds whole
	 * objects, buf[bound..gend) the guarded start of the next one. */
	msgpack_zone *zone;
	size_t bound, gend;
	int hdr_done;           /* the first header has been read */
	guard g;
	/* TSV */
	buf scratch;            /* parsed vectors */
	int tsv_line;           /* the error message names the line */
	uint64_t more_lines;    /* line ends inside the last quoted record */
	/* Plain TSV (no "#plm" line; bare names): cells may be quoted,
	 * bare columns have types inferred from a lookahead whose records
	 * are kept in la (text, la_off[i] .. la_off[i + 1]) and replayed. */
	int plain;
	unsigned char *inferred;    /* per field: type was inferred */
	struct cell { char *s; size_t n; int quoted; } *cells;
	size_t cellcap;
	buf la;
	size_t *la_off;
	uint64_t *la_line, la_end_line;
	uint64_t la_end_more;
	size_t la_n, la_i, la_rows;
};

static int rfail(plm_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define tsv_fail(r, ...) ((r)->tsv_line = 1, rfail((r), __VA_ARGS__))
/* "FILE: what", or "FILE:LINE: what" for TSV (tsv_fail). */
static int rfail(plm_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n = r->tsv_line ?
		snprintf(r->err, sizeof r->err, "%s:%llu: ", plm_in_name(r->in),
			 (unsigned long long)r->line) :
		snprintf(r->err, sizeof r->err, "%s: ", plm_in_name(r->in));

	if (n < 0 || (size_t)n >= sizeof r->err)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
	va_end(ap);
	r->state = ST_ERR;
	return PLM_ERR;
}

static int row_reserve(plm_reader *r)
{
	return PLM_GROW(r->row, r->rowcap, r->schema.n ? r->schema.n : 1);
}


/* A later section's header, read into s by a parser that returned rc (< 0
 * on error): s takes the place of the schema.  PLM_HEADER when the fields
 * differ, 0 when they are the same (nothing to report), or PLM_ERR. */
static int next_section(plm_reader *r, plm_schema *s, int rc)
{
	if (rc < 0) {
		plm_schema_free(s);
		return PLM_ERR;
	}
	r->sec_rows = 0;
	if (plm_schema_equal(s, &r->schema)) {
		plm_schema_free(s);
		return 0;
	}
	plm_schema_free(&r->schema);
	r->schema = *s;
	if (row_reserve(r))
		return r->tsv ? tsv_fail(r, "out of memory") :
				rfail(r, "out of memory");
	return PLM_HEADER;
}

/* Check a field name: non-empty, no control bytes that break TSV. */
static const char *bad_name(const char *s, size_t n)
{
	if (n == 0)
		return "empty field name";
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == 0)
			return "field name with a tab, newline or NUL";
	return NULL;
}

/* Add a field to s, rejecting bad names, types and duplicates; NULL or a
 * message (written to msg). */
static const char *schema_add_checked(plm_schema *s, const char *name,
				      size_t nlen, const char *type,
				      size_t tlen, char *msg, size_t msglen)
{
	enum plm_type t;
	uint32_t dim;
	const char *e = bad_name(name, nlen);

	if (e)
		return e;
	if (plm_type_parse(type, tlen, &t, &dim)) {
		snprintf(msg, msglen, "unknown type '%.*s' for field '%.*s'",
			 (int)(tlen > 64 ? 64 : tlen), type,
			 (int)(nlen > 64 ? 64 : nlen), name);
		return msg;
	}
	char *nm = malloc(nlen + 1);
	if (!nm)
		return "out of memory";
	memcpy(nm, name, nlen);
	nm[nlen] = 0;
	if (plm_schema_find(s, nm) >= 0) {
		snprintf(msg, msglen, "duplicate field name '%.*s'",
			 (int)(nlen > 64 ? 64 : nlen), name);
		free(nm);
		return msg;
	}
	int rc = plm_schema_add(s, nm, t, dim);
	free(nm);
	return rc < 0 ? "out of memory" : NULL;
}

/* --- MessagePack reading --- */

/* Next top-level object: 1 got one, 0 clean end (between objects), or
 * PLM_ERR. */
static int mp_next(plm_reader *r, msgpack_object *obj)
{
	plm_in *in = r->in;

	for (;;) {
		if (in->pos < r->bound) {
			size_t off = in->pos;
			msgpack_zone_clear(r->zone);
			int rc = msgpack_unpack((const char *)in->buf, r->bound,
						&off, r->zone, obj);
			if (rc == MSGPACK_UNPACK_SUCCESS ||
			    rc == MSGPACK_UNPACK_EXTRA_BYTES) {
				in->pos = off;
				return 1;
			}
			/* CONTINUE cannot happen on a whole object: treat a
			 * disagreement with the guard as bad data too. */
			return rfail(r, "record %llu: %s",
				     (unsigned long long)r->recno + 1,
				     rc == MSGPACK_UNPACK_NOMEM_ERROR ?
				     "out of memory" : "bad MessagePack data");
		}
		if (r->g.err && !r->hdr_done)
			return rfail(r, "header: %s", r->g.err);
		if (r->g.err)
			return rfail(r, "record %llu: %s",
				     (unsigned long long)r->recno + 1, r->g.err);
		if (r->gend >= in->len) {
			/* plm_in_fill moves buf[pos..len) to the front */
			size_t shift = in->pos;
			ssize_t k = plm_in_fill(in);
			if (k < 0) {
				snprintf(r->err, sizeof r->err, "%s",
					 plm_in_error(in));
				r->state = ST_ERR;
				return PLM_ERR;
			}
			r->bound -= shift;
			r->gend -= shift;
			if (k == 0) {
				if (guard_mid(&r->g) && !r->hdr_done)
					return rfail(r, "header: truncated input");
				if (guard_mid(&r->g))
					return rfail(r, "truncated input in record %llu",
						     (unsigned long long)r->recno + 1);
				return 0;
			}
		}
		size_t end;
		size_t ok = guard_scan(&r->g, in->buf + r->gend,
				       in->len - r->gend, &end);
		if (end)
			r->bound = r->gend + end;
		r->gend += ok;
	}
}

/* Header object → s (fresh).  0 or PLM_ERR; `where` names it. */
static int mp_header(plm_reader *r, const msgpack_object *o, plm_schema *s,
		     const char *where)
{
	char msg[200];
	const msgpack_object *v, *fields, *meta;

	if (o->type != MSGPACK_OBJECT_MAP)
		return rfail(r, "%s: expected a header map, got %s", where,
			     mp_type_name(o));
	v = map_get(o, "plm");
	if (!v)
		return rfail(r, "%s: not a plm stream header (no \"plm\" key)",
			     where);
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != 1)
		return rfail(r, "%s: unsupported format version (plm != 1)",
			     where);
	fields = map_get(o, "fields");
	if (!fields || fields->type != MSGPACK_OBJECT_ARRAY)
		return rfail(r, "%s: no \"fields\" list", where);
	for (uint32_t i = 0; i < fields->via.array.size; i++) {
		const msgpack_object *f = &fields->via.array.ptr[i];
		if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size != 2 ||
		    f->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    f->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
			return rfail(r, "%s: field %u is not [name, type]",
				     where, i + 1);
		const msgpack_object_str *nm = &f->via.array.ptr[0].via.str;
		const msgpack_object_str *ty = &f->via.array.ptr[1].via.str;
		const char *e = schema_add_checked(s, nm->ptr, nm->size,
						   ty->ptr, ty->size,
						   msg, sizeof msg);
		if (e)
			return rfail(r, "%s: %s", where, e);
	}
	meta = map_get(o, "meta");
	if (meta && meta->type != MSGPACK_OBJECT_MAP)
		return rfail(r, "%s: \"meta\" is not a map", where);
	if (meta) {
		msgpack_sbuffer sb;
		msgpack_packer pk;
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_object(&pk, *meta);
		if (!sb.data)
			return rfail(r, "out of memory");
		free(s->meta);
		s->meta = (unsigned char *)sb.data;
		s->meta_len = sb.size;
	}
	return 0;
}

/* Element o of a row → v, checked against field f. */
static const char *mp_value(const plm_field *f, const msgpack_object *o,
			    plm_val *v, char *msg, size_t msglen)
{
	size_t want;

	v->nil = 0;
	v->rows = 0;
	if (o->type == MSGPACK_OBJECT_NIL) {
		v->nil = 1;
		return NULL;
	}
	switch (f->type) {
	case PLM_T_STR:
		if (o->type != MSGPACK_OBJECT_STR)
			break;
		v->s = o->via.str.ptr;
		v->n = o->via.str.size;
		return NULL;
	case PLM_T_INT:
		if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			v->i = o->via.i64;
			return NULL;
		}
		if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			break;
		if (o->via.u64 > INT64_MAX)
			return "integer out of range";
		v->i = (int64_t)o->via.u64;
		return NULL;
	case PLM_T_FLOAT:
		if (o->type == MSGPACK_OBJECT_FLOAT32 ||
		    o->type == MSGPACK_OBJECT_FLOAT64)
			v->f = o->via.f64;
		else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			v->f = (double)o->via.u64;
		else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			v->f = (double)o->via.i64;
		else
			break;
		return NULL;
	case PLM_T_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN)
			break;
		v->i = o->via.boolean;
		return NULL;
	case PLM_T_F32:
	case PLM_T_F16:
	case PLM_T_BF16:
		if (o->type != MSGPACK_OBJECT_BIN)
			break;
		want = (size_t)f->dim * plm_type_elsize(f->type);
		if (o->via.bin.size != want) {
			snprintf(msg, msglen, "%u bytes, expected %zu",
				 o->via.bin.size, want);
			return msg;
		}
		v->s = o->via.bin.ptr;
		v->n = o->via.bin.size;
		v->rows = 1;
		return NULL;
	case PLM_T_F32M:
		if (o->type != MSGPACK_OBJECT_BIN)
			break;
		want = (size_t)f->dim * 4;
		if (o->via.bin.size == 0 || o->via.bin.size % want) {
			snprintf(msg, msglen,
				 "%u bytes, not a positive multiple of %zu",
				 o->via.bin.size, want);
			return msg;
		}
		v->s = o->via.bin.ptr;
		v->n = o->via.bin.size;
		v->rows = (uint32_t)(o->via.bin.size / want);
		return NULL;
	}
	snprintf(msg, msglen, "got %s", mp_type_name(o));
	return msg;
}

static int mp_row(plm_reader *r, const msgpack_object *o)
{
	char msg[96], tn[32];
	const msgpack_object_array *a = &o->via.array;
	unsigned long long rec = (unsigned long long)r->recno + 1;

	if (a->size != r->schema.n)
		return rfail(r, "record %llu: expected %zu fields, got %u",
			     rec, r->schema.n, a->size);
	for (uint32_t i = 0; i < a->size; i++) {
		const plm_field *f = &r->schema.f[i];
		const char *e = mp_value(f, &a->ptr[i], &r->row[i], msg,
					 sizeof msg);
		if (e)
			return rfail(r, "record %llu: field '%s' (%s): %s", rec,
				     f->name, plm_type_name(f->type, f->dim,
							    tn, sizeof tn), e);
	}
	r->recno++;
	r->sec_rows++;
	return PLM_ROW;
}

static int mp_trailer(plm_reader *r, const msgpack_object *o)
{
	const msgpack_object *end = map_get(o, "end");
	unsigned long long rec = (unsigned long long)r->recno;

	if (!end) {
		if (map_get(o, "plm"))
			return rfail(r, "record %llu: header without a trailer "
				     "before it", rec + 1);
		return rfail(r, "record %llu: expected a row, got a map",
			     rec + 1);
	}
	if (end->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    end->via.u64 != r->sec_rows)
		return rfail(r, "trailer after record %llu: \"end\" says %s, "
			     "the section has %llu rows", rec,
			     end->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
			     "a different count" : "no count",
			     (unsigned long long)r->sec_rows);
	r->state = ST_AFTER_END;
	return 0;
}

static int mp_read(plm_reader *r, const plm_val **row)
{
	msgpack_object o;
	char where[64];

	for (;;) {
		int rc = mp_next(r, &o);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (r->state == ST_AFTER_END) {
				r->state = ST_DONE;
				return PLM_EOF;
			}
			return rfail(r, "truncated input after record %llu "
				     "(no trailer)",
				     (unsigned long long)r->recno);
		}
		if (r->state == ST_ROWS) {
			if (o.type == MSGPACK_OBJECT_ARRAY) {
				rc = mp_row(r, &o);
				if (rc == PLM_ROW)
					*row = r->row;
				return rc;
			}
			if (o.type != MSGPACK_OBJECT_MAP)
				return rfail(r, "record %llu: expected a row "
					     "(array), got %s",
					     (unsigned long long)r->recno + 1,
					     mp_type_name(&o));
			if (mp_trailer(r, &o) < 0)
				return PLM_ERR;
			continue;
		}
		/* after a trailer: only a new header may follow */
		plm_schema s;
		plm_schema_init(&s);
		snprintf(where, sizeof where, "header after record %llu",
			 (unsigned long long)r->recno);
		rc = mp_header(r, &o, &s, where);
		if (rc >= 0)
			r->state = ST_ROWS;
		if ((rc = next_section(r, &s, rc)))
			return rc;
	}
}

/* --- TSV reading --- */

/* Next line (without \n, and without a final \r): 1, 0 at the end, or
 * PLM_ERR.  The line stays in the plm_in window until the next fill. */
/* Plain TSV: the length of the record at p[0..n) (up to its '\n', which
 * may not be inside a quoted cell), or SIZE_MAX when the bytes end first
 * (at the end of the input, eof: n, or SIZE_MAX - 1 inside a quote).
 * *nls counts the line ends inside quotes. */
static size_t plain_rec_len(const unsigned char *p, size_t n, int eof,
			    uint64_t *nls)
{
	int start = 1, inq = 0;

	*nls = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (inq) {
			if (c == '\n') {
				++*nls;
			} else if (c == '"') {
				if (i + 1 == n && !eof)
					return SIZE_MAX;
				if (i + 1 < n && p[i + 1] == '"')
					i++;
				else
					inq = 0;
			}
			continue;
		}
		if (c == '\n')
			return i;
		inq = start && c == '"';
		start = c == '\t';
	}
	return !eof ? SIZE_MAX : inq ? SIZE_MAX - 1 : n;
}

/* Next line (without \n, and without a final \r): 1, 0 at the end, or
 * PLM_ERR.  The line stays in the plm_in window until the next fill.  In
 * plain TSV a line end inside a quoted cell does not end the record. */
static int tsv_line(plm_reader *r, char **line, size_t *len)
{
	plm_in *in = r->in;
	size_t scanned = 0, n;
	unsigned char *p;
	uint64_t nls = 0;

	r->line += r->more_lines;
	r->more_lines = 0;
	for (;;) {
		size_t avail = in->len - in->pos;
		p = in->buf + in->pos;
		unsigned char *nl = memchr(p + scanned, '\n', avail - scanned);
		if (nl && r->plain && memchr(p, '"', (size_t)(nl - p))) {
			n = plain_rec_len(p, avail, 0, &nls);
			nl = n == SIZE_MAX ? NULL : p + n;
		}
		if (nl) {
			n = (size_t)(nl - p);
			in->pos += n + 1;
			break;
		}
		scanned = r->plain ? 0 : avail;
		ssize_t k = plm_in_fill(in);
		if (k < 0) {
			snprintf(r->err, sizeof r->err, "%s", plm_in_error(in));
			r->state = ST_ERR;
			return PLM_ERR;
		}
		if (k == 0) {
			/* the end: a last line without a newline still counts */
			n = in->len - in->pos;
			if (n == 0)
				return 0;
			p = in->buf + in->pos;
			if (r->plain &&
			    plain_rec_len(p, n, 1, &nls) == SIZE_MAX - 1) {
				r->line++;
				return tsv_fail(r, "a quoted cell (\"...) "
						"without its closing quote");
			}
			in->pos += n;
			break;
		}
	}
	if (n && p[n - 1] == '\r')
		n--;
	*line = (char *)p;
	*len = n;
	r->line++;
	r->more_lines = nls;
	return 1;
}

static int starts(const char *line, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && memcmp(line, p, n) == 0;
}

static int parse_i64(const char *s, size_t n, int64_t *out);
static int tsv_value(plm_reader *r, const plm_field *f, char *s, size_t n,
		     plm_val *v);

/* --- plain TSV reading --- */

#define LA_ROWS 1000            /* lookahead bound: records ... */
#define LA_BYTES (1u << 20)     /* ... or bytes, whichever first */

enum { C_NIL, C_INT, C_FLOAT, C_BOOL, C_STR, C_N };

/* Splits a plain record into r->cells, unquoting quoted cells in place.
 * The count, or -1 out of memory, -2 a quote without its end, -3 text
 * after a closing quote (*bad: the field, from 1). */
static long plain_split(plm_reader *r, char *s, size_t n, size_t *bad)
{
	size_t k = 0, i = 0;
	static char empty[1];

	if (!s)                 /* an empty line held in an empty buffer */
		s = empty;
	for (;;) {
		if (PLM_GROW(r->cells, r->cellcap, k + 1))
			return -1;
		struct cell *c = &r->cells[k++];
		*bad = k;
		c->s = s + i;
		c->quoted = i < n && s[i] == '"';
		if (!c->quoted) {
			char *tab = memchr(s + i, '\t', n - i);
			size_t j = tab ? (size_t)(tab - s) : n;
			c->n = j - i;
			if (j >= n)
				return (long)k;
			i = j + 1;
			continue;
		}
		size_t o = i, j = i + 1;
		for (;;) {
			if (j >= n)
				return -2;
			if (s[j] == '"') {
				if (j + 1 < n && s[j + 1] == '"') {
					s[o++] = '"';
					j += 2;
					continue;
				}
				j++;
				break;
			}
			s[o++] = s[j++];
		}
		c->n = o - i;
		if (j < n && s[j] != '\t')
			return -3;
		if (j >= n)
			return (long)k;
		i = j + 1;
	}
}

static int split_fail(plm_reader *r, long rc, size_t bad)
{
	if (rc == -1)
		return tsv_fail(r, "out of memory");
	return tsv_fail(r, "field %zu: %s", bad, rc == -2 ?
			"a quoted cell (\"...) without its closing quote" :
			"text after the closing quote of a quoted cell");
}

/* Decimal integer as pandas and R write it: no '+', no leading zeros
 * (an id like 007 stays text). */
static int int_text(const char *s, size_t n)
{
	size_t i = n && s[0] == '-';
	if (i == n || (s[i] == '0' && n - i > 1))
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int ieq(const char *s, size_t n, const char *w)
{
	size_t m = strlen(w);
	if (n != m)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((s[i] | 0x20) != w[i])
			return 0;
	return 1;
}

/* A float as pandas, R and plmkit write it: [-]digits[.digits][e[+-]digits]
 * with a '.' or an exponent (no leading zeros, no '+', no hex), or nan,
 * inf, infinity in any case, with an optional '-'. */
static int float_text(const char *s, size_t n)
{
	size_t i = n && s[0] == '-', d0, nd = 0;
	int dot = 0, ex = 0;

	if (ieq(s + i, n - i, "nan") || ieq(s + i, n - i, "inf") ||
	    ieq(s + i, n - i, "infinity"))
		return 1;
	d0 = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	nd = i - d0;
	if (nd > 1 && s[d0] == '0')
		return 0;
	if (i < n && s[i] == '.') {
		dot = 1;
		size_t f0 = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		nd += i - f0;
	}
	if (!nd)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		ex = 1;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t e0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == e0)
			return 0;
	}
	return i == n && (dot || ex);
}

/* 2 true, 1 false (as pandas, R and plmkit write them), 0 neither. */
static int bool_text(const char *s, size_t n)
{
	static const char *const w[] = { "false", "False", "FALSE", "true",
					 "True", "TRUE" };
	for (int i = 0; i < 6; i++)
		if (n == strlen(w[i]) && !memcmp(s, w[i], n))
			return 1 + i / 3;
	return 0;
}

static int classify(const struct cell *c)
{
	int64_t i;

	if (c->quoted)
		return C_STR;           /* R quotes its strings */
	if (c->n == 0 || (c->n == 2 && !memcmp(c->s, "NA", 2)))
		return C_NIL;
	if (bool_text(c->s, c->n))
		return C_BOOL;
	if (int_text(c->s, c->n))
		return parse_i64(c->s, c->n, &i) ? C_STR : C_INT;
	return float_text(c->s, c->n) ? C_FLOAT : C_STR;
}

/* Reads up to LA_ROWS records or LA_BYTES into r->la and types the bare
 * columns of r->schema from them. */
static int plain_infer(plm_reader *r)
{
	size_t nf = r->schema.n;
	unsigned (*cnt)[C_N] = calloc(nf ? nf : 1, sizeof *cnt);
	buf tmp = { 0 };
	int rc = 0;

	r->la_off = malloc((LA_ROWS + 1) * sizeof *r->la_off);
	r->la_line = malloc(LA_ROWS * sizeof *r->la_line);
	if (!cnt || !r->la_off || !r->la_line) {
		free(cnt);
		return tsv_fail(r, "out of memory");
	}
	r->la_off[0] = 0;
	while (r->la_n < LA_ROWS && r->la.len < LA_BYTES) {
		uint64_t line0 = r->line, more0 = r->more_lines;
		char *line;
		size_t len, bad;
		if ((rc = tsv_line(r, &line, &len)) <= 0)
			break;
		if (starts(line, len, "#plm\t")) {
			/* the line is still in the window, but a fill may have
			 * moved it: its start, not the position before */
			r->in->pos = (size_t)((unsigned char *)line - r->in->buf);
			r->line = line0;
			r->more_lines = more0;
			rc = 0;
			break;
		}
		tmp.len = 0;
		if (buf_put(&r->la, line, len) || buf_put(&tmp, line, len)) {
			rc = tsv_fail(r, "out of memory");
			break;
		}
		r->la_line[r->la_n] = r->line;
		r->la_off[++r->la_n] = r->la.len;
		long k = plain_split(r, tmp.p, len, &bad);
		if (k == -1) {
			rc = tsv_fail(r, "out of memory");
			break;
		}
		if (k != (long)nf)
			continue;       /* the error comes when it is read */
		for (size_t f = 0; f < nf; f++)
			cnt[f][classify(&r->cells[f])]++;
	}
	free(tmp.p);
	r->la_end_line = r->line;
	r->la_end_more = r->more_lines;
	r->la_rows = r->la_n;
	r->more_lines = 0;
	for (size_t f = 0; rc >= 0 && f < nf; f++) {
		const unsigned *c = cnt[f];
		enum plm_type t = PLM_T_STR;
		if (!r->inferred[f] || c[C_STR])
			continue;
		if (c[C_BOOL])
			t = c[C_INT] || c[C_FLOAT] ? PLM_T_STR : PLM_T_BOOL;
		else if (c[C_FLOAT])
			t = PLM_T_FLOAT;
		else if (c[C_INT])
			t = PLM_T_INT;
		r->schema.f[f].type = t;
	}
	free(cnt);
	return rc < 0 ? PLM_ERR : 0;
}

/* The header of plain TSV at line/len: quoted names are unquoted; a
 * name:type column has that type, the type of a bare name is inferred. */
static int plain_header(plm_reader *r, char *line, size_t len, plm_schema *s)
{
	char msg[200];
	size_t bad;
	int any = 0;

	r->plain = 1;
	long k = plain_split(r, line, len, &bad);
	if (k < 0)
		return split_fail(r, k, bad);
	free(r->inferred);
	if (!(r->inferred = calloc((size_t)k, 1)))
		return tsv_fail(r, "out of memory");
	for (long f = 0; f < k; f++) {
		const struct cell *c = &r->cells[f];
		const char *colon = NULL, *e;
		enum plm_type t;
		uint32_t dim;
		/* a quoted name is taken as it is, ':' and all */
		for (const char *q = c->s; q < c->s + c->n && !c->quoted; q++)
			if (*q == ':')
				colon = q;
		if (colon && !plm_type_parse(colon + 1,
					     (size_t)(c->s + c->n - colon - 1),
					     &t, &dim)) {
			e = schema_add_checked(s, c->s, (size_t)(colon - c->s),
					       colon + 1,
					       (size_t)(c->s + c->n - colon - 1),
					       msg, sizeof msg);
		} else {
			e = schema_add_checked(s, c->s, c->n, "str", 3, msg,
					       sizeof msg);
			r->inferred[f] = 1;
			any = 1;
		}
		if (e)
			return tsv_fail(r, "header: %s", e);
	}
	return any ? plain_infer(r) : 0;
}

/* One cell of plain TSV.  Unquoted "" is nil; "NA" is nil too except in
 * a str column. */
static int plain_value(plm_reader *r, size_t fi, struct cell *c, plm_val *v)
{
	const plm_field *f = &r->schema.f[fi];
	char tn[32];
	int b;

	v->nil = 0;
	v->rows = 0;
	if (f->type == PLM_T_STR) {
		v->nil = !c->quoted && c->n == 0;
		v->s = c->s;
		v->n = c->n;
		return 0;
	}
	if (c->n == 0 || (!c->quoted && c->n == 2 && !memcmp(c->s, "NA", 2))) {
		v->nil = 1;
		return 0;
	}
	if (r->inferred[fi]) {
		int k = classify(c);
		if (f->type == PLM_T_INT ? k != C_INT :
		    f->type == PLM_T_FLOAT ? k != C_INT && k != C_FLOAT :
		    k != C_BOOL) {
			int m = memchr(c->s, 0, c->n) ? 0 :
				c->n > 40 ? 40 : (int)c->n;
			return tsv_fail(r, "record %llu: field '%s' (%s, "
					"inferred from the first %zu records): "
					"bad value '%.*s': give the type in the "
					"header ('%s:%s' for '%s')",
					(unsigned long long)r->recno + 1,
					f->name, plm_type_name(f->type, 0, tn,
							       sizeof tn),
					r->la_rows, m, c->s, f->name,
					f->type == PLM_T_INT && k == C_FLOAT ?
					"float" : "str", f->name);
		}
	}
	if (f->type == PLM_T_BOOL && (b = bool_text(c->s, c->n))) {
		v->i = b - 1;
		return 0;
	}
	if (plm_type_elsize(f->type)) {
		/* "[1,2]" and "[[1,2],[3,4]]": only the numbers count */
		size_t o = 0;
		for (size_t i = 0; i < c->n; i++)
			if (c->s[i] != '[' && c->s[i] != ']' && c->s[i] != ' ')
				c->s[o++] = c->s[i];
		c->n = o;
	}
	return tsv_value(r, f, c->s, c->n, v);
}

/* Reads a TSV section header: the "#plm" line (if any) has been read and
 * is at line/len.  Fills s.  0 or PLM_ERR. */
static int tsv_header(plm_reader *r, char *line, size_t len, plm_schema *s)
{
	char msg[200];
	int rc, typed = 0;

	for (;;) {
		/* tsv_line drops the \r of CRLF: one left is a CR-only line
		 * end, which would read as a bad version or field name */
		if (memchr(line, '\r', len))
			return tsv_fail(r, "CR line endings (a carriage return "
					"without a line feed): convert them to LF");
		if (starts(line, len, "#plm\t")) {
			if (len != 6 || line[5] != '1')
				return tsv_fail(r, "unsupported format version "
						"(#plm line)");
			typed = 1;
		} else if (starts(line, len, "#meta\t")) {
			char e[160];
			if (meta_from_json(s, line + 6, len - 6, e, sizeof e))
				return tsv_fail(r, "#meta: %s", e);
			typed = 1;
		} else if (!(len && line[0] == '#')) {
			break;          /* other '#' lines are comments */
		}
		rc = tsv_line(r, &line, &len);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return tsv_fail(r, "no header line");
	}
	/* Without "#plm", a header with a column that has no ':', or with a
	 * quoted column, is plain TSV (written by pandas, R, spreadsheets or
	 * plain -T, which quotes a name holding ':') */
	if (!typed) {
		size_t cols = 1, colons = 0, i;
		int in_col = 0, quoted = len > 0 && line[0] == '"';
		for (i = 0; i < len; i++) {
			if (line[i] == '\t') {
				cols++;
				in_col = 0;
				quoted |= i + 1 < len && line[i + 1] == '"';
			} else if (line[i] == ':' && !in_col) {
				colons++;
				in_col = 1;
			}
		}
		if (colons < cols || quoted)
			return plain_header(r, line, len, s);
	}
	r->plain = 0;
	/* name:type columns; a name without ":type" is str */
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < len && line[j] != '\t')
			j++;
		const char *col = line + i, *colon = NULL;
		for (const char *q = col; q < line + j; q++)
			if (*q == ':')
				colon = q;
		const char *e;
		if (colon)
			e = schema_add_checked(s, col, (size_t)(colon - col),
					       colon + 1,
					       (size_t)(line + j - colon - 1),
					       msg, sizeof msg);
		else
			e = schema_add_checked(s, col, j - i, "str", 3, msg,
					       sizeof msg);
		if (e)
			return tsv_fail(r, "header: %s", e);
		if (j >= len)
			break;
		i = j + 1;
	}
	return 0;
}

/* Strict int64 from s[0..n). */
static int parse_i64(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0, lim;

	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9 || v > (lim - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* Number text s[0..n) → double (f64) or float (f32); strict. */
static int parse_num(const char *s, size_t n, double *d, float *f)
{
	char tmp[64], *t = tmp, *end;
	int rc;

	if (n == 0 || (unsigned char)s[0] <= ' ')
		return -1;              /* strto* would skip white space */
	if (n >= sizeof tmp && !(t = malloc(n + 1)))
		return -1;
	memcpy(t, s, n);
	t[n] = 0;
	if (d)
		*d = strtod(t, &end);
	else
		*f = strtof(t, &end);
	/* ERANGE on underflow still gives the correctly rounded value */
	rc = end == t + n ? 0 : -1;
	if (t != tmp)
		free(t);
	return rc;
}

/* Comma-separated numbers → scratch bytes in the field's element type.
 * Returns the count, or -1 (bad number at *bad). */
static long long tsv_vector(plm_reader *r, const plm_field *f, const char *s,
			    size_t n, size_t *bad)
{
	size_t es = plm_type_elsize(f->type), i = 0, k = 0;

	for (;;) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		float x;
		if (parse_num(s + i, j - i, NULL, &x)) {
			*bad = k;
			return -1;
		}
		if (buf_reserve(&r->scratch, 4))
			return -2;
		unsigned char *o = (unsigned char *)r->scratch.p +
				   r->scratch.len;
		if (es == 4) {
			st32(o, plm_f32_bits(x));
		} else {
			uint16_t h = f->type == PLM_T_F16 ? plm_f32_to_f16(x) :
				     plm_f32_to_bf16(x);
			o[0] = (unsigned char)h;
			o[1] = (unsigned char)(h >> 8);
		}
		r->scratch.len += es;
		k++;
		if (j >= n)
			return (long long)k;
		i = j + 1;
	}
}

/* Unescape str in place; returns the new length. */
static size_t tsv_unescape(char *s, size_t n)
{
	size_t i, o = 0;
	char *bs = memchr(s, '\\', n);

	if (!bs)
		return n;
	o = i = (size_t)(bs - s);
	while (i < n) {
		char c = s[i++];
		if (c == '\\' && i < n) {
			switch (s[i]) {
			case 't': c = '\t'; i++; break;
			case 'n': c = '\n'; i++; break;
			case 'r': c = '\r'; i++; break;
			case '\\': c = '\\'; i++; break;
			case '#': c = '#'; i++; break;
			default: break;         /* kept as written */
			}
		}
		s[o++] = c;
	}
	return o;
}

static int tsv_value(plm_reader *r, const plm_field *f, char *s, size_t n,
		     plm_val *v)
{
	char tn[32];
	size_t bad = 0;
	long long cnt;

	v->nil = 0;
	v->rows = 0;
	if (f->type == PLM_T_STR) {
		if (n == 2 && s[0] == '\\' && s[1] == 'N') {
			v->nil = 1;
			return 0;
		}
		v->s = s;
		v->n = tsv_unescape(s, n);
		return 0;
	}
	if (n == 0) {
		v->nil = 1;
		return 0;
	}
	switch (f->type) {
	case PLM_T_INT:
		if (parse_i64(s, n, &v->i))
			goto bad;
		return 0;
	case PLM_T_FLOAT:
		if (parse_num(s, n, &v->f, NULL))
			goto bad;
		return 0;
	case PLM_T_BOOL:
		if ((n == 4 && !memcmp(s, "true", 4)) || (n == 1 && s[0] == '1'))
			v->i = 1;
		else if ((n == 5 && !memcmp(s, "false", 5)) ||
			 (n == 1 && s[0] == '0'))
			v->i = 0;
		else
			goto bad;
		return 0;
	default:
		break;
	}
	/* vectors: bytes go to scratch at offset v->i, fixed up later */
	v->i = (int64_t)r->scratch.len;
	cnt = tsv_vector(r, f, s, n, &bad);
	if (cnt == -2)
		return tsv_fail(r, "out of memory");
	if (cnt < 0)
		return tsv_fail(r, "field '%s' (%s): bad number %zu", f->name,
				plm_type_name(f->type, f->dim, tn, sizeof tn),
				bad + 1);
	if (f->type == PLM_T_F32M) {
		if (cnt % f->dim)
			return tsv_fail(r, "field '%s' (%s): %lld values, not "
					"a multiple of %u", f->name,
					plm_type_name(f->type, f->dim, tn,
						      sizeof tn), cnt, f->dim);
		v->rows = (uint32_t)(cnt / f->dim);
	} else {
		if (cnt != f->dim)
			return tsv_fail(r, "field '%s' (%s): expected %u values, "
					"got %lld", f->name,
					plm_type_name(f->type, f->dim, tn,
						      sizeof tn), f->dim, cnt);
		v->rows = 1;
	}
	v->n = (size_t)r->scratch.len - (size_t)v->i;
	return 0;
bad:
	if (memchr(s, 0, n))
		/* printed with %.*s it would end at the NUL */
		return tsv_fail(r, "field '%s' (%s): the value contains a "
				"NUL byte (at byte %zu)", f->name,
				plm_type_name(f->type, f->dim, tn, sizeof tn),
				(size_t)((const char *)memchr(s, 0, n) - s) + 1);
	return tsv_fail(r, "field '%s' (%s): bad value '%.*s'", f->name,
			plm_type_name(f->type, f->dim, tn, sizeof tn),
			(int)(n > 40 ? 40 : n), s);
}

static int row_done(plm_reader *r)
{
	for (size_t f = 0; f < r->schema.n; f++) {
		plm_val *v = &r->row[f];
		if (!v->nil && plm_type_elsize(r->schema.f[f].type))
			v->s = r->scratch.p + v->i;
	}
	r->recno++;
	r->sec_rows++;
	return PLM_ROW;
}

static int plain_row(plm_reader *r, char *line, size_t len)
{
	size_t nf = r->schema.n, bad;
	long k = plain_split(r, line, len, &bad);

	if (k < 0)
		return split_fail(r, k, bad);
	if ((size_t)k != nf)
		return tsv_fail(r, "expected %zu fields, got %ld", nf, k);
	for (size_t f = 0; f < nf; f++)
		if (plain_value(r, f, &r->cells[f], &r->row[f]) < 0)
			return PLM_ERR;
	return row_done(r);
}

static int tsv_row(plm_reader *r, char *line, size_t len)
{
	size_t nf = r->schema.n, k = 1, i = 0;
	const char *q = line, *end = line + len;

	if (r->plain)
		return plain_row(r, line, len);

	/* width first: it is the more basic error */
	while ((q = memchr(q, '\t', (size_t)(end - q))) != NULL) {
		q++;
		k++;
	}
	if (k != nf)
		return tsv_fail(r, "expected %zu fields, got %zu", nf, k);
	for (size_t f = 0; f < nf; f++) {
		char *tab = memchr(line + i, '\t', len - i);
		size_t j = tab ? (size_t)(tab - line) : len;
		if (tsv_value(r, &r->schema.f[f], line + i, j - i,
			      &r->row[f]) < 0)
			return PLM_ERR;
		i = j + 1;
	}
	return row_done(r);
}

static int tsv_read(plm_reader *r, const plm_val **row)
{
	char *line;
	size_t len;

	for (;;) {
		int rc;
		if (r->la_i < r->la_n) {
			/* the records plain_infer read ahead */
			line = r->la.p + r->la_off[r->la_i];
			len = r->la_off[r->la_i + 1] - r->la_off[r->la_i];
			r->line = r->la_line[r->la_i++];
			r->scratch.len = 0;
			rc = tsv_row(r, line, len);
			if (rc == PLM_ROW)
				*row = r->row;
			return rc;
		}
		if (r->la_n) {
			r->line = r->la_end_line;
			r->more_lines = r->la_end_more;
			r->la_n = r->la_i = 0;
			r->la.len = 0;
		}
		rc = tsv_line(r, &line, &len);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			r->state = ST_DONE;
			return PLM_EOF;
		}
		r->scratch.len = 0;
		if (!starts(line, len, "#plm\t")) {
			rc = tsv_row(r, line, len);
			if (rc == PLM_ROW)
				*row = r->row;
			return rc;
		}
		plm_schema s;
		plm_schema_init(&s);
		if ((rc = next_section(r, &s, tsv_header(r, line, len, &s))))
			return rc;
	}
}

/* --- public reader API --- */

static int read_first_header(plm_reader *r)
{
	if (r->tsv) {
		char *line;
		size_t len;
		int rc = tsv_line(r, &line, &len);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return rfail(r, "empty input");
		return tsv_header(r, line, len, &r->schema);
	}
	msgpack_object o;
	int rc = mp_next(r, &o);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return rfail(r, "header: truncated input");
	return mp_header(r, &o, &r->schema, "header");
}

plm_reader *plm_reader_from(plm_in *in, char *err, size_t errlen)
{
	plm_reader *r;

	if (!in) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", plm_in_name(in));
		plm_in_close(in);
		return NULL;
	}
	r->in = in;
	plm_schema_init(&r->schema);
	ssize_t k = plm_in_peek(in, 1);
	if (k < 0) {
		snprintf(r->err, sizeof r->err, "%s", plm_in_error(in));
		goto fail;
	}
	if (k == 0) {
		rfail(r, "empty input");
		goto fail;
	}
	unsigned char c = in->buf[in->pos];
	r->tsv = !((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf);
	/* A MessagePack array first: a row without its header (fixarray,
	 * or array16/32, whose next byte, unlike a UTF-8 lead byte's, is
	 * not a continuation byte).  Read as TSV it would be nonsense. */
	k = (c == 0xdc || c == 0xdd) ? plm_in_peek(in, 2) : k;
	if (k < 0) {
		snprintf(r->err, sizeof r->err, "%s", plm_in_error(in));
		goto fail;
	}
	if ((c >= 0x90 && c <= 0x9f) ||
	    ((c == 0xdc || c == 0xdd) && k >= 2 &&
	     (in->buf[in->pos + 1] & 0xc0) != 0x80)) {
		rfail(r, "record 1: a MessagePack row (array) before any "
		      "header: a stream starts with its header map");
		goto fail;
	}
	if (!r->tsv) {
		r->bound = r->gend = in->pos;
		r->zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
		if (!r->zone) {
			rfail(r, "out of memory");
			goto fail;
		}
	}
	if (read_first_header(r) < 0)
		goto fail;
	r->hdr_done = 1;
	if (row_reserve(r)) {
		rfail(r, "out of memory");
		goto fail;
	}
	return r;
fail:
	snprintf(err, errlen, "%s", r->err);
	plm_reader_close(r);
	return NULL;
}

plm_reader *plm_reader_open(const char *path, char *err, size_t errlen)
{
	plm_in *in = plm_in_open(path, err, errlen);
	return in ? plm_reader_from(in, err, errlen) : NULL;
}

int plm_reader_next(plm_reader *r, const plm_val **row)
{
	if (r->state == ST_ERR)
		return PLM_ERR;
	if (r->state == ST_DONE)
		return PLM_EOF;
	return r->tsv ? tsv_read(r, row) : mp_read(r, row);
}

const plm_schema *plm_reader_schema(const plm_reader *r)
{
	return &r->schema;
}

const char *plm_reader_error(const plm_reader *r)
{
	return r->err;
}

uint64_t plm_reader_recno(const plm_reader *r)
{
	return r->recno;
}

int plm_reader_is_tsv(const plm_reader *r)
{
	return r->tsv;
}

plm_in *plm_reader_in(plm_reader *r)
{
	return r->in;
}

void plm_reader_close(plm_reader *r)
{
	if (!r)
		return;
	if (r->zone)
		msgpack_zone_free(r->zone);
	if (r->in)
		plm_in_close(r->in);
	plm_schema_free(&r->schema);
	free(r->row);
	free(r->scratch.p);
	free(r->inferred);
	free(r->cells);
	free(r->la.p);
	free(r->la_off);
	free(r->la_line);
	free(r);
}

/* ---- writer ------------------------------------------------------------- */

struct plm_writer {
	plm_out *out;
	int tsv, failed;
	int fmt;                /* enum plm_fmt, resolved */
	plm_view *view;         /* PLM_FMT_VIEW */
	int typed;              /* TSV: the typed form (#plm, name:type) */
	plm_schema s;
	uint64_t rows, sec_rows;
	msgpack_packer pk;
	buf line;               /* TSV row text, meta JSON */
	plm_pqw *pq;            /* Parquet output, else NULL */
	char err[512];
};

static int wfail(plm_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int wfail(plm_writer *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	w->failed = 1;
	return -1;
}

static int mp_write_cb(void *data, const char *p, size_t n)
{
	plm_writer *w = data;
	if (n == 0)
		return 0;       /* an empty str or bin body: p may be NULL */
	if (plm_out_write(w->out, p, n)) {
		wfail(w, "%s", plm_out_error(w->out));
		return -1;
	}
	return 0;
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* Plain TSV (PLM_FMT_TSV): a str is written as it is unless it holds a
 * tab, a line end or '"', or is empty, or (first column) starts with '#':
 * then it is quoted the way CSV readers expect ("...", '"' doubled). */
static int plain_put_str(buf *b, const char *s, size_t n, int first)
{
	/* first: bit 0 the first column, bit 1 a field name, quoted when it
	 * holds ':' so that it is not read back as name:type */
	int q = n == 0 || ((first & 1) && s[0] == '#') ||
		((first & 2) && memchr(s, ':', n));
	for (size_t i = 0; i < n && !q; i++)
		q = s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '"';
	if (!q)
		return buf_put(b, s, n);
	if (buf_reserve(b, 2 * n + 2))
		return -1;
	char *o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*o++ = '"';
		*o++ = s[i];
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	return 0;
}

static int write_header(plm_writer *w)
{
	const plm_schema *s = &w->s;
	char tn[32];

	if (!w->tsv) {
		msgpack_packer *pk = &w->pk;
		msgpack_pack_map(pk, 3);
		pack_cstr(pk, "plm");
		msgpack_pack_uint8(pk, 1);
		pack_cstr(pk, "fields");
		msgpack_pack_array(pk, s->n);
		for (size_t i = 0; i < s->n; i++) {
			msgpack_pack_array(pk, 2);
			pack_cstr(pk, s->f[i].name);
			pack_cstr(pk, plm_type_name(s->f[i].type, s->f[i].dim,
						    tn, sizeof tn));
		}
		pack_cstr(pk, "meta");
		if (s->meta && s->meta_len)
			mp_write_cb(w, (const char *)s->meta, s->meta_len);
		else
			msgpack_pack_map(pk, 0);
		return w->failed ? -1 : 0;
	}
	buf *b = &w->line;
	b->len = 0;
	if (!w->typed) {
		int rc = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (i)
				rc |= buf_put(b, "\t", 1);
			rc |= plain_put_str(b, s->f[i].name,
					    strlen(s->f[i].name), i == 0 ? 3 : 2);
		}
		if (rc || buf_put(b, "\n", 1))
			return wfail(w, "out of memory");
		return mp_write_cb(w, b->p, b->len);
	}
	if (buf_puts(b, "#plm\t1\n#meta\t"))
		return wfail(w, "out of memory");
	buf j = { 0 };
	if (meta_to_json(s, &j) || buf_put(b, j.p, j.len)) {
		free(j.p);
		return wfail(w, "out of memory");
	}
	free(j.p);
	buf_puts(b, "\n");
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			buf_puts(b, "\t");
		buf_puts(b, s->f[i].name);
		buf_puts(b, ":");
		if (buf_puts(b, plm_type_name(s->f[i].type, s->f[i].dim, tn,
					      sizeof tn)))
			return wfail(w, "out of memory");
	}
	if (buf_puts(b, "\n"))
		return wfail(w, "out of memory");
	return mp_write_cb(w, b->p, b->len);
}

static int check_schema(plm_writer *w, const plm_schema *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const char *e = bad_name(s->f[i].name, strlen(s->f[i].name));
		if (e)
			return wfail(w, "schema: %s", e);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->f[i].name, s->f[j].name))
				return wfail(w, "schema: duplicate field name "
					     "'%s'", s->f[i].name);
		uint32_t d = s->f[i].dim;
		if (plm_type_elsize(s->f[i].type) && (d < 1 || d > (1u << 24)))
			return wfail(w, "schema: field '%s': bad dimension %u",
				     s->f[i].name, d);
	}
	return 0;
}

/* PLM_FMT_AUTO for this destination (stream.h).  -1 + err when
 * $PLM_FORMAT is not a format. */
static int auto_fmt(const plm_out *out, char *err, size_t errlen)
{
	static const char *const names[] = { "msgpack", "tsv", "typed" };
	const char *e = getenv("PLM_FORMAT");
	if (e && *e) {
		for (int i = 0; i < 3; i++)
			if (!strcmp(e, names[i]))
				return i;
		snprintf(err, errlen, "PLM_FORMAT: '%.40s' is not tsv, typed "
			 "or msgpack", e);
		return -1;
	}
	return plm_out_isatty(out) ? PLM_FMT_VIEW : PLM_FMT_MSGPACK;
}

static int is_parquet_name(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	return n > 8 && !strcmp(path + n - 8, ".parquet");
}

static plm_writer *parquet_open(plm_writer *w, char *err, size_t errlen)
{
	buf j = { 0 };

	if (plm_out_isatty(w->out))
		snprintf(err, errlen, "Parquet is not written to a terminal");
	else if (meta_to_json(&w->s, &j))
		snprintf(err, errlen, "out of memory");
	else
		w->pq = plm_pqw_open(w->out, &w->s, j.p, err, errlen);
	free(j.p);
	if (!w->pq) {
		plm_writer_abort(w);
		return NULL;
	}
	return w;
}

plm_writer *plm_writer_open(const char *path, int fmt, const plm_schema *s,
			    char *err, size_t errlen)
{
	plm_writer *w = calloc(1, sizeof *w);

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (check_schema(w, s) || plm_schema_copy(&w->s, s)) {
		snprintf(err, errlen, "%s", w->failed ? w->err : "out of memory");
		free(w);
		return NULL;
	}
	w->out = plm_out_open(path, err, errlen);
	if (!w->out) {
		plm_schema_free(&w->s);
		free(w);
		return NULL;
	}
	if (fmt == PLM_FMT_PARQUET || is_parquet_name(path))
		return parquet_open(w, err, errlen);
	w->fmt = fmt == PLM_FMT_AUTO ? auto_fmt(w->out, err, errlen) : fmt;
	if (w->fmt < 0) {
		plm_writer_abort(w);
		return NULL;
	}
	w->tsv = w->fmt == PLM_FMT_TSV || w->fmt == PLM_FMT_TSV_TYPED;
	w->typed = w->fmt == PLM_FMT_TSV_TYPED;
	msgpack_packer_init(&w->pk, w, mp_write_cb);
	if (w->fmt == PLM_FMT_VIEW) {
		if (!(w->view = plm_view_open(w->out, 1, s))) {
			snprintf(err, errlen, "out of memory");
			plm_writer_abort(w);
			return NULL;
		}
	} else if (write_header(w)) {
		snprintf(err, errlen, "%s", w->err);
		plm_writer_abort(w);
		return NULL;
	}
	return w;
}

/* Check v against f; NULL or a message. */
static const char *check_val(const plm_field *f, const plm_val *v, char *msg,
			     size_t msglen)
{
	size_t es = plm_type_elsize(f->type);

	if (v->nil || !es) {
		if (f->type == PLM_T_STR && !v->nil && !v->s && v->n)
			return "NULL string";
		return NULL;
	}
	if (!v->s && v->n)
		return "NULL vector";
	if (f->type != PLM_T_F32M) {
		if (v->n != (size_t)f->dim * es) {
			snprintf(msg, msglen, "%zu bytes, expected %zu", v->n,
				 (size_t)f->dim * es);
			return msg;
		}
		return NULL;
	}
	size_t rb = (size_t)f->dim * 4;
	if (v->n == 0 || v->n % rb || v->n / rb > UINT32_MAX) {
		snprintf(msg, msglen, "%zu bytes, not a positive multiple of %zu",
			 v->n, rb);
		return msg;
	}
	if (v->rows && v->rows != v->n / rb) {
		snprintf(msg, msglen, "%u rows but %zu bytes", v->rows, v->n);
		return msg;
	}
	return NULL;
}

/* Bytes that TSV escapes; everything else is copied in runs (sequences
 * have no such bytes, so a residue string is one memcpy). */
static int tsv_special(unsigned char c)
{
	return c == '\t' || c == '\n' || c == '\r' || c == '\\';
}

static int tsv_put_str(buf *b, const char *s, size_t n, int first)
{
	if (buf_reserve(b, 2 * n + 2))
		return -1;
	char *o = b->p + b->len;
	size_t i = 0;
	if (first && n && s[0] == '#') {
		*o++ = '\\';
		*o++ = '#';
		i = 1;
	}
	while (i < n) {
		size_t j = i;
		while (j < n && !tsv_special((unsigned char)s[j]))
			j++;
		memcpy(o, s + i, j - i);
		o += j - i;
		if (j == n)
			break;
		*o++ = '\\';
		switch (s[j]) {
		case '\t': *o++ = 't'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		default: *o++ = '\\'; break;
		}
		i = j + 1;
	}
	b->len = (size_t)(o - b->p);
	return 0;
}

/* Typed TSV: comma-separated numbers.  Plain TSV: a JSON array, and for
 * a matrix an array of row arrays ("[[1,2],[3,4]]"). */
static int tsv_put_vec(buf *b, const plm_field *f, const plm_val *v, int plain)
{
	const unsigned char *p = (const unsigned char *)v->s;
	size_t es = plm_type_elsize(f->type), n = v->n / es;
	size_t rowlen = f->type == PLM_T_F32M ? f->dim : n + 1;

	if (plain && f->type == PLM_T_F32M && buf_puts(b, "["))
		return -1;

	if (buf_reserve(b, n * 17))
		return -1;
	for (size_t i = 0; i < n; i++) {
		float x;
		if (es == 4) {
			x = plm_bits_f32(ld32(p + 4 * i));
		} else {
			uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
			x = f->type == PLM_T_F16 ? plm_f16_to_f32(h) :
			    plm_bf16_to_f32(h);
		}
		if (buf_reserve(b, 40))
			return -1;
		if (plain && i % rowlen == 0)
			buf_puts(b, i ? "],[" : "[");
		else if (i)
			b->p[b->len++] = ',';
		if (plain && !isfinite(x))
			/* what JSON readers (Python's json) take */
			buf_puts(b, isnan(x) ? "NaN" : x > 0 ? "Infinity" :
				 "-Infinity");
		else
			b->len += (size_t)plm_fmt_f32(b->p + b->len, x);
	}
	if (plain && buf_puts(b, f->type == PLM_T_F32M ? "]]" : "]"))
		return -1;
	return 0;
}

static int tsv_put_row(plm_writer *w, const plm_val *vals)
{
	buf *b = &w->line;
	int rc = 0;

	b->len = 0;
	for (size_t i = 0; i < w->s.n && !rc; i++) {
		const plm_field *f = &w->s.f[i];
		const plm_val *v = &vals[i];
		if (i)
			rc |= buf_put(b, "\t", 1);
		if (v->nil) {
			if (f->type == PLM_T_STR && w->typed)
				rc |= buf_put(b, "\\N", 2);
			continue;
		}
		if (buf_reserve(b, 40))
			return wfail(w, "out of memory");
		switch (f->type) {
		case PLM_T_STR:
			rc |= w->typed ? tsv_put_str(b, v->s, v->n, i == 0) :
			      plain_put_str(b, v->s, v->n, i == 0);
			break;
		case PLM_T_INT:
			b->len += i64_fmt(b->p + b->len, v->i);
			break;
		case PLM_T_FLOAT:
			b->len += (size_t)plm_fmt_f64(b->p + b->len, v->f);
			break;
		case PLM_T_BOOL:
			rc |= buf_puts(b, v->i ? "true" : "false");
			break;
		default:
			rc |= tsv_put_vec(b, f, v, !w->typed);
			break;
		}
	}
	rc |= buf_put(b, "\n", 1);
	if (rc)
		return wfail(w, "out of memory");
	return mp_write_cb(w, b->p, b->len);
}

static void mp_put_row(plm_writer *w, const plm_val *vals)
{
	msgpack_packer *pk = &w->pk;

	msgpack_pack_array(pk, w->s.n);
	for (size_t i = 0; i < w->s.n; i++) {
		const plm_val *v = &vals[i];
		if (v->nil) {
			msgpack_pack_nil(pk);
			continue;
		}
		switch (w->s.f[i].type) {
		case PLM_T_STR:
			msgpack_pack_str_with_body(pk, v->s, v->n);
			break;
		case PLM_T_INT:
			msgpack_pack_int64(pk, v->i);
			break;
		case PLM_T_FLOAT:
			msgpack_pack_double(pk, v->f);
			break;
		case PLM_T_BOOL:
			if (v->i)
				msgpack_pack_true(pk);
			else
				msgpack_pack_false(pk);
			break;
		default:
			msgpack_pack_bin_with_body(pk, v->s, v->n);
			break;
		}
	}
}

int plm_writer_row(plm_writer *w, const plm_val *vals)
{
	char msg[96], tn[32];

	if (w->failed)
		return -1;
	for (size_t i = 0; i < w->s.n; i++) {
		const plm_field *f = &w->s.f[i];
		const char *e = check_val(f, &vals[i], msg, sizeof msg);
		if (e)
			return wfail(w, "record %llu: field '%s' (%s): %s",
				     (unsigned long long)w->rows + 1, f->name,
				     plm_type_name(f->type, f->dim, tn,
						   sizeof tn), e);
	}
	if (w->pq) {
		if (plm_pqw_row(w->pq, vals))
			wfail(w, "%s", plm_pqw_error(w->pq));
	} else if (w->fmt == PLM_FMT_VIEW) {
		if (plm_view_row(w->view, vals))
			return wfail(w, "%s", plm_view_error(w->view));
	} else if (w->tsv) {
		tsv_put_row(w, vals);
	} else {
		mp_put_row(w, vals);
	}
	if (w->failed)
		return -1;
	w->rows++;
	w->sec_rows++;
	return 0;
}

static void write_trailer(plm_writer *w)
{
	if (w->tsv)
		return;
	msgpack_pack_map(&w->pk, 1);
	pack_cstr(&w->pk, "end");
	msgpack_pack_uint64(&w->pk, w->sec_rows);
}

int plm_writer_section(plm_writer *w, const plm_schema *s)
{
	plm_schema c;

	if (w->failed)
		return -1;
	if (check_schema(w, s))
		return -1;
	if (w->pq)
		return plm_schema_equal(&w->s, s) ? 0 :
		       wfail(w, "Parquet holds one schema: a section with "
			     "other fields cannot follow");
	if (w->tsv && !w->typed && plm_schema_equal(s, &w->s))
		return 0;       /* plain TSV has no meta: nothing to say */
	if (plm_schema_copy(&c, s))
		return wfail(w, "out of memory");
	if (w->fmt == PLM_FMT_VIEW) {
		plm_schema_free(&w->s);
		w->s = c;
		return plm_view_section(w->view, s) ?
		       wfail(w, "%s", plm_view_error(w->view)) : 0;
	}
	write_trailer(w);
	/* plain TSV cannot change its columns: the rest is typed TSV */
	w->typed |= w->tsv;
	plm_schema_free(&w->s);
	w->s = c;
	w->sec_rows = 0;
	return write_header(w);
}

int plm_writer_close(plm_writer *w, char *err, size_t errlen)
{
	if (!w->failed && w->pq && plm_pqw_finish(w->pq))
		wfail(w, "%s", plm_pqw_error(w->pq));
	if (!w->failed && w->fmt == PLM_FMT_VIEW && plm_view_finish(w->view))
		wfail(w, "%s", plm_view_error(w->view));
	if (!w->failed && !w->pq && w->fmt != PLM_FMT_VIEW)
		write_trailer(w);
	if (w->failed) {
		snprintf(err, errlen, "%s", w->err);
		plm_writer_abort(w);
		return -1;
	}
	int rc = plm_out_close(w->out, err, errlen);
	w->out = NULL;
	plm_view_free(w->view);
	plm_pqw_free(w->pq);
	plm_schema_free(&w->s);
	free(w->line.p);
	free(w);
	return rc ? -1 : 0;
}

void plm_writer_abort(plm_writer *w)
{
	if (!w)
		return;
	if (w->out)
		plm_out_abort(w->out);
	plm_view_free(w->view);
	plm_pqw_free(w->pq);
	plm_schema_free(&w->s);
	free(w->line.p);
	free(w);
}

const char *plm_writer_error(const plm_writer *w)
{
	return w->err;
}

uint64_t plm_writer_rows(const plm_writer *w)
{
	return w->rows;
}
