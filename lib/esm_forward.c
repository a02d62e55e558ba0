/* esm_forward.c — the ESM-2 forward pass over a batch of unpadded
 * sequences.
 *
 * The batch's tokens are concatenated into T rows.  Per layer (EsmLayer):
 *
 *   xn  = LayerNorm(x)                         attention.LayerNorm
 *   qkv = xn Wqkv^T                            attention.self.{query,key,value}
 *   a   = softmax(q k^T) v                     per sequence and head, fused
 *         (esm_attn.h): q, k, v get their bias there, q *= hd^-1/2,
 *         q, k = rotary(q, k) at positions 0..L-1 of the sequence
 *   x  += a Wo^T + bo                          attention.output.dense
 *   xn  = LayerNorm(x)                         LayerNorm
 *   f   = gelu(xn W1^T + b1)                   intermediate.dense
 *   x  += f W2^T + b2                          output.dense
 *
 * and after the last layer x = emb_layer_norm_after(x).  The linear layers
 * are one GEMM over all T rows (plm/gemm.h: each output element is one
 * FMA chain over the inner dimension, so a row's numbers do not depend on
 * its batch-mates, on where it sits in the batch or on the thread count);
 * a bias and the residual are added after the product (x += y + b). */
#include "esm_impl.h"
#include "plm/alloc.h"
#include "plm/gemm.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(plm_esm_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(plm_esm_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- kernels (row ranges, so that they can be split across threads) ---- */

/* ---- row-parallel jobs for the pool ---- */

typedef struct {
	float *out, *x;
	const float *in, *w, *b;
	int n;
	float eps;
} job;

static void job_layernorm(void *v, size_t lo, size_t hi)
{
	job *j = v;
	plm_esmk_layernorm(j->out + lo * (size_t)j->n, j->in + lo * (size_t)j->n,
			   j->w, j->b, hi - lo, j->n, j->eps);
}

static void job_bias_gelu(void *v, size_t lo, size_t hi)
{
	job *j = v;
	plm_esmk_bias_gelu(j->x + lo * (size_t)j->n, (size_t)j->n, j->b, hi - lo,
			   j->n);
}

/* Rows per thread below which a step runs on the caller alone. */
static size_t grain(int n)
{
	return 8192 / (size_t)n + 1;
}

static void layernorm(plm_esm_ctx *c, float *out, const float *in,
		      const float *w, const float *b, size_t rows)
{
	job j = { .out = out, .in = in, .w = w, .b = b,
		  .n = c->m->cfg.hidden, .eps = c->m->cfg.ln_eps };
	plm_esmp_run(c->pool, job_layernorm, &j, rows, grain(j.n));
}

static void bias_gelu(plm_esm_ctx *c, float *x, const float *b, size_t rows,
		      int n)
{
	job j = { .x = x, .b = b, .n = n };
	plm_esmp_run(c->pool, job_bias_gelu, &j, rows, grain(n));
}

/* C[rows, n] = A[rows, k] B^T: B is a PyTorch Linear weight [n, k].  Each
 * element is one FMA chain over k (plm/gemm.h), so a row's result does not
 * depend on the other rows of the batch or on the thread count. */
static void linear(plm_esm_ctx *c, float *C, const float *A, const float *B,
		   size_t rows, int n, int k)
{
	plm_gemm(c->pool, rows, (size_t)n, (size_t)k, A, (size_t)k, 1, B,
		 (size_t)k, 1, C, (size_t)n);
}

/* Epilogues of the encoder's products (plm_gemm_epi): bias and GELU in
 * place, or x += c + b into the residual stream x [rows, ldx]. */
typedef struct {
	const float *b;
	float *x;
	size_t ldx;
	int bf16;               /* epi_gelu: plm_esmk_bias_gelu16 */
} epi_arg;

static void epi_gelu(void *v, float *c, size_t ldc, size_t row0, size_t m,
		     size_t col0, size_t n)
{
	const epi_arg *e = v;
	(void)row0;
	if (e->bf16)
		plm_esmk_bias_gelu16(c, ldc, e->b + col0, m, (int)n);
	else
		plm_esmk_bias_gelu(c, ldc, e->b + col0, m, (int)n);
}

static void epi_residual(void *v, float *c, size_t ldc, size_t row0,
			 size_t m, size_t col0, size_t n)
{
	const epi_arg *e = v;
	plm_esmk_residual(e->x + row0 * e->ldx + col0, e->ldx, c, ldc,
			  e->b + col0, m, (int)n);
}

