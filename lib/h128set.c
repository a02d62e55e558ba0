/* h128set.c — a set of 128-bit hashes with a uint32_t payload per key.
 *
 * Memory bound (h128set.h promises at most 32 bytes per key plus a constant,
 * including the moment a table grows):
 *
 *   - A slot is 20 bytes: the 16-byte key in one array, the 4-byte payload
 *     in a parallel array (one allocation per table).  The all-zero key
 *     marks an empty slot; the real key {0,0} is kept beside the tables.
 *   - The set is split into NSUB = 256 independent open-addressing tables
 *     chosen by the top 8 bits of hi.  Each grows on its own, so while one
 *     table is rehashed only that table exists twice: the transient extra is
 *     1/256 of the set, not the whole set as with one big table.
 *   - A table grows when its load would pass 0.8, to the capacity that puts
 *     the load at 0.64 (factor 1.25, capacities not powers of two: the slot
 *     is found by "fastrange", (h32 * cap) >> 32, not by masking).  So every
 *     table stays between load 0.64 and 0.8: at most 20 / 0.64 = 31.25
 *     bytes per key, plus under 0.15 bytes per key for the one table being
 *     rehashed, plus rounding (20 bytes per table) — within 32.
 *   - Tables of 16 KiB or more are mmap'ed directly: freed memory goes back
 *     to the system at once, and malloc's heap cannot keep old tables
 *     resident (with malloc, 2 million keys measured 35 bytes per key of
 *     RSS), so peak RSS matches plm_h128set_bytes().  Page rounding costs
 *     at most 4 KiB per table, 1 MiB in all: part of the constant.
 *
 *   - Growing a mapped table keeps its pages: the slots are copied to a
 *     scratch buffer (the size of the largest table, 1/256 of the set,
 *     reused by every table), the mapping is extended with mremap(2) and
 *     cleared, and the keys are reinserted.  Only the extension is fresh
 *     memory, so growing to N keys faults in about the final size once
 *     instead of the sum of every intermediate table (five times the final
 *     size at factor 1.25): 2 million keys took 119,000 page faults with
 *     a new table per growth, 24,000 this way.  The scratch buffer counts
 *     in plm_h128set_bytes(): at most 31.25 / 256 bytes per key.
 *
 * Linear probing: at load <= 0.8 an insert scans about 13 slots on average
 * (16 bytes each, consecutive), a hit about 3. */
#define _GNU_SOURCE     /* mremap */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "plm/h128set.h"

#define NSUB_BITS 8
#define NSUB (1u << NSUB_BITS)
#define MIN_CAP 8
#define MMAP_MIN ((size_t)16 << 10)

struct sub {
	plm_h128 *key;          /* cap keys, then cap uint32_t payloads */
	uint32_t *val;
	uint32_t cap, n;
};

struct plm_h128set {
	struct sub t[NSUB];
	size_t n;               /* keys in all tables, zero key included */
	int has_zero;
	uint32_t zero_val;
	void *scratch;          /* growth: the old slots of one table */
	size_t scratch_bytes;
};

static size_t table_bytes(uint32_t cap)
{
	return (size_t)cap * (sizeof(plm_h128) + sizeof(uint32_t));
}

/* Zeroed memory for a table; NULL when out of memory. */
static void *table_alloc(size_t bytes)
{
	if (bytes < MMAP_MIN)
		return calloc(1, bytes);
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void table_free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < MMAP_MIN)
		free(p);
	else
		munmap(p, bytes);
}

static inline int is_empty(const plm_h128 *k)
{
	return (k->hi | k->lo) == 0;
}

static inline uint32_t home(plm_h128 h, uint32_t cap)
{
	return (uint32_t)(((h.lo >> 32) * (uint64_t)cap) >> 32);
}

static inline struct sub *sub_of(const plm_h128set *s, plm_h128 h)
{
	return (struct sub *)&s->t[h.hi >> (64 - NSUB_BITS)];
}

/* Slot of h in t, or of the empty slot where it would go. */
static inline uint32_t probe(const struct sub *t, plm_h128 h)
{
	uint32_t i = home(h, t->cap);
	for (;;) {
		const plm_h128 *k = &t->key[i];
		if (is_empty(k) || (k->hi == h.hi && k->lo == h.lo))
			return i;
		if (++i == t->cap)
			i = 0;
	}
}

/* Reinserts the cap slots at key/val (distinct keys) into nt. */
static void reinsert(struct sub *nt, const plm_h128 *key, const uint32_t *val,
		     uint32_t cap)
{
	for (uint32_t i = 0; i < cap; i++) {
		if (is_empty(&key[i]))
			continue;
		uint32_t j = probe(nt, key[i]);
		nt->key[j] = key[i];
		nt->val[j] = val[i];
	}
}

#ifdef MREMAP_MAYMOVE
/* Grows a mapped table in place (see the top of the file); -1 when out of
 * memory, the table unchanged. */
