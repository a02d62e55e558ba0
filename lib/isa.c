/* isa.c — the instruction sets of include/plm/isa.h. */
#include "plm/isa.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86 1
#endif

static const struct {
	const char *name;
	int level;
} sets[] = {
	{ "base", 0 },
	{ "avx2", 1 },
	{ "avx512", 2 },
	{ "avx512bf16", 2 },
};

static int level_of(const char *isa)
{
	for (size_t i = 0; i < sizeof sets / sizeof *sets; i++)
		if (!strcmp(isa, sets[i].name))
			return sets[i].level;
	return -1;
}

/* __builtin_cpu_supports takes string literals only: one test per set. */
int plm_cpu_has(const char *isa)
{
	if (!strcmp(isa, "base"))
		return 1;
#ifdef HAVE_X86
	__builtin_cpu_init();
	int avx2 = __builtin_cpu_supports("avx2") &&
		   __builtin_cpu_supports("fma");
	if (!strcmp(isa, "avx2"))
		return avx2;
	if (!strcmp(isa, "avx512"))
		return avx2 && __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512dq") &&
		       __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl");
	if (!strcmp(isa, "avx512bf16"))
		return __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512bf16");
#endif
	return 0;
}

int plm_isa_allowed(const char *isa)
{
	const char *cap = getenv("PLM_ISA");
	int c = cap ? level_of(cap) : -1, l = level_of(isa);
	if (c < 0)
		c = 2;
	return l >= 0 && l <= c;
}

static const char *name_at(const char *const *first, size_t i, size_t stride)
{
	return *(const char *const *)((const char *)first + i * stride);
}

static size_t best(const char *const *first, size_t n, size_t stride)
{
	size_t best = 0;
	for (size_t i = 1; i < n; i++) {
		const char *s = name_at(first, i, stride);
		if (plm_cpu_has(s) && plm_isa_allowed(s))
			best = i;
	}
	return best;
}

static long find(const char *const *first, size_t n, size_t stride,
		const char *isa)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name_at(first, i, stride), isa))
			return plm_cpu_has(isa) ? (long)i : -1;
	return -1;
}

size_t plm_isa_current(atomic_long *sel, const char *const *first, size_t n,
		       size_t stride)
{
	long i = atomic_load(sel);
	if (i < 0) {
		/* a race picks the same entry twice */
		i = (long)best(first, n, stride);
		atomic_store(sel, i);
	}
	return (size_t)i;
}

int plm_isa_force(atomic_long *sel, const char *const *first, size_t n,
		  size_t stride, const char *isa)
{
	long i = find(first, n, stride, isa);
	if (i < 0)
		return -1;
	atomic_store(sel, i);
	return 0;
}
