/* esm_batch.h — cutting a window of sequences into batches for one ESM-2
 * workspace (esm.h).
 *
 * A program gathers a window of sequences (plm_esm_window_residues: enough
 * that sorting fills the batches), cuts it with plm_esm_plan_cut and runs
 * the batches with plm_esm_plan_run.  The budget that cuts the batches is
 * the workspace's own (plm_esm_ctx_tokens), the one its buffers were sized
 * for, so a batch always fits the workspace it runs in.
 *
 *	plm_esm_plan p = { 0 };
 *	if (plm_esm_plan_cut(&p, c, n, seqs, lens))
 *		return -1;                              // out of memory
 *	for (size_t b = 0; b < p.nbatch; b++) {
 *		// o.out: room for p.batch[b].n pooled rows, or
 *		// p.batch[b].tokens rows (POOL_NONE)
 *		int rc = plm_esm_plan_run(c, &p, b, &o);
 *		// rc 0: outputs of p.order[first .. first + n) in that order
 *		// rc PLM_ESM_NO_ROOM: that one sequence is left without result
 *		// rc -1: plm_esm_error(c)
 *	}
 *	plm_esm_plan_free(&p);
 *
 * The results do not depend on the cut (esm.h: a sequence gives the same
 * bits in any batch), so the caller's output does not depend on the window
 * or the budget. */
#ifndef PLM_ESM_BATCH_H
#define PLM_ESM_BATCH_H

#include <stddef.h>

#include "plm/esm.h"

/* Residues worth gathering before a cut, for workspace c: 8 budgets, so
 * that sequences of similar length share batches and the last batch of a
 * window is a small part of it. */
size_t plm_esm_window_residues(const plm_esm_ctx *c);

typedef struct plm_esm_batch {
	size_t first, n;        /* order[first .. first + n) */
	size_t tokens;          /* sum of lens + 2 */
	int alone;              /* one sequence longer than the budget */
} plm_esm_batch;

typedef struct plm_esm_plan {
	size_t n;               /* sequences in the window */
	size_t *order;          /* [n] window indices, by length, then index */
	const char **seqs;      /* [n] the sequences in that order */
	size_t *lens;           /* [n] their lengths */
	plm_esm_batch *batch;   /* [nbatch] shortest first */
	size_t nbatch;
	size_t ocap, scap, lcap, bcap;  /* elements allocated */
} plm_esm_plan;

/* Sorts window sequences seqs[0 .. n) (lens[i] >= 1 residues, truncation
 * applied) by length, ties by index, and cuts that order into batches:
 * each batch takes the next sequences while their tokens (len + 2 each)
 * fit in plm_esm_ctx_tokens(c).  Every index is in exactly one batch.  A
 * sequence whose len + 2 exceeds the budget is a batch of its own with
 * alone set (sorted last, so these are the last batches).  seqs[i] must
 * stay valid while the plan is run.  Reuses p's arrays (p zeroed the first
 * time).  0, or -1 when out of memory. */
int plm_esm_plan_cut(plm_esm_plan *p, const plm_esm_ctx *c, size_t n,
		     const char *const *seqs, const size_t *lens);
void plm_esm_plan_free(plm_esm_plan *p);

#define PLM_ESM_NO_ROOM 1

/* Runs batch b of plan p in workspace c (the one p was cut for), as
 * plm_esm_forward(c, batch.n, p->seqs + first, p->lens + first, o).  An
 * alone batch runs in a workspace of its own size, with as many threads
 * as c, made and freed here; when that cannot be allocated, returns
 * PLM_ESM_NO_ROOM and o is untouched.  0, or -1 with plm_esm_error(c). */
int plm_esm_plan_run(plm_esm_ctx *c, const plm_esm_plan *p, size_t b,
		     plm_esm_out *o);

#endif
