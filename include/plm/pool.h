/* pool.h — a small fork-join thread pool for the matrix products,
 * attention and element-wise steps of the ESM forward pass and of MLP
 * training.
 *
 * plm_pool_run calls fn(arg, lo, hi) on up to `parts` contiguous parts of
 * [0, len), the caller doing the first, and returns when all are done.
 * Parts depend only on len and parts, so results that depend on the split
 * are reproducible.  A pool of one thread (or a NULL pool) runs
 * fn(arg, 0, len) on the caller. */
#ifndef PLM_POOL_H
#define PLM_POOL_H

#include <stddef.h>

typedef struct plm_pool plm_pool;

plm_pool *plm_pool_new(int n);   /* n threads including the caller */
void plm_pool_free(plm_pool *p);
int plm_pool_threads(const plm_pool *p);
void plm_pool_run(plm_pool *p, int parts, void (*fn)(void *, size_t, size_t),
		  void *arg, size_t len);
/* The same, fn also getting the part's index (0 .. parts - 1), e.g. for
 * per-thread scratch. */
void plm_pool_run_idx(plm_pool *p, int parts,
		      void (*fn)(void *, size_t, size_t, int), void *arg,
		      size_t len);

#endif
