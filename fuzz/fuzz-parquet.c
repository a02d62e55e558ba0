/* fuzz-parquet.c — libFuzzer target: the bytes are a Parquet file.  The
 * footer, page headers, levels and values are decoded (every column) and
 * every value touched; the reader must never crash, hang or read out of
 * bounds, and must end with PLM_EOF or PLM_ERR with a message. */
#include <stdlib.h>
#include <string.h>

#include "plm/parquet.h"
#include "fuzz-read.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[512];
	const plm_val *row;
	volatile unsigned sink = 0;
	plm_pq *q = plm_pq_open_mem(data, size, "fuzz", err, sizeof err);
	int rc, n = 0;

	if (!q)
		return 0;
	if (plm_pq_start(q, -1, NULL, err, sizeof err) == 0) {
		while ((rc = plm_pq_next(q, &row)) == PLM_ROW && n++ < 1000000)
			sink += touch(plm_pq_schema(q), row);
		if (rc == PLM_ERR && !strchr(plm_pq_error(q), ':'))
			abort();
	}
	plm_pq_close(q);
	(void)sink;
	return 0;
}
