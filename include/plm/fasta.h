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
#include "plm/stream.h"

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

/* What the input holds, judged as plm_fasta_next() judges it: by its first
 * byte that is not a space, tab, CR or LF, found by peeking (nothing is
 * consumed).  PLM_SNIFF_FASTA for '>', PLM_SNIFF_FASTQ for '@', 0 for any
 * other byte, an empty or blank input, or more than a MiB of blanks; -1 on
 * a read error (plm_in_error). */
enum { PLM_SNIFF_FASTA = 1, PLM_SNIFF_FASTQ = 2 };
int plm_fasta_sniff(plm_in *in);
/* Appends the fields fasta-cat writes for a record, in its order:
 * id, desc, seq (str) and len (int).  0, or -1 when out of memory. */
int plm_fasta_schema(plm_schema *s);

/* ---- helpers for fasta-cat and friends -------------------------------- */

/* ESM-2's 25 amino-acid letters.  plm_seq_clean upper-cases seq[0..*n),
 * removes trailing '*' (stop), turns an internal '*' and every byte that is
 * not one of these letters into 'X', shortens *n accordingly and adds what
 * it changed to *st.  Returns 1 if the sequence changed, 0 if not. */
#define PLM_ESM_LETTERS "LAGVSERTIDPKQNFYMHWCXBUZO"
typedef struct plm_clean_stats {
	uint64_t records;      /* records changed */
	uint64_t lower;        /* lower-case letters upper-cased */
	uint64_t stop_end;     /* trailing '*' removed */
	uint64_t stop_inner;   /* internal '*' turned into X */
	uint64_t letter_x;     /* letters outside the alphabet (J) to X */
	uint64_t other_x;      /* other bytes (digits, '-', '.', ...) to X */
} plm_clean_stats;
int plm_seq_clean(char *seq, size_t *n, plm_clean_stats *st);

/* Fields of a UniProtKB header description ("Name OS=Homo sapiens
 * OX=9606 GN=TP53 PE=1 SV=4") or of a UniRef one ("Name n=3 Tax=Homo
 * sapiens TaxID=9606 RepID=P53_HUMAN": Tax and TaxID give organism and
 * taxid).  Strings point into desc; NULL = absent.  Returns 0, or -1 with
 * a message ("OX= value 'x' is not an integer") in err. */
typedef struct plm_uniprot {
	const char *organism; size_t organism_len;
	const char *gene;     size_t gene_len;
	long long taxid, pe;
	int has_taxid, has_pe;
} plm_uniprot;
int plm_uniprot_parse(const char *desc, size_t n, plm_uniprot *u,
		      char *err, size_t errlen);

#endif
