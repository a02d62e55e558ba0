/* alloc.c — growable arrays and allocation that dies on failure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"

void *plm_grow_(void *p, size_t *cap, size_t need, size_t elsize)
{
	size_t n = *cap > SIZE_MAX / 3 ? need : *cap + *cap / 2 + 16;
	if (n < need)
		n = need;
	if (elsize && n > SIZE_MAX / elsize) {
		n = need;
		if (n > SIZE_MAX / elsize)
			return p;
	}
	size_t bytes = n * elsize;
	void *q = realloc(p, bytes ? bytes : 1);
	if (!q)
		return p;
	*cap = n;
	return q;
}

void plm_freev(void *const *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(p[i]);
}

void plm_oom(void)
{
	plm_die("out of memory");
}

void *plm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		plm_oom();
	return p;
}

void *plm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		plm_oom();
	return p;
}

void *plm_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		plm_oom();
	return p;
}

char *plm_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(plm_xmalloc(n), s, n);
}
