/* fuzz-read.h — the loop shared by the record-reader fuzz targets: read
 * every record of arbitrary bytes and touch every value handed out (floats
 * through the TSV float spelling) to catch bad lengths and pointers. */
#ifndef PLM_FUZZ_READ_H
#define PLM_FUZZ_READ_H

#include <stdint.h>
#include <string.h>

#include "plm/stream.h"

static unsigned touch(const plm_schema *s, const plm_val *row)
{
	unsigned acc = 0;
	char b[40];

	for (size_t i = 0; i < s->n; i++) {
		const plm_val *v = &row[i];
		if (v->nil)
			continue;
		size_t es = plm_type_elsize(s->f[i].type);
		if (s->f[i].type == PLM_T_FLOAT)
			acc += (unsigned)plm_fmt_f64(b, v->f);
		else if (s->f[i].type == PLM_T_STR || es)
			for (size_t k = 0; k < v->n; k++)
				acc += (unsigned char)v->s[k];
		if (es == 4 && v->n >= 4) {
			float f;
			memcpy(&f, v->s + v->n - 4, 4);
			acc += (unsigned)plm_fmt_f32(b, f);
		}
		if (es && v->rows * (size_t)s->f[i].dim * es != v->n)
			__builtin_trap();       /* rows must match the bytes */
	}
	return acc;
}

/* Reads DATA as rec-cat does (MessagePack or TSV, auto-detected). */
static void fuzz_read_all(const uint8_t *data, size_t size)
{
	char err[512];
	const plm_val *row;
	volatile unsigned sink = 0;
	plm_in *in = plm_in_mem(data, size, "fuzz");

	if (!in)
		return;
	plm_reader *r = plm_reader_from(in, err, sizeof err);
	if (!r)
		return;
	for (int rc; (rc = plm_reader_next(r, &row)) != PLM_EOF && rc != PLM_ERR;)
		if (rc == PLM_ROW)
			sink += touch(plm_reader_schema(r), row);
	plm_reader_close(r);
	(void)sink;
}

#endif
