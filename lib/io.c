/* io.c — byte streams in (plain, gzip, zstd by magic bytes) and out
 * (buffered, atomic rename, optional compression).  See include/plm/io.h.
 *
 * Input is layered: a raw source (a file descriptor or a memory block)
 * feeds either the window directly (plain) or a decoder that writes into
 * the window (gzip via zlib or ISA-L, zstd via libzstd's streaming API).
 * The window is large so that parsers see long runs between refills and
 * plain input costs one read(2) per megabyte. */
#define _GNU_SOURCE     /* F_SETPIPE_SZ */
#include "plm/io.h"
#include "plm/alloc.h"
#include "plm/cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>
#ifdef PLM_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

enum { IN_BUF = 1 << 20, RAW_BUF = 256 << 10, OUT_BUF = 1 << 20 };

struct plm_in_impl {
	int fd;                 /* -1 for a memory source */
	int own_fd;
	const unsigned char *mem;
	size_t mem_len, mem_pos;
	enum plm_codec codec;
	size_t cap;             /* capacity of the window buf */
	size_t rawcap;          /* capacity of raw */
	unsigned char *raw;     /* compressed bytes: raw[rpos..rlen) unread */
	size_t rpos, rlen;
	int raw_eof;            /* the raw source has no more bytes */
	int done;               /* no more decoded bytes will come */
	int err_set;
	uint64_t raw_pos, raw_size;
	uint64_t decoded;       /* bytes put in buf so far */
	z_stream zs;
	int zs_init;
	int member_end;         /* the last gzip member/zstd frame ended */
	ZSTD_DCtx *zd;
#ifdef PLM_HAVE_ISAL
	struct inflate_state *is;
#endif
	char *name;
	char err[512];
};

/* A pipe's default 64 KiB makes the 1 MiB reads and writes of both ends
 * wait on each other 16 times per MiB: `fasta-cat | hash-dedup` measured
 * 25% slower than its two halves.  1 MiB (the unprivileged limit) lets the
 * two processes overlap.  Either end may widen it; failure (an older
 * kernel, a limit) changes nothing but speed. */
static void widen_pipe(int fd, const struct stat *st)
{
#ifdef F_SETPIPE_SZ
	if (S_ISFIFO(st->st_mode) && fcntl(fd, F_GETPIPE_SZ) < (1 << 20))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
#else
	(void)fd;
	(void)st;
#endif
}

