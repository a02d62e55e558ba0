/* t-pairvec: the pair vector modes on a small case, and their symmetry. */
#include <string.h>

#include "plm/pairvec.h"
#include "tap.h"

int main(void)
{
	const float a[3] = { 1, 2, 3 }, b[3] = { 0.5f, -1, 4 };
	float o[9], p[9];

	is_int(plm_pair_dim(PLM_PAIR_CONCAT, 3), 6, "concat: 2d");
	is_int(plm_pair_dim(PLM_PAIR_SYM, 3), 6, "sym: 2d");
	is_int(plm_pair_dim(PLM_PAIR_PROD, 3), 3, "prod: d");
	is_int(plm_pair_dim(PLM_PAIR_SYMPROD, 3), 9, "sym-prod: 3d");
	is_int(plm_pair_dim(PLM_PAIR_SYMPROD, 0x60000000u), 0, "too long: 0");
	is_int(plm_pair_dim((enum plm_pair_mode)9, 3), 0, "unknown mode: 0");

	plm_pair_vec(PLM_PAIR_CONCAT, a, b, 3, o);
	ok(!memcmp(o, (float[]){ 1, 2, 3, 0.5f, -1, 4 }, 6 * 4), "concat");
	plm_pair_vec(PLM_PAIR_SYMPROD, a, b, 3, o);
	ok(!memcmp(o, (float[]){ 1.5f, 1, 7, 0.5f, 3, 1, 0.5f, -2, 12 }, 9 * 4),
	   "sym-prod");
	for (int m = PLM_PAIR_SYM; m <= PLM_PAIR_SYMPROD; m++) {
		plm_pair_vec(m, a, b, 3, o);
		plm_pair_vec(m, b, a, 3, p);
		ok(!memcmp(o, p, plm_pair_dim(m, 3) * 4), "%s: symmetric",
		   plm_pair_mode_names[m]);
	}
	is_int(plm_pair_vec((enum plm_pair_mode)9, a, b, 3, o), -1,
	       "unknown mode: -1");
	return done_testing();
}
