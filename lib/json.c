/* json.c — RFC 8259 reader into an arena-owned tree, and a string writer.
 *
 * Recursive descent with an explicit depth cap.  Every node, key and string
 * lives in the document's arena (a chain of blocks), so plm_json_free is one
 * walk down the chain.  Array and object members are gathered in a temporary
 * vector per nesting level and then copied into the arena so that kids[] is
 * contiguous. */
#include "plm/json.h"
#include "plm/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

struct plm_json_doc {
	struct block *blocks;
	plm_json root;
};

typedef struct {
	const char *p, *end, *start;
	plm_json_doc *doc;
	char *err;
	size_t errlen;
	int failed;
} parser;

static void fail(parser *ps, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(parser *ps, const char *at, const char *fmt, ...)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	if (!ps->err || !ps->errlen)
		return;
	int n = snprintf(ps->err, ps->errlen, "offset %zu: ",
			 (size_t)(at - ps->start));
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
}

static void *arena_alloc(parser *ps, size_t n)
{
	const size_t al = sizeof(max_align_t);
	n = (n + al - 1) / al * al;
	struct block *b = ps->doc->blocks;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		b = malloc(sizeof *b + cap);
		if (!b) {
			fail(ps, ps->p, "out of memory");
			return NULL;
		}
		b->cap = cap;
		b->used = 0;
		b->next = ps->doc->blocks;
		ps->doc->blocks = b;
	}
	void *r = (char *)b->data + b->used;
	b->used += n;
	return r;
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *s, unsigned *v)
{
	unsigned r = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		r <<= 4;
		if (c >= '0' && c <= '9') r |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') r |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') r |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	*v = r;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80) return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
	else return 0;
	if (len > n) return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ps->p at the opening quote.  The unescaped string is never longer than
 * its source text, so one arena allocation of that size suffices. */
static const char *parse_string(parser *ps, size_t *outlen)
{
	const char *q = ++ps->p;
	while (q < ps->end && *q != '"') {
		if (*q == '\\' && q + 1 < ps->end)
			q++;
		q++;
	}
	if (q >= ps->end) {
		fail(ps, ps->p - 1, "unterminated string");
		return NULL;
	}
	char *out = arena_alloc(ps, (size_t)(q - ps->p) + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	while (*ps->p != '"') {
		unsigned char c = (unsigned char)*ps->p;
		if (c < 0x20) {
			fail(ps, ps->p, "control character in string");
			return NULL;
		}
		if (c != '\\') {
			size_t l = utf8_len((const unsigned char *)ps->p,
					    (size_t)(ps->end - ps->p));
			if (!l) {
				fail(ps, ps->p, "invalid UTF-8 in string");
				return NULL;
			}
			memcpy(out + n, ps->p, l);
			n += l;
			ps->p += l;
			continue;
		}
		const char *esc = ps->p++;
		switch (*ps->p++) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) {
				fail(ps, esc, "bad \\u escape");
				return NULL;
			}
			ps->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				fail(ps, esc, "unpaired surrogate in \\u escape");
				return NULL;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
				    ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					fail(ps, esc, "unpaired surrogate in \\u escape");
					return NULL;
				}
				ps->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0) {
				fail(ps, esc, "\\u0000 in string");
				return NULL;
			}
			/* \uXXXX (6 bytes) yields at most 3 bytes, a pair
			 * (12 bytes) at most 4: the buffer is large enough. */
			n += put_utf8(out + n, cp);
			break;
		}
		default:
			fail(ps, esc, "bad escape in string");
			return NULL;
		}
	}
	ps->p++;
	out[n] = 0;
	*outlen = n;
	return out;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(parser *ps, plm_json *v)
{
	const char *s = ps->p, *q = s;
	int integral = 1;
	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || !is_digit(*q)) {
		fail(ps, s, "bad number");
		return -1;
	}
	if (*q == '0')
		q++;
	else
		while (q < ps->end && is_digit(*q))
			q++;
	if (q < ps->end && *q == '.') {
		integral = 0;
		if (++q >= ps->end || !is_digit(*q)) {
			fail(ps, s, "bad number");
			return -1;
		}
		while (q < ps->end && is_digit(*q))
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		integral = 0;
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || !is_digit(*q)) {
			fail(ps, s, "bad number");
			return -1;
		}
		while (q < ps->end && is_digit(*q))
			q++;
	}
	size_t n = (size_t)(q - s);
	char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
	if (!buf) {
		fail(ps, s, "out of memory");
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = 0;
	v->type = PLM_JSON_NUM;
	v->num = strtod(buf, NULL);
	if (integral) {
		errno = 0;
		long long ll = strtoll(buf, NULL, 10);
		if (errno == 0) {
			v->is_int = 1;
			v->i = ll;
		}
	}
	if (buf != small)
		free(buf);
	ps->p = q;
	return 0;
}

static int parse_value(parser *ps, plm_json *v, int depth);

typedef struct {
	plm_json *v;
	const char **k;         /* keys, for an object */
	size_t n, cap, kcap;
} vec;

/* Room for one more value (and key). */
static int vec_push(parser *ps, vec *a, int with_keys)
{
	if (PLM_GROW(a->v, a->cap, a->n + 1) ||
	    (with_keys && PLM_GROW(a->k, a->kcap, a->n + 1))) {
		fail(ps, ps->p, "out of memory");
		return -1;
	}
	return 0;
}