static void in_seterr(plm_in *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void in_seterr(plm_in *in, const char *fmt, ...)
{
	struct plm_in_impl *m = in->impl;
	int k = snprintf(m->err, sizeof m->err, "%s: ", m->name);
	va_list ap;

	if (k < 0 || (size_t)k >= sizeof m->err)
		k = 0;
	va_start(ap, fmt);
	vsnprintf(m->err + k, sizeof m->err - k, fmt, ap);
	va_end(ap);
	m->err_set = 1;
}

/* Read up to n raw bytes from the source.  0 at EOF, -1 on error. */
static ssize_t raw_read(plm_in *in, void *dst, size_t n)
{
	struct plm_in_impl *m = in->impl;
	ssize_t k;

	if (m->fd < 0) {
		size_t left = m->mem_len - m->mem_pos;
		if (n > left)
			n = left;
		memcpy(dst, m->mem + m->mem_pos, n);
		m->mem_pos += n;
		m->raw_pos += n;
		return (ssize_t)n;
	}
	do
		k = read(m->fd, dst, n);
	while (k < 0 && errno == EINTR);
	if (k < 0) {
		in_seterr(in, "read error: %s", strerror(errno));
		return -1;
	}
	m->raw_pos += (uint64_t)k;
	return k;
}

/* Refill raw[] (keeping unread bytes).  >0 new bytes, 0 EOF, -1 error. */
static ssize_t raw_fill(plm_in *in)
{
	struct plm_in_impl *m = in->impl;
	ssize_t k;

	if (m->raw_eof)
		return 0;
	if (m->rpos > 0) {
		memmove(m->raw, m->raw + m->rpos, m->rlen - m->rpos);
		m->rlen -= m->rpos;
		m->rpos = 0;
	}
	k = raw_read(in, m->raw + m->rlen, m->rawcap - m->rlen);
	if (k == 0)
		m->raw_eof = 1;
	if (k > 0)
		m->rlen += (size_t)k;
	return k;
}

static void in_free(plm_in *in)
{
	struct plm_in_impl *m;

	if (!in)
		return;
	m = in->impl;
	if (m) {
		if (m->own_fd && m->fd >= 0)
			close(m->fd);
		if (m->zs_init)
			inflateEnd(&m->zs);
		ZSTD_freeDCtx(m->zd);
#ifdef PLM_HAVE_ISAL
		free(m->is);
#endif
		free(m->raw);
		free(m->name);
		free(m);
	}
	free(in->buf);
	free(in);
}

static plm_in *in_new(const char *name)
{
	plm_in *in = calloc(1, sizeof *in);

	if (!in)
		return NULL;
	in->impl = calloc(1, sizeof *in->impl);
	if (!in->impl) {
		in_free(in);
		return NULL;
	}
	in->impl->fd = -1;
	in->impl->cap = IN_BUF;
	in->impl->name = strdup(name);
	if (!in->impl->name) {
		in_free(in);
		return NULL;
	}
	return in;
}

/* The first window for a source of n bytes (0: unknown): the data's size,
 * not 1 MiB, for small files and buffers (it grows for a longer record or
 * a decompressed stream). */
static void in_size(plm_in *in, uint64_t n)
{
	if (n > 0 && n < IN_BUF)
		in->impl->cap = n < 4096 ? 4096 : (size_t)n + 1;
}

/* Read the first bytes, decide the codec and set up the decoder. */
static int in_start(plm_in *in)
{
	struct plm_in_impl *m = in->impl;
	const unsigned char *p;

	m->rawcap = m->cap < RAW_BUF ? m->cap : RAW_BUF;
	in->buf = malloc(m->cap);
	m->raw = malloc(m->rawcap);
	if (!in->buf || !m->raw) {
		in_seterr(in, "out of memory");
		return -1;
	}
	while (m->rlen < 4 && !m->raw_eof)
		if (raw_fill(in) < 0)
			return -1;
	p = m->raw;
	if (m->rlen >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		m->codec = PLM_CODEC_GZIP;
#ifdef PLM_HAVE_ISAL
		m->is = malloc(sizeof *m->is);
		if (!m->is) {
			in_seterr(in, "out of memory");
			return -1;
		}
		isal_inflate_init(m->is);
		m->is->crc_flag = ISAL_GZIP;
#else
		if (inflateInit2(&m->zs, 15 + 32) != Z_OK) {
			in_seterr(in, "cannot start gzip decoder");
			return -1;
		}
		m->zs_init = 1;
#endif
	} else if (m->rlen >= 4 && p[0] == 0x28 && p[1] == 0xb5 &&
		   p[2] == 0x2f && p[3] == 0xfd) {
		m->codec = PLM_CODEC_ZSTD;
		m->zd = ZSTD_createDCtx();
		if (!m->zd) {
			in_seterr(in, "cannot start zstd decoder");
			return -1;
		}
	} else {
		/* Plain: the sniffed bytes are the first bytes of the window;
		 * later reads go straight into the window. */
		m->codec = PLM_CODEC_PLAIN;
		memcpy(in->buf, m->raw, m->rlen);
		in->len = m->rlen;
		m->decoded = m->rlen;
		m->rlen = 0;
		free(m->raw);
		m->raw = NULL;
		if (m->raw_eof)
			m->done = 1;
	}
	return 0;
}

/* A reader of fd (closed with it when own), called name. */
static plm_in *in_open_fd(const char *name, int fd, int own, char *err,
			  size_t errlen)
{
	plm_in *in = in_new(name);
	struct stat st;

	if (!in) {
		snprintf(err, errlen, "%s: out of memory", name);
		if (own)
			close(fd);
		return NULL;
	}
	in->impl->fd = fd;
	in->impl->own_fd = own;
	if (fstat(in->impl->fd, &st) == 0) {
		if (S_ISREG(st.st_mode)) {
			in->impl->raw_size = (uint64_t)st.st_size;
			in_size(in, in->impl->raw_size);
#ifdef POSIX_FADV_SEQUENTIAL
			posix_fadvise(in->impl->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
		}
		widen_pipe(in->impl->fd, &st);
	}
	if (in_start(in) < 0) {
		snprintf(err, errlen, "%s", in->impl->err);
		in_free(in);
		return NULL;
	}
	return in;
}

plm_in *plm_in_open(const char *path, char *err, size_t errlen)
{
	int fd;

	if (!path || strcmp(path, "-") == 0)
		return in_open_fd("stdin", 0, 0, err, errlen);
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	return in_open_fd(path, fd, 1, err, errlen);
}

plm_in *plm_in_mem(const void *p, size_t n, const char *name)
{
	plm_in *in = in_new(name ? name : "memory");

	if (!in)
		return NULL;
	in_size(in, n ? n : 1);
	in->impl->mem = p;
	in->impl->mem_len = n;
	in->impl->raw_size = n;
	if (in_start(in) < 0) {
		in_free(in);
		return NULL;
	}
	return in;
}

/* Decoders: write into out[0..n), return bytes written (> 0), 0 at the
 * end of the input, -1 on error.  They stop early once they have output
 * and would otherwise block on more raw input. */

enum { GZ_ERR = -1, GZ_STOP, GZ_GO };

/* Raw input for the next gzip inflate call, shared by the zlib and ISA-L
 * decoders: refills, ends at a member boundary, and checks that a
 * following member starts with the gzip magic (*reset: the decoder must
 * start a new member). */
static int gz_prepare(plm_in *in, size_t got, int *reset)
{
	struct plm_in_impl *m = in->impl;

	*reset = 0;
	if (m->rpos == m->rlen) {
		if (got > 0)
			return GZ_STOP;
		ssize_t k = raw_fill(in);
		if (k < 0)
			return GZ_ERR;
		if (k == 0) {
			if (!m->member_end) {
				in_seterr(in, "truncated gzip input");
				return GZ_ERR;
			}
			m->done = 1;
			return GZ_STOP;
		}
	}
	if (m->member_end) {
		/* the next member's magic may straddle a refill */
		while (m->rlen - m->rpos < 2 && !m->raw_eof)
			if (raw_fill(in) < 0)
				return GZ_ERR;
		if (m->rlen - m->rpos < 2 || m->raw[m->rpos] != 0x1f ||
		    m->raw[m->rpos + 1] != 0x8b) {
			in_seterr(in, "trailing garbage after gzip data");
			return GZ_ERR;
		}
		m->member_end = 0;
		*reset = 1;
	}
	return GZ_GO;
}

#ifndef PLM_HAVE_ISAL
static ssize_t gz_zlib(plm_in *in, unsigned char *out, size_t n)
{
	struct plm_in_impl *m = in->impl;
	z_stream *zs = &m->zs;
	size_t got = 0;

	while (got < n) {
		int rc, reset, st = gz_prepare(in, got, &reset);
		if (st != GZ_GO)
			return st == GZ_ERR ? -1 : (ssize_t)got;
		if (reset)
			inflateReset(zs);
		zs->next_in = m->raw + m->rpos;
		zs->avail_in = (uInt)(m->rlen - m->rpos);
		zs->next_out = out + got;
		zs->avail_out = (uInt)(n - got);
		rc = inflate(zs, Z_NO_FLUSH);
		got = (size_t)(zs->next_out - out);
		m->rpos = (size_t)(zs->next_in - m->raw);
		if (rc == Z_STREAM_END) {
			m->member_end = 1;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			in_seterr(in, "gzip: %s", zs->msg ? zs->msg : "bad data");
			return -1;
		}
	}
	return (ssize_t)got;
}
#endif

#ifdef PLM_HAVE_ISAL
static ssize_t gz_isal(plm_in *in, unsigned char *out, size_t n)
{
	struct plm_in_impl *m = in->impl;
	struct inflate_state *s = m->is;
	size_t got = 0;

	while (got < n) {
		int rc, reset, st = gz_prepare(in, got, &reset);
		if (st != GZ_GO)
			return st == GZ_ERR ? -1 : (ssize_t)got;
		if (reset) {
			isal_inflate_reset(s);
			s->crc_flag = ISAL_GZIP;
		}
		s->next_in = m->raw + m->rpos;
		s->avail_in = (uint32_t)(m->rlen - m->rpos);
		s->next_out = out + got;
		s->avail_out = (uint32_t)(n - got);
		rc = isal_inflate(s);
		got = (size_t)(s->next_out - out);
		m->rpos = (size_t)(s->next_in - m->raw);
		if (rc != ISAL_DECOMP_OK) {
			in_seterr(in, "gzip: %s", rc == ISAL_INCORRECT_CHECKSUM ?
				  "incorrect data check" : "invalid data");
			return -1;
		}
		if (s->block_state == ISAL_BLOCK_FINISH)
			m->member_end = 1;
	}
	return (ssize_t)got;
}
#endif

static ssize_t zst_dec(plm_in *in, unsigned char *out, size_t n)
{
	struct plm_in_impl *m = in->impl;
	ZSTD_outBuffer ob = { out, n, 0 };

	while (ob.pos < n) {
		ZSTD_inBuffer ib;
		size_t rc;

		if (m->rpos == m->rlen) {
			ssize_t k;
			if (ob.pos > 0)
				break;
			k = raw_fill(in);
			if (k < 0)
				return -1;
			if (k == 0) {
				if (!m->member_end) {
					in_seterr(in, "truncated zstd input");
					return -1;
				}
				m->done = 1;
				break;
			}
		}
		ib.src = m->raw;
		ib.size = m->rlen;
		ib.pos = m->rpos;
		rc = ZSTD_decompressStream(m->zd, &ob, &ib);
		m->rpos = ib.pos;
		if (ZSTD_isError(rc)) {
			in_seterr(in, "zstd: %s", ZSTD_getErrorName(rc));
			return -1;
		}
		/* rc == 0: a frame ended exactly here; the next bytes, if
		 * any, start another frame, which the context reads on. */
		m->member_end = rc == 0;
	}
	return (ssize_t)ob.pos;
}

ssize_t plm_in_fill(plm_in *in)
{
	struct plm_in_impl *m = in->impl;
	ssize_t k;

	if (m->err_set)
		return -1;
	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	if (m->done)
		return 0;
	if (in->len == m->cap) {
		/* The caller needs more than a window full (a long line). */
		size_t ncap = m->cap * 2;
		unsigned char *nb = realloc(in->buf, ncap);
		if (!nb) {
			in_seterr(in, "out of memory");
			return -1;
		}
		in->buf = nb;
		m->cap = ncap;
	}
	switch (m->codec) {
	case PLM_CODEC_PLAIN:
		k = raw_read(in, in->buf + in->len, m->cap - in->len);
		if (k == 0)
			m->done = 1;
		break;
	case PLM_CODEC_GZIP:
#ifdef PLM_HAVE_ISAL
		k = gz_isal(in, in->buf + in->len, m->cap - in->len);
#else
		k = gz_zlib(in, in->buf + in->len, m->cap - in->len);
#endif
		break;
	default:
		k = zst_dec(in, in->buf + in->len, m->cap - in->len);
		break;
	}
	if (k < 0)
		return -1;
	in->len += (size_t)k;
	m->decoded += (uint64_t)k;
	return k;
}

ssize_t plm_in_peek(plm_in *in, size_t n)
{
	while (in->len - in->pos < n) {
		ssize_t k = plm_in_fill(in);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
	}
	return (ssize_t)(in->len - in->pos);
}

ssize_t plm_in_read(plm_in *in, void *dst, size_t n)
{
	unsigned char *d = dst;
	size_t got = 0;

	while (got < n) {
		size_t avail = in->len - in->pos, take;
		if (avail == 0) {
			ssize_t k = plm_in_fill(in);
			if (k < 0)
				return -1;
			if (k == 0)
				break;
			continue;
		}
		take = n - got < avail ? n - got : avail;
		memcpy(d + got, in->buf + in->pos, take);
		in->pos += take;
		got += take;
	}
	return (ssize_t)got;
}

const char *plm_in_name(const plm_in *in) { return in->impl->name; }

const char *plm_in_error(const plm_in *in)
{
	return in->impl->err_set ? in->impl->err : "no error";
}

enum plm_codec plm_in_codec(const plm_in *in) { return in->impl->codec; }

/* The raw bytes behind what the parser consumed: those read less those
 * still waiting in raw[], in the share of the decoded bytes consumed (a
 * reader that holds a whole small file in its buffer is not at its end). */
uint64_t plm_in_raw_pos(const plm_in *in)
{
	const struct plm_in_impl *m = in->impl;
	uint64_t raw = m->raw_pos - (m->rlen - m->rpos);
	uint64_t unread = in->len - in->pos;
	if (!m->decoded || unread > m->decoded)
		return raw;
	return (uint64_t)((double)raw * (double)(m->decoded - unread) /
			  (double)m->decoded);
}

uint64_t plm_in_raw_size(const plm_in *in) { return in->impl->raw_size; }

void plm_in_close(plm_in *in) { in_free(in); }

int plm_in_slurp(const char *path, char **buf, size_t *len, char *err,
		 size_t errlen)
{
	plm_in *in = plm_in_open(path, err, errlen);
	if (!in)
		return -1;
	size_t cap = 1 << 12, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (!b) {
			snprintf(err, errlen, "%s: out of memory", plm_in_name(in));
			plm_in_close(in);
			return -1;
		}
		ssize_t r = plm_in_read(in, b + n, cap - n);
		if (r < 0) {
			snprintf(err, errlen, "%s", plm_in_error(in));
			free(b);
			plm_in_close(in);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			char *nb = cap <= SIZE_MAX / 2 ? realloc(b, cap *= 2) : NULL;
			if (!nb)
				free(b);
			b = nb;
		}
	}
	plm_in_close(in);
	*buf = b;
	*len = n;
	return 0;
}

/* ---- spools ------------------------------------------------------------ */

/* The spooled bytes are read back through the file, never mapped: pages
 * of a mapping count in the resident set, so a mapped spool made a
 * two-pass tool on stdin look as big as its input. */
struct plm_spool {
	char *name;             /* "stdin" for "-" */
	char *path;             /* NULL: spooled */
	int fd;                 /* the spool, -1 with path */
	size_t len;
};

/* An unlinked temporary file in $TMPDIR: O_TMPFILE never has a name;
 * mkstemp's is removed at once. */
static int spool_fd(const char *name, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	int fd = -1;
	if (!dir || !*dir)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		char tmp[4096];
		int k = snprintf(tmp, sizeof tmp, "%s/plm-spool.XXXXXX", dir);
		errno = ENAMETOOLONG;
		if (k > 0 && (size_t)k < sizeof tmp && (fd = mkstemp(tmp)) >= 0)
			unlink(tmp);
	}
	if (fd < 0)
		snprintf(err, errlen, "%s: cannot spool to %s: %s", name, dir,
			 strerror(errno));
	return fd;
}

