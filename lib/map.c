/* map.c — plm_strmap: byte-string keys → uint64_t, insertion-ordered.
 *
 * Entries live in an array in insertion order (that is the iteration
 * order); the probe table holds 1-based entry indices (0 = empty slot), so
 * growing the table rehashes 4-byte slots, never moves keys.  Keys are
 * copied into an arena of large blocks so that the pointers handed out by
 * plm_strmap_key stay valid for the life of the map. */
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/hash.h"
#include "plm/map.h"

struct entry {
	uint64_t hash;
	uint64_t val;
	const char *key;
	size_t len;
};

struct block {
	struct block *next;
	size_t used, cap;
	char data[];
};

struct plm_strmap {
	struct entry *e;
	size_t n, cap;          /* entries */
	uint32_t *slot;
	size_t mask;            /* slots - 1 (power of two) */
	struct block *arena;
};

plm_strmap *plm_strmap_new(void)
{
	plm_strmap *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->mask = 15;
	m->slot = calloc(m->mask + 1, sizeof *m->slot);
	if (!m->slot) {
		free(m);
		return NULL;
	}
	return m;
}

void plm_strmap_free(plm_strmap *m)
{
	if (!m)
		return;
	for (struct block *b = m->arena, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(m->e);
	free(m->slot);
	free(m);
}

static const char *arena_copy(plm_strmap *m, const void *key, size_t n)
{
	struct block *b = m->arena;
	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > 65536 ? n + 1 : 65536;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = m->arena;
		m->arena = b;
	}
	char *p = b->data + b->used;
	memcpy(p, key, n);
	p[n] = 0;
	b->used += n + 1;
	return p;
}

/* Slot index holding key, or the empty slot where it would go. */
static size_t find_slot(const plm_strmap *m, uint64_t h, const void *key,
			size_t n)
{
	size_t i = h & m->mask;
	for (;;) {
		uint32_t s = m->slot[i];
		if (s == 0)
			return i;
		const struct entry *e = &m->e[s - 1];
		if (e->hash == h && e->len == n && memcmp(e->key, key, n) == 0)
			return i;
		i = (i + 1) & m->mask;
	}
}

static int grow_slots(plm_strmap *m)
{
	size_t nmask = 2 * m->mask + 1;
	uint32_t *ns = calloc(nmask + 1, sizeof *ns);
	if (!ns)
		return -1;
	for (size_t k = 0; k < m->n; k++) {
		size_t i = m->e[k].hash & nmask;
		while (ns[i])
			i = (i + 1) & nmask;
		ns[i] = (uint32_t)(k + 1);
	}
	free(m->slot);
	m->slot = ns;
	m->mask = nmask;
	return 0;
}

uint64_t *plm_strmap_put(plm_strmap *m, const void *key, size_t n, int *added)
{
	uint64_t h = plm_key_hash(key, n);
	size_t i = find_slot(m, h, key, n);
	if (added)
		*added = 0;
	if (m->slot[i])
		return &m->e[m->slot[i] - 1].val;
	if (m->n >= UINT32_MAX - 1)
		return NULL;
	if (PLM_GROW(m->e, m->cap, m->n + 1))
		return NULL;
	const char *copy = arena_copy(m, key, n);
	if (!copy)
		return NULL;
	m->e[m->n] = (struct entry){ h, 0, copy, n };
	m->slot[i] = (uint32_t)(++m->n);
	if (added)
		*added = 1;
	/* keep load ≤ 0.75 so probe runs stay short */
	if (m->n * 4 > (m->mask + 1) * 3 && grow_slots(m) != 0) {
		m->slot[i] = 0;
		m->n--;
		return NULL;
	}
	return &m->e[m->n - 1].val;
}

long plm_strmap_index(const plm_strmap *m, const void *key, size_t n)
{
	size_t i = find_slot(m, plm_key_hash(key, n), key, n);
	return m->slot[i] ? (long)m->slot[i] - 1 : -1;
}

uint64_t *plm_strmap_get(const plm_strmap *m, const void *key, size_t n)
{
	long k = plm_strmap_index(m, key, n);
	return k < 0 ? NULL : &m->e[k].val;
}

size_t plm_strmap_size(const plm_strmap *m)
{
	return m->n;
}

const char *plm_strmap_key(const plm_strmap *m, size_t i, size_t *n)
{
	if (n)
		*n = m->e[i].len;
	return m->e[i].key;
}

uint64_t *plm_strmap_val(plm_strmap *m, size_t i)
{
	return &m->e[i].val;
}