/* ps->p at '[' or '{'. */
static int parse_container(parser *ps, plm_json *v, int depth)
{
	int obj = *ps->p == '{';
	char close = obj ? '}' : ']';
	vec a = { 0 };
	int rc = -1;
	if (depth >= MAX_DEPTH) {
		fail(ps, ps->p, "nesting deeper than %d", MAX_DEPTH);
		return -1;
	}
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		goto done;
	}
	for (;;) {
		skip_ws(ps);
		if (vec_push(ps, &a, obj))
			goto out;
		if (obj) {
			size_t kl;
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, ps->p, "expected string key");
				goto out;
			}
			if (!(a.k[a.n] = parse_string(ps, &kl)))
				goto out;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				fail(ps, ps->p, "expected ':'");
				goto out;
			}
			ps->p++;
		}
		memset(&a.v[a.n], 0, sizeof a.v[a.n]);
		if (parse_value(ps, &a.v[a.n], depth + 1))
			goto out;
		a.n++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			break;
		}
		fail(ps, ps->p, "expected ',' or '%c'", close);
		goto out;
	}
done:
	v->type = obj ? PLM_JSON_OBJ : PLM_JSON_ARR;
	v->len = a.n;
	if (a.n) {
		if (!(v->kids = arena_alloc(ps, a.n * sizeof *v->kids)))
			goto out;
		memcpy(v->kids, a.v, a.n * sizeof *v->kids);
		if (obj) {
			if (!(v->keys = arena_alloc(ps, a.n * sizeof *v->keys)))
				goto out;
			memcpy(v->keys, a.k, a.n * sizeof *v->keys);
		}
	}
	rc = 0;
out:
	free(a.v);
	free(a.k);
	return rc;
}

static int literal(parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) {
		fail(ps, ps->p, "unexpected character");
		return -1;
	}
	ps->p += n;
	return 0;
}

static int parse_value(parser *ps, plm_json *v, int depth)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		fail(ps, ps->p, "unexpected end of input");
		return -1;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, v, depth);
	case '"':
		v->type = PLM_JSON_STR;
		return (v->s = parse_string(ps, &v->len)) ? 0 : -1;
	case 't':
		v->type = PLM_JSON_BOOL;
		v->b = 1;
		return literal(ps, "true");
	case 'f':
		v->type = PLM_JSON_BOOL;
		return literal(ps, "false");
	case 'n':
		v->type = PLM_JSON_NULL;
		return literal(ps, "null");
	default:
		if (*ps->p == '-' || is_digit(*ps->p))
			return parse_number(ps, v);
		fail(ps, ps->p, "unexpected character");
		return -1;
	}
}

plm_json_doc *plm_json_parse(const char *text, size_t len, char *err,
			     size_t errlen)
{
	plm_json_doc *d = calloc(1, sizeof *d);
	parser ps = { text, text + len, text, d, err, errlen, 0 };
	if (!d) {
		if (err && errlen)
			snprintf(err, errlen, "offset 0: out of memory");
		return NULL;
	}
	if (parse_value(&ps, &d->root, 0) == 0) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			fail(&ps, ps.p, "trailing characters after JSON value");
	}
	if (ps.failed) {
		plm_json_free(d);
		return NULL;
	}
	return d;
}

const plm_json *plm_json_root(const plm_json_doc *d)
{
	return d ? &d->root : NULL;
}

void plm_json_free(plm_json_doc *d)
{
	if (!d)
		return;
	struct block *b = d->blocks;
	while (b) {
		struct block *n = b->next;
		free(b);
		b = n;
	}
	free(d);
}

/* The first member with that key (duplicates are kept, in order). */
const plm_json *plm_json_get(const plm_json *o, const char *key)
{
	if (!o || o->type != PLM_JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < o->len; i++)
		if (strcmp(o->keys[i], key) == 0)
			return &o->kids[i];
	return NULL;
}

static int reserve(char **buf, size_t *len, size_t *cap, size_t more)
{
	if (more > SIZE_MAX - *len)
		return -1;
	return PLM_GROW(*buf, *cap, *len + more);
}

int plm_json_put_str(char **buf, size_t *len, size_t *cap, const char *s,
		     size_t n)
{
	static const char hex[] = "0123456789abcdef";
	/* Worst case: every byte becomes \u00XX (6 bytes), plus quotes. */
	if (n > (SIZE_MAX - 2) / 6 || reserve(buf, len, cap, n * 6 + 2))
		return -1;
	char *o = *buf + *len;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': *o++ = '\\'; *o++ = '"'; break;
		case '\\': *o++ = '\\'; *o++ = '\\'; break;
		case '\b': *o++ = '\\'; *o++ = 'b'; break;
		case '\f': *o++ = '\\'; *o++ = 'f'; break;
		case '\n': *o++ = '\\'; *o++ = 'n'; break;
		case '\r': *o++ = '\\'; *o++ = 'r'; break;
		case '\t': *o++ = '\\'; *o++ = 't'; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				memcpy(o, "\\u00", 4);
				o[4] = hex[c >> 4];
				o[5] = hex[c & 15];
				o += 6;
			} else {
				*o++ = (char)c;
			}
		}
	}
	*o++ = '"';
	*len = (size_t)(o - *buf);
	return 0;
}
