/* hash.c — the project's fixed hash definitions (see hash.h). */
#include <xxhash.h>

#include "plm/hash.h"

uint64_t plm_key_hash(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

plm_h128 plm_seq_hash(const void *p, size_t n)
{
	XXH128_hash_t h = XXH3_128bits(p, n);
	return (plm_h128){ h.high64, h.low64 };
}

char *plm_h128_hex(plm_h128 h, char buf[33])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		buf[i] = hex[(h.hi >> (60 - 4 * i)) & 15];
		buf[16 + i] = hex[(h.lo >> (60 - 4 * i)) & 15];
	}
	buf[32] = 0;
	return buf;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int plm_h128_parse(const char *s, size_t n, plm_h128 *h)
{
	uint64_t w[2] = { 0, 0 };
	if (n != 32)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int v = hexval((unsigned char)s[i]);
		if (v < 0)
			return -1;
		w[i / 16] = w[i / 16] << 4 | (uint64_t)v;
	}
	h->hi = w[0];
	h->lo = w[1];
	return 0;
}
