/* fasta.c — FASTA/FASTQ records from a plm_in (see include/plm/fasta.h).
 *
 * Lines are found with memchr in the plm_in window; plm_in_fill keeps the
 * unconsumed tail, so a line is always contiguous in the window.  Sequence
 * lines are checked 8 bytes at a time for bytes <= 0x20 or 0x7f: the common
 * clean line is copied with one memcpy; a line with spaces or tabs takes a
 * slow path that drops them, any other control byte is an error (binary
 * junk must not become a sequence). */
#include "plm/fasta.h"
#include "plm/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(PLM_NO_AVX2)
#include <immintrin.h>
#endif

enum { FMT_UNKNOWN, FMT_FASTA, FMT_FASTQ };

struct plm_fasta {
	plm_in *in;
	int fmt;
	uint64_t line;          /* lines consumed so far */
	size_t scanned;         /* bytes after in->pos known to hold no '\n' */
	char *hdr;              /* the current header line, for the '+' check */
	size_t hdr_len, hdr_cap;
	int failed;
	char err[512];
};

static void seterr(plm_fasta *f, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(plm_fasta *f, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(f->err, sizeof f->err, "%s:%llu: ", plm_in_name(f->in),
			 (unsigned long long)line);

	if (k < 0 || (size_t)k >= sizeof f->err)
		k = 0;
	va_start(ap, fmt);
	vsnprintf(f->err + k, sizeof f->err - k, fmt, ap);
	va_end(ap);
	f->failed = 1;
}

/* A control byte c in the header or sequence: a CR not before an LF is
 * an old-Mac line end (CRLF is accepted), not binary junk. */
static void ctl_err(plm_fasta *f, uint64_t line, unsigned c, const char *in)
{
	if (c == '\r')
		seterr(f, line, "CR line endings (a carriage return without a "
		       "line feed): convert them to LF");
	else
		seterr(f, line, "control byte 0x%02x in %s (binary data?)", c,
		       in);
}

static void io_err(plm_fasta *f)
{
	snprintf(f->err, sizeof f->err, "%s", plm_in_error(f->in));
	f->failed = 1;
}

plm_fasta *plm_fasta_open(plm_in *in)
{
	plm_fasta *f = calloc(1, sizeof *f);

	if (f)
		f->in = in;
	return f;
}

void plm_fasta_close(plm_fasta *f)
{
	if (!f)
		return;
	free(f->hdr);
	free(f);
}

const char *plm_fasta_error(const plm_fasta *f)
{
	return f->failed ? f->err : "no error";
}

int plm_fasta_is_fastq(const plm_fasta *f) { return f->fmt == FMT_FASTQ; }

void plm_seqrec_free(plm_seqrec *r)
{
	PLM_FREE(r->id, r->desc, r->seq, r->qual);
	memset(r, 0, sizeof *r);
}

int plm_fasta_sniff(plm_in *in)
{
	size_t want = 1, seen = 0;   /* grows: a slow pipe is not waited on */

	for (;;) {
		ssize_t k = plm_in_peek(in, want);
		if (k < 0)
			return -1;
		for (; seen < (size_t)k; seen++) {
			unsigned char c = in->buf[in->pos + seen];
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				continue;
			return c == '>' ? PLM_SNIFF_FASTA :
			       c == '@' ? PLM_SNIFF_FASTQ : 0;
		}
		if ((size_t)k < want || want >= (1u << 20))
			return 0;       /* blank to the end, or far too long */
		want *= 2;
	}
}

int plm_fasta_schema(plm_schema *s)
{
	static const char *const str[] = { "id", "desc", "seq" };

	for (size_t i = 0; i < 3; i++)
		if (plm_schema_add(s, str[i], PLM_T_STR, 0) < 0)
			return -1;
	return plm_schema_add(s, "len", PLM_T_INT, 0) < 0 ? -1 : 0;
}

/* Make room for need + 1 bytes (the NUL). */
static int grow(char **p, size_t *cap, size_t need)
{
	return need == SIZE_MAX ? -1 : PLM_GROW(*p, *cap, need + 1);
}

/* The next byte without consuming it: 0..255, -1 at EOF, -2 on error. */
static int peek(plm_fasta *f)
{
	plm_in *in = f->in;

	if (in->pos < in->len)
		return in->buf[in->pos];
	f->scanned = 0;
	switch (plm_in_fill(in)) {
	case -1:
		io_err(f);
		return -2;
	case 0:
		return -1;
	}
	return in->buf[in->pos];
}

/* The next line without its "\n" or "\r\n", pointing into the window
 * (valid until the next call).  1 line, 0 EOF, -1 error. */
static int next_line(plm_fasta *f, const unsigned char **s, size_t *n)
{
	plm_in *in = f->in;
	unsigned char *nl;
	size_t end;

	for (;;) {
		unsigned char *p = in->buf + in->pos + f->scanned;
		nl = memchr(p, '\n', in->len - in->pos - f->scanned);
		if (nl)
			break;
		f->scanned = in->len - in->pos;
		ssize_t k = plm_in_fill(in);  /* moves the window to pos 0 */
		if (k < 0) {
			io_err(f);
			return -1;
		}
		if (k == 0) {
			if (in->len == in->pos)
				return 0;
			/* The last line has no newline. */
			nl = in->buf + in->len;
			break;
		}
	}
	*s = in->buf + in->pos;
	end = (size_t)(nl - *s);
	in->pos += end + (nl < in->buf + in->len);
	f->scanned = 0;
	f->line++;
	if (end > 0 && (*s)[end - 1] == '\r')
		end--;
	*n = end;
	return 1;
}

/* Does p[0..n) hold a byte <= 0x20 or 0x7f?  Eight bytes at a time
 * (the classic "has a byte less than" trick; bytes >= 0x80 never hit). */
static int has_ctl(const unsigned char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		memcpy(&x, p + i, 8);
		y = x ^ (0x7f * ones);
		if (((x - 0x21 * ones) & ~x & high) | ((y - ones) & ~y & high))
			return 1;
	}
	for (; i < n; i++)
		if (p[i] <= 0x20 || p[i] == 0x7f)
			return 1;
	return 0;
}

