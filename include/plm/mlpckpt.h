/* mlpckpt.h — the mlp-train checkpoint: one MessagePack map in one file
 * (written atomically), described in mlp-train(1):
 *
 *   "format": "plmkit-mlp"     the magic: anything else is not a checkpoint
 *   "version": 1
 *   "arch":   {"dims": [in, hidden..., out], "act", "head", "dropout"}
 *   "params": [bin, ...]       W0 b0 W1 b1 ..., f32 little-endian, W out×in
 *   "norm":   {"mean": bin, "std": bin} or nil (no standardisation)
 *   "labels": {"type": "int"|"str", "names": [str...], "pos": i or nil}
 *   "fields": {"x", "x_type", "y", "id", "split"}
 *   "args":   {name: str, ...}  resolved training settings
 *   "fit":    {"epochs": n, "best_epoch": n, "best_val_loss": x}
 *   "data":   {"train_rows", "val_rows", "train_digest", "val_digest",
 *              "train_ids": bin, "val_ids": bin,
 *              "split_digest": str or nil,  (strat-split's manifest
 *              digest from the input's meta.prov; nil when none)
 *              "seq_field": str or nil, "train_seqs": bin, "val_seqs": bin}
 *              (the sequence hashes of the train and val records, 16
 *              bytes each: hi then lo, u64 little-endian, sorted, unique;
 *              absent in checkpoints written before they were kept)
 *
 * Digests: XXH3-128 (32 hex digits, high half first) over the rows of a
 * split in input order, each row contributing u64le(len(id)) id
 * u64le(len(x)) x-bytes u64le(len(label)) label-text.  Id sets: XXH3-64
 * (plm_key_hash) of each id's text, sorted ascending, u64 little-endian. */
#ifndef PLM_MLPCKPT_H
#define PLM_MLPCKPT_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"
#include "plm/mlp.h"

typedef struct plm_mlpckpt {
	plm_mlp mlp;
	int label_str;             /* 1: str labels; 0: int (names = decimal) */
	uint32_t nclass;
	char **classes;            /* class names, index = output column */
	int pos;                   /* binary: class of the logit; else -1 */
	char *xfield, *xtype, *yfield, *idfield, *splitfield;
	size_t nargs;
	char **args;               /* 2 * nargs: name, value, ... */
	uint32_t epochs, best_epoch;
	double best_val_loss;      /* NAN when none */
	uint64_t train_rows, val_rows;
	plm_h128 train_digest, val_digest;
	uint64_t *train_ids, *val_ids;     /* sorted */
	size_t ntrain_ids, nval_ids;
	char split_digest[33];     /* "" when the input carried none */
	int has_seqs;              /* 0: an older checkpoint, no seq keys */
	char *seq_field;           /* NULL: the input had no sequence */
	plm_h128 *train_seqs, *val_seqs;   /* sorted, unique */
	size_t ntrain_seqs, nval_seqs;
} plm_mlpckpt;

/* Atomic write (io.h).  0, or -1 with err filled. */
int plm_mlpckpt_save(const plm_mlpckpt *c, const char *path, char *err,
		     size_t errlen);
/* Reads and validates a checkpoint (shapes, counts; every parameter and
 * norm.mean finite, every norm.std finite and > 0).  0, or -1 + err
 * ("PATH: checkpoint layer 2 of 3: weight W1[4][7] is not finite (nan)",
 * "PATH: checkpoint feature 5: norm.std is 0; it must be > 0"). */
int plm_mlpckpt_load(plm_mlpckpt *c, const char *path, char *err,
		     size_t errlen);
void plm_mlpckpt_free(plm_mlpckpt *c);
/* Is h one of the sorted ids[0..n)? */
int plm_id_in(const uint64_t *ids, size_t n, uint64_t h);
/* Sorts ids ascending (for the sets above). */
void plm_id_sort(uint64_t *ids, size_t n);
/* Sorts h ascending (hi, then lo) and drops repeats; the new count. */
size_t plm_h128_sort_unique(plm_h128 *h, size_t n);
/* Is h one of the sorted hs[0..n)? */
int plm_h128_in(const plm_h128 *hs, size_t n, plm_h128 h);

#endif
