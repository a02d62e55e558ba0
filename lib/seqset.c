/* seqset.c — sequence hash sets from streams, FASTA or hash lists
 * (seqset.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/fasta.h"
#include "plm/fields.h"
#include "plm/io.h"
#include "plm/seqset.h"
#include "plm/stream.h"

plm_h128 plm_seq_hash_fold(const char *p, size_t n, int fold, char **buf,
			   size_t *cap)
{
	if (!fold)
		return plm_seq_hash(p, n);
	if (PLM_GROW(*buf, *cap, n))
		abort();        /* a few KiB: no recovery worth having */
	for (size_t i = 0; i < n; i++)
		(*buf)[i] = (char)toupper((unsigned char)p[i]);
	return plm_seq_hash(*buf, n);
}

int plm_hashlist_begin(plm_out *o)
{
	return plm_out_write(o, PLM_HASHLIST_HEADER,
			     sizeof PLM_HASHLIST_HEADER - 1) ? -1 : 0;
}

int plm_hashlist_end(plm_out *o, uint64_t n)
{
	return plm_out_printf(o, "#end\t%llu\n", (unsigned long long)n) < 0 ?
	       -1 : 0;
}

static int is_hex_line(const unsigned char *p, size_t avail)
{
	if (avail < 32)
		return 0;
	for (int i = 0; i < 32; i++)
		if (!isxdigit(p[i]))
			return 0;
	return avail == 32 || p[32] == '\n' || (p[32] == '\r' && avail > 33 && p[33] == '\n');
}

static int add(plm_h128set *s, plm_h128 h, uint32_t mark, char *err,
	       size_t errlen)
{
	uint32_t *v;
	int rc = plm_h128set_add(s, h, &v);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rc == 1)
		*v = mark;
	return 0;
}

static int is_line(const unsigned char *b, size_t l, const char *what)
{
	size_t n = strlen(what);
	return l == n && memcmp(b, what, n) == 0;
}

/* "#end\tN" with N decimal: 1 and *n, else 0. */
static int end_line(const unsigned char *b, size_t l, uint64_t *n)
{
	if (l < 6 || memcmp(b, "#end\t", 5) != 0 || l - 5 > 19)
		return 0;
	*n = 0;
	for (size_t i = 5; i < l; i++) {
		if (b[i] < '0' || b[i] > '9')
			return 0;
		*n = *n * 10 + (uint64_t)(b[i] - '0');
	}
	return 1;
}

/* Sections of header, hashes, trailer (seqset.h). */
static long long load_hashes(plm_h128set *s, plm_in *in, uint32_t mark,
			     char *err, size_t errlen)
{
	long long n = 0;
	uint64_t line = 0, sec = 0, want;
	int open = 0;           /* inside a section: after header, before #end */
	size_t scanned = 0;
	for (;;) {
		unsigned char *b = in->buf + in->pos;
		unsigned char *nl = memchr(b + scanned, '\n', in->len - in->pos - scanned);
		size_t len;
		if (!nl) {
			scanned = in->len - in->pos;
			ssize_t k = plm_in_fill(in);
			if (k < 0) {
				snprintf(err, errlen, "%s", plm_in_error(in));
				return -1;
			}
			if (k > 0)
				continue;
			if (in->pos == in->len)
				break;
			len = in->len - in->pos;   /* last line, no newline */
		} else {
			len = (size_t)(nl - b);
		}
		scanned = 0;
		line++;
		if (!nl) {
			/* the writer ends every line: this one was cut */
			snprintf(err, errlen, "%s:%llu: truncated hash list "
				 "(the last line has no newline)",
				 plm_in_name(in), (unsigned long long)line);
			return -1;
		}
		size_t l = len;
		if (l && b[l - 1] == '\r')
			l--;
		plm_h128 h;
		if (!open) {
			if (!is_line(b, l, "#plm-hashes\t1")) {
				snprintf(err, errlen, "%s:%llu: expected a hash list "
					 "header (#plm-hashes<TAB>1)%s",
					 plm_in_name(in), (unsigned long long)line,
					 line == 1 ? "" : " after #end");
				return -1;
			}
			open = 1;
			sec = 0;
		} else if (end_line(b, l, &want)) {
			if (want != sec) {
				snprintf(err, errlen, "%s:%llu: #end says %llu hashes, "
					 "the section has %llu", plm_in_name(in),
					 (unsigned long long)line,
					 (unsigned long long)want,
					 (unsigned long long)sec);
				return -1;
			}
			open = 0;
		} else if (plm_h128_parse((const char *)b, l, &h)) {
			snprintf(err, errlen, "%s:%llu: not a sequence hash (32 hex digits)",
				 plm_in_name(in), (unsigned long long)line);
			return -1;
		} else {
			if (add(s, h, mark, err, errlen))
				return -1;
			n++;
			sec++;
		}
		in->pos += len + 1;
	}
	if (open) {
		snprintf(err, errlen, "%s:%llu: truncated hash list (no #end line)",
			 plm_in_name(in), (unsigned long long)line);
		return -1;
	}
	return n;
}

