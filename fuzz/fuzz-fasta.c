/* fuzz-fasta.c — libFuzzer target: the bytes are a (maybe compressed)
 * FASTA/FASTQ file.  Every record is parsed, cleaned and its UniProt
 * fields read; the parser must never crash, hang or read out of bounds,
 * and must end with 0 (EOF) or -1 with a message. */
#include "plm/fasta.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	plm_in *in = plm_in_mem(data, size, "fuzz");
	plm_fasta *f;
	plm_seqrec r = { 0 };
	plm_clean_stats st = { 0 };
	plm_uniprot u;
	char err[256];
	int rc, n = 0;

	if (!in)
		return 0;
	f = plm_fasta_open(in);
	while ((rc = plm_fasta_next(f, &r)) == 1 && n++ < 100000) {
		if (strlen(r.id) != r.id_len || r.seq[r.seq_len] != 0)
			abort();
		plm_uniprot_parse(r.desc, r.desc_len, &u, err, sizeof err);
		plm_seq_clean(r.seq, &r.seq_len, &st);
	}
	if (rc < 0 && !strchr(plm_fasta_error(f), ':'))
		abort();
	plm_seqrec_free(&r);
	plm_fasta_close(f);
	plm_in_close(in);
	return 0;
}
