/* t-alloc.c — PLM_GROW: growth, failure leaves the array as it was. */
#include <stdint.h>
#include <stdlib.h>

#include "plm/alloc.h"
#include "tap.h"

int main(void)
{
	int *v = NULL;
	size_t cap = 0, reallocs = 0;
	int bad = 0;

	for (size_t n = 0; n < 100000; n++) {
		size_t before = cap;
		if (PLM_GROW(v, cap, n + 1))
			bad++;
		if (cap != before)
			reallocs++;
		v[n] = (int)n;
	}
	int same = 1;
	for (size_t n = 0; n < 100000; n++)
		same &= v[n] == (int)n;
	ok(!bad && same, "100000 appends keep every element");
	ok(reallocs < 40, "geometric growth: %zu reallocs for 100000 appends",
	   reallocs);
	ok(cap >= 100000 && cap < 200000, "capacity %zu", cap);
	size_t cap0 = cap;
	int *v0 = v;
	ok(PLM_GROW(v, cap, 100) == 0 && v == v0 && cap == cap0,
	   "need below capacity: nothing moves");
	ok(PLM_GROW(v, cap, SIZE_MAX / 2) == -1 && v == v0 && cap == cap0,
	   "overflowing need: -1, array and capacity unchanged");
	ok(v[99999] == 99999, "old contents still valid after a failed grow");
	free(v);

	char *s = NULL;
	size_t scap = 0, zero = 0, one = 1;
	ok(PLM_GROW(s, scap, zero) == 0 && s == NULL, "need 0: no allocation");
	ok(PLM_GROW(s, scap, one) == 0 && s && scap >= 1, "first grow allocates");
	free(s);
	char *d = plm_xstrdup("abc");
	is_str(d, "abc", "plm_xstrdup");
	free(d);
	return done_testing();
}
