/* Unit tests for plm_strmap (lib/map.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/map.h"
#include "tap.h"

int main(void)
{
	plm_strmap *m = plm_strmap_new();
	int added, ok_all = 1;
	char key[32];
	ok(m != NULL, "new");
	ok(plm_strmap_get(m, "x", 1) == NULL, "empty map has no key");

	/* 100k keys force many growths; values and order must survive. */
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof key, "key%d", i);
		uint64_t *v = plm_strmap_put(m, key, n, &added);
		ok_all &= v && added && *v == 0;
		if (v)
			*v = (uint64_t)i * 3;
	}
	ok(ok_all, "100000 inserts");
	is_int(plm_strmap_size(m), 100000, "size");
	ok_all = 1;
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof key, "key%d", i);
		uint64_t *v = plm_strmap_get(m, key, n);
		ok_all &= v && *v == (uint64_t)i * 3;
		ok_all &= plm_strmap_index(m, key, n) == i;
		size_t len;
		ok_all &= strcmp(plm_strmap_key(m, i, &len), key) == 0 && len == (size_t)n;
	}
	ok(ok_all, "every key found with its value, in insertion order");

	uint64_t *v = plm_strmap_put(m, "key7", 4, &added);
	ok(v && !added && *v == 21, "re-put finds the existing entry");
	ok(plm_strmap_get(m, "key", 3) == NULL, "prefix is not a key");
	ok(plm_strmap_get(m, "key70", 4) != NULL, "length respected");

	/* Keys with NUL bytes and the empty key. */
	v = plm_strmap_put(m, "a\0b", 3, &added);
	ok(v && added, "key with NUL byte");
	ok(plm_strmap_get(m, "a", 1) == NULL, "NUL-byte key differs from prefix");
	v = plm_strmap_put(m, "", 0, &added);
	ok(v && added, "empty key");
	ok(plm_strmap_get(m, "", 0) == v, "empty key found");
	plm_strmap_free(m);
	return done_testing();
}
