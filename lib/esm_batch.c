/* esm_batch.c — a window of sequences cut into batches under the token
 * budget of the workspace that runs them (plm/esm_batch.h). */
#include "esm_impl.h"
#include "plm/alloc.h"
#include "plm/esm_batch.h"

#include <stdio.h>
#include <stdlib.h>

size_t plm_esm_window_residues(const plm_esm_ctx *c)
{
	return 8 * c->max_tokens;
}

typedef struct {
	size_t len, i;
} lenidx;

static int by_len(const void *a, const void *b)
{
	const lenidx *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int sort_window(plm_esm_plan *p, size_t n, const char *const *seqs,
		       const size_t *lens)
{
	lenidx *k;
	if (PLM_GROW(p->order, p->ocap, n) || PLM_GROW(p->seqs, p->scap, n) ||
	    PLM_GROW(p->lens, p->lcap, n) || !(k = malloc((n + 1) * sizeof *k)))
		return -1;
	for (size_t i = 0; i < n; i++)
		k[i] = (lenidx){ lens[i], i };
	qsort(k, n, sizeof *k, by_len);
	for (size_t i = 0; i < n; i++) {
		p->order[i] = k[i].i;
		p->seqs[i] = seqs[k[i].i];
		p->lens[i] = k[i].len;
	}
	free(k);
	p->n = n;
	return 0;
}

int plm_esm_plan_cut(plm_esm_plan *p, const plm_esm_ctx *c, size_t n,
		     const char *const *seqs, const size_t *lens)
{
	const size_t budget = c->max_tokens;
	p->nbatch = 0;
	if (sort_window(p, n, seqs, lens))
		return -1;
	for (size_t i = 0; i < n;) {
		size_t T = 0, j = i;
		while (j < n && p->lens[j] + 2 <= budget - T)
			T += p->lens[j++] + 2;
		if (PLM_GROW(p->batch, p->bcap, p->nbatch + 1))
			return -1;
		plm_esm_batch *b = &p->batch[p->nbatch++];
		*b = (plm_esm_batch){ .first = i, .n = j - i, .tokens = T };
		if (j == i)
			*b = (plm_esm_batch){ .first = i, .n = 1, .alone = 1,
					      .tokens = p->lens[j++] + 2 };
		i = j;
	}
	return 0;
}

void plm_esm_plan_free(plm_esm_plan *p)
{
	free(p->order);
	free(p->seqs);
	free(p->lens);
	free(p->batch);
	*p = (plm_esm_plan){ 0 };
}

int plm_esm_plan_run(plm_esm_ctx *c, const plm_esm_plan *p, size_t b,
		     plm_esm_out *o)
{
	const plm_esm_batch *bt = &p->batch[b];
	const char *const *seqs = p->seqs + bt->first;
	const size_t *lens = p->lens + bt->first;
	char err[256];
	if (!bt->alone)
		return plm_esm_forward(c, bt->n, seqs, lens, o);
	plm_esm_ctx *big = plm_esm_ctx_new(c->m, bt->tokens,
					   plm_pool_threads(c->pool), err,
					   sizeof err);
	if (!big)
		return PLM_ESM_NO_ROOM;
	plm_esm_ctx_on_layer(big, c->on_layer, c->on_layer_arg);
	int rc = plm_esm_forward(big, bt->n, seqs, lens, o);
	if (rc)
		snprintf(c->err, sizeof c->err, "%s", big->err);
	plm_esm_ctx_free(big);
	return rc;
}
