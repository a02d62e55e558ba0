/* t-safetensors.c — reading tensors leaves no mapped pages resident.
 *
 * A file with a 16 MB F32 tensor and an 8 MB F16 one: copying from the
 * mapping (plm_st_to_f32) puts the pages in the resident set (RssFile in
 * /proc/self/status: the control, so that the measurement can fail),
 * plm_st_release takes them out, and plm_st_read_f32 never leaves them
 * there, for either dtype, with the right values.  A file truncated after
 * opening is an error naming the file and the tensor. */
#include "tap.h"
#include "testutil.h"

#include "plm/float.h"
#include "plm/safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N (4u << 20)

/* RssFile in kB, or -1 when /proc/self/status has none. */
static long rss_file(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "RssFile: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static float val(size_t i)
{
	return (float)(i % 1000) * 0.25f - 100.0f;
}

static int write_file(const char *path)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr,
			 "{\"a\":{\"dtype\":\"F32\",\"shape\":[%u],"
			 "\"data_offsets\":[0,%u]},"
			 "\"b\":{\"dtype\":\"F16\",\"shape\":[%u],"
			 "\"data_offsets\":[%u,%u]}}",
			 N, 4 * N, N, 4 * N, 6 * N);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	uint64_t len = (uint64_t)n;
	unsigned char l8[8];
	for (int i = 0; i < 8; i++)
		l8[i] = (unsigned char)(len >> (8 * i));
	fwrite(l8, 1, 8, f);
	fwrite(hdr, 1, (size_t)n, f);
	for (size_t i = 0; i < N; i++) {
		float v = val(i);
		fwrite(&v, 4, 1, f);
	}
	for (size_t i = 0; i < N; i++) {
		uint16_t h = plm_f32_to_f16(val(i));
		fwrite(&h, 2, 1, f);
	}
	return fclose(f);
}

static int same(const float *x)
{
	for (size_t i = 0; i < N; i++)
		if (x[i] != val(i))
			return 0;
	return 1;
}

int main(void)
{
	char err[512];
	if (tu_mkdir("t-safetensors"))
		return 1;
	const char *path = tu_path("w.safetensors");
	ok(write_file(path) == 0, "wrote %s", path);
	plm_st *st = plm_st_open(path, err, sizeof err);
	ok(st != NULL, "open: %s", st ? "ok" : err);
	if (!st)
		return tu_rmdir(), done_testing();
	const plm_st_tensor *a = plm_st_find(st, "a"), *b = plm_st_find(st, "b");
	ok(a && b && a->dtype == PLM_ST_F32 && b->dtype == PLM_ST_F16,
	   "both tensors");
	float *x = malloc(N * sizeof *x);
	long r0 = rss_file();
	if (r0 < 0) {
		diag("no RssFile in /proc/self/status: residency not measured");
	} else {
		memset(x, 0, N * sizeof *x);
		ok(plm_st_to_f32(a, x, err, sizeof err) == 0 && same(x),
		   "to_f32 from the mapping");
		long r1 = rss_file();
		ok(r1 - r0 > 15000, "control: the copied pages are resident "
		   "(+%ld kB)", r1 - r0);
		plm_st_release(st, a);
		long r2 = rss_file();
		ok(r2 - r0 < 1024, "release: gone (+%ld kB)", r2 - r0);
	}
	memset(x, 0, N * sizeof *x);
	ok(plm_st_read_f32(st, b, x, err, sizeof err) == 0 && same(x),
	   "read_f32 of F16 converts");
	if (r0 >= 0)
		ok(rss_file() - r0 < 1024, "read_f32 of F16: no pages left "
		   "(+%ld kB)", rss_file() - r0);
	memset(x, 0, N * sizeof *x);
	ok(plm_st_read_f32(st, a, x, err, sizeof err) == 0 && same(x),
	   "read_f32 of F32 reads");
	if (r0 >= 0)
		ok(rss_file() - r0 < 1024, "read_f32 of F32: no pages left "
		   "(+%ld kB)", rss_file() - r0);
	/* the F32 tensor is read, not mapped: a truncated file is an error,
	 * not a SIGBUS */
	ok(truncate(path, 1000) == 0, "truncated after opening");
	err[0] = 0;
	ok(plm_st_read_f32(st, a, x, err, sizeof err) == -1 &&
	   strstr(err, path) && strstr(err, "tensor 'a': unexpected end of "
				       "file"), "truncated: %s", err);
	plm_st_close(st);
	free(x);
	tu_rmdir();
	return done_testing();
}
