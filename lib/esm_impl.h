/* esm_impl.h — the model struct shared by esm_model.c (loading) and
 * esm_forward.c (the forward pass).  Not a public header. */
#ifndef PLM_ESM_IMPL_H
#define PLM_ESM_IMPL_H

#include "plm/esm.h"
#include "plm/gemm.h"
#include "plm/pool.h"

/* One transformer block, pre-LayerNorm (EsmLayer).  Every pointer is into
 * the model's float32 arena; Linear weights keep PyTorch's [out, in]
 * layout so that y[T, out] = x[T, in] * W^T is one row-major sgemm. */
typedef struct esm_layer {
	const float *ln1_w, *ln1_b; /* attention.LayerNorm            [H] */
	const float *wqkv;          /* attention.self.{query,key,value}.weight
				     * stacked                     [3H, H] */
	const float *bqkv;          /* their biases                   [3H] */
	const float *wo, *bo;       /* attention.output.dense    [H, H], [H] */
	const float *ln2_w, *ln2_b; /* LayerNorm                      [H] */
	const float *w1, *b1;       /* intermediate.dense        [F, H], [F] */
	const float *w2, *b2;       /* output.dense              [H, F], [H] */
	const float *inv_freq;      /* rotary_embeddings.inv_freq [hd/2] */
	/* --precision bf16 (plm_esm_set_bf16): the four Linear weights as
	 * bfloat16, in the model's arena16; wqkv .. w2 are then NULL. */
	const plm_bf16 *wqkv16, *wo16, *w116, *w216;
	/* The four Linear weights are pre-packed (plm_gemm_pw_pack, or
	 * plm_gemm_bf16_pw_pack for the bf16 ones, the words in the same
	 * place): done at load when every N is a multiple of PLM_GEMM_PW_NR,
	 * so that packing takes no more memory. */
	int packed;
} esm_layer;

struct plm_esm {
	plm_esm_config cfg;
	float *arena;               /* every weight below */
	size_t arena_n;             /* floats */
	plm_bf16 *arena16;          /* bf16 Linear weights, or NULL (fp32) */
	const float *embed;         /* embeddings.word_embeddings   [V, H] */
	const float *emb_ln_w;      /* embeddings.layer_norm (emb_ln_before)
				     * [H], else NULL */
	const float *emb_ln_b;
	esm_layer *layer;           /* [N] */
	const float *lnf_w, *lnf_b; /* encoder.emb_layer_norm_after   [H] */
	/* Masked-LM head (cfg.has_lm_head): dense -> gelu -> layer_norm ->
	 * decoder + bias. */
	const float *lm_w, *lm_b;   /* lm_head.dense             [H, H], [H] */
	const float *lm_ln_w, *lm_ln_b; /* lm_head.layer_norm          [H] */
	const float *lm_dec;        /* lm_head.decoder.weight [V, H] (tied:
				     * the word embeddings) */
	const float *lm_bias;       /* lm_head.bias                   [V] */
	char **vocab;               /* [V] token strings */
	int byte_tok[256];          /* one-letter tokens; others <unk> */
	char sig[17];
};

/* A workspace (esm.h): every activation buffer, sized once for
 * max_tokens (esm_forward.c); esm_batch.c cuts batches by the same. */
struct plm_esm_ctx {
	const plm_esm *m;
	size_t max_tokens;          /* T budget */
	float *x;                   /* [T, H] residual stream */
	float *xn;                  /* [T, H] LayerNorm output */
	float *qkv;                 /* [T, 3H] q | k | v per row */
	float *att;                 /* [T, H] attention context */
	float *ffn;                 /* [T, F] */
	float *scratch;             /* attention: per thread, nscratch floats */
	size_t nscratch;
	plm_pool *pool;             /* element-wise steps */
	float *rope;                /* per distinct inv_freq: cos [T, hd/2],
				     * then sin [T, hd/2] */
	int *rope_of;               /* [N] index into rope */
	int32_t *ids;               /* [T] */
	size_t *off;                /* [n + 1] first row of each sequence */
	size_t off_cap;
	void (*on_layer)(void *arg, int done, int total);  /* progress */
	void *on_layer_arg;
	char err[256];
};

