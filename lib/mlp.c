/* mlp.c — MLP forward/backward (include/plm/mlp.h).
 *
 * Each linear layer is one matrix product over the batch (plm/gemm.h):
 * Z = X W^T, then + b; dW = dZ^T X, dX = dZ W.  The element-wise steps
 * are plain loops.  With a pool, the products are split by unit (columns
 * of Z, rows of dW, columns of dX) into parts that each run a
 * single-threaded product.  Every element of a product is one FMA chain
 * over its inner dimension in index order, so neither the split nor the
 * batch's other rows change a bit of it: checkpoints are the same for any
 * thread count. */
#include "plm/mlp.h"

#include "plm/float.h"
#include "plm/gemm.h"
#include "plm/names.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


static const char *const act_names[] = { "relu", "gelu", "tanh" };
static const char *const head_names[] = { "binary", "multi", "multilabel" };

int plm_act_parse(const char *s)
{
	return plm_name_index(act_names, 3, s);
}

const char *plm_act_name(enum plm_act a) { return act_names[a]; }
const char *plm_head_name(enum plm_head h) { return head_names[h]; }

int plm_head_parse(const char *s)
{
	return plm_name_index(head_names, 3, s);
}

int plm_mlp_alloc(plm_mlp *m, uint32_t nl, const uint32_t *dim,
		  enum plm_act act, enum plm_head head, float dropout)
{
	memset(m, 0, sizeof *m);
	if (nl < 1 || nl > PLM_MLP_MAXL)
		return -1;
	size_t n = 0;
	for (uint32_t l = 0; l <= nl; l++) {
		if (dim[l] == 0)
			return -1;
		m->dim[l] = dim[l];
	}
	for (uint32_t l = 0; l < nl; l++)
		n += (size_t)dim[l + 1] * dim[l] + dim[l + 1];
	m->param = calloc(n, sizeof *m->param);
	if (!m->param)
		return -1;
	m->nl = nl;
	m->nparam = n;
	m->act = act;
	m->head = head;
	m->dropout = dropout;
	float *p = m->param;
	for (uint32_t l = 0; l < nl; l++) {
		m->W[l] = p;
		p += (size_t)dim[l + 1] * dim[l];
		m->b[l] = p;
		p += dim[l + 1];
	}
	return 0;
}

int plm_mlp_alloc_norm(plm_mlp *m)
{
	free(m->mean);
	free(m->std);
	m->mean = calloc(m->dim[0], sizeof *m->mean);
	m->std = malloc(m->dim[0] * sizeof *m->std);
	if (!m->mean || !m->std)
		return -1;
	for (uint32_t j = 0; j < m->dim[0]; j++)
		m->std[j] = 1;
	return 0;
}

void plm_mlp_free(plm_mlp *m)
{
	free(m->param);
	free(m->mean);
	free(m->std);
	memset(m, 0, sizeof *m);
}

void plm_mlp_init_params(plm_mlp *m, plm_rng *r)
{
	for (uint32_t l = 0; l < m->nl; l++) {
		double bound = 1 / sqrt((double)m->dim[l]);
		size_t nw = (size_t)m->dim[l + 1] * m->dim[l];
		for (size_t i = 0; i < nw; i++)
			m->W[l][i] = (float)((2 * plm_rng_double(r) - 1) * bound);
		for (uint32_t i = 0; i < m->dim[l + 1]; i++)
			m->b[l][i] = (float)((2 * plm_rng_double(r) - 1) * bound);
	}
}

void plm_mlp_scale(const plm_mlp *m, float *x, size_t n)
{
	if (!m->mean)
		return;
	uint32_t d = m->dim[0];
	for (size_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < d; j++)
			x[i * d + j] = (x[i * d + j] - m->mean[j]) / m->std[j];
}

void plm_vec_to_f32(const plm_val *v, enum plm_type t, uint32_t dim,
		    float *out)
{
	const unsigned char *p = (const unsigned char *)v->s;
	if (t == PLM_T_F32) {
		memcpy(out, p, (size_t)dim * 4);
		return;
	}
	for (uint32_t j = 0; j < dim; j++) {
		uint16_t h = (uint16_t)(p[2 * j] | p[2 * j + 1] << 8);
		out[j] = t == PLM_T_F16 ? plm_f16_to_f32(h) : plm_bf16_to_f32(h);
	}
}