/* An epilogue over whole rows of C [rows, n], row-parallel: for the
 * products that take none. */
typedef struct {
	const plm_gemm_epi *epi;
	float *C;
	size_t n;
} epi_job;

static void job_epi(void *v, size_t lo, size_t hi)
{
	const epi_job *j = v;
	j->epi->fn(j->epi->arg, j->C + lo * j->n, j->n, lo, hi - lo, 0, j->n);
}

/* The same for an encoder weight of layer l: bfloat16 (plm_gemm_bf16, the
 * same per-element promise) once plm_esm_set_bf16 made it so, pre-packed
 * when l->packed (the same bits as the unpacked product), and then epi
 * (NULL: none) on C: inside the product for a packed weight, after it
 * otherwise. */
static void linear_w(plm_esm_ctx *c, const esm_layer *l, float *C,
		     const float *A, const float *B, const plm_bf16 *B16,
		     size_t rows, int n, int k, const plm_gemm_epi *epi)
{
	if (B16 && l->packed) {
		plm_gemm_bf16_pw(c->pool, rows, (size_t)n, (size_t)k, A,
				 (size_t)k, (const uint32_t *)(const void *)B16,
				 C, (size_t)n, epi);
		return;
	}
	if (l->packed) {
		plm_gemm_pw(c->pool, rows, (size_t)n, (size_t)k, A, (size_t)k,
			    B, C, (size_t)n, epi);
		return;
	}
	if (B16)
		plm_gemm_bf16(c->pool, rows, (size_t)n, (size_t)k, A, (size_t)k,
			      B16, (size_t)k, C, (size_t)n);
	else
		linear(c, C, A, B, rows, n, k);
	if (epi) {
		epi_job j = { epi, C, (size_t)n };
		plm_esmp_run(c->pool, job_epi, &j, rows, grain(n));
	}
}


/* ---- workspace ---- */

plm_esm_ctx *plm_esm_ctx_new(const plm_esm *m, size_t max_tokens,
			     int nthreads, char *err, size_t errlen)
{
	const plm_esm_config *cf = &m->cfg;
	const size_t T = max_tokens, H = (size_t)cf->hidden,
		     F = (size_t)cf->ffn, h2 = (size_t)cf->head_dim / 2;
	if (T < 3 || T > (size_t)1 << 28) {
		snprintf(err, errlen, "token budget %zu out of range", T);
		return NULL;
	}
	plm_esmk_init();
	plm_esm_ctx *c = calloc(1, sizeof *c);
	if (!c)
		goto oom;
	c->m = m;
	c->max_tokens = T;
	c->rope_of = calloc((size_t)cf->layers, sizeof *c->rope_of);
	if (!c->rope_of)
		goto oom;
	/* Layers share a cos/sin table when their inv_freq are equal (the
	 * usual case: one table). */
	int nrope = 0;
	for (int l = 0; l < cf->layers; l++) {
		int j;
		for (j = 0; j < l; j++)
			if (!memcmp(m->layer[j].inv_freq, m->layer[l].inv_freq,
				    h2 * sizeof(float)))
				break;
		c->rope_of[l] = j < l ? c->rope_of[j] : nrope++;
	}
	c->x = malloc(T * H * sizeof(float));
	c->xn = malloc(T * H * sizeof(float));
	c->qkv = malloc(3 * T * H * sizeof(float));
	c->att = malloc(T * H * sizeof(float));
	c->ffn = malloc(T * F * sizeof(float));
	if (nthreads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = cpus > 0 ? (int)cpus : 1;
	}
	c->pool = plm_pool_new(nthreads);
	/* Attention scratch per thread: k of one head with bias and rotary
	 * [T, hd] (v is read in place), the tile of queries, accumulators
	 * and one block of scores.  The activation buffers above, this and
	 * the rope tables are the workspace of esm.h's memory formula. */
	if (c->pool) {
		c->nscratch = (plm_esmk_attn_scratch(T, cf->head_dim) + 15) / 16 * 16;
		c->scratch = aligned_alloc(64, (size_t)plm_pool_threads(c->pool) *
					   c->nscratch * sizeof(float));
	}
	c->rope = malloc((size_t)nrope * 2 * T * h2 * sizeof(float));
	c->ids = malloc(T * sizeof *c->ids);
	if (!c->x || !c->xn || !c->qkv || !c->att || !c->ffn || !c->scratch ||
	    !c->rope || !c->ids || !c->pool)
		goto oom;
	/* cos/sin in double from the (float32) inv_freq, as transformers
	 * computes emb = cat(freqs, freqs).cos() at its working precision. */
	for (int l = 0, next = 0; l < cf->layers; l++) {
		float *cs = c->rope + (size_t)c->rope_of[l] * 2 * T * h2;
		float *sn = cs + T * h2;
		if (c->rope_of[l] != next)
			continue;               /* table already made */
		next++;
		for (size_t p = 0; p < T; p++)
			for (size_t i = 0; i < h2; i++) {
				double a = (double)p * m->layer[l].inv_freq[i];
				cs[p * h2 + i] = (float)cos(a);
				sn[p * h2 + i] = (float)sin(a);
			}
	}
	return c;
oom:
	snprintf(err, errlen, "out of memory for a workspace of %zu tokens",
		 T);
	plm_esm_ctx_free(c);
	return NULL;
}