/* Copies the decompressed bytes of in to fd; -1 + err. */
static int spool_copy(plm_spool *s, plm_in *in, int fd, char *err,
		      size_t errlen)
{
	for (;;) {
		ssize_t r = plm_in_fill(in);
		if (r < 0) {
			snprintf(err, errlen, "%s", plm_in_error(in));
			return -1;
		}
		if (r == 0 && in->pos >= in->len)
			return 0;
		size_t n = in->len - in->pos;
		for (size_t off = 0; off < n;) {
			ssize_t w = write(fd, in->buf + in->pos + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				snprintf(err, errlen, "%s: spooling: %s",
					 s->name, strerror(errno));
				return -1;
			}
			off += (size_t)w;
		}
		s->len += n;
		in->pos = in->len;
	}
}

plm_spool *plm_spool_open(const char *path, char *err, size_t errlen)
{
	int std = !path || !strcmp(path, "-");
	struct stat st;
	plm_spool *s = calloc(1, sizeof *s);
	if (s)
		s->fd = -1;
	if (!s || !(s->name = strdup(std ? "stdin" : path))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!std && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		if (!(s->path = strdup(path))) {
			snprintf(err, errlen, "out of memory");
			plm_spool_close(s);
			return NULL;
		}
		return s;
	}
	plm_in *in = plm_in_open(path, err, errlen);
	if (!in) {
		plm_spool_close(s);
		return NULL;
	}
	s->fd = spool_fd(s->name, err, errlen);
	int rc = s->fd < 0 ? -1 : spool_copy(s, in, s->fd, err, errlen);
	plm_in_close(in);
	if (rc) {
		plm_spool_close(s);
		return NULL;
	}
	return s;
}

