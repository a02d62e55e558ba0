/* esm.h — ESM-2 inference (transformers' EsmModel in eval mode).
 *
 * Three pieces, llama2.c style:
 *   plm_esm_config  the hyper-parameters (config.json + vocab.txt)
 *   plm_esm         config + weights (float32, converted once at load)
 *   plm_esm_ctx     the state: every activation buffer, allocated once for
 *                   a token budget and reused for every batch
 *
 * A batch is a list of sequences.  Nothing is padded: the sequences' tokens
 * (<cls> residues <eos>) are concatenated into T rows; the linear layers run
 * as one product over all T rows (plm/gemm.h: each output element is one
 * FMA chain over the inner dimension in index order) and attention,
 * LayerNorm and GELU run row by row.  A sequence therefore gives the same
 * bits alone or in any batch, at any position, with any thread count.
 *
 * Usage (cmd/esm-embed.c):
 *
 *	int main(int argc, char **argv) {
 *		plm_esm *m = plm_esm_load(dir, err, sizeof err);
 *		plm_esm_ctx *c = plm_esm_ctx_new(m, budget, nthreads, err, sizeof err);
 *		const plm_esm_config *cf = plm_esm_info(m);
 *		plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_MEAN, .out = buf };
 *		// buf: n * cf->hidden floats
 *		if (plm_esm_forward(c, n, seqs, lens, &o)) plm_die("%s", plm_esm_error(c));
 *	}
 *
 * Truncation is the caller's: pass lens[i] = min(len, max_residues)
 * (fair-esm and esm-embed default to PLM_ESM_MAX_RESIDUES).
 *
 * Peak memory (bytes), H = hidden, F = ffn, N = layers, V = vocab, T = the
 * token budget, hd = H / heads, W = threads:
 *   weights      4 * (V*H + N*(4*H*H + 2*H*F + 9*H + F) + 2*H
 *                     [+ LM head: H*H + 3*H + V*H + V])
 *   activations  4 * T * (6*H + F + 1)          x, xn, q|k|v, attention
 *                                                context, ffn; token ids
 *              + 4 * T * hd * R                  rotary cos/sin tables (R = 1
 *                                                unless layers' inv_freq differ)
 *              + 4 * W * (hd * (T + 64) + 4160)  attention scratch per thread
 *                                                (k of one head packed, a
 *                                                tile of queries; no T x T
 *                                                score matrix); only the
 *                                                longest sequence's rows of
 *                                                it are touched
 *              + W * 2.3 MB                      matrix packing blocks
 *                                                (avx512 and bf16; 0.9 avx2,
 *                                                0.5 base)
 *   (logits, when asked for, go straight to the caller's buffer)
 * e.g. 650M (H 1280, F 5120, N 33) with T = 4096: 2.6 GB + 0.21 GB + W *
 * 2.9 MB.  Measured with the tiny test checkpoint (H 64, F 256, hd 16),
 * one thread: peak RSS grows by 2620 bytes per budget token from T = 4096
 * to 65536, the formula's touched part giving 2628.
 * The checkpoint file is mmapped only while loading. */
#ifndef PLM_ESM_H
#define PLM_ESM_H

#include <stddef.h>
#include <stdint.h>

#define PLM_ESM_MAX_RESIDUES 1022   /* fair-esm's default truncation */
#define PLM_FASTESM_MAX_RESIDUES 2046  /* FastESM2: trained up to 2048 tokens */

typedef struct plm_esm_config {
	int vocab;          /* vocab_size: V (33) */
	int hidden;         /* hidden_size: H */
	int layers;         /* num_hidden_layers: N */
	int heads;          /* num_attention_heads */
	int head_dim;       /* H / heads */
	int ffn;            /* intermediate_size: F */
	float ln_eps;       /* layer_norm_eps */
	int token_dropout;  /* rescale embeddings by 0.88 / (1 - mask ratio) */
	int emb_ln_before;  /* emb_layer_norm_before */
	int has_lm_head;    /* lm_head.* present: logits available */
	/* Token ids from vocab.txt. */
	int tok_cls, tok_pad, tok_eos, tok_unk, tok_mask;
	/* Not part of the forward pass (nor of the signature): the residues
	 * the model was trained on (1022 for ESM-2, 2046 for FastESM2), the
	 * default of esm-embed --max-len; and whether config.json says
	 * model_type "fast_esm". */
	int max_residues;
	int fast_esm;
} plm_esm_config;

typedef struct plm_esm plm_esm;
typedef struct plm_esm_ctx plm_esm_ctx;

/* ---- loading ---- */

/* dir holds config.json, vocab.txt and model.safetensors (or the shards
 * listed in model.safetensors.index.json).  F32, F16 and BF16 tensors are
 * converted to float32.  Accepts the hub key naming (LayerNorm.weight/bias,
 * per-layer inv_freq, position table, lm_head.*) and the transformers-5
 * naming (LayerNorm.gamma/beta, one shared inv_freq), with or without the
 * "esm." prefix.  A stored rotary inv_freq is used as stored (the published
 * outputs of an f16 checkpoint depend on its rounding).  vocab.txt must be
 * the 33-token ESM-2 alphabet in order, and every weight must be finite.
 * NULL on error with a message naming the file, line or tensor, e.g.
 * "DIR/model.safetensors: tensor 'X' has wrong shape; expected [a,b], got
 * [c,d]", "DIR/model.safetensors: tensor 'X': non-finite value (inf) at
 * index N", "DIR/vocab.txt:6: duplicate token 'L' (also on line 5)". */