/* esm_kernels.c: element-wise steps, vectorised (rows of n floats).
 * plm_esmk_init picks the instruction set; call it before the others
 * (plm_esm_ctx_new does). */
void plm_esmk_init(void);
/* Forces "base", "avx2" or "avx512" kernels (tests); -1 if the build or
 * the CPU lacks them. */
int plm_esmk_select(const char *isa);
void plm_esmk_layernorm(float *out, const float *in, const float *w,
			const float *b, size_t rows, int H, float eps);
/* x = gelu(x + b), gelu(v) = v/2 (1 + erf(v / sqrt 2)), rows of n at a
 * stride of ldx */
void plm_esmk_bias_gelu(float *x, size_t ldx, const float *b, size_t rows,
			int n);
/* x += y + b (the sum y + b first), rows of n at strides ldx, ldy */
void plm_esmk_residual(float *x, size_t ldx, const float *y, size_t ldy,
		       const float *b, size_t rows, int n);

/* Fused attention of one sequence (flash-attention style): for query rows
 * [i0, i1) of head h, softmax(q k^T) v with q, k, v taken from the raw
 * q|k|v GEMM output (bias not yet added): the bias, the 1/sqrt(hd) scale of
 * q and the rotary embedding are applied on the way in.  Keys go in blocks
 * of PLM_ESMK_KBLOCK with an online softmax, so no score matrix is ever
 * kept beyond a few query rows by one block.  Each row's arithmetic
 * depends only on that row, the sequence and the head (not on i0, i1 or
 * the batch), so results are batch invariant. */
#define PLM_ESMK_KBLOCK 128
typedef struct plm_esmk_attn {
	const float *qkv;           /* [L, 3H] the sequence's rows, no bias */
	const float *bqkv;          /* [3H] */
	const float *cs, *sn;       /* [>= L, hd/2] rotary cos/sin by position */
	float *out;                 /* [L, H] the context rows */
	size_t L;
	int H, hd;
} plm_esmk_attn;
/* Floats of scratch plm_esmk_attention needs for sequences of at most L
 * tokens and head size hd (64-byte aligned). */
size_t plm_esmk_attn_scratch(size_t L, int hd);
void plm_esmk_attention(const plm_esmk_attn *a, int h, size_t i0, size_t i1,
			float *scratch);
/* The same for --precision bf16 (esm_attn16.h): q, k, v and the softmax
 * weights rounded to bfloat16, both products in vdpbf16ps's pair chains
 * with float32 sums.  "base" and "avx512bf16" give the same bits;
 * plm_esmk_select16 forces one (-1 if the build or CPU lacks it). */
void plm_esmk_attention16(const plm_esmk_attn *a, int h, size_t i0,
			  size_t i1, float *scratch);
int plm_esmk_select16(const char *isa);
/* x = gelu(x + b) for --precision bf16 (the product after it rounds x to
 * bfloat16): exp and erfc to about 3e-6 relative, the same bits from both
 * kernels of plm_esmk_select16. */
void plm_esmk_bias_gelu16(float *x, size_t ldx, const float *b, size_t rows,
			  int n);
const char *plm_esmk_isa16(void);

/* Fork-join over rows for the element-wise steps (plm/pool.h): one part
 * per thread, the caller running part 0; n < 2 * grain runs on the caller
 * alone. */
static inline void plm_esmp_run(plm_pool *p, void (*fn)(void *, size_t, size_t),
				void *arg, size_t n, size_t grain)
{
	plm_pool_run(p, n < 2 * grain ? 1 : plm_pool_threads(p), fn, arg, n);
}

/* The same, fn also getting the part's index (0 .. threads - 1), e.g. for
 * per-thread scratch. */
static inline void plm_esmp_run_idx(plm_pool *p,
				    void (*fn)(void *, size_t, size_t, int),
				    void *arg, size_t n, size_t grain)
{
	plm_pool_run_idx(p, n < 2 * grain ? 1 : plm_pool_threads(p), fn, arg, n);
}

#endif