static int blank(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Append a sequence line to rec->seq, dropping spaces and tabs.  A control
 * byte is binary junk: an error naming the line. */
static int add_seq(plm_fasta *f, plm_seqrec *r, const unsigned char *s, size_t n)
{
	if (grow(&r->seq, &r->seq_cap, r->seq_len + n)) {
		seterr(f, f->line, "out of memory");
		return -1;
	}
	if (!has_ctl(s, n)) {
		memcpy(r->seq + r->seq_len, s, n);
		r->seq_len += n;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == ' ' || c == '\t')
			continue;
		if (c < 0x20 || c == 0x7f) {
			ctl_err(f, f->line, c, "sequence");
			return -1;
		}
		r->seq[r->seq_len++] = (char)c;
	}
	return 0;
}

/* Bit i set when p[i] is <= 0x20 or 0x7f: a line end, a space to drop or
 * a control byte.  16 bytes at a time with SSE2 (x86-64 always has it). */
static inline unsigned ctl_mask16(const unsigned char *p)
{
#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)p);
	__m128i lo = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x20)), x);
	__m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(lo, del));
#else
	unsigned m = 0;
	for (int i = 0; i < 16; i++)
		m |= (unsigned)(p[i] <= 0x20 || p[i] == 0x7f) << i;
	return m;
#endif
}

/* Split the header line (marker already removed) into id and desc; a
 * control byte other than tab is binary junk. */