void plm_esm_ctx_free(plm_esm_ctx *c)
{
	if (!c)
		return;
	PLM_FREE(c->x, c->xn, c->qkv, c->att, c->ffn, c->scratch, c->rope,
		 c->rope_of, c->ids, c->off);
	plm_pool_free(c->pool);
	free(c);
}

size_t plm_esm_ctx_tokens(const plm_esm_ctx *c)
{
	return c->max_tokens;
}

const char *plm_esm_error(const plm_esm_ctx *c)
{
	return c->err;
}

/* ---- the forward pass ---- */

/* Embedding output (EsmEmbeddings): word embeddings, token-dropout
 * rescaling, optional emb_layer_norm_before. */
static void embed(plm_esm_ctx *c, size_t n)
{
	const plm_esm *m = c->m;
	const plm_esm_config *cf = &m->cfg;
	const size_t H = (size_t)cf->hidden;
	for (size_t s = 0; s < n; s++) {
		size_t r0 = c->off[s], r1 = c->off[s + 1], nmask = 0;
		for (size_t r = r0; r < r1; r++)
			nmask += c->ids[r] == cf->tok_mask;
		/* 0.88 / (1 - observed mask ratio), <mask> rows zeroed. */
		float scale = 1.0f;
		if (cf->token_dropout)
			scale = (float)((1.0 - 0.15 * 0.8) /
					(1.0 - (double)nmask / (double)(r1 - r0)));
		for (size_t r = r0; r < r1; r++) {
			const float *e = m->embed + (size_t)c->ids[r] * H;
			float *y = c->x + r * H;
			if (cf->token_dropout && c->ids[r] == cf->tok_mask)
				memset(y, 0, H * sizeof *y);
			else
				for (size_t i = 0; i < H; i++)
					y[i] = e[i] * scale;
		}
	}
	if (cf->emb_ln_before)
		layernorm(c, c->x, c->x, m->emb_ln_w, m->emb_ln_b, c->off[n]);
}

/* Attention over the batch, split across threads by work: unit u of
 * [0, heads * sum L^2) belongs to sequence s, head h, query row i when
 * u - base(s) lies in [(h L + i) L, (h L + i + 1) L), base(s) = heads *
 * sum of the earlier L^2; a thread takes the rows whose first unit falls
 * in its range. */
typedef struct {
	plm_esm_ctx *c;
	size_t n;
	const float *bqkv, *cs, *sn;
} attn_job;

static size_t ceil_div(size_t a, size_t b)
{
	return (a + b - 1) / b;
}

static void job_attention(void *v, size_t lo, size_t hi, int part)
{
	const attn_job *j = v;
	plm_esm_ctx *c = j->c;
	const plm_esm_config *cf = &c->m->cfg;
	const size_t heads = (size_t)cf->heads, H = (size_t)cf->hidden;
	float *ws = c->scratch + (size_t)part * c->nscratch;
	size_t base = 0;
	for (size_t s = 0; s < j->n && base < hi; s++) {
		const size_t r0 = c->off[s], L = c->off[s + 1] - r0;
		const size_t end = base + heads * L * L;
		if (end > lo) {
			size_t f0 = ceil_div((lo > base ? lo : base) - base, L);
			size_t f1 = ceil_div((hi < end ? hi : end) - base, L);
			plm_esmk_attn a = {
				.qkv = c->qkv + r0 * 3 * H, .bqkv = j->bqkv,
				.cs = j->cs, .sn = j->sn, .out = c->att + r0 * H,
				.L = L, .H = (int)H, .hd = cf->head_dim,
			};
			for (size_t f = f0; f < f1;) {
				size_t h = f / L, i0 = f % L;
				size_t i1 = f1 - h * L < L ? f1 - h * L : L;
				if (c->m->arena16)
					plm_esmk_attention16(&a, (int)h, i0, i1,
							     ws);
				else
					plm_esmk_attention(&a, (int)h, i0, i1, ws);
				f = (h + 1) * L;
			}
		}
		base = end;
	}
}