/* ---- work buffers --------------------------------------------------- */

struct plm_mlp_work {
	size_t maxb;
	plm_pool *pool;
	float *z[PLM_MLP_MAXL];     /* pre-activation, B × dim[l+1] */
	float *a[PLM_MLP_MAXL];     /* hidden output after dropout */
	float *mask[PLM_MLP_MAXL];  /* dropout: 0 or 1/(1-p) */
	float *d0, *d1;             /* B × max dim: deltas */
	int masked;                 /* the last forward drew masks */
};

void plm_mlp_work_free(plm_mlp_work *w)
{
	if (!w)
		return;
	for (int l = 0; l < PLM_MLP_MAXL; l++) {
		free(w->z[l]);
		free(w->a[l]);
		free(w->mask[l]);
	}
	free(w->d0);
	free(w->d1);
	plm_pool_free(w->pool);
	free(w);
}

plm_mlp_work *plm_mlp_work_new(const plm_mlp *m, size_t maxb, int threads)
{
	plm_mlp_work *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->maxb = maxb;
	size_t dmax = 0;
	int bad = 0;
	for (uint32_t l = 0; l <= m->nl; l++)
		if (m->dim[l] > dmax)
			dmax = m->dim[l];
	for (uint32_t l = 0; l < m->nl; l++) {
		size_t n = maxb * m->dim[l + 1];
		bad |= !(w->z[l] = malloc(n * sizeof(float)));
		if (l + 1 < m->nl) {
			bad |= !(w->a[l] = malloc(n * sizeof(float)));
			bad |= !(w->mask[l] = malloc(n * sizeof(float)));
		}
	}
	bad |= !(w->d0 = malloc(maxb * dmax * sizeof(float)));
	bad |= !(w->d1 = malloc(maxb * dmax * sizeof(float)));
	if (threads > 1)
		bad |= !(w->pool = plm_pool_new(threads));
	if (bad) {
		plm_mlp_work_free(w);
		return NULL;
	}
	return w;
}

size_t plm_mlp_work_maxb(const plm_mlp_work *w) { return w->maxb; }
plm_pool *plm_mlp_work_pool(plm_mlp_work *w) { return w->pool; }

/* ---- activations ------------------------------------------------------ */

static float act_f(enum plm_act a, float z)
{
	switch (a) {
	case PLM_ACT_RELU:
		return z > 0 ? z : 0;
	case PLM_ACT_GELU:
		return 0.5f * z * (1 + erff(z * (float)M_SQRT1_2));
	default:
		return tanhf(z);
	}
}

/* d act / d z at z. */
static float act_d(enum plm_act a, float z)
{
	switch (a) {
	case PLM_ACT_RELU:
		return z > 0 ? 1.0f : 0.0f;
	case PLM_ACT_GELU: {
		float cdf = 0.5f * (1 + erff(z * (float)M_SQRT1_2));
		float pdf = expf(-0.5f * z * z) * 0.3989422804014327f;
		return cdf + z * pdf;
	}
	default: {
		float t = tanhf(z);
		return 1 - t * t;
	}
	}
}

/* ---- forward / backward ----------------------------------------------- */

/* Units are handed to threads in blocks of BLK; a part must be worth a
 * thread (about MINFLOP multiply-adds), else the layer runs here. */
#define BLK 16
#define MINFLOP (1u << 20)

static int nparts(const plm_mlp_work *w, size_t units, size_t flop)
{
	int t = plm_pool_threads(w->pool);
	size_t blocks = (units + BLK - 1) / BLK;
	size_t byflop = flop / MINFLOP;
	if ((size_t)t > blocks)
		t = (int)blocks;
	if ((size_t)t > byflop)
		t = (int)byflop;
	return t < 1 ? 1 : t;
}

struct layer_job {
	const plm_mlp *m;
	plm_mlp_work *w;
	uint32_t l;
	size_t B;
	const float *in, *dz;
	float *da, *gW, *gb;
	int train;              /* forward: masks drawn (dropout > 0) */
};

static void unit_range(size_t lo, size_t hi, size_t units, size_t *u0,
		       size_t *u1)
{
	*u0 = lo * BLK;
	*u1 = hi * BLK < units ? hi * BLK : units;
}