static int set_header(plm_fasta *f, plm_seqrec *r, const unsigned char *s, size_t n)
{
	size_t i = n, j = 0;    /* i: where the id ends */

	for (;;) {
		size_t q = j;
		unsigned m = 0;
		while (q + 16 <= n && !(m = ctl_mask16(s + q)))
			q += 16;
		if (m)
			q += (size_t)__builtin_ctz(m);
		else
			while (q < n && s[q] > 0x20 && s[q] != 0x7f)
				q++;
		if (q >= n)
			break;
		if (s[q] != ' ' && s[q] != '\t') {
			ctl_err(f, f->line, s[q], "header");
			return -1;
		}
		if (i == n)
			i = q;
		j = q + 1;
	}
	if (grow(&r->id, &r->id_cap, i)) {
		seterr(f, f->line, "out of memory");
		return -1;
	}
	memcpy(r->id, s, i);
	r->id[i] = 0;
	r->id_len = i;
	if (f->fmt == FMT_FASTQ) {
		if (grow(&f->hdr, &f->hdr_cap, n)) {
			seterr(f, f->line, "out of memory");
			return -1;
		}
		memcpy(f->hdr, s, n);
		f->hdr_len = n;
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (grow(&r->desc, &r->desc_cap, n - i)) {
		seterr(f, f->line, "out of memory");
		return -1;
	}
	memcpy(r->desc, s + i, n - i);
	r->desc[n - i] = 0;
	r->desc_len = n - i;
	return 0;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(PLM_NO_AVX2)
#define HAVE_AVX2_SCAN 1
__attribute__((target("avx2")))
static inline unsigned ctl_mask32(const unsigned char *p)
{
	__m256i x = _mm256_loadu_si256((const __m256i *)p);
	__m256i lo = _mm256_cmpeq_epi8(_mm256_min_epu8(x, _mm256_set1_epi8(0x20)), x);
	__m256i del = _mm256_cmpeq_epi8(x, _mm256_set1_epi8(0x7f));
	return (unsigned)_mm256_movemask_epi8(_mm256_or_si256(lo, del));
}
#endif

/* Where the scan of a FASTA body is: p..end the window, d the output. */
typedef struct scan {
	unsigned char *p, *end, *d;
	int bol;                /* at the beginning of a line */
} scan;

/* The hot loop of the parser, one pass over the window: it finds line
 * ends, drops spaces, rejects control bytes and copies W bytes at a time
 * into the record (which has room for the window plus 32).  Returns 1 at a
 * '>' that starts a line, 0 when the window is used up (or ends in '\r':
 * the next byte decides), -1 on an error.  A macro so that the same code
 * is compiled for 16-byte SSE2 and, where the CPU has it, 32-byte AVX2. */
#define DEFINE_SCAN(NAME, ATTR, W, MASK)					\
ATTR static int NAME(plm_fasta *f, scan *s)				\
{									\
	unsigned char *p = s->p, *end = s->end, *d = s->d;		\
	int bol = s->bol, rc = 0;					\
									\
	while (p < end) {						\
		unsigned char c;					\
		if (bol) {						\
			if (*p == '>') {				\
				rc = 1;					\
				break;					\
			}						\
			if (*p == '@') {				\
				seterr(f, f->line + 1, "'@' line in FASTA " \
				       "input (FASTA and FASTQ mixed?)"); \
				return -1;				\
			}						\
			bol = 0;					\
		}							\
		if (end - p >= W) {					\
			unsigned m = MASK(p);				\
			memcpy(d, p, W);				\
			if (m == 0) {					\
				p += W;					\
				d += W;					\
				continue;				\
			}						\
			unsigned k = (unsigned)__builtin_ctz(m);	\
			p += k;						\
			d += k;						\
		} else if (*p > 0x20 && *p != 0x7f) {			\
			*d++ = *p++;					\
			continue;					\
		}							\
		c = *p;							\
		if (c == '\n') {					\
			p++;						\
			f->line++;					\
			bol = 1;					\
		} else if (c == ' ' || c == '\t') {			\
			p++;						\
		} else if (c == '\r' && p + 1 < end && p[1] == '\n') {	\
			p += 2;						\
			f->line++;					\
			bol = 1;					\
		} else if (c == '\r' && p + 1 == end) {			\
			break;						\
		} else {						\
			ctl_err(f, f->line + 1, c, "sequence");	\
			return -1;					\
		}							\
	}								\
	s->p = p;							\
	s->d = d;							\
	s->bol = bol;							\
	return rc;							\
}

DEFINE_SCAN(scan16, , 16, ctl_mask16)
#ifdef HAVE_AVX2_SCAN
DEFINE_SCAN(scan32, __attribute__((target("avx2"))), 32, ctl_mask32)
#endif

/* FASTA sequence lines up to the next '>' at a line start or EOF. */
static int fasta_body(plm_fasta *f, plm_seqrec *r)
{
	static int (*scanner)(plm_fasta *, scan *);
	plm_in *in = f->in;
	scan s = { 0 };
	ssize_t k;
	int rc;

	if (!scanner) {
		scanner = scan16;
#ifdef HAVE_AVX2_SCAN
		if (__builtin_cpu_supports("avx2"))
			scanner = scan32;
#endif
	}
	s.bol = 1;
	for (;;) {
		s.p = in->buf + in->pos;
		s.end = in->buf + in->len;
		if (grow(&r->seq, &r->seq_cap, r->seq_len + (size_t)(s.end - s.p) + 32)) {
			seterr(f, f->line + 1, "out of memory");
			return -1;
		}
		s.d = (unsigned char *)r->seq + r->seq_len;
		rc = scanner(f, &s);
		if (rc < 0)
			return -1;
		r->seq_len = (size_t)(s.d - (unsigned char *)r->seq);
		in->pos = (size_t)(s.p - in->buf);
		if (rc == 1)
			break;
		k = plm_in_fill(in);
		if (k < 0) {
			io_err(f);
			return -1;
		}
		if (k == 0) {
			if (in->pos < in->len)  /* a last lone '\r' */
				in->pos = in->len;
			if (!s.bol)
				f->line++;
			break;
		}
	}
	r->seq[r->seq_len] = 0;
	return 0;
}

/* Quality lines until the sequence length is reached. */
static int fastq_body(plm_fasta *f, plm_seqrec *r)
{
	const unsigned char *s;
	size_t n;
	int c, k;

	for (;;) {
		c = peek(f);
		if (c == -2)
			return -1;
		if (c == -1) {
			seterr(f, f->line, "truncated FASTQ record '%s': "
			       "no '+' line", r->id);
			return -1;
		}
		if ((k = next_line(f, &s, &n)) < 0)
			return -1;
		if (c == '+')
			break;
		if (c == '@' || c == '>') {
			seterr(f, f->line, "expected '+' line of record '%s'",
			       r->id);
			return -1;
		}
		if (add_seq(f, r, s, n))
			return -1;
	}
	r->seq[r->seq_len] = 0;
	/* The '+' line may repeat the header (or just the id). */
	if (n > 1 && !((n - 1 == f->hdr_len && !memcmp(s + 1, f->hdr, n - 1)) ||
		       (n - 1 == r->id_len && !memcmp(s + 1, r->id, n - 1)))) {
		seterr(f, f->line, "'+' line does not repeat the header of "
		       "record '%s'", r->id);
		return -1;
	}
	r->qual_len = 0;
	if (grow(&r->qual, &r->qual_cap, r->seq_len)) {
		seterr(f, f->line, "out of memory");
		return -1;
	}
	while (r->qual_len < r->seq_len) {
		k = next_line(f, &s, &n);
		if (k < 0)
			return -1;
		if (k == 0) {
			seterr(f, f->line, "truncated FASTQ record '%s': quality "
			       "length %zu differs from sequence length %zu",
			       r->id, r->qual_len, r->seq_len);
			return -1;
		}
		if (r->qual_len + n > r->seq_len) {
			seterr(f, f->line, "quality length %zu differs from "
			       "sequence length %zu", r->qual_len + n, r->seq_len);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			if (s[i] < 33 || s[i] > 126) {
				seterr(f, f->line, "invalid quality byte 0x%02x",
				       s[i]);
				return -1;
			}
		memcpy(r->qual + r->qual_len, s, n);
		r->qual_len += n;
	}
	r->qual[r->qual_len] = 0;
	/* A longer quality shows up as an extra line before the next header
	 * (a '>' there is left to the next call: mixed formats). */
	c = peek(f);
	if (c == -2)
		return -1;
	if (c >= 0 && c != '@' && c != '>' && c != '\n' && c != '\r') {
		k = next_line(f, &s, &n);
		if (k < 0)
			return -1;
		if (!blank(s, n)) {
			seterr(f, f->line, "quality length %zu differs from "
			       "sequence length %zu", r->qual_len + n, r->seq_len);
			return -1;
		}
	}
	return 0;
}

int plm_fasta_next(plm_fasta *f, plm_seqrec *r)
{
	const unsigned char *s;
	size_t n;
	int k;

	if (f->failed)
		return -1;
	/* Skip blank lines up to the header. */
	for (;;) {
		k = next_line(f, &s, &n);
		if (k <= 0)
			return k;
		if (!blank(s, n))
			break;
	}
	if (f->fmt == FMT_UNKNOWN && (s[0] == '>' || s[0] == '@'))
		f->fmt = s[0] == '>' ? FMT_FASTA : FMT_FASTQ;
	if (f->fmt == FMT_UNKNOWN) {
		seterr(f, f->line, "expected '>' or '@' at the start of a "
		       "record (not FASTA or FASTQ?)");
		return -1;
	}
	if (s[0] != (f->fmt == FMT_FASTA ? '>' : '@')) {
		seterr(f, f->line, "expected '%c' at the start of a %s record",
		       f->fmt == FMT_FASTA ? '>' : '@',
		       f->fmt == FMT_FASTA ? "FASTA" : "FASTQ");
		return -1;
	}
	r->line = f->line;
	if (set_header(f, r, s + 1, n - 1))
		return -1;
	r->seq_len = 0;
	r->qual_len = 0;
	if (grow(&r->seq, &r->seq_cap, 0)) {
		seterr(f, f->line, "out of memory");
		return -1;
	}
	if ((f->fmt == FMT_FASTA ? fasta_body(f, r) : fastq_body(f, r)) < 0)
		return -1;
	return 1;
}

/* ---- cleaning for ESM-2 ----------------------------------------------- */

/* What plm_seq_clean does to each byte: C_KEEP, or the reason it changes. */
enum { C_KEEP, C_LOWER, C_STOP, C_LETTER, C_OTHER };

static unsigned char clean_class(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return strchr(PLM_ESM_LETTERS, c - 'a' + 'A') ? C_LOWER : C_LETTER;
	if (c >= 'A' && c <= 'Z')
		return strchr(PLM_ESM_LETTERS, c) ? C_KEEP : C_LETTER;
	return c == '*' ? C_STOP : C_OTHER;
}

int plm_seq_clean(char *seq, size_t *n, plm_clean_stats *st)
{
	static unsigned char cls[256];
	static int ready;
	unsigned char *s = (unsigned char *)seq;
	size_t len = *n, i;
	uint64_t counts[5] = { 0 }, stop_end = 0;

	if (!ready) {
		for (i = 0; i < 256; i++)
			cls[i] = clean_class((unsigned char)i);
		ready = 1;
	}
	while (len > 0 && s[len - 1] == '*') {
		len--;
		stop_end++;
	}
	for (i = 0; i < len; i++) {
		unsigned char k = cls[s[i]];
		if (k == C_KEEP)
			continue;
		counts[k]++;
		s[i] = k == C_LOWER ? (unsigned char)(s[i] - 'a' + 'A') : 'X';
	}
	s[len] = 0;
	*n = len;
	st->lower += counts[C_LOWER];
	st->stop_end += stop_end;
	st->stop_inner += counts[C_STOP];
	st->letter_x += counts[C_LETTER];
	st->other_x += counts[C_OTHER];
	if (stop_end + counts[C_LOWER] + counts[C_STOP] + counts[C_LETTER] +
	    counts[C_OTHER] == 0)
		return 0;
	st->records++;
	return 1;
}

/* ---- UniProt / UniRef header fields ----------------------------------- */

static const char *const up_keys[] = {
	"OS", "OX", "GN", "PE", "SV", "n", "Tax", "TaxID", "RepID", NULL
};

static int alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* Is there a "Word=" at d[i] after a space (any word: it ends the value
 * before it, so "PE=4 Split=0" gives PE 4)?  Returns the index of a known
 * key in up_keys, up_nkeys for another word, -1 for none. */
static const int up_nkeys = sizeof up_keys / sizeof *up_keys - 1;

static int up_key_at(const char *d, size_t n, size_t i)
{
	size_t j = i;

	if ((i > 0 && d[i - 1] != ' ') || i >= n || !alpha(d[i]))
		return -1;
	while (j < n && (alpha(d[j]) || (d[j] >= '0' && d[j] <= '9') || d[j] == '_'))
		j++;
	if (j >= n || d[j] != '=')
		return -1;
	for (int k = 0; up_keys[k]; k++)
		if (strlen(up_keys[k]) == j - i && !memcmp(d + i, up_keys[k], j - i))
			return k;
	return up_nkeys;
}

static int up_int(const char *key, const char *v, size_t len, long long *out,
		  char *err, size_t errlen)
{
	char buf[32];
	char *end;

	if (len == 0 || len >= sizeof buf) {
		snprintf(err, errlen, "%s= value '%.*s' is not an integer", key,
			 (int)(len < 40 ? len : 40), v);
		return -1;
	}
	memcpy(buf, v, len);
	buf[len] = 0;
	*out = strtoll(buf, &end, 10);
	if (*end || buf[0] == ' ' || buf[0] == '+') {
		snprintf(err, errlen, "%s= value '%s' is not an integer", key, buf);
		return -1;
	}
	return 0;
}

int plm_uniprot_parse(const char *d, size_t n, plm_uniprot *u, char *err,
		      size_t errlen)
{
	size_t i = 0;
	int key = -1;

	memset(u, 0, sizeof *u);
	/* Find the first known key, then walk from key to key. */
	while (i < n && ((key = up_key_at(d, n, i)) < 0 || key == up_nkeys))
		i++;
	if (i >= n)
		key = -1;
	while (key >= 0) {
		size_t v = (size_t)((const char *)memchr(d + i, '=', n - i) - d) + 1;
		size_t e = v, next = n;
		int nkey = -1;
		for (; e < n; e++)
			if (d[e] == ' ' && (nkey = up_key_at(d, n, e + 1)) >= 0) {
				next = e + 1;
				break;
			}
		while (e > v && d[e - 1] == ' ')
			e--;
		const char *k = key < up_nkeys ? up_keys[key] : "";
		if ((!strcmp(k, "OS") || !strcmp(k, "Tax")) && !u->organism) {
			u->organism = d + v;
			u->organism_len = e - v;
		} else if (!strcmp(k, "GN") && !u->gene) {
			u->gene = d + v;
			u->gene_len = e - v;
		} else if ((!strcmp(k, "OX") || !strcmp(k, "TaxID")) && !u->has_taxid) {
			if (up_int(k, d + v, e - v, &u->taxid, err, errlen))
				return -1;
			u->has_taxid = 1;
		} else if (!strcmp(k, "PE") && !u->has_pe) {
			if (up_int(k, d + v, e - v, &u->pe, err, errlen))
				return -1;
			u->has_pe = 1;
		}
		key = nkey;
		i = next;
	}
	return 0;
}
