/* gemm_impl.h — what gemm.c and gemm_bf16.c share: how a product is cut
 * across threads, and the empty product.  Not a public header. */
#ifndef PLM_GEMM_IMPL_H
#define PLM_GEMM_IMPL_H

#include <string.h>

#include "plm/gemm.h"
#include "plm/pool.h"

/* Runs part(job, lo, hi) over the mp row panels, or over the np column
 * panels when there are too few rows to share (*split_n = 1, set before
 * any part runs), on the pool's threads; fewer threads for a small
 * product (work below ~1 MFLOP per thread is not worth a fork). */
static inline void plm_gemm_fork(plm_pool *pool, size_t M, size_t N, size_t K,
				 size_t mp, size_t np,
				 void (*part)(void *, size_t, size_t), void *job,
				 int *split_n)
{
	int t = pool ? plm_pool_threads(pool) : 1;
	size_t fl = M * N * K;
	if ((size_t)t > fl / 500000 + 1)
		t = (int)(fl / 500000 + 1);
	*split_n = 0;
	if (t <= 1) {
		part(job, 0, mp);
		return;
	}
	*split_n = mp < 4 * (size_t)t && np > mp;
	size_t len = *split_n ? np : mp;
	plm_pool_run(pool, t < (int)len ? t : (int)len, part, job, len);
}

/* The rows [i0, i1) and columns [n0, n1) of part [lo, hi) of a product
 * cut by plm_gemm_fork: panels of mr rows, or of nr columns when split_n. */
static inline void plm_gemm_range(int split_n, size_t lo, size_t hi,
				  size_t mr, size_t nr, size_t M, size_t N,
				  size_t *i0, size_t *i1, size_t *n0, size_t *n1)
{
	*i0 = 0, *i1 = M, *n0 = 0, *n1 = N;
	if (split_n) {
		*n0 = lo * nr;
		*n1 = hi * nr < N ? hi * nr : N;
	} else {
		*i0 = lo * mr;
		*i1 = hi * mr < M ? hi * mr : M;
	}
}

/* K = 0: C is zeros (and the epilogue, if any, sees it). */
static inline void plm_gemm_empty(size_t M, size_t N, float *C, size_t ldc,
				  const plm_gemm_epi *epi)
{
	for (size_t i = 0; i < M; i++)
		memset(C + i * ldc, 0, N * sizeof *C);
	if (epi)
		epi->fn(epi->arg, C, ldc, 0, M, 0, N);
}

#endif
