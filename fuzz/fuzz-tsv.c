/* fuzz-tsv — the TSV side of the record reader: inputs that would be read
 * as MessagePack are skipped so the fuzzer spends its time on lines,
 * escapes, numbers, vectors, "#plm"/"#meta" sections and the JSON meta.
 * A crash input replays with `rec-cat -T FILE`. */
#include "fuzz-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && ((data[0] >= 0x80 && data[0] <= 0x8f) || data[0] == 0xde ||
		     data[0] == 0xdf))
		return 0;
	fuzz_read_all(data, size);
	return 0;
}
