/* fasta.h — FASTA and FASTQ records from a plm_in, kseq style: the input
 * buffer is scanned with memchr and one reused record holds the result, its
 * buffers only growing, so steady state allocates nothing.
 *
 * Accepts multi-line sequences, CRLF, blank lines, a '>' with an empty id,
 * lower case (kept as is), '*' (kept as is).  FASTQ: '@' header, sequence
 * lines, '+' line, quality of the same length.  The format is decided by the
 * first non-blank byte of the input; mixing is an error. */
#ifndef PLM_FASTA_H
#define PLM_FASTA_H

#include <stddef.h>
#include <stdint.h>

#include "plm/io.h"

typedef struct plm_seqrec {
	char *id;   size_t id_len;    /* up to the first space or tab      */
	char *desc; size_t desc_len;  /* the rest of the header, trimmed   */
	char *seq;  size_t seq_len;   /* line breaks removed               */
	char *qual; size_t qual_len;  /* FASTQ only, else qual_len == 0    */
	uint64_t line;                /* line number of the header (1-based) */
	/* private: capacities */
	size_t id_cap, desc_cap, seq_cap, qual_cap;
} plm_seqrec;

typedef struct plm_fasta plm_fasta;

plm_fasta *plm_fasta_open(plm_in *in);    /* does not take over in */
/* 1 record read into *rec (NUL-terminated strings), 0 at end, -1 error:
 * plm_fasta_error() gives "file:line: what". */
int plm_fasta_next(plm_fasta *f, plm_seqrec *rec);
const char *plm_fasta_error(const plm_fasta *f);
int plm_fasta_is_fastq(const plm_fasta *f);
void plm_fasta_close(plm_fasta *f);
void plm_seqrec_free(plm_seqrec *rec);

#endif
