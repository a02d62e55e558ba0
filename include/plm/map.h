/* map.h — hash tables used across the tools.
 *
 * plm_strmap: byte-string keys → uint64_t values.  Keys are copied into an
 * arena the map owns.  Iteration is in insertion order (index 0..size-1),
 * so output built from a map is deterministic.  Open addressing with
 * linear probing over 32-bit entry indices; entries hold the key's 64-bit
 * hash, so probes rarely touch key bytes.  Memory: about 24 bytes per key
 * plus the key bytes, plus 8 bytes per slot (load ≤ 0.75).
 *
 * The set of 128-bit hashes, plm_h128set, has its own header, h128set.h. */
#ifndef PLM_MAP_H
#define PLM_MAP_H

#include <stddef.h>
#include <stdint.h>

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

#endif
