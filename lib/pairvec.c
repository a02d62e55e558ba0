/* pairvec.c — pair vectors from two embeddings (pairvec.h). */
#include <math.h>
#include <stddef.h>

#include "plm/pairvec.h"

const char *const plm_pair_mode_names[] = {
	"concat", "sym", "prod", "sym-prod", NULL,
};

uint32_t plm_pair_dim(enum plm_pair_mode mode, uint32_t d)
{
	uint64_t k;
	switch (mode) {
	case PLM_PAIR_CONCAT:
	case PLM_PAIR_SYM:
		k = 2;
		break;
	case PLM_PAIR_PROD:
		k = 1;
		break;
	case PLM_PAIR_SYMPROD:
		k = 3;
		break;
	default:
		return 0;
	}
	return k * d > UINT32_MAX ? 0 : (uint32_t)(k * d);
}

/* [a + b, |a - b|] into out[0 .. 2d). */
static void sym(const float *a, const float *b, uint32_t d, float *out)
{
	for (uint32_t i = 0; i < d; i++) {
		out[i] = a[i] + b[i];
		out[d + i] = fabsf(a[i] - b[i]);
	}
}

static void prod(const float *a, const float *b, uint32_t d, float *out)
{
	for (uint32_t i = 0; i < d; i++)
		out[i] = a[i] * b[i];
}

int plm_pair_vec(enum plm_pair_mode mode, const float *a, const float *b,
		 uint32_t d, float *out)
{
	switch (mode) {
	case PLM_PAIR_CONCAT:
		for (uint32_t i = 0; i < d; i++) {
			out[i] = a[i];
			out[d + i] = b[i];
		}
		return 0;
	case PLM_PAIR_SYM:
		sym(a, b, d, out);
		return 0;
	case PLM_PAIR_PROD:
		prod(a, b, d, out);
		return 0;
	case PLM_PAIR_SYMPROD:
		sym(a, b, d, out);
		prod(a, b, d, out + 2 * (size_t)d);
		return 0;
	}
	return -1;
}