int plm_spool_fd_from(plm_in *in, char *err, size_t errlen)
{
	plm_spool s = { .name = (char *)plm_in_name(in), .fd = -1 };
	int fd = spool_fd(s.name, err, errlen);
	if (fd >= 0 && spool_copy(&s, in, fd, err, errlen)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Each reader has a file description of its own (its own offset), so
 * two readers of one spool do not disturb each other. */
plm_in *plm_spool_in(const plm_spool *s, char *err, size_t errlen)
{
	char proc[64];
	int fd;

	if (s->path)
		return plm_in_open(s->path, err, errlen);
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", s->fd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) >= 0 &&
	    lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: reading the spool: %s", s->name,
			 strerror(errno));
		return NULL;
	}
	return in_open_fd(s->name, fd, 1, err, errlen);
}

const char *plm_spool_name(const plm_spool *s)
{
	return s->name;
}

void plm_spool_close(plm_spool *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->name);
	free(s->path);
	free(s);
}

/* ---- output ----------------------------------------------------------- */

struct plm_out {
	int fd;
	enum plm_codec codec;
	unsigned char *buf;     /* uncompressed bytes waiting: buf[0..len) */
	size_t len;
	unsigned char *zbuf;    /* compressed bytes on their way out */
	z_stream zs;
	int zs_init;
	ZSTD_CCtx *zc;
	char *path, *tmp;       /* tmp NULL: stdout or a device written in place */
	int direct;             /* path is a device/FIFO opened directly */
	int failed;
	char err[512];
};

