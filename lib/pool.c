/* pool.c — the fork-join pool of include/plm/pool.h.
 *
 * A training step or a forward pass is many short jobs (about a
 * millisecond each), so workers spin a little on a generation counter
 * before sleeping on a condition variable: a futex wake per job would cost
 * more than the job's imbalance. */
#include "plm/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN 4000

struct plm_pool {
	int n;
	pthread_t *tid;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	atomic_uint gen;
	atomic_int pending;
	atomic_int quit;
	void (*fn)(void *, size_t, size_t);
	void (*fni)(void *, size_t, size_t, int);   /* or this, with the part */
	void *arg;
	size_t len;
	int parts;
};

struct warg {
	plm_pool *p;
	int idx;
};

static void part(const plm_pool *p, int idx, size_t *lo, size_t *hi)
{
	*lo = p->len * (size_t)idx / (size_t)p->parts;
	*hi = p->len * (size_t)(idx + 1) / (size_t)p->parts;
}

static void call(const plm_pool *p, size_t lo, size_t hi, int idx)
{
	if (p->fni)
		p->fni(p->arg, lo, hi, idx);
	else
		p->fn(p->arg, lo, hi);
}

static void *worker(void *v)
{
	struct warg *wa = v;
	plm_pool *p = wa->p;
	int idx = wa->idx;
	unsigned seen = 0;
	free(wa);
	for (;;) {
		unsigned g;
		int spins = 0;
		while ((g = atomic_load_explicit(&p->gen, memory_order_acquire))
		       == seen && !atomic_load(&p->quit) && spins < SPIN) {
			if (++spins % 64 == 0)
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
		if (idx < p->parts) {
			size_t lo, hi;
			part(p, idx, &lo, &hi);
			if (lo < hi)
				call(p, lo, hi, idx);
		}
		if (atomic_fetch_sub_explicit(&p->pending, 1,
					      memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&p->mu);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->mu);
		}
	}
}

plm_pool *plm_pool_new(int n)
{
	plm_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->n = n < 1 ? 1 : n;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	pthread_cond_init(&p->done, NULL);
	if (p->n > 1 && !(p->tid = calloc((size_t)p->n, sizeof *p->tid))) {
		plm_pool_free(p);
		return NULL;
	}
	for (int i = 1; i < p->n; i++) {
		struct warg *wa = malloc(sizeof *wa);
		if (!wa || (wa->p = p, wa->idx = i,
			    pthread_create(&p->tid[i], NULL, worker, wa))) {
			free(wa);
			plm_pool_free(p);
			return NULL;
		}
		p->started = i;
	}
	return p;
}

int plm_pool_threads(const plm_pool *p)
{
	return p ? p->n : 1;
}

void plm_pool_free(plm_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->quit, 1);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i <= p->started; i++)
		pthread_join(p->tid[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->wake);
	pthread_cond_destroy(&p->done);
	free(p->tid);
	free(p);
}

static void fork_join(plm_pool *p, int parts, size_t len)
{
	if (parts > p->n)
		parts = p->n;
	p->len = len;
	p->parts = parts;
	atomic_store(&p->pending, p->n - 1);
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	size_t lo, hi;
	part(p, 0, &lo, &hi);
	if (lo < hi)
		call(p, lo, hi, 0);
	int spins = 0;
	while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0 &&
	       spins < SPIN) {
		if (++spins % 64 == 0)
			sched_yield();
	}
	if (atomic_load(&p->pending) > 0) {
		pthread_mutex_lock(&p->mu);
		while (atomic_load(&p->pending) > 0)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
}

void plm_pool_run(plm_pool *p, int parts, void (*fn)(void *, size_t, size_t),
		  void *arg, size_t len)
{
	if (!p || p->n == 1 || parts <= 1 || len < 2) {
		if (len)
			fn(arg, 0, len);
		return;
	}
	p->fn = fn;
	p->fni = NULL;
	p->arg = arg;
	fork_join(p, parts, len);
}

void plm_pool_run_idx(plm_pool *p, int parts,
		      void (*fn)(void *, size_t, size_t, int), void *arg,
		      size_t len)
{
	if (!p || p->n == 1 || parts <= 1 || len < 2) {
		if (len)
			fn(arg, 0, len, 0);
		return;
	}
	p->fn = NULL;
	p->fni = fn;
	p->arg = arg;
	fork_join(p, parts, len);
}
