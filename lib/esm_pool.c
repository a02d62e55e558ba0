/* esm_pool.c — a tiny fork-join pool for the element-wise steps of the
 * ESM forward pass (never around BLAS calls: OpenBLAS has its own
 * threads).
 *
 * plm_esmp_run splits [0, n) into one contiguous part per thread, the
 * caller doing part 0.  Workers spin briefly on a generation counter
 * before sleeping on a condition variable, so that the many short steps
 * of a forward pass (one softmax per head group) do not pay a futex wake
 * each. */
#include "esm_impl.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN 2000

struct esm_pool {
	int n;                           /* threads including the caller */
	pthread_t *tid;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	atomic_uint gen;                 /* bumped per job */
	atomic_int pending;              /* workers still running the job */
	atomic_int quit;
	void (*fn)(void *, size_t, size_t);
	void (*fni)(void *, size_t, size_t, int);
	void *arg;
	size_t len;
};

typedef struct {
	esm_pool *p;
	int idx;
} worker_arg;

static void part(const esm_pool *p, int idx, size_t *lo, size_t *hi)
{
	*lo = p->len * (size_t)idx / (size_t)p->n;
	*hi = p->len * (size_t)(idx + 1) / (size_t)p->n;
}

static void *worker(void *v)
{
	worker_arg *wa = v;
	esm_pool *p = wa->p;
	int idx = wa->idx;
	unsigned seen = 0;
	free(wa);
	for (;;) {
		unsigned g;
		int spins = 0;
		while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
		       !atomic_load(&p->quit) && spins < SPIN) {
			spins++;
			if (spins % 64 == 0)
				sched_yield();
		}
		if (g == seen && !atomic_load(&p->quit)) {
			pthread_mutex_lock(&p->mu);
			while ((g = atomic_load(&p->gen)) == seen &&
			       !atomic_load(&p->quit))
				pthread_cond_wait(&p->wake, &p->mu);
			pthread_mutex_unlock(&p->mu);
		}
		if (atomic_load(&p->quit))
			return NULL;
		seen = g;
		size_t lo, hi;
		part(p, idx, &lo, &hi);
		if (lo < hi) {
			if (p->fni)
				p->fni(p->arg, lo, hi, idx);
			else
				p->fn(p->arg, lo, hi);
		}
		atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
	}
}

esm_pool *plm_esmp_new(int nthreads)
{
	esm_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->n = nthreads < 1 ? 1 : nthreads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (p->n == 1)
		return p;
	p->tid = calloc((size_t)p->n, sizeof *p->tid);
	if (!p->tid) {
		p->n = 1;
		return p;
	}
	for (int i = 1; i < p->n; i++) {
		worker_arg *wa = malloc(sizeof *wa);
		if (!wa || (wa->p = p, wa->idx = i,
			    pthread_create(&p->tid[i], NULL, worker, wa))) {
			free(wa);
			/* Fewer threads than asked: run with those started. */
			p->n = i;
			break;
		}
	}
	return p;
}

void plm_esmp_free(esm_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->quit, 1);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n; i++)
		pthread_join(p->tid[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->wake);
	free(p->tid);
	free(p);
}

/* Starts the workers on the current job and runs part 0 on the caller. */
static void fork_join(esm_pool *p, size_t n)
{
	p->len = n;
	atomic_store(&p->pending, p->n - 1);
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	size_t lo, hi;
	part(p, 0, &lo, &hi);
	if (p->fni)
		p->fni(p->arg, lo, hi, 0);
	else
		p->fn(p->arg, lo, hi);
	int spins = 0;
	while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0)
		if (++spins % 64 == 0)
			sched_yield();
}

void plm_esmp_run(esm_pool *p, void (*fn)(void *, size_t, size_t), void *arg,
		  size_t n, size_t grain)
{
	/* Small jobs are not worth waking anyone. */
	if (p->n == 1 || n < 2 || n < grain * 2) {
		if (n)
			fn(arg, 0, n);
		return;
	}
	p->fn = fn;
	p->fni = NULL;
	p->arg = arg;
	fork_join(p, n);
}

int plm_esmp_threads(const esm_pool *p)
{
	return p->n;
}

void plm_esmp_run_idx(esm_pool *p, void (*fn)(void *, size_t, size_t, int),
		      void *arg, size_t n, size_t grain)
{
	if (p->n == 1 || n < 2 || n < grain * 2) {
		if (n)
			fn(arg, 0, n, 0);
		return;
	}
	p->fn = NULL;
	p->fni = fn;
	p->arg = arg;
	fork_join(p, n);
}
