/* embjournal.h — the append-only journal of an embedding cache
 * (embcache.h): the rows and failures a writer has stored since the last
 * commit, so that a killed run loses at most the record it was writing.
 * It knows nothing of HDF5: embcache.c keeps the .h5 side.
 *
 * Format, little-endian:
 *   header  "PLMEJ001", u32 L, L bytes of settings text, u64 check
 *   record  u32 B, then B bytes: u8 kind, u64 hash.hi, u64 hash.lo,
 *           u32 idlen, id bytes, then the tail (the rest of the B bytes:
 *           a vector or a reason); then u64 check
 *   check = plm_key_hash (XXH3-64) of everything before it in the header /
 *   of B and the B bytes.
 * Each record is written with one write(), so a kill leaves at most one
 * torn record, at the end.  Reading stops at the first record that does
 * not fit in the file or fails its check (or that the caller refuses):
 * what lies before it is the valid journal, what follows is the torn tail,
 * which a writer cuts off before appending.
 *
 *	plm_ejournal j = { .fd = open(path, O_RDWR | O_CREAT, 0644) };
 *	rc = plm_ej_load(&j, settings, slen, 1, each, arg, hdr, sizeof hdr);
 *	plm_ej_append(&j, 'E', h, id, idlen, vec, vecsize, &off);
 *	plm_ej_read(&j, buf, vecsize, off + idlen);
 *	plm_ej_free(&j);                      // closes fd
 *
 * Functions never print; errno tells a system error. */
#ifndef PLM_EMBJOURNAL_H
#define PLM_EMBJOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"

#define PLM_EJ_MAGIC "PLMEJ001"
#define PLM_EJ_MAXSETTINGS 4096         /* longest settings text */
#define PLM_EJ_RECHEAD (4 + 1 + 16 + 4) /* B, kind, hash, idlen */
#define PLM_EJ_MAXREC ((uint32_t)1 << 30)       /* largest B */

typedef struct plm_ejournal {
	int fd;                 /* owned: plm_ej_free closes it (-1: none) */
	uint64_t size;          /* bytes of valid journal: the next record
				 * goes there */
	uint64_t torn;          /* bytes past size found by plm_ej_load */
	int dead;               /* a failed append could not be cut back:
				 * the journal must take no more */
	unsigned char *buf;     /* one record, as written */
	size_t cap;
} plm_ejournal;

/* One record as read back; pointers into the mapped journal, valid during
 * the callback only. */
typedef struct plm_ejrec {
	int kind;               /* the caller's: embcache uses 'E' and 'F' */
	plm_h128 h;
	const char *id;
	uint32_t idlen;
	const unsigned char *tail;
	size_t tlen;
	uint64_t off;           /* journal offset of the id bytes */
} plm_ejrec;

enum {
	PLM_EJ_SYS = -1,        /* system error: errno */
	PLM_EJ_NOTOURS = -2,    /* a complete header that is not a journal's
				 * or fails its check */
	PLM_EJ_OTHER = -3,      /* a journal written with other settings */
	PLM_EJ_ABORT = -4,      /* each returned -1 */
};

/* each(arg, r): 0 takes the record and goes on, 1 ends the valid journal
 * before r (as a torn record would), -1 aborts. */
typedef int (*plm_ej_each)(void *arg, const plm_ejrec *r);

/* Scans a journal held in p[0..size): checks the header against settings
 * (slen bytes), then passes each valid record to each.  Returns the end
 * of the valid journal (0: no complete header, so no records either), or
 * PLM_EJ_NOTOURS, PLM_EJ_OTHER (the header's settings text, cut to fit,
 * then in hdr, which may be NULL) or PLM_EJ_ABORT. */
int64_t plm_ej_scan(const void *p, uint64_t size, const char *settings,
		    size_t slen, plm_ej_each each, void *arg, char *hdr,
		    size_t hdrlen);

/* Reads the journal at j->fd with plm_ej_scan and sets j->size and
 * j->torn.  A writer (write = 1) then has a journal ready to append to:
 * the header written when there was none complete, a torn tail cut off,
 * the file offset at j->size.  0 or a PLM_EJ_ code. */
int plm_ej_load(plm_ejournal *j, const char *settings, size_t slen,
		int write, plm_ej_each each, void *arg, char *hdr,
		size_t hdrlen);

/* Truncates the journal to a fresh header for settings.  0, or -1 (errno;
 * EINVAL for settings longer than PLM_EJ_MAXSETTINGS). */
int plm_ej_header(plm_ejournal *j, const char *settings, size_t slen);

/* Appends one record with one write(); *idoff (may be NULL) receives the
 * journal offset of its id bytes.  On a failed write the journal is cut
 * back to j->size, so no torn record sits before later ones (j->dead
 * when that fails too).  0; -1 (write error, errno); -2 (the record is
 * larger than PLM_EJ_MAXREC, or out of memory). */
int plm_ej_append(plm_ejournal *j, int kind, plm_h128 h, const char *id,
		  size_t idlen, const void *tail, size_t tlen, uint64_t *idoff);

/* n bytes at offset off of the journal.  0 or -1. */
int plm_ej_read(const plm_ejournal *j, void *p, size_t n, uint64_t off);

/* Frees the buffer and closes fd. */
void plm_ej_free(plm_ejournal *j);

/* write(2) of all n bytes, retried on EINTR.  0 or -1 (errno). */
int plm_write_full(int fd, const void *p, size_t n);

#endif