/* Z[:, u0:u1] = in W[u0:u1]^T + b, then the activation (and mask). */
static void fwd_part(void *arg, size_t lo, size_t hi)
{
	const struct layer_job *j = arg;
	const plm_mlp *m = j->m;
	int din = (int)m->dim[j->l], dout = (int)m->dim[j->l + 1];
	size_t u0, u1;
	unit_range(lo, hi, (size_t)dout, &u0, &u1);
	int nu = (int)(u1 - u0);
	float *z = j->w->z[j->l];
	const float *b = m->b[j->l];
	plm_gemm(NULL, j->B, (size_t)nu, (size_t)din, j->in, (size_t)din, 1,
		 m->W[j->l] + u0 * din, (size_t)din, 1, z + u0, (size_t)dout);
	for (size_t i = 0; i < j->B; i++)
		for (size_t u = u0; u < u1; u++)
			z[i * dout + u] += b[u];
	if (j->l + 1 == m->nl)
		return;
	float *a = j->w->a[j->l], *mk = j->w->mask[j->l];
	for (size_t i = 0; i < j->B; i++) {
		size_t r = i * dout;
		for (size_t u = u0; u < u1; u++)
			a[r + u] = act_f(m->act, z[r + u]);
		if (j->train)
			for (size_t u = u0; u < u1; u++)
				a[r + u] *= mk[r + u];
	}
}

const float *plm_mlp_forward(const plm_mlp *m, plm_mlp_work *w,
			     const float *x, size_t B, plm_rng *drop)
{
	const float *in = x;
	float keep = 1 - m->dropout;
	float scale = keep > 0 ? 1 / keep : 0;
	for (uint32_t l = 0; l < m->nl; l++) {
		size_t din = m->dim[l], dout = m->dim[l + 1];
		struct layer_job j = { m, w, l, B, in, NULL, NULL, NULL, NULL,
				       drop && m->dropout > 0 };
		if (j.train && l + 1 < m->nl) {
			/* masks first, in one sequential stream: the draws
			 * must not depend on the thread count */
			float *mk = w->mask[l];
			for (size_t i = 0; i < B * dout; i++)
				mk[i] = plm_rng_double(drop) >= m->dropout
					? scale : 0.0f;
		}
		plm_pool_run(w->pool, nparts(w, dout, B * din * dout), fwd_part,
			     &j, (dout + BLK - 1) / BLK);
		if (l + 1 == m->nl) {
			w->masked = drop && m->dropout > 0;
			return w->z[l];
		}
		in = w->a[l];
	}
	return NULL;  /* not reached: nl >= 1 */
}

static double softplus(double z)      /* log(1 + e^z), stable */
{
	return (z > 0 ? z : 0) + log1p(exp(-fabs(z)));
}

static double sigmoid(double z)
{
	if (z >= 0)
		return 1 / (1 + exp(-z));
	double e = exp(z);
	return e / (1 + e);
}

double plm_mlp_loss(const plm_mlp *m, const float *logits, size_t B,
		    const float *target, const float *rw, float *dlogits)
{
	uint32_t K = m->dim[m->nl];
	double sw = 0, sum = 0;
	for (size_t i = 0; i < B; i++)
		sw += rw ? rw[i] : 1.0;
	for (size_t i = 0; i < B; i++) {
		double wi = rw ? rw[i] : 1.0, c = wi / sw;
		const float *z = logits + i * K;
		float *d = dlogits ? dlogits + i * K : NULL;
		double l = 0;
		if (m->head == PLM_HEAD_BINARY) {
			double t = target[i];
			l = softplus(z[0]) - z[0] * t;
			if (d)
				d[0] = (float)(c * (sigmoid(z[0]) - t));
		} else if (m->head == PLM_HEAD_MULTILABEL) {
			const float *t = target + i * K;
			for (uint32_t k = 0; k < K; k++) {
				l += softplus(z[k]) - z[k] * (double)t[k];
				if (d)
					d[k] = (float)(c / K *
						       (sigmoid(z[k]) - t[k]));
			}
			l /= K;
		} else {
			uint32_t cls = (uint32_t)target[i];
			double mx = z[0], se = 0;
			for (uint32_t k = 1; k < K; k++)
				if (z[k] > mx)
					mx = z[k];
			for (uint32_t k = 0; k < K; k++)
				se += exp(z[k] - mx);
			double lse = mx + log(se);
			l = lse - z[cls];
			if (d)
				for (uint32_t k = 0; k < K; k++)
					d[k] = (float)(c * (exp(z[k] - lse) -
							    (k == cls)));
		}
		sum += wi * l;
	}
	return sum / sw;
}

