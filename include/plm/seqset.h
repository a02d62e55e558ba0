/* seqset.h — sets of sequence hashes (plm_seq_hash, hash.h) read from a
 * file that may be a record stream, FASTA/FASTQ or a hash list: the
 * --exclude side of hash-dedup, usable by any tool that must keep sets
 * disjoint.
 *
 * A hash list is text, one sequence hash per line as 32 hex digits (the
 * form plm_h128_hex prints and hash-dedup --write-hashes writes); an empty
 * file is an empty hash list. */
#ifndef PLM_SEQSET_H
#define PLM_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "plm/hash.h"
#include "plm/map.h"

enum plm_seqfile {
	PLM_SEQFILE_STREAM,     /* MessagePack or TSV record stream */
	PLM_SEQFILE_FASTA,      /* first byte '>' (or '@': FASTQ) */
	PLM_SEQFILE_HASHES,     /* first line is 32 hex digits */
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

#endif
