/* mlp.h — a multi-layer perceptron: layers, forward and backward passes
 * over a batch (plm_gemm), losses.
 *
 * Layout follows PyTorch's nn.Linear so weights can be compared directly:
 * layer l maps dim[l] inputs to dim[l+1] outputs, W[l] is dim[l+1] × dim[l]
 * row-major (out × in), y = x W^T + b.  Hidden layers are followed by the
 * activation and (in training) inverted dropout; the last layer gives the
 * logits.  All parameters live in one array (param, in the order W0 b0 W1
 * b1 ...) so an optimiser sees one flat vector and a gradient has the same
 * layout.
 *
 * Heads and their losses (per row; a batch's loss is the weighted mean
 * sum_i w_i l_i / sum_i w_i, w_i = 1 without row weights):
 *   binary      1 logit z, target t in {0,1}:
 *               l = max(z,0) - z t + log1p(exp(-|z|))   (BCE with logits)
 *   multi       K logits, target class c: l = logsumexp(z) - z_c
 *   multilabel  K logits, targets t_k in {0,1}: l = mean_k BCE(z_k, t_k)
 *
 * Nothing here allocates per batch: a plm_mlp_work holds every
 * activation for the largest batch.  Functions return -1 only when out of
 * memory; they never print or exit. */
#ifndef PLM_MLP_H
#define PLM_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "plm/rng.h"
#include "plm/pool.h"
#include "plm/stream.h"

#define PLM_MLP_MAXL 16         /* linear layers at most */

enum plm_act { PLM_ACT_RELU, PLM_ACT_GELU, PLM_ACT_TANH };
enum plm_head { PLM_HEAD_BINARY, PLM_HEAD_MULTI, PLM_HEAD_MULTILABEL };

typedef struct plm_mlp {
	uint32_t nl;                      /* linear layers (hidden + 1) */
	uint32_t dim[PLM_MLP_MAXL + 1];   /* in, hidden..., out */
	enum plm_act act;
	enum plm_head head;
	float dropout;                    /* after each hidden activation */
	size_t nparam;
	float *param;                     /* all weights and biases */
	float *W[PLM_MLP_MAXL];           /* dim[l+1] × dim[l], into param */
	float *b[PLM_MLP_MAXL];           /* dim[l+1], into param */
	float *mean, *std;                /* dim[0] each, or NULL: no scaling */
} plm_mlp;

/* "relu" → PLM_ACT_RELU; -1 when unknown.  And back. */
int plm_act_parse(const char *s);
const char *plm_act_name(enum plm_act a);
const char *plm_head_name(enum plm_head h);
int plm_head_parse(const char *s);

/* Allocates the parameters (zero) for nl layers of sizes dim[0..nl].
 * 0, or -1 when out of memory or a size is 0 / nl out of range. */
int plm_mlp_alloc(plm_mlp *m, uint32_t nl, const uint32_t *dim,
		  enum plm_act act, enum plm_head head, float dropout);
/* Allocates mean[] and std[] (mean 0, std 1).  0 or -1. */
int plm_mlp_alloc_norm(plm_mlp *m);
void plm_mlp_free(plm_mlp *m);

/* PyTorch's nn.Linear default initialisation, layer by layer, weights
 * then bias, each in row-major order: U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
 * a draw being (float)(2 u - 1) * bound with u = plm_rng_double(). */
void plm_mlp_init_params(plm_mlp *m, plm_rng *r);

/* Standardise n rows of x in place: (x - mean) / std.  No-op without
 * mean/std. */
void plm_mlp_scale(const plm_mlp *m, float *x, size_t n);

/* Vector field value (f32/f16/bf16, dim elements) to floats. */
void plm_vec_to_f32(const plm_val *v, enum plm_type t, uint32_t dim,
		    float *out);

typedef struct plm_mlp_work plm_mlp_work;

/* Buffers for batches of up to maxb rows, and threads compute threads
 * (1: the caller only).  With more than one, each layer's matrix
 * products and element-wise steps are split by unit into blocks of 16
 * units, one single-threaded product per part; every element of a product
 * is one FMA chain over its inner dimension (plm/gemm.h), so results are
 * the same bits whatever the thread count or kernel width.  NULL when out
 * of memory. */
plm_mlp_work *plm_mlp_work_new(const plm_mlp *m, size_t maxb, int threads);
void plm_mlp_work_free(plm_mlp_work *w);
size_t plm_mlp_work_maxb(const plm_mlp_work *w);
plm_pool *plm_mlp_work_pool(plm_mlp_work *w);

/* Forward pass of B rows x (B × dim[0]; already scaled).  drop != NULL:
 * training mode, dropout masks drawn from drop (row-major, one
 * plm_rng_double() per hidden unit, kept when >= dropout).  Returns the
 * logits, B × dim[nl], inside w (valid until the next call). */
const float *plm_mlp_forward(const plm_mlp *m, plm_mlp_work *w,
			     const float *x, size_t B, plm_rng *drop);

/* Loss of the logits against targets (binary: B values 0/1; multi: B
 * class indices; multilabel: B × K values 0/1) with optional row weights
 * rw.  dlogits (B × K, or NULL) receives d loss / d logits.  Returns the
 * loss (the weighted mean above), computed in double. */
double plm_mlp_loss(const plm_mlp *m, const float *logits, size_t B,
		    const float *target, const float *rw, float *dlogits);

/* Backward pass after plm_mlp_forward of the same batch: grad (nparam,
 * layout of param) is overwritten with d loss / d param. */
void plm_mlp_backward(const plm_mlp *m, plm_mlp_work *w, const float *x,
		      size_t B, const float *dlogits, float *grad);

/* Logits to probabilities in place (sigmoid per logit, or softmax per row
 * for the multi head). */
void plm_mlp_probs(const plm_mlp *m, float *z, size_t B);

#endif
