/* hash.h — hashes with fixed, documented definitions: they end up in
 * manifests and shard assignments, so they must never change.
 *
 *   plm_key_hash   XXH3_64bits(key, seed 0): shards (--shard K/N, rec-shard)
 *   plm_seq_hash   XXH3_128bits(seq, seed 0): sequence identity (dedup,
 *                  caches, split manifests); printed as 32 hex digits,
 *                  high 64 bits first. */
#ifndef PLM_HASH_H
#define PLM_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_h128 {
	uint64_t hi, lo;
} plm_h128;

uint64_t plm_key_hash(const void *p, size_t n);
plm_h128 plm_seq_hash(const void *p, size_t n);
/* 32 lower-case hex digits + NUL into buf[33]. */
char *plm_h128_hex(plm_h128 h, char buf[33]);
/* Parses 32 hex digits; 0 ok, -1 not. */
int plm_h128_parse(const char *s, size_t n, plm_h128 *h);

#endif
