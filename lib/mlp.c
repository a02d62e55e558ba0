/* mlp.c — MLP forward/backward on OpenBLAS (include/plm/mlp.h).
 *
 * Each linear layer is one sgemm over the batch: Z = X W^T + b (bias
 * written into Z first, then beta = 1), dW = dZ^T X, dX = dZ W.  The
 * element-wise steps are plain loops.  Nothing here depends on the number
 * of OpenBLAS threads except through sgemm itself (see mlp-train(1) on
 * reproducibility). */
#include "plm/mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct plm_mlp_work {
	size_t maxb;
	float *z[PLM_MLP_MAXL];     /* pre-activation, B × dim[l+1] */
	float *a[PLM_MLP_MAXL];     /* hidden output after dropout */
	float *mask[PLM_MLP_MAXL];  /* dropout: 0 or 1/(1-p) */
	float *d0, *d1;             /* B × max dim: deltas */
};

static const char *const act_names[] = { "relu", "gelu", "tanh" };
static const char *const head_names[] = { "binary", "multi", "multilabel" };

int plm_act_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, act_names[i]))
			return i;
	return -1;
}

const char *plm_act_name(enum plm_act a) { return act_names[a]; }
const char *plm_head_name(enum plm_head h) { return head_names[h]; }

int plm_head_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, head_names[i]))
			return i;
	return -1;
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
	free(w);
}

plm_mlp_work *plm_mlp_work_new(const plm_mlp *m, size_t maxb)
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
	if (bad) {
		plm_mlp_work_free(w);
		return NULL;
	}
	return w;
}

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

const float *plm_mlp_forward(const plm_mlp *m, plm_mlp_work *w,
			     const float *x, size_t B, plm_rng *drop)
{
	const float *in = x;
	float keep = 1 - m->dropout;
	float scale = keep > 0 ? 1 / keep : 0;
	for (uint32_t l = 0; l < m->nl; l++) {
		int din = (int)m->dim[l], dout = (int)m->dim[l + 1];
		float *z = w->z[l];
		for (size_t i = 0; i < B; i++)
			memcpy(z + i * dout, m->b[l], (size_t)dout * sizeof *z);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B,
			    dout, din, 1.0f, in, din, m->W[l], din, 1.0f, z,
			    dout);
		if (l + 1 == m->nl)
			return z;
		float *a = w->a[l], *mk = w->mask[l];
		size_t n = B * (size_t)dout;
		for (size_t i = 0; i < n; i++)
			a[i] = act_f(m->act, z[i]);
		if (drop && m->dropout > 0) {
			for (size_t i = 0; i < n; i++) {
				mk[i] = plm_rng_double(drop) >= m->dropout
					? scale : 0.0f;
				a[i] *= mk[i];
			}
		} else {
			for (size_t i = 0; i < n; i++)
				mk[i] = 1.0f;
		}
		in = a;
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

void plm_mlp_backward(const plm_mlp *m, plm_mlp_work *w, const float *x,
		      size_t B, const float *dlogits, float *grad)
{
	const float *dz = dlogits;
	float *bufs[2] = { w->d0, w->d1 };
	int which = 0;
	for (uint32_t l = m->nl; l-- > 0;) {
		int din = (int)m->dim[l], dout = (int)m->dim[l + 1];
		const float *in = l ? w->a[l - 1] : x;
		float *gW = grad + (m->W[l] - m->param);
		float *gb = grad + (m->b[l] - m->param);
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dout, din,
			    (int)B, 1.0f, dz, dout, in, din, 0.0f, gW, din);
		for (int j = 0; j < dout; j++) {
			float s = 0;
			for (size_t i = 0; i < B; i++)
				s += dz[i * dout + j];
			gb[j] = s;
		}
		if (l == 0)
			break;
		float *da = bufs[which];
		which ^= 1;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B,
			    din, dout, 1.0f, dz, dout, m->W[l], din, 0.0f, da,
			    din);
		const float *z = w->z[l - 1], *mk = w->mask[l - 1];
		size_t n = B * (size_t)din;
		for (size_t i = 0; i < n; i++)
			da[i] *= mk[i] * act_d(m->act, z[i]);
		dz = da;
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
