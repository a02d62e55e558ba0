/* fuzz-stream — the record stream reader on arbitrary bytes (MessagePack
 * or TSV, auto-detected exactly as rec-cat does, so `rec-cat -T FILE`
 * replays a crash input).  Every value handed out is touched, and floats
 * go through the TSV float spelling, to catch bad lengths and pointers. */
#include "fuzz-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read_all(data, size);
	return 0;
}
