/* embjournal.c — the embedding cache's journal (include/plm/embjournal.h
 * has the format and the contract). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/embjournal.h"

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* All n bytes: written at the file offset (off < 0), or read at off;
 * retried on EINTR and short counts. */
static int full(int fd, void *p, size_t n, int64_t off)
{
	char *s = p;
	while (n) {
		ssize_t k = off < 0 ? write(fd, s, n)
				    : pread(fd, s, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
		if (off >= 0)
			off += k;
	}
	return 0;
}

int plm_write_full(int fd, const void *p, size_t n)
{
	return full(fd, (void *)p, n, -1);
}

int plm_ej_read(const plm_ejournal *j, void *p, size_t n, uint64_t off)
{
	return full(j->fd, p, n, (int64_t)off);
}

/* The header: PLM_EJ_NOTOURS, PLM_EJ_OTHER, 0 when cut short by a kill
 * while it was written (no records can follow it), else its length. */
static int64_t scan_header(const unsigned char *p, uint64_t size,
			   const char *settings, size_t slen, char *hdr,
			   size_t hdrlen)
{
	/* a complete header that fails its check is not ours (or
	 * damaged): an error, never silently overwritten */
	if (memcmp(p, PLM_EJ_MAGIC, size < 8 ? size : 8))
		return PLM_EJ_NOTOURS;
	if (size < 12)
		return 0;
	uint64_t hl = get32(p + 8);
	if (hl > PLM_EJ_MAXSETTINGS)
		return PLM_EJ_NOTOURS;
	if (12 + hl + 8 > size)
		return 0;
	if (get64(p + 12 + hl) != plm_key_hash(p, 12 + hl))
		return PLM_EJ_NOTOURS;
	if (hl != slen || memcmp(p + 12, settings, hl)) {
		if (hdr && hdrlen) {
			size_t n = hl < hdrlen - 1 ? hl : hdrlen - 1;
			memcpy(hdr, p + 12, n);
			hdr[n] = 0;
		}
		return PLM_EJ_OTHER;
	}
	return (int64_t)(12 + hl + 8);
}

int64_t plm_ej_scan(const void *map, uint64_t size, const char *settings,
		    size_t slen, plm_ej_each each, void *arg, char *hdr,
		    size_t hdrlen)
{
	const unsigned char *p = map;
	int64_t h = scan_header(p, size, settings, slen, hdr, hdrlen);
	if (h <= 0)
		return h;
	uint64_t off = (uint64_t)h;
	while (off + 4 <= size) {
		uint32_t B = get32(p + off);
		if (B < PLM_EJ_RECHEAD - 4 || B > PLM_EJ_MAXREC ||
		    off + 4 + B + 8 > size)
			break;
		if (get64(p + off + 4 + B) != plm_key_hash(p + off, 4 + (size_t)B))
			break;
		const unsigned char *r = p + off + 4;
		plm_ejrec e = { .kind = r[0], .h = { get64(r + 1), get64(r + 9) },
				.id = (const char *)r + 21, .idlen = get32(r + 17),
				.off = off + PLM_EJ_RECHEAD };
		if ((uint64_t)PLM_EJ_RECHEAD - 4 + e.idlen > B)
			break;
		e.tail = r + 21 + e.idlen;
		e.tlen = B - (PLM_EJ_RECHEAD - 4) - e.idlen;
		int rc = each ? each(arg, &e) : 0;
		if (rc < 0)
			return PLM_EJ_ABORT;
		if (rc > 0)
			break;
		off += 4 + (uint64_t)B + 8;
	}
	return (int64_t)off;
}

int plm_ej_load(plm_ejournal *j, const char *settings, size_t slen,
		int write, plm_ej_each each, void *arg, char *hdr,
		size_t hdrlen)
{
	struct stat st;
	if (fstat(j->fd, &st))
		return PLM_EJ_SYS;
	uint64_t size = (uint64_t)st.st_size;
	int64_t end = 0;
	if (size) {
		void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, j->fd, 0);
		if (m == MAP_FAILED)
			return PLM_EJ_SYS;
		end = plm_ej_scan(m, size, settings, slen, each, arg, hdr,
				  hdrlen);
		munmap(m, size);
		if (end < 0)
			return (int)end;
	}
	j->torn = size - (uint64_t)end;
	j->size = (uint64_t)end;
	if (!write)
		return 0;
	if (!end)
		return plm_ej_header(j, settings, slen) ? PLM_EJ_SYS : 0;
	if ((uint64_t)end < size && ftruncate(j->fd, end))
		return PLM_EJ_SYS;
	if (lseek(j->fd, end, SEEK_SET) < 0)
		return PLM_EJ_SYS;
	return 0;
}

int plm_ej_header(plm_ejournal *j, const char *settings, size_t slen)
{
	size_t n = 8 + 4 + slen + 8;
	if (slen > PLM_EJ_MAXSETTINGS) {
		errno = EINVAL;
		return -1;
	}
	if (PLM_GROW(j->buf, j->cap, n))
		return -1;
	memcpy(j->buf, PLM_EJ_MAGIC, 8);
	put32(j->buf + 8, (uint32_t)slen);
	memcpy(j->buf + 12, settings, slen);
	put64(j->buf + 12 + slen, plm_key_hash(j->buf, 12 + slen));
	if (ftruncate(j->fd, 0) || lseek(j->fd, 0, SEEK_SET) ||
	    plm_write_full(j->fd, j->buf, n))
		return -1;
	j->size = n;
	return 0;
}

int plm_ej_append(plm_ejournal *j, int kind, plm_h128 h, const char *id,
		  size_t idlen, const void *tail, size_t tlen, uint64_t *idoff)
{
	size_t B = (PLM_EJ_RECHEAD - 4) + idlen + tlen;
	if (B > PLM_EJ_MAXREC || idlen > UINT32_MAX ||
	    PLM_GROW(j->buf, j->cap, B + 12))
		return -2;
	unsigned char *r = j->buf;
	put32(r, (uint32_t)B);
	r[4] = (unsigned char)kind;
	put64(r + 5, h.hi);
	put64(r + 13, h.lo);
	put32(r + 21, (uint32_t)idlen);
	memcpy(r + PLM_EJ_RECHEAD, id, idlen);
	memcpy(r + PLM_EJ_RECHEAD + idlen, tail, tlen);
	put64(r + 4 + B, plm_key_hash(r, 4 + B));
	if (plm_write_full(j->fd, r, 4 + B + 8)) {
		int e = errno;
		if (ftruncate(j->fd, (off_t)j->size) ||
		    lseek(j->fd, (off_t)j->size, SEEK_SET) < 0)
			j->dead = 1;
		errno = e;
		return -1;
	}
	if (idoff)
		*idoff = j->size + PLM_EJ_RECHEAD;
	j->size += 4 + B + 8;
	return 0;
}

void plm_ej_free(plm_ejournal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->buf);
	j->buf = NULL;
	j->cap = 0;
}
