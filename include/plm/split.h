/* split.h — seeded, input-order-independent split assignment and the
 * hash-locked split manifest (strat-split, pair-make, leak-check).
 *
 * Assignment (plm_split_assign): items are records, or whole groups with a
 * weight (their record count).  Each item has a stratum.  Within a stratum,
 * items are ordered by plm_split_order(seed, key) (ties by key bytes), never
 * by arrival; integer targets per split are the largest-remainder quotas of
 * the stratum's total weight; each item in that order goes to the split with
 * the largest remaining deficit (target − assigned; ties to the split listed
 * first).  With unit weights every split gets exactly its quota, so counts
 * are within ±1 of ratio × stratum size.
 *
 * Manifest (text, one line per record, sorted by id bytes):
 *   #plm-split-manifest<TAB>2
 *   #<key><TAB><value>          the recipe (seed, ratios, then, by, group,
 *                               import, input), in the digest
 *   id<TAB>seq_hash<TAB>split   column line
 *   <id><TAB><32 hex><TAB><split>   ids escaped as in plm TSV (\t \n \r \\)
 *   #digest<TAB><32 hex>        XXH3-128 (seed 0) of the bytes of the recipe
 *                               lines, then of all data lines, each with
 *                               its '\n', in file order
 * Version 1 (still read) wrote the same lines, its digest covering the
 * data lines only.  A manifest without the digest line, or whose digest
 * does not match, is refused. */
#ifndef PLM_SPLIT_H
#define PLM_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"
#include "plm/map.h"
#include "plm/stream.h"

typedef struct plm_ratios {
	size_t n;
	char **name;
	double *r;
} plm_ratios;

/* "train=0.8,val=0.1,test=0.1": names unique and non-empty, ratios in
 * [0,1], sum 1 ± 1e-9.  0, or -1 + err. */
int plm_ratios_parse(const char *spec, plm_ratios *out, char *err, size_t errlen);
void plm_ratios_free(plm_ratios *r);
/* Largest-remainder quotas q[0..r->n) of total, summing to total; ties in
 * the remainder go to the split listed first. */
void plm_split_quotas(uint64_t total, const plm_ratios *r, uint64_t *q);

/* XXH3-64 of key with the seed: the order of items within a stratum. */
uint64_t plm_split_order(uint64_t seed, const void *key, size_t n);

/* 16 bytes: everything else about an item (its key, weight and the split
 * it gets) is kept by the caller under the item's tag, so a split of
 * millions of records does not hold their keys twice. */
typedef struct plm_split_item {
	uint64_t order;        /* plm_split_order of the key */
	uint32_t stratum;
	uint32_t tag;          /* the caller's index of the item */
} plm_split_item;

/* The key bytes of item tag (the tie-break between equal orders). */
typedef const char *plm_split_key_fn(void *arg, uint32_t tag, size_t *len);

/* Assigns split[tag] for every item: weight[tag] is the item's record
 * count (weight NULL: 1 each); key is called only for items of equal
 * order.  The items array is reordered (sorted by stratum, then order,
 * then key).  0, or -1 when out of memory. */
int plm_split_assign(plm_split_item *items, size_t n, const uint32_t *weight,
		     plm_split_key_fn *key, void *arg, const plm_ratios *r,
		     uint32_t *split);

/* Text of a scalar value for use as a key (strata, groups): str as is, int
 * and bool in decimal, float as plm_fmt_f64.  Writes at most cap bytes into
 * buf, or points *out at the string bytes.  Returns the length, -1 for
 * vector types. */
long plm_val_key(const plm_val *v, enum plm_type t, char *buf, size_t cap,
		 const char **out);

/* ---- manifest --------------------------------------------------------- */

typedef struct plm_manifest {
	plm_strmap *ids;       /* id → index into the arrays below */
	plm_h128 *hash;
	uint32_t *split;       /* index into splits */
	size_t n, cap;
	plm_strmap *splits;    /* split name → index (insertion order) */
	char *info;            /* "#key\tvalue\n" lines (written / read) */
	size_t info_len;
	int version;           /* read: 1 or 2 (1: info not digested) */
	plm_h128 digest;       /* valid after write or read */
} plm_manifest;

int plm_manifest_init(plm_manifest *m);
void plm_manifest_free(plm_manifest *m);
/* Adds a record; -1 when the id is already present (*dup = 1) or out of
 * memory (*dup = 0). */
int plm_manifest_add(plm_manifest *m, const char *id, size_t idlen,
		     plm_h128 hash, const char *split, size_t splitlen,
		     int *dup);
/* Adds an informational "#key\tvalue" line (value escaped). */
int plm_manifest_info(plm_manifest *m, const char *key, const char *value);
/* Computes m->digest without writing. */
int plm_manifest_digest(plm_manifest *m);
/* XXH3-128 of the sorted data lines holding only the id and the columns
 * in cols (PLM_MCOL_HASH: the input digest "id\tseq_hash\n"; PLM_MCOL_SPLIT:
 * an assignment table "id\tsplit\n").  0, or -1 when out of memory. */
#define PLM_MCOL_HASH 1u
#define PLM_MCOL_SPLIT 2u
int plm_manifest_cols_digest(plm_manifest *m, unsigned cols, plm_h128 *out);
/* Writes the manifest to o (sorted) and sets m->digest.  -1 on a write
 * error or out of memory. */
int plm_manifest_write(plm_manifest *m, plm_out *o);
/* Reads and verifies a manifest.  0, or -1 + err ("path: line N: what"). */
int plm_manifest_read(plm_manifest *m, const char *path, char *err,
		      size_t errlen);
/* The same from in (not closed), named by plm_in_name(in). */
int plm_manifest_read_in(plm_manifest *m, plm_in *in, char *err,
			 size_t errlen);
/* Does in start with "#plm-split-manifest<TAB>" (nothing consumed)?  1, 0,
 * or -1 on a read error. */
int plm_manifest_sniff(plm_in *in);
/* A manifest read as a record stream (recin.c): the fields id, seq_hash,
 * split (all str) and the meta {"split_manifest": {"version", "digest",
 * "recipe": {key: value, ...}}} added to s.  0, or -1 + err. */
int plm_manifest_schema(const plm_manifest *m, plm_schema *s, char *err,
			size_t errlen);
/* Row i (file order) of a manifest read; hex holds the hash text. */
void plm_manifest_row(const plm_manifest *m, size_t i, char hex[33],
		      plm_val row[3]);
/* Value of an informational key read from a manifest (malloc'd, or NULL). */
char *plm_manifest_get_info(const plm_manifest *m, const char *key);

#endif