plm_esm *plm_esm_load(const char *dir, char *err, size_t errlen);
void plm_esm_free(plm_esm *m);
const plm_esm_config *plm_esm_info(const plm_esm *m);
/* Model signature for caches: 16 hex digits over config and weights as
 * loaded (the same checkpoint in F32 and F16 differs). */
const char *plm_esm_signature(const plm_esm *m);

/* Switches the encoder's Linear layers (q/k/v, attention output and the
 * feed-forward pair) to bfloat16 weights with float32 accumulation
 * (plm_gemm_bf16 in plm/gemm.h): the weights are rounded to bfloat16 once,
 * here, and their float32 copies freed, halving their memory; activations
 * are rounded to bfloat16 as they enter those products; everything else
 * (embeddings, LayerNorm, attention, GELU, the LM head) stays float32.
 * Results stay batch- and thread-invariant but are no longer
 * transformers' float32 numbers; the signature changes with it.  0, or -1
 * with a message (out of memory). */
int plm_esm_set_bf16(plm_esm *m, char *err, size_t errlen);

/* ---- tokens ---- */

/* Token string of id ("<cls>", "A", ...), or NULL. */
const char *plm_esm_token(const plm_esm *m, int id);
/* Id of a token string, or -1. */
int plm_esm_token_id(const plm_esm *m, const char *tok);
/* ids[0 .. n+2) = <cls>, one id per byte of seq, <eos>.  A byte that is
 * not a one-letter token of the vocabulary becomes <unk> (as transformers'
 * EsmTokenizer does for an unknown letter).  Returns n + 2. */
size_t plm_esm_tokenize(const plm_esm *m, const char *seq, size_t n,
			int32_t *ids);

/* ---- state and forward ---- */

/* A workspace for batches of at most max_tokens tokens in all (sum of
 * len + 2; a single sequence must fit too).  nthreads: the engine's
 * workers (matrix products, attention, element-wise steps); 0 = one per
 * online CPU.  Results do not depend on it.  A model may serve several
 * workspaces; a workspace serves one thread at a time. */
plm_esm_ctx *plm_esm_ctx_new(const plm_esm *m, size_t max_tokens,
			     int nthreads, char *err, size_t errlen);
void plm_esm_ctx_free(plm_esm_ctx *c);
size_t plm_esm_ctx_tokens(const plm_esm_ctx *c);
/* fn(arg, done, total) after each of the total layers a forward call runs
 * (progress within a long batch); NULL to stop.  Called on the calling
 * thread. */
void plm_esm_ctx_on_layer(plm_esm_ctx *c, void (*fn)(void *arg, int done,
						     int total), void *arg);
/* Message of the last failed forward call. */
const char *plm_esm_error(const plm_esm_ctx *c);

enum plm_esm_pool {
	PLM_ESM_POOL_NONE,  /* every row: out is [rows, H] */
	PLM_ESM_POOL_MEAN,  /* mean over residues (no <cls>, no <eos>) */
	PLM_ESM_POOL_MAX,   /* max over residues */
	PLM_ESM_POOL_CLS,   /* the <cls> row */
};

typedef struct plm_esm_out {
	int layer;               /* 0 = embeddings .. N = after the final
				  * LayerNorm; negative counts from the end
				  * (-1 = N).  Layers above it are not run
				  * unless logits are asked for. */
	enum plm_esm_pool pool;
	int specials;            /* POOL_NONE: 1 = rows <cls>..<eos> (len+2
				  * per sequence), 0 = residue rows (len) */
	float *out;              /* pooled: [n, H]; NONE: the sequences' rows
				  * one after the other, [sum rows, H];
				  * NULL: no hidden states (logits only) */
	float *logits;           /* NULL, or [sum(len + 2), V]: the masked-LM
				  * head (needs has_lm_head), all rows */
} plm_esm_out;

/* Embeds n sequences (residue letters seqs[i][0 .. lens[i]), lens[i] >= 1)
 * in one batch: sum(lens[i] + 2) <= plm_esm_ctx_tokens.  0, or -1 with
 * plm_esm_error(c). */
int plm_esm_forward(plm_esm_ctx *c, size_t n, const char *const *seqs,
		    const size_t *lens, plm_esm_out *o);
/* The same from token ids (each list starting with <cls> and ending with
 * <eos>, as plm_esm_tokenize makes; may hold <mask>). */
int plm_esm_forward_ids(plm_esm_ctx *c, size_t n,
			const int32_t *const *ids, const size_t *ntok,
			plm_esm_out *o);

/* ---- OpenBLAS core selection ---- */

/* Call first thing in main.  When OPENBLAS_CORETYPE is unset and OpenBLAS
 * picked a generic core (e.g. "Prescott") on a CPU with AVX-512 or AVX2,
 * sets OPENBLAS_CORETYPE=SkylakeX or Haswell and re-executes the program
 * (the variable is read when the library loads); the re-executed
 * program finds the variable set, so it never loops.  When the variable
 * is set, it is respected.  verbose:
 * prints "esm: OpenBLAS core NAME" to stderr.  Returns only if no re-exec
 * happened (or it failed). */
void plm_blas_tune(int argc, char **argv, int verbose);
/* OpenBLAS's core name ("SkylakeX", "Haswell", "Prescott", ...). */
const char *plm_blas_core(void);

#endif
