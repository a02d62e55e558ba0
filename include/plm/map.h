/* map.h — hash tables used across the tools.
 *
 * plm_strmap: byte-string keys → uint64_t values.  Keys are copied into an
 * arena the map owns.  Iteration is in insertion order (index 0..size-1),
 * so output built from a map is deterministic.  Open addressing with
 * linear probing over 32-bit entry indices; entries hold the key's 64-bit
 * hash, so probes rarely touch key bytes.  Memory: about 24 bytes per key
 * plus the key bytes, plus 8 bytes per slot (load ≤ 0.75).
 *
 * plm_h128set: a set of 128-bit sequence hashes (hash.h) with a uint32_t
 * payload per key (a split index, a count; 0 if unused) — the dedup and
 * manifest workhorse.  Memory is at most 32 bytes per key plus a constant
 * (see lib/h128set.c for how growth keeps that bound). */
#ifndef PLM_MAP_H
#define PLM_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"

typedef struct plm_strmap plm_strmap;

plm_strmap *plm_strmap_new(void);
void plm_strmap_free(plm_strmap *m);
/* The value slot for key, inserting it (value 0, *added = 1) if absent.
 * NULL when out of memory.  The pointer is valid until the next put. */
uint64_t *plm_strmap_put(plm_strmap *m, const void *key, size_t n, int *added);
/* The value slot, or NULL if absent. */
uint64_t *plm_strmap_get(const plm_strmap *m, const void *key, size_t n);
/* Insertion index of key, or -1. */
long plm_strmap_index(const plm_strmap *m, const void *key, size_t n);
size_t plm_strmap_size(const plm_strmap *m);
/* The i-th inserted key (NUL-terminated; length in *n if n) and value. */
const char *plm_strmap_key(const plm_strmap *m, size_t i, size_t *n);
uint64_t *plm_strmap_val(plm_strmap *m, size_t i);

typedef struct plm_h128set plm_h128set;

/* expect: expected number of keys (0 if unknown) to size the table once. */
plm_h128set *plm_h128set_new(size_t expect);
void plm_h128set_free(plm_h128set *s);
/* Insert; returns 1 if added, 0 if already present, -1 out of memory.
 * The payload slot of the key (new or existing) is stored in *val if val
 * is not NULL; valid until the next insert. */
int plm_h128set_add(plm_h128set *s, plm_h128 h, uint32_t **val);
/* Payload slot of h, or NULL when absent. */
uint32_t *plm_h128set_get(const plm_h128set *s, plm_h128 h);
/* A hint: start loading the slots where h would be probed, so that an
 * add or get for h a few hundred nanoseconds later finds them in cache
 * (callers batch keys: compute K hashes, prefetch K, then add K). */
void plm_h128set_prefetch(const plm_h128set *s, plm_h128 h);
size_t plm_h128set_size(const plm_h128set *s);
/* Bytes allocated (for the man page's memory statement and tests). */
size_t plm_h128set_bytes(const plm_h128set *s);

#endif
