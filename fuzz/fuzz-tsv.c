/* fuzz-tsv — the TSV side of the record reader: inputs that would be read
 * as MessagePack are skipped so the fuzzer spends its time on lines,
 * escapes, numbers, vectors, "#plm"/"#meta" sections and the JSON meta.
 * A crash input replays with `rec-cat -T FILE`. */
#include <stdint.h>
#include <string.h>

#include "plm/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], b[40];
	const plm_val *row;
	volatile unsigned sink = 0;

	if (size && ((data[0] >= 0x80 && data[0] <= 0x8f) || data[0] == 0xde ||
		     data[0] == 0xdf))
		return 0;
	plm_in *in = plm_in_mem(data, size, "fuzz");
	if (!in)
		return 0;
	plm_reader *r = plm_reader_from(in, err, sizeof err);
	if (!r)
		return 0;
	for (int rc; (rc = plm_reader_next(r, &row)) != PLM_EOF && rc != PLM_ERR;) {
		if (rc != PLM_ROW)
			continue;
		const plm_schema *s = plm_reader_schema(r);
		for (size_t i = 0; i < s->n; i++) {
			const plm_val *v = &row[i];
			if (v->nil)
				continue;
			if (s->f[i].type == PLM_T_FLOAT)
				sink += (unsigned)plm_fmt_f64(b, v->f);
			if (s->f[i].type == PLM_T_STR || plm_type_elsize(s->f[i].type))
				for (size_t k = 0; k < v->n; k++)
					sink += (unsigned char)v->s[k];
		}
	}
	plm_reader_close(r);
	(void)sink;
	return 0;
}
