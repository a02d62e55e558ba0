/* fuzz-npy — the .npy header and data readers and the .npz (zip) member
 * lookup and inflate on arbitrary bytes: whatever the parsers accept must
 * be safe to read in full.  A crash input replays with
 * `feat-import --ids FILE INPUT` (t1000 does so). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plm/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned read_npy(const unsigned char *p, size_t n)
{
	plm_npy h;
	char err[256], buf[4 * 64 + 1];
	unsigned sink = 0;
	if (plm_npy_parse(p, n, &h, err, sizeof err)) {
		if (!*err)
			abort();        /* a failure always says why */
		return 0;
	}
	if (h.data_off > n || h.nbytes > n - h.data_off)
		return 0;               /* the caller checks the length */
	const unsigned char *d = p + h.data_off;
	if (h.rank == 2 && h.dtype <= PLM_NPY_F64 && h.shape[1] <= 4096) {
		float row[4096];
		for (uint64_t i = 0; i < h.shape[0] && i < 256; i++)
			sink += (unsigned)plm_npy_row_f32(&h, d, i, row);
	} else if (h.rank == 1 && h.dtype >= PLM_NPY_U && h.itemsize <= 64) {
		for (uint64_t i = 0; i < h.shape[0] && i < 256; i++)
			sink += (unsigned)plm_npy_str(&h, d, i, buf, sizeof buf,
						      err, sizeof err);
	}
	return sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	volatile unsigned sink = 0;
	if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
		plm_zip_member m;
		char names[256], err[256];
		int rc = plm_zip_find(data, size, "x.npy", &m, names,
				      sizeof names, err, sizeof err);
		if (rc != 0)
			return 0;
		if (m.method == 0 && m.off <= size && m.usize <= size - m.off) {
			sink += read_npy(data + m.off, (size_t)m.usize);
		} else if (m.method == 8 && m.usize <= (1u << 20)) {
			unsigned char *out = malloc(m.usize ? m.usize : 1);
			if (out && !plm_zip_inflate(data, size, &m, out, err,
						     sizeof err))
				sink += read_npy(out, (size_t)m.usize);
			free(out);
		}
		return 0;
	}
	sink += read_npy(data, size);
	(void)sink;
	return 0;
}