static void out_seterr(plm_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_seterr(plm_out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->failed)
		return;         /* keep the first error: it is the cause */
	o->failed = 1;
	k = snprintf(o->err, sizeof o->err, "%s: ", o->path);
	if (k < 0 || (size_t)k >= sizeof o->err)
		k = 0;
	va_start(ap, fmt);
	vsnprintf(o->err + k, sizeof o->err - k, fmt, ap);
	va_end(ap);
}

static int fd_write(plm_out *o, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(o->fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			out_seterr(o, "write error: %s", strerror(errno));
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int out_endsuffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a > b && strcmp(s + a - b, suf) == 0;
}

/* Push p[0..n) through the codec to the fd.  end: finish the stream. */
static int out_emit(plm_out *o, const unsigned char *p, size_t n, int end)
{
	if (o->failed)
		return -1;
	if (o->codec == PLM_CODEC_PLAIN)
		return fd_write(o, p, n);
	if (o->codec == PLM_CODEC_GZIP) {
		int rc;
		o->zs.next_in = (unsigned char *)p;
		o->zs.avail_in = (uInt)n;
		do {
			o->zs.next_out = o->zbuf;
			o->zs.avail_out = OUT_BUF;
			rc = deflate(&o->zs, end ? Z_FINISH : Z_NO_FLUSH);
			if (rc == Z_STREAM_ERROR) {
				out_seterr(o, "gzip: compression failed");
				return -1;
			}
			if (fd_write(o, o->zbuf, OUT_BUF - o->zs.avail_out))
				return -1;
		} while (o->zs.avail_out == 0 || (end && rc != Z_STREAM_END));
		return 0;
	}
	{
		ZSTD_inBuffer ib = { p, n, 0 };
		size_t rc;
		do {
			ZSTD_outBuffer ob = { o->zbuf, OUT_BUF, 0 };
			rc = ZSTD_compressStream2(o->zc, &ob, &ib,
						  end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(rc)) {
				out_seterr(o, "zstd: %s", ZSTD_getErrorName(rc));
				return -1;
			}
			if (fd_write(o, o->zbuf, ob.pos))
				return -1;
		} while (end ? rc != 0 : ib.pos < ib.size);
		return 0;
	}
}

static void out_free(plm_out *o)
{
	if (o->zs_init)
		deflateEnd(&o->zs);
	ZSTD_freeCCtx(o->zc);
	PLM_FREE(o->buf, o->zbuf, o->path, o->tmp, o);
}

/* Temporaries are named PATH.tmp.PID.XXXXXX.  SIGKILL cannot be caught,
 * so a killed writer leaves its temporary behind; the next writer of the
 * same PATH removes those whose process no longer exists (kill(pid, 0)
 * fails with ESRCH).  A live process's temporary, ours or another's, is
 * kept.  Best effort: errors are ignored. */
static void sweep_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dl = slash ? (size_t)(slash - path) + 1 : 0, bl = strlen(base);
	char *dir = malloc(dl + 2), *full = NULL;
	DIR *d;
	struct dirent *e;

	if (!dir)
		return;
	if (dl)
		memcpy(dir, path, dl);
	else
		dir[dl++] = '.';
	dir[dl] = 0;
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		const char *n = e->d_name, *q;
		char *end;
		if (strncmp(n, base, bl) || strncmp(n + bl, ".tmp.", 5))
			continue;
		q = n + bl + 5;
		if (*q < '1' || *q > '9')
			continue;
		errno = 0;
		long pid = strtol(q, &end, 10);
		if (errno || *end != '.' || strlen(end + 1) != 6 ||
		    pid <= 0 || pid == (long)getpid() || (pid_t)pid != pid)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char *f = realloc(full, dl + strlen(n) + 2);
		if (!f)
			break;
		full = f;
		sprintf(full, "%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", n);
		unlink(full);
	}
	if (d)
		closedir(d);
	free(full);
	free(dir);
}

