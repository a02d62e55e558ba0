/* fuzz-safetensors — the .safetensors reader (header JSON, dtypes, shapes,
 * offsets) on arbitrary bytes: whatever it accepts must be safe to read in
 * full and to convert to f32.  A crash input replays with
 * `esm-embed -m DIR` after copying it to DIR/model.safetensors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzfile.h"
#include "plm/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	plm_st *st = plm_st_open(fuzz_file("model.safetensors", data, size),
				 err, sizeof err);
	if (!st) {
		if (!*err)
			abort();        /* a failure always says why */
		return 0;
	}
	volatile unsigned sink = 0;
	for (size_t i = 0; i < plm_st_count(st); i++) {
		const plm_st_tensor *t = plm_st_at(st, i);
		if (plm_st_find(st, t->name) != t)
			abort();        /* names are unique */
		const unsigned char *p = t->data;
		for (size_t k = 0; k < t->nbytes; k++)
			sink += p[k];
		if (t->numel > (1u << 16))
			continue;
		float *f = malloc(t->numel ? t->numel * sizeof *f : 1);
		if (f && plm_st_to_f32(t, f, err, sizeof err) == 0)
			for (size_t k = 0; k < t->numel; k++)
				sink += f[k] == f[k];
		free(f);
	}
	const char *fmt = plm_st_meta(st, "format");
	if (fmt)
		sink += (unsigned)strlen(fmt);
	plm_st_close(st);
	(void)sink;
	return 0;
}
