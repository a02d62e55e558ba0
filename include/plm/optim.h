/* optim.h — optimisers and learning-rate schedules over one flat parameter
 * vector, with PyTorch's update rules (torch.optim 2.x, single-tensor
 * path), so a run can be checked against PyTorch step by step.
 *
 *   sgd    g = grad + wd p;  buf = g (first step) else mu buf + g;
 *          g = nesterov ? g + mu buf : buf (mu > 0);  p -= lr g
 *   adam   g = grad + wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *          p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   adamw  as adam with g = grad, after p *= 1 - lr wd (decoupled decay)
 *
 * Schedules give the rate of an epoch (0-based) from the base rate:
 *   const   lr
 *   step    lr gamma^floor(epoch / step_size)          (StepLR)
 *   cosine  eta_min + (lr - eta_min)(1 + cos(pi epoch / T)) / 2
 *           with T = t_max (CosineAnnealingLR's closed form) */
#ifndef PLM_OPTIM_H
#define PLM_OPTIM_H

#include <stddef.h>
#include <stdint.h>

enum plm_opt_alg { PLM_OPT_SGD, PLM_OPT_ADAM, PLM_OPT_ADAMW };
enum plm_sched_kind { PLM_SCHED_CONST, PLM_SCHED_STEP, PLM_SCHED_COSINE };

typedef struct plm_optim {
	enum plm_opt_alg alg;
	double momentum, weight_decay, beta1, beta2, eps;
	int nesterov;
	size_t n;
	uint64_t t;            /* steps taken */
	float *m, *v;          /* momentum buffer / Adam moments */
} plm_optim;

int plm_opt_alg_parse(const char *s);          /* -1 when unknown */
const char *plm_opt_alg_name(enum plm_opt_alg a);
int plm_sched_parse(const char *s);            /* "none" "step" "cosine" */
const char *plm_sched_name(enum plm_sched_kind k);

/* Set o's hyper-parameters first (alg, momentum, ...); allocates state
 * for n parameters.  0, or -1 out of memory. */
int plm_optim_init(plm_optim *o, size_t n);
void plm_optim_free(plm_optim *o);
/* One update of p[0..n) from grad g with learning rate lr. */
void plm_optim_step(plm_optim *o, float *p, const float *g, double lr);
/* The same step in parts (threads): plm_optim_begin once, then
 * plm_optim_range over disjoint ranges that cover [0, n). */
void plm_optim_begin(plm_optim *o);
void plm_optim_range(const plm_optim *o, float *p, const float *g, double lr,
		     size_t lo, size_t hi);

typedef struct plm_sched {
	enum plm_sched_kind kind;
	double lr, gamma, eta_min;
	int step_size, t_max;
} plm_sched;

double plm_sched_lr(const plm_sched *s, int epoch);

#endif