char *plm_tmp_name(const char *path, char *err, size_t errlen)
{
	char *tmp = malloc(strlen(path) + sizeof ".tmp..XXXXXX" + 20);
	int fd;

	if (!tmp) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	sweep_stale(path);
	sprintf(tmp, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
	if ((fd = mkstemp(tmp)) < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
			 strerror(errno));
		free(tmp);
		return NULL;
	}
	close(fd);
	plm_tmp_register(tmp);
	return tmp;
}

plm_out *plm_out_open(const char *path, char *err, size_t errlen)
{
	plm_out *o = calloc(1, sizeof *o);
	int stdout_ = !path || strcmp(path, "-") == 0;
	mode_t um;

	if (!o || !(o->buf = malloc(OUT_BUF)) ||
	    !(o->path = strdup(stdout_ ? "stdout" : path))) {
		snprintf(err, errlen, "%s: out of memory", stdout_ ? "stdout" : path);
		if (o)
			out_free(o);
		return NULL;
	}
	struct stat st;
	if (stdout_) {
		o->fd = 1;
		if (fstat(1, &st) == 0)
			widen_pipe(1, &st);
		return o;
	}
	if (out_endsuffix(path, ".gz"))
		o->codec = PLM_CODEC_GZIP;
	else if (out_endsuffix(path, ".zst"))
		o->codec = PLM_CODEC_ZSTD;
	if (o->codec != PLM_CODEC_PLAIN && !(o->zbuf = malloc(OUT_BUF)))
		goto nomem;
	if (o->codec == PLM_CODEC_GZIP) {
		if (deflateInit2(&o->zs, 6, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			goto nomem;
		o->zs_init = 1;
	} else if (o->codec == PLM_CODEC_ZSTD) {
		o->zc = ZSTD_createCCtx();
		if (!o->zc)
			goto nomem;
		ZSTD_CCtx_setParameter(o->zc, ZSTD_c_compressionLevel, 3);
	}
	/* A device or FIFO (/dev/null, /dev/stdout, a named pipe) is written
	 * in place: renaming a temporary file over it would replace the
	 * device node with a regular file. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		o->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (o->fd < 0) {
			snprintf(err, errlen, "%s: cannot open: %s", path,
				 strerror(errno));
			out_free(o);
			return NULL;
		}
		o->direct = 1;
		if (fstat(o->fd, &st) == 0)
			widen_pipe(o->fd, &st);
		return o;
	}
	o->tmp = malloc(strlen(path) + sizeof ".tmp..XXXXXX" + 20);
	if (!o->tmp)
		goto nomem;
	sweep_stale(path);
	sprintf(o->tmp, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		out_free(o);
		return NULL;
	}
	plm_tmp_register(o->tmp);
	/* mkstemp makes 0600; a finished output gets the usual mode. */
	um = umask(0);
	umask(um);
	fchmod(o->fd, 0666 & ~um);
	return o;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	out_free(o);
	return NULL;
}

static int out_flush(plm_out *o)
{
	int rc = out_emit(o, o->buf, o->len, 0);
	o->len = 0;
	return rc;
}

int plm_out_write(plm_out *o, const void *p, size_t n)
{
	if (o->failed)
		return -1;
	if (n <= OUT_BUF - o->len) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
		return 0;
	}
	if (out_flush(o))
		return -1;
	if (n >= OUT_BUF)
		return out_emit(o, p, n, 0);
	memcpy(o->buf, p, n);
	o->len = n;
	return 0;
}

int plm_out_puts(plm_out *o, const char *s)
{
	return plm_out_write(o, s, strlen(s));
}

int plm_out_putc(plm_out *o, int c)
{
	if (o->len == OUT_BUF && out_flush(o))
		return -1;
	o->buf[o->len++] = (unsigned char)c;
	return o->failed ? -1 : 0;
}

int plm_out_printf(plm_out *o, const char *fmt, ...)
{
	va_list ap;
	int k;
	char *big;

	if (o->failed)
		return -1;
	if (OUT_BUF - o->len < 4096 && out_flush(o))
		return -1;
	va_start(ap, fmt);
	k = vsnprintf((char *)o->buf + o->len, OUT_BUF - o->len, fmt, ap);
	va_end(ap);
	if (k < 0) {
		out_seterr(o, "formatting failed");
		return -1;
	}
	if ((size_t)k < OUT_BUF - o->len) {
		o->len += (size_t)k;
		return 0;
	}
	big = malloc((size_t)k + 1);
	if (!big) {
		out_seterr(o, "out of memory");
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)k + 1, fmt, ap);
	va_end(ap);
	k = plm_out_write(o, big, (size_t)k);
	free(big);
	return k;
}

