/* optim.c — SGD / Adam / AdamW and learning-rate schedules
 * (include/plm/optim.h).  Arithmetic is in float like PyTorch's float32
 * parameters; the bias corrections are computed in double as PyTorch does
 * (Python floats). */
#include "plm/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plm/names.h"

static const char *const alg_names[] = { "sgd", "adam", "adamw" };
static const char *const sched_names[] = { "none", "step", "cosine" };

int plm_opt_alg_parse(const char *s)
{
	return plm_name_index(alg_names, 3, s);
}

const char *plm_opt_alg_name(enum plm_opt_alg a) { return alg_names[a]; }
const char *plm_sched_name(enum plm_sched_kind k) { return sched_names[k]; }

int plm_sched_parse(const char *s)
{
	return plm_name_index(sched_names, 3, s);
}

int plm_optim_init(plm_optim *o, size_t n)
{
	o->n = n;
	o->t = 0;
	o->m = calloc(n ? n : 1, sizeof *o->m);
	o->v = o->alg == PLM_OPT_SGD ? NULL : calloc(n ? n : 1, sizeof *o->v);
	if (!o->m || (o->alg != PLM_OPT_SGD && !o->v)) {
		plm_optim_free(o);
		return -1;
	}
	return 0;
}

void plm_optim_free(plm_optim *o)
{
	free(o->m);
	free(o->v);
	o->m = o->v = NULL;
}

/* The update loops are element-wise, so vectorising them changes no
 * result (-std=c11 keeps a * b + c unfused); -O2 alone leaves them
 * scalar, hence O3 here.  One loop per case keeps the branches out. */
#if defined(__GNUC__) && !defined(__clang__)
#define VEC __attribute__((optimize("O3")))
#else
#define VEC
#endif

VEC static void sgd(const plm_optim *o, float *restrict p,
		    const float *restrict g, float *restrict m, float lr,
		    size_t n)
{
	float wd = (float)o->weight_decay, mu = (float)o->momentum;
	if (mu == 0) {
		if (wd != 0)
			for (size_t i = 0; i < n; i++)
				p[i] -= lr * (g[i] + wd * p[i]);
		else
			for (size_t i = 0; i < n; i++)
				p[i] -= lr * g[i];
		return;
	}
	/* PyTorch starts the buffer at the first gradient.  One pass per
	 * case (buffer and parameter together): the step is memory-bound. */
	int first = o->t == 1;
	if (o->nesterov) {
		for (size_t i = 0; i < n; i++) {
			float d = wd != 0 ? g[i] + wd * p[i] : g[i];
			m[i] = first ? d : mu * m[i] + d;
			p[i] -= lr * (d + mu * m[i]);
		}
	} else if (wd != 0) {
		for (size_t i = 0; i < n; i++) {
			float d = g[i] + wd * p[i];
			m[i] = first ? d : mu * m[i] + d;
			p[i] -= lr * m[i];
		}
	} else if (first) {
		for (size_t i = 0; i < n; i++) {
			m[i] = g[i];
			p[i] -= lr * m[i];
		}
	} else {
		for (size_t i = 0; i < n; i++) {
			m[i] = mu * m[i] + g[i];
			p[i] -= lr * m[i];
		}
	}
}

VEC static void adam(const plm_optim *o, float *restrict p,
		     const float *restrict g, float *restrict m,
		     float *restrict v, double lr, size_t n)
{
	float wd = (float)o->weight_decay;
	float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
	double bc1 = 1 - pow(o->beta1, (double)o->t);
	double bc2 = 1 - pow(o->beta2, (double)o->t);
	float step = (float)(lr / bc1), bc2s = (float)sqrt(bc2);
	float decay = (float)(1 - lr * o->weight_decay);
	float c1 = 1 - b1, c2 = 1 - b2;
	if (o->alg == PLM_OPT_ADAMW) {
		for (size_t i = 0; i < n; i++) {
			float d = g[i];
			p[i] *= decay;
			m[i] = b1 * m[i] + c1 * d;
			v[i] = b2 * v[i] + c2 * d * d;
			p[i] -= step * (m[i] / (sqrtf(v[i]) / bc2s + eps));
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		float d = wd != 0 ? g[i] + wd * p[i] : g[i];
		m[i] = b1 * m[i] + c1 * d;
		v[i] = b2 * v[i] + c2 * d * d;
		p[i] -= step * (m[i] / (sqrtf(v[i]) / bc2s + eps));
	}
}

void plm_optim_begin(plm_optim *o)
{
	o->t++;
}

void plm_optim_range(const plm_optim *o, float *p, const float *g, double lr,
		     size_t lo, size_t hi)
{
	if (o->alg == PLM_OPT_SGD)
		sgd(o, p + lo, g + lo, o->m + lo, (float)lr, hi - lo);
	else
		adam(o, p + lo, g + lo, o->m + lo, o->v + lo, lr, hi - lo);
}

void plm_optim_step(plm_optim *o, float *p, const float *g, double lr)
{
	plm_optim_begin(o);
	plm_optim_range(o, p, g, lr, 0, o->n);
}

double plm_sched_lr(const plm_sched *s, int epoch)
{
	switch (s->kind) {
	case PLM_SCHED_STEP:
		return s->lr * pow(s->gamma, (double)(epoch / s->step_size));
	case PLM_SCHED_COSINE:
		return s->eta_min + (s->lr - s->eta_min) *
			(1 + cos(M_PI * epoch / s->t_max)) / 2;
	default:
		return s->lr;
	}
}