static long long load_fasta(plm_h128set *s, plm_in *in, int fold,
			    uint32_t mark, char *err, size_t errlen)
{
	plm_fasta *f = plm_fasta_open(in);
	plm_seqrec rec = { 0 };
	char *buf = NULL;
	size_t cap = 0;
	long long n = 0;
	int rc;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((rc = plm_fasta_next(f, &rec)) > 0) {
		if (add(s, plm_seq_hash_fold(rec.seq, rec.seq_len, fold, &buf, &cap),
			mark, err, errlen)) {
			rc = -2;
			break;
		}
		n++;
	}
	if (rc == -1)
		snprintf(err, errlen, "%s", plm_fasta_error(f));
	plm_fasta_close(f);
	plm_seqrec_free(&rec);
	free(buf);
	return rc < 0 ? -1 : n;
}

static long long load_stream(plm_h128set *s, plm_in *in, const char *field,
			     int fold, uint32_t mark, char *err, size_t errlen)
{
	char name[512];
	snprintf(name, sizeof name, "%s", plm_in_name(in));
	plm_reader *r = plm_reader_from(in, err, errlen);
	if (!r)
		return -1;
	char *buf = NULL;
	size_t cap = 0;
	long long n = 0;
	const plm_val *row;
	int ki = -1, rc;
	for (;;) {
		const plm_schema *sc = plm_reader_schema(r);
		if (ki < 0) {
			ki = plm_schema_find(sc, field);
			if (ki < 0) {
				plm_nofield(err, errlen, sc, "%s: no field '%s' in input",
					    name, field);
				goto fail;
			}
			if (sc->f[ki].type != PLM_T_STR) {
				char t[64];
				snprintf(err, errlen, "%s: field '%s' is %s, not str", name, field,
					 plm_type_name(sc->f[ki].type, sc->f[ki].dim, t, sizeof t));
				goto fail;
			}
		}
		rc = plm_reader_next(r, &row);
		if (rc == PLM_EOF)
			break;
		if (rc == PLM_ERR) {
			snprintf(err, errlen, "%s", plm_reader_error(r));
			goto fail;
		}
		if (rc == PLM_HEADER) {
			ki = -1;
			continue;
		}
		if (row[ki].nil) {
			snprintf(err, errlen, "%s: record %llu: field '%s' is nil", name,
				 (unsigned long long)plm_reader_recno(r), field);
			goto fail;
		}
		if (add(s, plm_seq_hash_fold(row[ki].s, row[ki].n, fold, &buf, &cap),
			mark, err, errlen))
			goto fail;
		n++;
	}
	plm_reader_close(r);
	free(buf);
	return n;
fail:
	plm_reader_close(r);
	free(buf);
	return -1;
}

long long plm_seqset_load(plm_h128set *s, const char *path, const char *field,
			  int fold, uint32_t mark, enum plm_seqfile *kind,
			  char *err, size_t errlen)
{
	plm_in *in = plm_in_open(path, err, errlen);
	if (!in)
		return -1;
	ssize_t k = plm_in_peek(in, 34);
	if (k < 0) {
		snprintf(err, errlen, "%s", plm_in_error(in));
		plm_in_close(in);
		return -1;
	}
	const unsigned char *p = in->buf + in->pos;
	long long n = 0;
	if (k == 0) {
		/* a list always has its header and #end, even with no hashes */
		snprintf(err, errlen, "%s: empty file, not a hash list, FASTA "
			 "or stream", plm_in_name(in));
		n = -1;
	} else if ((p[0] == '>' || p[0] == '@')) {
		*kind = PLM_SEQFILE_FASTA;
		n = load_fasta(s, in, fold, mark, err, errlen);
	} else if ((size_t)k >= 5 && memcmp(p, "#plm-", 5) == 0) {
		/* "#plm\t" is a TSV stream; a cut header is still a list */
		*kind = PLM_SEQFILE_HASHES;
		n = load_hashes(s, in, mark, err, errlen);
	} else if (is_hex_line(p, (size_t)k)) {
		/* the old form, or a list cut at its head: either way,
		 * nothing tells whether it is complete */
		*kind = PLM_SEQFILE_HASHES;
		snprintf(err, errlen, "%s:1: hash list without its "
			 "#plm-hashes header (truncated, or written by an older "
			 "hash-dedup: write it again)", plm_in_name(in));
		n = -1;
	} else {
		*kind = PLM_SEQFILE_STREAM;
		return load_stream(s, in, field, fold, mark, err, errlen);
	}
	plm_in_close(in);
	return n;
}
