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
#include "plm/float.h"
#include "plm/isa.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#endif

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
typedef unsigned vu __attribute__((vector_size(W * 4)));

/* The bf16 pair step per lane (plm_bf16_dot2, exact): the portable
 * --precision bf16 attention. */
static inline vf dot2_base(vf c, vi a, vi b)
{
	for (int i = 0; i < W; i++)
		c[i] = plm_bf16_dot2(c[i], (plm_bf16)a[i],
				     (plm_bf16)((unsigned)a[i] >> 16),
				     (plm_bf16)b[i],
				     (plm_bf16)((unsigned)b[i] >> 16));
	return c;
}

static inline vf fma_base(vf a, vf b, vf c)
{
	for (int i = 0; i < W; i++)
		c[i] = fmaf(a[i], b[i], c[i]);
	return c;
}

#define K(name) name##_base
#include "esm_kernels.h"
#define AT_R 1
#define AT_NJ 2
#define AT_DT 2
#include "esm_attn.h"
#define DOT2 dot2_base
#define FMA fma_base
#include "esm_attn16.h"
#undef DOT2
#undef FMA
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

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,avx512bf16")
#define K(name) name##_avx512bf16
#define V(name) K(name)
#include "esm_vec.h"
#undef V
#define AT_R 2
#define AT_NJ 8
#define AT_DT 8
#define DOT2(c, a, b) ((vf)_mm512_dpbf16_ps((__m512)(c), (__m512bh)(a), \
					     (__m512bh)(b)))
#define FMA(a, b, c) ((vf)_mm512_fmadd_ps((__m512)(a), (__m512)(b), \
					   (__m512)(c)))
#include "esm_attn16.h"
#undef DOT2
#undef FMA
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
	void (*bias_gelu)(float *, size_t, const float *, size_t, int);
	void (*residual)(float *, size_t, const float *, size_t, const float *,
			 size_t, int);
	void (*attention)(const plm_esmk_attn *, int, size_t, size_t, float *);
} kernset;

#define KERNSET(isa) { #isa, layernorm_##isa, bias_gelu_##isa, \
		       residual_##isa, attention_##isa }
static const kernset kernsets[] = {
	KERNSET(base),
#ifdef HAVE_ISA
	KERNSET(avx2),
	KERNSET(avx512),
#endif
};
#undef KERNSET

static atomic_long sel = -1;

/* --precision bf16 attention: the same bits from both. */
typedef struct {
	const char *name;
	void (*attention)(const plm_esmk_attn *, int, size_t, size_t, float *);
	void (*bias_gelu)(float *, size_t, const float *, size_t, int);
} kernset16;

static const kernset16 kernsets16[] = {
	{ "base", attention16_base, bias_gelu16_base },
#ifdef HAVE_ISA
	{ "avx512bf16", attention16_avx512bf16, bias_gelu16_avx512bf16 },
#endif
};

static atomic_long sel16 = -1;

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

int plm_esmk_select16(const char *isa)
{
	return PLM_ISA_FORCE(&sel16, kernsets16, isa);
}

const char *plm_esmk_isa16(void)
{
	return kernsets16[PLM_ISA_CURRENT(&sel16, kernsets16)].name;
}

void plm_esmk_layernorm(float *out, const float *in, const float *w,
			const float *b, size_t rows, int H, float eps)
{
	cur()->layernorm(out, in, w, b, rows, H, eps);
}

void plm_esmk_bias_gelu(float *x, size_t ldx, const float *b, size_t rows,
			int n)
{
	cur()->bias_gelu(x, ldx, b, rows, n);
}

void plm_esmk_residual(float *x, size_t ldx, const float *y, size_t ldy,
		       const float *b, size_t rows, int n)
{
	cur()->residual(x, ldx, y, ldy, b, rows, n);
}

/* The largest tile (AT_R 2: 32 query rows) of every instruction set:
 * qt, acc and a block of scores, then k (float32: esm_attn.h; or q, acc,
 * scores, a block of bf16 weights, then k and v as pairs and a row:
 * esm_attn16.h); 64 floats of slack for alignment. */
size_t plm_esmk_attn_scratch(size_t L, int hd)
{
	const size_t n = 2 * W;
	return 2 * (size_t)hd * n + 2 * PLM_ESMK_KBLOCK * n + L * (size_t)hd +
	       2 * (size_t)hd + 64;
}

void plm_esmk_attention(const plm_esmk_attn *a, int h, size_t i0, size_t i1,
			float *scratch)
{
	cur()->attention(a, h, i0, i1, scratch);
}

void plm_esmk_bias_gelu16(float *x, size_t ldx, const float *b, size_t rows,
			  int n)
{
	kernsets16[PLM_ISA_CURRENT(&sel16, kernsets16)].bias_gelu(x, ldx, b,
								   rows, n);
}

void plm_esmk_attention16(const plm_esmk_attn *a, int h, size_t i0,
			  size_t i1, float *scratch)
{
	kernsets16[PLM_ISA_CURRENT(&sel16, kernsets16)].attention(a, h, i0, i1,
								   scratch);
}
