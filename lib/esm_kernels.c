/* esm_kernels.c — the element-wise steps of the ESM-2 forward pass:
 * LayerNorm, bias + erf GELU, and the fused attention (esm_attn.h).
 *
 * The bodies (esm_kernels.h) use GCC/Clang vector extensions (16 floats),
 * so they are vectorised whatever the optimisation level.  They are
 * compiled once per instruction set (AVX-512, AVX2+FMA, baseline) and the
 * best one the CPU runs is picked at first use.  exp and erfc are
 * polynomial, accurate to about 1e-7 relative: the GELU of a float32
 * model matches transformers' float64 outputs to ~1e-7 (t-esm). */
#include "esm_impl.h"
#include "plm/gemm.h"
#include "plm/isa.h"

#include <math.h>
#include <string.h>

/* The helpers take 64-byte vectors by value; they are static inline, so
 * the ABI note GCC gives for that does not apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define W 16
typedef float vf __attribute__((vector_size(W * 4)));
typedef int vi __attribute__((vector_size(W * 4)));
typedef double vd __attribute__((vector_size(W / 2 * 8)));
typedef float vh __attribute__((vector_size(W / 2 * 4)));

#define K(name) name##_base
#include "esm_kernels.h"
#define AT_R 1
#define AT_NJ 2
#define AT_DT 2
#include "esm_attn.h"
#undef AT_R
#undef AT_NJ
#undef AT_DT
#undef K

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_ISA 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define K(name) name##_avx2
#include "esm_kernels.h"
/* 16 ymm registers: 4 x 1 accumulators of 2 ymm each */
#define AT_R 1
#define AT_NJ 4
#define AT_DT 4
#include "esm_attn.h"
#undef AT_R
#undef AT_NJ
#undef AT_DT
#undef K
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")
#define K(name) name##_avx512
#include "esm_kernels.h"
/* 32 zmm registers: 8 x 2 accumulators, operands, broadcasts */
#define AT_R 2
#define AT_NJ 8
#define AT_DT 8
#include "esm_attn.h"
#undef AT_R
#undef AT_NJ
#undef AT_DT
#undef K
#pragma GCC pop_options
#endif

typedef struct {
	const char *name;
	void (*layernorm)(float *, const float *, const float *,
			  const float *, size_t, int, float);
	void (*bias_gelu)(float *, const float *, size_t, int);
	void (*attention)(const plm_esmk_attn *, int, size_t, size_t, float *);
} kernset;

#define KERNSET(isa) { #isa, layernorm_##isa, bias_gelu_##isa, attention_##isa }
static const kernset kernsets[] = {
	KERNSET(base),
#ifdef HAVE_ISA
	KERNSET(avx2),
	KERNSET(avx512),
#endif
};
#undef KERNSET

static atomic_long sel = -1;

static const kernset *cur(void)
{
	return &kernsets[PLM_ISA_CURRENT(&sel, kernsets)];
}

void plm_esmk_init(void)
{
	(void)cur();
}

int plm_esmk_select(const char *isa)
{
	return PLM_ISA_FORCE(&sel, kernsets, isa);
}

void plm_esmk_layernorm(float *out, const float *in, const float *w,
			const float *b, size_t rows, int H, float eps)
{
	cur()->layernorm(out, in, w, b, rows, H, eps);
}

void plm_esmk_bias_gelu(float *x, const float *b, size_t rows, int n)
{
	cur()->bias_gelu(x, b, rows, n);
}

/* The largest tile (AT_R 2: 32 query rows) of every instruction set:
 * qt, acc and a block of scores, then k; 64 floats of slack for
 * alignment. */
size_t plm_esmk_attn_scratch(size_t L, int hd)
{
	const size_t n = 2 * W;
	return 2 * (size_t)hd * n + PLM_ESMK_KBLOCK * n + L * (size_t)hd + 64;
}

void plm_esmk_attention(const plm_esmk_attn *a, int h, size_t i0, size_t i1,
			float *scratch)
{
	cur()->attention(a, h, i0, i1, scratch);
}
