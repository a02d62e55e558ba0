/* h128set.h — a set of 128-bit sequence hashes (hash.h) with a uint32_t
 * payload per key (a split index, a count; 0 if unused): the dedup and
 * manifest workhorse.
 *
 * Memory is at most 32 bytes per key plus a constant, also while a table
 * grows (see lib/h128set.c for how growth keeps that bound).  The set owns
 * all its memory; plm_h128set_free releases it. */
#ifndef PLM_H128SET_H
#define PLM_H128SET_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"

typedef struct plm_h128set plm_h128set;

/* expect: expected number of keys (0 if unknown) to size the table once.
 * NULL when out of memory. */
plm_h128set *plm_h128set_new(size_t expect);
void plm_h128set_free(plm_h128set *s);
/* Insert; returns 1 if added, 0 if already present, -1 out of memory.
 * The payload slot of the key (new or existing) is stored in *val if val
 * is not NULL; valid until the next insert. */
int plm_h128set_add(plm_h128set *s, plm_h128 h, uint32_t **val);
/* Payload slot of h, or NULL when absent; valid until the next insert. */
uint32_t *plm_h128set_get(const plm_h128set *s, plm_h128 h);
/* A hint: start loading the slots where h would be probed, so that an
 * add or get for h a few hundred nanoseconds later finds them in cache
 * (callers batch keys: compute K hashes, prefetch K, then add K). */
void plm_h128set_prefetch(const plm_h128set *s, plm_h128 h);
size_t plm_h128set_size(const plm_h128set *s);
/* Bytes allocated (for the man page's memory statement and tests). */
size_t plm_h128set_bytes(const plm_h128set *s);

#endif
