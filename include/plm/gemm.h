/* gemm.h — single-precision matrix product with an owned reduction order.
 *
 *   C[i, n] = sum over k = 0 .. K-1 of A(i, k) * B(n, k)
 *
 * Every element of C is one chain of fused multiply-adds, c = fma(A(i,k),
 * B(n,k), c) for k = 0, 1, .., K-1 in that order, starting from c = +0.
 * Nothing else enters an element's arithmetic, so the bits of C[i, n]
 * depend only on row i of A and row n of B: not on M or N, not on where
 * the row sits in A, not on the blocking, the number of threads, or the
 * instruction set (the AVX-512, AVX2 and portable kernels give identical
 * bits; the portable one calls fmaf).  This is what makes the ESM forward
 * pass and MLP training bitwise batch- and thread-invariant.
 *
 * A and B are strided views: A(i, k) = A[i * a_rs + k * a_cs] and
 * B(n, k) = B[n * b_rs + k * b_cs], so a PyTorch Linear weight [N, K] is
 * B with b_rs = K, b_cs = 1, and a transposed operand is a swap of the
 * strides.  C is row-major with leading dimension ldc and is overwritten.
 * With a pool of more than one thread the work is split across it. */
#ifndef PLM_GEMM_H
#define PLM_GEMM_H

#include <stddef.h>

#include "plm/pool.h"

void plm_gemm(plm_pool *pool, size_t M, size_t N, size_t K,
	      const float *A, size_t a_rs, size_t a_cs,
	      const float *B, size_t b_rs, size_t b_cs,
	      float *C, size_t ldc);

/* The kernel in use: "avx512", "avx2" or "base". */
const char *plm_gemm_isa(void);
/* Forces a kernel (tests, benchmarks); -1 if the build or the CPU lacks
 * it.  Not thread-safe against running products. */
int plm_gemm_select(const char *isa);

/* Whether plmkit's own kernels may use instruction set isa ("base",
 * "avx2", "avx512"): all of them unless the environment variable PLM_ISA
 * names a narrower one (PLM_ISA=avx2 keeps AVX-512 kernels off). */
int plm_isa_allowed(const char *isa);

#endif