static int sub_grow_mapped(plm_h128set *s, struct sub *t, uint32_t cap)
{
	size_t ob = table_bytes(t->cap), nb = table_bytes(cap);
	if (ob > s->scratch_bytes) {
		void *p = s->scratch ?
			mremap(s->scratch, s->scratch_bytes, ob, MREMAP_MAYMOVE) :
			mmap(NULL, ob, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		s->scratch = p;
		s->scratch_bytes = ob;
	}
	memcpy(s->scratch, t->key, ob);
	void *mem = mremap(t->key, ob, nb, MREMAP_MAYMOVE);
	if (mem == MAP_FAILED)
		return -1;
	memset(mem, 0, ob);     /* the extension is fresh zero pages already */
	struct sub nt = { mem, (uint32_t *)((plm_h128 *)mem + cap), cap, t->n };
	const plm_h128 *ok = s->scratch;
	reinsert(&nt, ok, (const uint32_t *)(ok + t->cap), t->cap);
	*t = nt;
	return 0;
}
#endif

static int sub_resize(plm_h128set *s, struct sub *t, uint32_t cap)
{
#ifdef MREMAP_MAYMOVE
	if (table_bytes(t->cap) >= MMAP_MIN && cap > t->cap)
		return sub_grow_mapped(s, t, cap);
#else
	(void)s;
#endif
	void *mem = table_alloc(table_bytes(cap));
	if (!mem)
		return -1;
	struct sub nt = { mem, (uint32_t *)((plm_h128 *)mem + cap), cap, t->n };
	reinsert(&nt, t->key, t->val, t->cap);
	table_free(t->key, table_bytes(t->cap));
	*t = nt;
	return 0;
}

/* Capacity for n keys at load 0.64 (n * 25 / 16), at least MIN_CAP; 0 when
 * it does not fit in 32 bits. */
static uint32_t cap_for(uint64_t n)
{
	uint64_t c = (n * 25 + 15) / 16;
	if (c < MIN_CAP)
		c = MIN_CAP;
	return c > UINT32_MAX ? 0 : (uint32_t)c;
}

plm_h128set *plm_h128set_new(size_t expect)
{
	plm_h128set *s = calloc(1, sizeof *s);
	if (!s || !expect)
		return s;
	/* Per table: its share plus three standard deviations, at load 0.8
	 * so that a table grows only when the estimate was low. */
	double share = (double)expect / NSUB;
	double want = share + 3 * sqrt(share) + MIN_CAP;
	uint64_t cap = (uint64_t)(want / 0.8) + 1;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	for (unsigned i = 0; i < NSUB; i++) {
		if (sub_resize(s, &s->t[i], (uint32_t)cap)) {
			plm_h128set_free(s);
			return NULL;
		}
	}
	return s;
}

void plm_h128set_free(plm_h128set *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < NSUB; i++)
		table_free(s->t[i].key, table_bytes(s->t[i].cap));
	if (s->scratch)
		munmap(s->scratch, s->scratch_bytes);
	free(s);
}

int plm_h128set_add(plm_h128set *s, plm_h128 h, uint32_t **val)
{
	if ((h.hi | h.lo) == 0) {
		int added = !s->has_zero;
		if (added) {
			s->has_zero = 1;
			s->zero_val = 0;
			s->n++;
		}
		if (val)
			*val = &s->zero_val;
		return added;
	}
	struct sub *t = sub_of(s, h);
	if (t->cap) {
		uint32_t i = probe(t, h);
		if (!is_empty(&t->key[i])) {
			if (val)
				*val = &t->val[i];
			return 0;
		}
	}
	/* Absent: grow first if one more key would pass load 0.8. */
	if ((uint64_t)(t->n + 1) * 5 > (uint64_t)t->cap * 4) {
		uint32_t cap = cap_for((uint64_t)t->n + 1);
		if (!cap || sub_resize(s, t, cap))
			return -1;
	}
	uint32_t i = probe(t, h);
	/* No deletions: an empty slot's payload is still the 0 the table was
	 * allocated with, so the payload's cache line is not touched here. */
	t->key[i] = h;
	t->n++;
	s->n++;
	if (val)
		*val = &t->val[i];
	return 1;
}

uint32_t *plm_h128set_get(const plm_h128set *s, plm_h128 h)
{
	if ((h.hi | h.lo) == 0)
		return s->has_zero ? (uint32_t *)&s->zero_val : NULL;
	const struct sub *t = sub_of(s, h);
	if (!t->cap)
		return NULL;
	uint32_t i = probe(t, h);
	return is_empty(&t->key[i]) ? NULL : &t->val[i];
}

void plm_h128set_prefetch(const plm_h128set *s, plm_h128 h)
{
	const struct sub *t = sub_of(s, h);
	if (!t->cap)
		return;
	/* The home slot's line and the next: a miss probes ~4-13 slots of
	 * 16 bytes, a hit ~3, so most probes end within these two. */
	const char *k = (const char *)&t->key[home(h, t->cap)];
	__builtin_prefetch(k);
	__builtin_prefetch(k + 64);
}

size_t plm_h128set_size(const plm_h128set *s)
{
	return s->n;
}

size_t plm_h128set_bytes(const plm_h128set *s)
{
	size_t b = sizeof *s + s->scratch_bytes;
	for (unsigned i = 0; i < NSUB; i++)
		b += table_bytes(s->t[i].cap);
	return b;
}
