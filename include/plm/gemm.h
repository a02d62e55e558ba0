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
#include <stdint.h>

#include "plm/float.h"
#include "plm/pool.h"

void plm_gemm(plm_pool *pool, size_t M, size_t N, size_t K,
	      const float *A, size_t a_rs, size_t a_cs,
	      const float *B, size_t b_rs, size_t b_cs,
	      float *C, size_t ldc);

/* The same product with B pre-packed once (a model's weight), B [N, K]
 * row-major: plm_gemm_pw_pack writes it into plm_gemm_pw_size(N, K)
 * floats at dst (64-byte aligned for speed), in a layout every kernel
 * reads, so plm_gemm_select may change the kernel after packing;
 * plm_gemm_pw_unpack writes the rows back.  plm_gemm_pw gives the same
 * bits as plm_gemm on the unpacked B: only the packing work differs (none
 * for B, A packed once per call).  dst and B must not overlap. */
#define PLM_GEMM_PW_NR 32
size_t plm_gemm_pw_size(size_t N, size_t K);
/* An epilogue, given to the pre-packed products: fn is called once for
 * each finished block of C (rows row0 .. row0+m, columns col0 .. col0+n,
 * at c = &C[row0, col0]) right after its last k slice, while it is still
 * in cache, on the thread that computed it; blocks are disjoint and
 * cover C.  (A bias and activation, a residual add: elementwise steps
 * give the same bits as a pass over C afterwards.) */
typedef struct {
	void (*fn)(void *arg, float *c, size_t ldc, size_t row0, size_t m,
		   size_t col0, size_t n);
	void *arg;
} plm_gemm_epi;
void plm_gemm_pw_pack(float *dst, const float *B, size_t ldb, size_t N,
		      size_t K);
void plm_gemm_pw_unpack(float *B, size_t ldb, const float *src, size_t N,
			size_t K);
void plm_gemm_pw(plm_pool *pool, size_t M, size_t N, size_t K,
		 const float *A, size_t lda, const float *Bp, float *C,
		 size_t ldc, const plm_gemm_epi *epi);

/* The kernel in use: "avx512", "avx2" or "base". */
const char *plm_gemm_isa(void);
/* Forces a kernel (tests, benchmarks); -1 if the build or the CPU lacks
 * it.  Not thread-safe against running products. */
int plm_gemm_select(const char *isa);


/* ---- bfloat16 inputs, float32 accumulation (gemm_bf16.c) ----
 *
 *   C[i, n] = the chain over pairs p = 0 .. ceil(K/2)-1 of
 *             c = fma(a(2p+1), b(2p+1), c);  c = fma(a(2p), b(2p), c)
 *
 * from c = +0, where a(k) = bf16(A(i, k)) (A is float32, rounded to
 * bfloat16 to nearest even when packed), b(k) = B[n * ldb + k] (already
 * bfloat16), a missing a(K), b(K) for odd K is 0, bfloat16 subnormal
 * inputs count as zero and a subnormal c after each fma becomes a zero of
 * its sign.  Both products are exact in float32, so this is exactly what
 * AVX512-BF16's vdpbf16ps does per lane (Intel's pseudo-code: the odd
 * element first, round to nearest even per addition, DAZ and FTZ); the
 * portable kernel computes the same chain with fmaf and gives identical
 * bits.  As for plm_gemm, an element's bits depend only on row i of A and
 * row n of B: not on M, N, blocking, threads or kernel. */
typedef uint16_t plm_bf16;      /* plm_f32_to_bf16, plm_bf16_to_f32: float.h */

void plm_gemm_bf16(plm_pool *pool, size_t M, size_t N, size_t K,
		   const float *A, size_t lda, const plm_bf16 *B, size_t ldb,
		   float *C, size_t ldc);

/* B pre-packed, as plm_gemm_pw (epilogue included):
 * plm_gemm_bf16_pw_size(N, K) 32-bit words (pairs of bfloat16) at dst,
 * 64-byte aligned for speed. */
size_t plm_gemm_bf16_pw_size(size_t N, size_t K);
void plm_gemm_bf16_pw_pack(uint32_t *dst, const plm_bf16 *B, size_t ldb,
			   size_t N, size_t K);
void plm_gemm_bf16_pw(plm_pool *pool, size_t M, size_t N, size_t K,
		      const float *A, size_t lda, const uint32_t *Bp,
		      float *C, size_t ldc, const plm_gemm_epi *epi);

/* One step of the chain above (the reference the kernels are tested
 * against): returns c after the pair (a0, b0), (a1, b1). */
float plm_bf16_dot2(float c, plm_bf16 a0, plm_bf16 a1, plm_bf16 b0,
		    plm_bf16 b1);

/* The bf16 kernel in use: "avx512bf16" or "base"; plm_gemm_bf16_select
 * forces one (-1 if the build or CPU lacks it).  PLM_ISA below avx512
 * keeps the AVX512-BF16 kernel off. */
const char *plm_gemm_bf16_isa(void);
int plm_gemm_bf16_select(const char *isa);

#endif
