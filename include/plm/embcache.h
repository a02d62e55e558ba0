/* embcache.h — the embedding cache: one HDF5 file of pooled embeddings
 * keyed by sequence hash, for one model and one set of settings.
 *
 * File layout (format 1; h5py and h5dump read it as a plain HDF5 file):
 *   /key      [N]     fixed 32-byte strings: plm_seq_hash as 32 hex digits
 *   /id       [N]     variable-length strings: the id first stored for it
 *   /emb      [N, D]  float16 (IEEE half) or float32, chunked, extendable
 *   /failed   [M]     compound {key: 32-byte str, id: str, reason: str}
 *   attributes on "/": format (1), signature, model, layer, pool, dtype
 *   ("f16"/"f32"), dim, max_len, rows (N), failed (M), creator.
 * Row i of key, id and emb belong together; keys are unique.
 *
 * Crash safety.  HDF5 gives no guarantee for a file whose writer is
 * killed between writes: its metadata may be half written and the file
 * may not open again.  So the .h5 file is never modified in place:
 *   - while a writer runs, new rows and failures are appended to a journal
 *     beside it, PATH-journal: one checksummed record per put, written
 *     with one write() (a killed process loses at most the records it had
 *     not yet written; a torn last record fails its checksum and is
 *     ignored, and cut off by the next writer);
 *   - plm_embcache_close() commits: it copies PATH to PATH-commit, appends
 *     the journal's rows with HDF5, closes it, renames it over PATH and
 *     then removes the journal.  A kill before the rename leaves the old
 *     PATH and the journal; a kill after it leaves the new PATH and a
 *     journal whose rows are all present (they are skipped on replay).
 * Opening replays the journal (reads see it too), so a rerun after a kill
 * finds everything that had been written and computes only the rest.  A
 * writer holds an exclusive flock(2) on the journal: a second writer on the
 * same cache is refused.  Readers take no lock.
 *
 * Key: plm_seq_hash() of the sequence as the caller embeds it, before any
 * truncation (max_len is one of the settings, so truncation is fixed by the
 * file).
 *
 * Usage (esm-embed --cache):
 *
 *	plm_embcache_cfg cfg = { .signature = plm_esm_signature(m),
 *		.model = dir, .layer = layer, .pool = "mean",
 *		.dtype = PLM_T_F16, .dim = H, .max_len = 1022 };
 *	plm_embcache *ec = plm_embcache_open(path, &cfg, 1, err, sizeof err);
 *	for each record: h = plm_seq_hash(seq, len);
 *		switch (plm_embcache_lookup(ec, h, vec)) {  // vec: dim * elsize
 *		case PLM_EC_HIT:    emit vec; break;
 *		case PLM_EC_FAILED: report plm_embcache_reason(ec); break;
 *		case PLM_EC_MISS:   queue for the model; later
 *			plm_embcache_put(ec, h, id, idlen, vec) or
 *			plm_embcache_put_failed(ec, h, id, idlen, "empty sequence");
 *		case PLM_EC_ERR:    die with plm_embcache_error(ec);
 *		}
 *	plm_embcache_close(ec, err, sizeof err);   // commit
 * On a fatal error elsewhere, plm_embcache_abort(ec) keeps the journal
 * for the next run (dying without it does the same). */
#ifndef PLM_EMBCACHE_H
#define PLM_EMBCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"
#include "plm/stream.h"

#define PLM_EMBCACHE_FORMAT 1

/* The settings a cache file holds.  Every field but model must match for a
 * writer to use an existing file. */
typedef struct plm_embcache_cfg {
	const char *signature;  /* plm_esm_signature(): model config+weights */
	const char *model;      /* model path: recorded, not compared */
	int layer;              /* resolved layer (0..N, not negative) */
	const char *pool;       /* "mean", "max", "cls" */
	enum plm_type dtype;    /* PLM_T_F16 or PLM_T_F32 */
	uint32_t dim;
	int max_len;            /* truncation, residues */
	int compress;           /* gzip level 1-9 for a new file's emb dataset,
				 * 0 = none; not a setting that must match */
} plm_embcache_cfg;

typedef struct plm_embcache plm_embcache;

enum {
	PLM_EC_ERR = -1,
	PLM_EC_MISS = 0,
	PLM_EC_HIT = 1,
	PLM_EC_FAILED = 2,      /* recorded as failed; plm_embcache_reason */
};

/* write = 0: read only, cfg ignored (may be NULL); the file must exist.
 * write = 1: cfg given: the file is created (empty, with cfg) when absent,
 * else its settings must equal cfg: a mismatch is an error naming the
 * setting, e.g. "c.h5: cache holds layer 6, this run asks for layer 5
 * (use another cache file)".  cfg NULL: the file must exist; its settings
 * are used (commit, tests).  NULL + err on failure. */
