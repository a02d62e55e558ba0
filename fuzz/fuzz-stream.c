/* fuzz-stream — the record stream reader on arbitrary bytes (MessagePack
 * or TSV, auto-detected exactly as rec-cat does, so `rec-cat -T FILE`
 * replays a crash input).  Every value handed out is touched, and floats
 * go through the TSV float spelling, to catch bad lengths and pointers. */
#include <stdint.h>
#include <string.h>

#include "plm/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	const plm_val *row;
	volatile unsigned sink = 0;
	plm_in *in = plm_in_mem(data, size, "fuzz");

	if (!in)
		return 0;
	plm_reader *r = plm_reader_from(in, err, sizeof err);
	if (!r)
		return 0;
	for (int rc; (rc = plm_reader_next(r, &row)) != PLM_EOF && rc != PLM_ERR;)
		if (rc == PLM_ROW)
			sink += touch(plm_reader_schema(r), row);
	plm_reader_close(r);
	(void)sink;
	return 0;
}
