/* optim.c — SGD / Adam / AdamW and learning-rate schedules
 * (include/plm/optim.h).  Arithmetic is in float like PyTorch's float32
 * parameters; the bias corrections are computed in double as PyTorch does
 * (Python floats). */
#include "plm/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const alg_names[] = { "sgd", "adam", "adamw" };
static const char *const sched_names[] = { "none", "step", "cosine" };

int plm_opt_alg_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, alg_names[i]))
			return i;
	return -1;
}

const char *plm_opt_alg_name(enum plm_opt_alg a) { return alg_names[a]; }
const char *plm_sched_name(enum plm_sched_kind k) { return sched_names[k]; }

int plm_sched_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, sched_names[i]))
			return i;
	return -1;
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

static void sgd(plm_optim *o, float *p, const float *g, float lr)
{
	float wd = (float)o->weight_decay, mu = (float)o->momentum;
	for (size_t i = 0; i < o->n; i++) {
		float d = g[i];
		if (wd != 0)
			d += wd * p[i];
		if (mu != 0) {
			/* PyTorch starts the buffer at the first gradient */
			o->m[i] = o->t == 1 ? d : mu * o->m[i] + d;
			d = o->nesterov ? d + mu * o->m[i] : o->m[i];
		}
		p[i] -= lr * d;
	}
}

static void adam(plm_optim *o, float *p, const float *g, double lr)
{
	float wd = (float)o->weight_decay;
	float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
	double bc1 = 1 - pow(o->beta1, (double)o->t);
	double bc2 = 1 - pow(o->beta2, (double)o->t);
	float step = (float)(lr / bc1), bc2s = (float)sqrt(bc2);
	float decay = (float)(1 - lr * o->weight_decay);
	for (size_t i = 0; i < o->n; i++) {
		float d = g[i];
		if (o->alg == PLM_OPT_ADAMW)
			p[i] *= decay;
		else if (wd != 0)
			d += wd * p[i];
		o->m[i] = b1 * o->m[i] + (1 - b1) * d;
		o->v[i] = b2 * o->v[i] + (1 - b2) * d * d;
		float den = sqrtf(o->v[i]) / bc2s + eps;
		p[i] -= step * (o->m[i] / den);
	}
}

void plm_optim_step(plm_optim *o, float *p, const float *g, double lr)
{
	o->t++;
	if (o->alg == PLM_OPT_SGD)
		sgd(o, p, g, (float)lr);
	else
		adam(o, p, g, lr);
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