/* gW[u0:u1] = dz[:, u0:u1]^T in, gb[u0:u1] = column sums of dz. */
static void grad_part(void *arg, size_t lo, size_t hi)
{
	const struct layer_job *j = arg;
	const plm_mlp *m = j->m;
	int din = (int)m->dim[j->l], dout = (int)m->dim[j->l + 1];
	size_t u0, u1;
	unit_range(lo, hi, (size_t)dout, &u0, &u1);
	plm_gemm(NULL, u1 - u0, (size_t)din, j->B, j->dz + u0, 1, (size_t)dout,
		 j->in, 1, (size_t)din, j->gW + u0 * din, (size_t)din);
	for (size_t u = u0; u < u1; u++)
		j->gb[u] = 0;
	for (size_t i = 0; i < j->B; i++)
		for (size_t u = u0; u < u1; u++)
			j->gb[u] += j->dz[i * dout + u];
}

/* da[:, u0:u1] = (dz W[:, u0:u1]) * mask * act'(z) for the layer's input
 * units u0..u1. */
static void delta_part(void *arg, size_t lo, size_t hi)
{
	const struct layer_job *j = arg;
	const plm_mlp *m = j->m;
	int din = (int)m->dim[j->l], dout = (int)m->dim[j->l + 1];
	size_t u0, u1;
	unit_range(lo, hi, (size_t)din, &u0, &u1);
	plm_gemm(NULL, j->B, u1 - u0, (size_t)dout, j->dz, (size_t)dout, 1,
		 m->W[j->l] + u0, 1, (size_t)din, j->da + u0, (size_t)din);
	const float *z = j->w->z[j->l - 1], *mk = j->w->mask[j->l - 1];
	for (size_t i = 0; i < j->B; i++) {
		size_t r = i * (size_t)din;
		if (j->train)
			for (size_t u = u0; u < u1; u++)
				j->da[r + u] *= mk[r + u] *
						act_d(m->act, z[r + u]);
		else
			for (size_t u = u0; u < u1; u++)
				j->da[r + u] *= act_d(m->act, z[r + u]);
	}
}

void plm_mlp_backward(const plm_mlp *m, plm_mlp_work *w, const float *x,
		      size_t B, const float *dlogits, float *grad)
{
	const float *dz = dlogits;
	float *bufs[2] = { w->d0, w->d1 };
	int which = 0;
	for (uint32_t l = m->nl; l-- > 0;) {
		size_t din = m->dim[l], dout = m->dim[l + 1];
		struct layer_job j = {
			m, w, l, B, l ? w->a[l - 1] : x, dz, NULL,
			grad + (m->W[l] - m->param), grad + (m->b[l] - m->param),
			w->masked,
		};
		size_t flop = B * din * dout;
		plm_pool_run(w->pool, nparts(w, dout, flop), grad_part, &j,
			     (dout + BLK - 1) / BLK);
		if (l == 0)
			break;
		j.da = bufs[which];
		which ^= 1;
		plm_pool_run(w->pool, nparts(w, din, flop), delta_part, &j,
			     (din + BLK - 1) / BLK);
		dz = j.da;
	}
}

void plm_mlp_probs(const plm_mlp *m, float *z, size_t B)
{
	uint32_t K = m->dim[m->nl];
	if (m->head != PLM_HEAD_MULTI) {
		for (size_t i = 0; i < B * K; i++)
			z[i] = (float)sigmoid(z[i]);
		return;
	}
	for (size_t i = 0; i < B; i++) {
		float *r = z + i * K;
		double mx = r[0], s = 0;
		for (uint32_t k = 1; k < K; k++)
			if (r[k] > mx)
				mx = r[k];
		for (uint32_t k = 0; k < K; k++)
			s += exp(r[k] - mx);
		for (uint32_t k = 0; k < K; k++)
			r[k] = (float)(exp(r[k] - mx) / s);
	}
}
