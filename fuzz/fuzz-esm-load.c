#define _GNU_SOURCE
/* fuzz-esm-load — an ESM-2 checkpoint directory from arbitrary bytes: the
 * input is config.json, a line "#safetensors", then model.safetensors
 * (vocab.txt is the real one).  Whatever plm_esm_load accepts must embed
 * a short sequence without a fault: config and weights agree, or the load
 * fails with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzfile.h"
#include "plm/esm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char vocab[] =
	"<cls>\n<pad>\n<eos>\n<unk>\nL\nA\nG\nV\nS\nE\nR\nT\nI\nD\nP\nK\nQ\n"
	"N\nF\nY\nM\nH\nW\nC\nX\nB\nU\nZ\nO\n.\n-\n<null_1>\n<mask>\n";
static const char sep[] = "\n#safetensors\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *st = memmem(data, size, sep, sizeof sep - 1);
	size_t nconf = st ? (size_t)(st - data) : size;
	st = st ? st + sizeof sep - 1 : data + size;
	if (size > (4u << 20))
		return 0;
	static int once;
	if (!once++)
		fuzz_file("vocab.txt", vocab, sizeof vocab - 1);
	fuzz_file("model.safetensors", st, size - (size_t)(st - data));
	const char *conf = fuzz_file("config.json", data, nconf);
	char dir[320], err[512];
	snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(conf, '/') - conf),
		 conf);
	plm_esm *m = plm_esm_load(dir, err, sizeof err);
	if (!m) {
		if (!*err)
			abort();        /* a failure always says why */
		return 0;
	}
	const plm_esm_config *cf = plm_esm_info(m);
	plm_esm_ctx *c = plm_esm_ctx_new(m, 16, 1, err, sizeof err);
	if (c) {
		const char *seq = "MKVLA";
		size_t len = 5;
		float *out = calloc((size_t)cf->hidden, sizeof *out);
		plm_esm_out o = { .layer = -1, .pool = PLM_ESM_POOL_MEAN,
				  .out = out };
		if (out && plm_esm_forward(c, 1, &seq, &len, &o) != 0 &&
		    !*plm_esm_error(c))
			abort();
		free(out);
		plm_esm_ctx_free(c);
	}
	plm_esm_free(m);
	return 0;
}
