/* alloc.h — growable arrays (git's ALLOC_GROW), written once.
 *
 *	T *v = NULL; size_t cap = 0, n = 0;
 *	if (PLM_GROW(v, cap, n + 1))       // lib/: -1 on out of memory
 *		return -1;
 *	v[n++] = x;
 *
 *	PLM_XGROW(v, cap, n + 1);          // cmd/: dies "out of memory"
 *
 * PLM_GROW makes room for `need` elements of *p, where cap counts the
 * elements allocated: nothing when need <= cap, else a realloc to at least
 * need and at least half as much again as cap (so n appends cost O(n)).
 * On failure (out of memory, or need * sizeof *p beyond SIZE_MAX) it
 * returns -1 with p and cap unchanged, still valid.  p and cap are
 * lvalues evaluated more than once; need may be evaluated more than once.
 *
 * plm_xmalloc, plm_xcalloc, plm_xrealloc and PLM_XGROW end the process on
 * failure (plm_die, cli.h), so they belong to cmd/ code; lib/ never exits. */
#ifndef PLM_ALLOC_H
#define PLM_ALLOC_H

#include <stddef.h>

/* The new block for PLM_GROW: p itself (and cap unchanged) on failure. */
void *plm_grow_(void *p, size_t *cap, size_t need, size_t elsize);

#define PLM_GROW(p, cap, need)                                             \
	((size_t)(need) <= (cap) ? 0 :                                     \
	 ((p) = plm_grow_((p), &(cap), (need), sizeof *(p)),               \
	  (size_t)(need) <= (cap) ? 0 : -1))

/* Ends the process with "TOOL: out of memory" (exit 1, temporaries
 * removed): the one exit path for allocation failure in cmd/ code. */
_Noreturn void plm_oom(void);

#define PLM_XGROW(p, cap, need)                                            \
	((void)(PLM_GROW(p, cap, need) ? (plm_oom(), 0) : 0))

/* Frees each pointer given (NULL ones too), in order:
 *	PLM_FREE(c->ids, c->buf, c);
 * for the destructors of structures that own several blocks. */
void plm_freev(void *const *p, size_t n);
#define PLM_FREE(...)                                                      \
	plm_freev((void *const[]){ __VA_ARGS__ },                          \
		  sizeof((void *const[]){ __VA_ARGS__ }) / sizeof(void *))

void *plm_xmalloc(size_t n);                 /* n == 0 gives a valid block */
void *plm_xcalloc(size_t n, size_t size);
void *plm_xrealloc(void *p, size_t n);
char *plm_xstrdup(const char *s);

#endif