plm_embcache *plm_embcache_open(const char *path, const plm_embcache_cfg *cfg,
				int write, char *err, size_t errlen);
/* The file's settings (strings owned by the cache). */
const plm_embcache_cfg *plm_embcache_settings(const plm_embcache *c);
/* Bytes of one stored vector: dim * 2 (f16) or dim * 4 (f32). */
size_t plm_embcache_vecsize(const plm_embcache *c);

/* vec (may be NULL) receives the stored vector: little-endian f16 or f32
 * exactly as a plm stream vector of the cache's dtype.  A stored vector
 * holding NaN or Inf is never served: PLM_EC_ERR, the error names the row
 * and key (plm_embcache_row likewise).  Open refuses a file whose emb
 * dataset is not the IEEE float type of its dtype attribute, is not
 * [N, dim], or whose id dataset is not variable-length strings. */
int plm_embcache_lookup(plm_embcache *c, plm_h128 h, void *vec);
/* The same converted to float (dim values). */
int plm_embcache_lookup_f32(plm_embcache *c, plm_h128 h, float *vec);
/* Reason of the last PLM_EC_FAILED lookup; valid until the next call. */
const char *plm_embcache_reason(const plm_embcache *c);

/* Store a vector (cache dtype bytes, or floats for _f32, rounded to
 * nearest even for f16; a vector with NaN or Inf, after rounding, is
 * refused: -1).  A hash already stored is left as it is (first
 * wins): returns 1; a new row returns 0; -1 on error.  A hash recorded
 * as failed may still get a row (the row wins on lookup). */
int plm_embcache_put(plm_embcache *c, plm_h128 h, const char *id,
		     size_t idlen, const void *vec);
int plm_embcache_put_f32(plm_embcache *c, plm_h128 h, const char *id,
			 size_t idlen, const float *vec);
/* Record that h could not be embedded (reason: one line).  0 new, 1
 * already recorded or already has a row, -1 error. */
int plm_embcache_put_failed(plm_embcache *c, plm_h128 h, const char *id,
			    size_t idlen, const char *reason);

/* Commit (writer) and free.  0, or -1 + err (the journal is kept then,
 * so nothing is lost).  A reader just frees. */
int plm_embcache_close(plm_embcache *c, char *err, size_t errlen);
/* Free without committing; the journal stays for the next open. */
void plm_embcache_abort(plm_embcache *c);
const char *plm_embcache_error(const plm_embcache *c);

/* ---- whole-cache access (emb-cache) ---- */

/* Rows: the file's then the journal's new ones, in insertion order. */
size_t plm_embcache_rows(const plm_embcache *c);
size_t plm_embcache_nfailed(const plm_embcache *c);
/* Rows and failures waiting in the journal (not yet in the .h5 file), and
 * bytes of a torn journal tail that were ignored. */
void plm_embcache_journal(const plm_embcache *c, size_t *rows,
			  size_t *failed, uint64_t *torn);
/* Row i: hash, id (valid until the next call), vector bytes into vec
 * (may be NULL).  0 or -1. */
int plm_embcache_row(plm_embcache *c, size_t i, plm_h128 *h,
		     const char **id, size_t *idlen, void *vec);
/* Failure i: hash, id, reason (owned by the cache). */
void plm_embcache_failed(const plm_embcache *c, size_t i, plm_h128 *h,
			 const char **id, const char **reason);

/* Integrity check of the .h5 file as stored: attributes and dataset shapes
 * agree, emb has the dtype's type, every id reads as a string (as export
 * reads it), keys are 32 hex digits and unique, failed keys valid and
 * unique, no NaN/Inf in emb.  Each problem is passed to report (at most `max`
 * of them); returns the number of problems (0 = sound), -1 if the file
 * could not be read at all (message in err). */
long plm_embcache_check(const char *path, long max,
			void (*report)(void *arg, const char *msg), void *arg,
			char *err, size_t errlen);

/* Write a new cache at out (atomically: a temporary file renamed into
 * place) holding the union of the inputs' rows, first occurrence of each
 * hash winning, and their failures not covered by a row.  The inputs must
 * have equal settings (signature, layer, pool, dtype, dim, max_len); the
 * error names the first difference.  *dups receives the rows collapsed.
 * 0 or -1 + err. */
int plm_embcache_merge(const char *out, plm_embcache **in, size_t nin,
		       uint64_t *dups, char *err, size_t errlen);

/* "layer 6 vs 5"-style comparison: NULL when a and b agree, else a static
 * description of the first difference (setting name, a's and b's value). */
const char *plm_embcache_cfg_diff(const plm_embcache_cfg *a,
				  const plm_embcache_cfg *b, char *buf,
				  size_t len);

#endif
