/* pairvec.h — one feature vector from the embeddings of a pair.
 *
 * For embeddings a and b of dimension d (f32), the pair vector is
 *
 *	concat    [a, b]                    2d   ordered: swapping a, b changes it
 *	sym       [a + b, |a - b|]          2d   the same bits for (a, b), (b, a)
 *	prod      a ⊙ b                     d    the same bits for (a, b), (b, a)
 *	sym-prod  [a + b, |a - b|, a ⊙ b]   3d   the same bits for (a, b), (b, a)
 *
 * Each element is one IEEE single operation on a[i] and b[i] (no
 * accumulation), and f32 addition and multiplication commute exactly, so
 * the symmetric modes are invariant to the order of the pair bit for bit
 * and match any other f32 implementation (numpy) exactly. */
#ifndef PLM_PAIRVEC_H
#define PLM_PAIRVEC_H

#include <stdint.h>

enum plm_pair_mode {
	PLM_PAIR_CONCAT,
	PLM_PAIR_SYM,
	PLM_PAIR_PROD,
	PLM_PAIR_SYMPROD,
};

/* The names, in enum order, NULL-terminated ("concat", "sym", ...). */
extern const char *const plm_pair_mode_names[];

/* Output dimension for embeddings of dimension d: 2d, 2d, d or 3d; 0 for
 * an unknown mode or a result beyond UINT32_MAX. */
uint32_t plm_pair_dim(enum plm_pair_mode mode, uint32_t d);

/* Writes plm_pair_dim(mode, d) floats to out (which must not overlap a
 * or b).  0, or -1 for an unknown mode. */
int plm_pair_vec(enum plm_pair_mode mode, const float *a, const float *b,
		 uint32_t d, float *out);

#endif
