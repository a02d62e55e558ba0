/* fuzz-mlpckpt — the mlp-train checkpoint reader (MessagePack map: the
 * architecture, weights, normalisation, classes, data digests) on
 * arbitrary bytes.  What it accepts must run a prediction on one row
 * without a fault.  A crash input replays with `mlp-predict -m FILE`. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzzfile.h"
#include "plm/mlp.h"
#include "plm/mlpckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	plm_mlpckpt c;
	if (plm_mlpckpt_load(&c, fuzz_file("model.ckpt", data, size), err,
			     sizeof err)) {
		if (!*err)
			abort();        /* a failure always says why */
		plm_mlpckpt_free(&c);
		return 0;
	}
	if (c.nclass < 2 || !c.classes)
		abort();
	for (uint32_t k = 0; k < c.nclass; k++)
		if (!c.classes[k])
			abort();
	plm_mlp *m = &c.mlp;
	if (m->dim[0] <= (1u << 16)) {
		float *x = calloc(m->dim[0], sizeof *x);
		plm_mlp_work *w = plm_mlp_work_new(m, 1, 1);
		if (x && w) {
			plm_mlp_scale(m, x, 1);
			float z[64];
			const float *o = plm_mlp_forward(m, w, x, 1, NULL);
			uint32_t k = m->dim[m->nl] < 64 ? m->dim[m->nl] : 64;
			for (uint32_t j = 0; j < k; j++)
				z[j] = o[j];
			if (k == m->dim[m->nl])
				plm_mlp_probs(m, z, 1);
		}
		plm_mlp_work_free(w);
		free(x);
	}
	plm_mlpckpt_free(&c);
	return 0;
}
