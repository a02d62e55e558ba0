/* seqset.h — sets of sequence hashes (plm_seq_hash, hash.h) read from a
 * file that may be a record stream, FASTA/FASTQ or a hash list: the
 * --exclude side of hash-dedup, usable by any tool that must keep sets
 * disjoint.
 *
 * A hash list is text, one or more sections (so lists concatenate with
 * cat), each
 *   #plm-hashes<TAB>1
 *   one sequence hash per line as 32 hex digits (plm_h128_hex)
 *   #end<TAB>N          N = the hash lines in this section
 * as hash-dedup --write-hashes writes it.  Like a stream's trailer, the
 * #end line tells a complete list from a truncated one: a list without it,
 * or an empty file, is an error, never an empty set. */
#ifndef PLM_SEQSET_H
#define PLM_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "plm/h128set.h"
#include "plm/hash.h"
#include "plm/io.h"

enum plm_seqfile {
	PLM_SEQFILE_STREAM,     /* MessagePack or TSV record stream */
	PLM_SEQFILE_FASTA,      /* first byte '>' (or '@': FASTQ) */
	PLM_SEQFILE_HASHES,     /* first line is "#plm-hashes\t1" */
};

/* Hash of p[0..n); with fold, of its upper-cased bytes (*buf grows as
 * needed; free it when done). */
plm_h128 plm_seq_hash_fold(const char *p, size_t n, int fold, char **buf,
			   size_t *cap);

/* Adds the hash of every sequence in path (stream: str field `field`,
 * nil values are an error) to s.  Keys it adds get payload mark; keys
 * already present keep theirs.  fold as above (hash lists are taken as
 * they are).  Returns the number of entries read (>= 0) and the kind in
 * *kind, or -1 with "path:LINE: what" / "path: record N: what" in err. */
long long plm_seqset_load(plm_h128set *s, const char *path, const char *field,
			  int fold, uint32_t mark, enum plm_seqfile *kind,
			  char *err, size_t errlen);

/* Writing a hash list (one section): the header, then the caller's
 * 32-hex-digit lines, then the trailer with their count.  0 or -1 (see
 * plm_out_error). */
#define PLM_HASHLIST_HEADER "#plm-hashes\t1\n"

int plm_hashlist_begin(plm_out *o);
int plm_hashlist_end(plm_out *o, uint64_t n);

#endif