int plm_out_flush(plm_out *o)
{
	if (o->failed)
		return -1;
	return o->len ? out_flush(o) : 0;
}

int plm_out_isatty(const plm_out *o)
{
	return o->tmp == NULL && isatty(o->fd);
}

int plm_out_close(plm_out *o, char *err, size_t errlen)
{
	int rc = 0;

	if (out_flush(o) == 0 && o->codec != PLM_CODEC_PLAIN)
		out_emit(o, NULL, 0, 1);
	if (o->tmp) {
		if (close(o->fd) < 0)
			out_seterr(o, "close: %s", strerror(errno));
		if (!o->failed && rename(o->tmp, o->path) < 0)
			out_seterr(o, "cannot rename %s into place: %s",
				   o->tmp, strerror(errno));
		if (o->failed)
			unlink(o->tmp);
		plm_tmp_forget(o->tmp);
	} else if (o->direct && close(o->fd) < 0) {
		out_seterr(o, "close: %s", strerror(errno));
	}
	if (o->failed) {
		snprintf(err, errlen, "%s", o->err);
		rc = -1;
	}
	out_free(o);
	return rc;
}

void plm_out_abort(plm_out *o)
{
	if (!o)
		return;
	if (o->tmp) {
		close(o->fd);
		unlink(o->tmp);
		plm_tmp_forget(o->tmp);
	} else if (o->direct) {
		close(o->fd);
	}
	out_free(o);
}

const char *plm_out_error(const plm_out *o)
{
	return o->failed ? o->err : "no error";
}