static void attention(plm_esm_ctx *c, size_t n, const float *bqkv,
		      const float *cs, const float *sn)
{
	const size_t heads = (size_t)c->m->cfg.heads;
	size_t units = 0;
	for (size_t s = 0; s < n; s++) {
		size_t L = c->off[s + 1] - c->off[s];
		units += heads * L * L;
	}
	attn_job j = { .c = c, .n = n, .bqkv = bqkv, .cs = cs, .sn = sn };
	plm_esmp_run_idx(c->pool, job_attention, &j, units, 1 << 16);
}

static void layer_forward(plm_esm_ctx *c, size_t n, int l)
{
	const plm_esm_config *cf = &c->m->cfg;
	const esm_layer *w = &c->m->layer[l];
	const size_t T = c->off[n], h2 = (size_t)cf->head_dim / 2;
	const int H = cf->hidden, F = cf->ffn;
	const float *cs = c->rope + (size_t)c->rope_of[l] * 2 * c->max_tokens * h2;

	const int bf16 = c->m->arena16 != NULL;
	epi_arg ao = { w->bo, c->x, (size_t)H, 0 },
		a1 = { w->b1, NULL, 0, bf16 }, a2 = { w->b2, c->x, (size_t)H, 0 };
	const plm_gemm_epi eo = { epi_residual, &ao }, e1 = { epi_gelu, &a1 },
			   e2 = { epi_residual, &a2 };

	layernorm(c, c->xn, c->x, w->ln1_w, w->ln1_b, T);
	linear_w(c, w, c->qkv, c->xn, w->wqkv, w->wqkv16, T, 3 * H, H, NULL);
	attention(c, n, w->bqkv, cs, cs + c->max_tokens * h2);
	/* x += att Wo^T + bo */
	linear_w(c, w, c->xn, c->att, w->wo, w->wo16, T, H, H, &eo);

	layernorm(c, c->xn, c->x, w->ln2_w, w->ln2_b, T);
	/* ffn = gelu(xn W1^T + b1); x += ffn W2^T + b2 */
	linear_w(c, w, c->ffn, c->xn, w->w1, w->w116, T, F, H, &e1);
	linear_w(c, w, c->xn, c->ffn, w->w2, w->w216, T, H, F, &e2);
}

/* Masked-LM head over all rows of x (after emb_layer_norm_after). */
static void lm_head(plm_esm_ctx *c, size_t T, float *logits)
{
	const plm_esm *m = c->m;
	const int H = m->cfg.hidden, V = m->cfg.vocab;
	linear(c, c->xn, c->x, m->lm_w, T, H, H);
	bias_gelu(c, c->xn, m->lm_b, T, H);
	layernorm(c, c->xn, c->xn, m->lm_ln_w, m->lm_ln_b, T);
	linear(c, logits, c->xn, m->lm_dec, T, V, H);
	for (size_t r = 0; r < T; r++)
		for (int v = 0; v < V; v++)
			logits[r * V + v] += m->lm_bias[v];
}

