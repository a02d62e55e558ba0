/* extsort.h — sort fixed-size records in bounded memory (sort -S).
 *
 *	plm_extsort *s = plm_extsort_new(sizeof (rec), mem, cmp, NULL);
 *	for (...)
 *		if (plm_extsort_add(s, &r, err, sizeof err)) ...
 *	if (plm_extsort_sort(s, err, sizeof err)) ...
 *	const void *p;
 *	while ((rc = plm_extsort_next(s, &p, err, sizeof err)) > 0)
 *		use(p);
 *	plm_extsort_free(s);
 *
 * Records are collected in a buffer of at most `mem` bytes (grown as they
 * come, so a few records cost little); when it is full it is sorted and
 * written to a temporary file as a run.  plm_extsort_sort() sorts what is
 * left; if nothing was written, plm_extsort_next() walks the buffer,
 * otherwise it merges the runs.  Merging also keeps to `mem`: each run
 * being merged gets a read buffer of at least 16 records, and when there
 * are more runs than fit, groups of them are first merged into longer runs
 * (in a second temporary file; each pass truncates the file it read).
 * Memory: at most max(mem, 2 records) bytes of records, plus 16 bytes per
 * run and a stdio buffer.  Disk: the records' bytes, twice during a
 * merge pass.
 *
 * The temporary files are made in dir (NULL: $TMPDIR, else /tmp) and
 * unlinked as soon as they exist (O_TMPFILE where the system has it), so
 * no exit or signal, even SIGKILL, leaves them behind.
 *
 * cmp orders records as for qsort(3).  Records comparing equal come out in
 * an unspecified order, so give a total order when the output must not
 * depend on mem.  Errors (out of memory, I/O) return -1 with err set; the
 * sorter can then only be freed. */
#ifndef PLM_EXTSORT_H
#define PLM_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_extsort plm_extsort;

/* NULL on out of memory.  size > 0. */
plm_extsort *plm_extsort_new(size_t size, size_t mem,
			     int (*cmp)(const void *, const void *),
			     const char *dir);
/* Copies one record in.  0, or -1 + err. */
int plm_extsort_add(plm_extsort *s, const void *rec, char *err,
		    size_t errlen);
/* Ends the input and prepares the output.  0, or -1 + err. */
int plm_extsort_sort(plm_extsort *s, char *err, size_t errlen);
/* The next record in order: 1 and *rec (valid until the next call), 0 at
 * the end, -1 + err. */
int plm_extsort_next(plm_extsort *s, const void **rec, char *err,
		     size_t errlen);
/* Records added; runs written to disk (0: sorted in memory alone). */
uint64_t plm_extsort_count(const plm_extsort *s);
size_t plm_extsort_runs(const plm_extsort *s);
void plm_extsort_free(plm_extsort *s);

/* A byte count as sort -S takes it: digits with an optional suffix k, M,
 * G or T (powers of 1024, either case; a trailing B or iB is allowed).
 * 0 on success, -1 when malformed, zero or too large. */
int plm_size_parse(const char *s, size_t *out);

#endif