/* Copies the requested rows or pools of x into o->out. */
static void emit(plm_esm_ctx *c, size_t n, const plm_esm_out *o)
{
	const size_t H = (size_t)c->m->cfg.hidden;
	float *out = o->out;
	for (size_t s = 0; s < n; s++) {
		const size_t r0 = c->off[s], r1 = c->off[s + 1];
		const float *x = c->x + r0 * H;
		const size_t L = r1 - r0 - 2;          /* residues */
		switch (o->pool) {
		case PLM_ESM_POOL_NONE:
			if (o->specials) {
				memcpy(out, x, (L + 2) * H * sizeof *out);
				out += (L + 2) * H;
			} else {
				memcpy(out, x + H, L * H * sizeof *out);
				out += L * H;
			}
			break;
		case PLM_ESM_POOL_MEAN:
			for (size_t i = 0; i < H; i++) {
				double sum = 0;
				for (size_t r = 1; r <= L; r++)
					sum += x[r * H + i];
				out[i] = (float)(sum / (double)L);
			}
			out += H;
			break;
		case PLM_ESM_POOL_MAX:
			for (size_t i = 0; i < H; i++) {
				float mx = x[H + i];
				for (size_t r = 2; r <= L; r++)
					if (x[r * H + i] > mx)
						mx = x[r * H + i];
				out[i] = mx;
			}
			out += H;
			break;
		case PLM_ESM_POOL_CLS:
			memcpy(out, x, H * sizeof *out);
			out += H;
			break;
		}
	}
}

/* c->ids[0 .. off[n]) and c->off[0 .. n] are filled. */
static int run(plm_esm_ctx *c, size_t n, plm_esm_out *o)
{
	const plm_esm *m = c->m;
	const plm_esm_config *cf = &m->cfg;
	int N = cf->layers, K = o->layer < 0 ? N + 1 + o->layer : o->layer;
	if (K < 0 || K > N)
		return fail(c, "layer %d out of range (the model has %d "
			    "layers; 0 = embeddings)", o->layer, N);
	if ((unsigned)o->pool > PLM_ESM_POOL_CLS)
		return fail(c, "bad pooling mode %d", (int)o->pool);
	if (o->logits && !cf->has_lm_head)
		return fail(c, "logits asked for, but the checkpoint has no "
			    "LM head");
	const size_t T = c->off[n];
	embed(c, n);
	if (K == 0 && o->out)
		emit(c, n, o);
	int last = o->logits ? N : K;
	for (int l = 0; l < last; l++) {
		layer_forward(c, n, l);
		if (c->on_layer)
			c->on_layer(c->on_layer_arg, l + 1, last);
		if (l + 1 == K && K < N && o->out)
			emit(c, n, o);
	}
	if (last == N) {
		layernorm(c, c->x, c->x, m->lnf_w, m->lnf_b, T);
		if (K == N && o->out)
			emit(c, n, o);
	}
	if (o->logits)
		lm_head(c, T, o->logits);
	return 0;
}

/* c->off[0 .. n]: sequence s has len[s] + extra tokens (extra 2: <cls>
 * and <eos> around len[s] residues; 0: len[s] token ids, both included). */
static int set_offsets(plm_esm_ctx *c, size_t n, const size_t *len,
		       size_t extra)
{
	if (PLM_GROW(c->off, c->off_cap, n + 1))
		return fail(c, "out of memory");
	c->off[0] = 0;
	for (size_t s = 0; s < n; s++) {
		const size_t room = c->max_tokens - c->off[s];
		if (len[s] < 3 - extra)
			return fail(c, "sequence %zu of the batch is empty", s);
		if (room < extra || len[s] > room - extra)
			return fail(c, "batch needs more than the workspace's "
				    "%zu tokens", c->max_tokens);
		c->off[s + 1] = c->off[s] + len[s] + extra;
	}
	return 0;
}

void plm_esm_ctx_on_layer(plm_esm_ctx *c, void (*fn)(void *, int, int),
			  void *arg)
{
	c->on_layer = fn;
	c->on_layer_arg = arg;
}

int plm_esm_forward(plm_esm_ctx *c, size_t n, const char *const *seqs,
		    const size_t *lens, plm_esm_out *o)
{
	if (set_offsets(c, n, lens, 2))
		return -1;
	for (size_t s = 0; s < n; s++)
		plm_esm_tokenize(c->m, seqs[s], lens[s], c->ids + c->off[s]);
	return run(c, n, o);
}

int plm_esm_forward_ids(plm_esm_ctx *c, size_t n, const int32_t *const *ids,
			const size_t *ntok, plm_esm_out *o)
{
	if (set_offsets(c, n, ntok, 0))
		return -1;
	for (size_t s = 0; s < n; s++)
		for (size_t i = 0; i < ntok[s]; i++) {
			int32_t t = ids[s][i];
			if (t < 0 || t >= c->m->cfg.vocab)
				return fail(c, "sequence %zu: token id %d out "
					    "of range", s, (int)t);
			c->ids[c->off[s] + i] = t;
		}
	return run(c, n, o);
}
