/* extsort.c — sorted runs on disk, merged through a heap (extsort.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/extsort.h"

/* A run: records [off, off + n) of a temporary file. */
struct run {
	uint64_t off, n;
};

/* A run being merged: its unread part and a window of it in memory. */
struct src {
	uint64_t off, left;
	size_t pos, len;
	unsigned char *buf;
};

enum { ADDING, IN_MEMORY, MERGING, FAILED };

struct plm_extsort {
	size_t size, cap;       /* record bytes; records the budget holds */
	int (*cmp)(const void *, const void *);
	char *dir;
	int state;
	unsigned char *buf;     /* collected records */
	size_t n, bcap;
	uint64_t total;
	size_t walk;            /* IN_MEMORY: next record */
	int fd[2], cur;         /* fd[cur] holds the runs */
	uint64_t end[2];        /* records written to each file */
	struct run *runs;
	size_t nruns, rcap, spilled;
	/* MERGING */
	struct src *src;
	size_t *heap, nheap;
	int pending;            /* the heap's top was handed out */
	unsigned char *mem;     /* the merge's buffers, one block */
};

static int fail(plm_extsort *s, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "sorting to a temporary file: %s%s%s", what,
		 errno ? ": " : "", errno ? strerror(errno) : "");
	s->state = FAILED;
	return -1;
}

static int oom(plm_extsort *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	s->state = FAILED;
	return -1;
}

plm_extsort *plm_extsort_new(size_t size, size_t mem,
			     int (*cmp)(const void *, const void *),
			     const char *dir)
{
	plm_extsort *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->size = size ? size : 1;
	s->cap = mem / s->size < 2 ? 2 : mem / s->size;
	s->cmp = cmp;
	s->fd[0] = s->fd[1] = -1;
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	if (!(s->dir = strdup(dir))) {
		free(s);
		return NULL;
	}
	return s;
}

/* A temporary file with no name left in the directory: O_TMPFILE, else
 * mkstemp and unlink at once (registered for the moment between). */
static int tmpfile_fd(const char *dir)
{
	int fd = -1;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	size_t l = strlen(dir) + 32;
	char *path = malloc(l);
	if (!path)
		return -1;
	snprintf(path, l, "%s/plm-sort.XXXXXX", dir);
	plm_tmp_register(path);
	fd = mkstemp(path);
	int e = errno;
	if (fd >= 0)
		unlink(path);
	plm_tmp_forget(path);
	free(path);
	errno = e;
	return fd;
}

static int full_pwrite(int fd, const void *p, size_t n, uint64_t off)
{
	const char *c = p;
	while (n) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!w)
				errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int full_pread(int fd, void *p, size_t n, uint64_t off)
{
	char *c = p;
	while (n) {
		ssize_t r = pread(fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!r)
				errno = EIO;    /* the file shrank under us */
			return -1;
		}
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int open_file(plm_extsort *s, int f, char *err, size_t errlen)
{
	if (s->fd[f] >= 0)
		return 0;
	errno = 0;
	if ((s->fd[f] = tmpfile_fd(s->dir)) < 0)
		return fail(s, err, errlen, s->dir);
	return 0;
}

static int add_run(plm_extsort *s, uint64_t off, uint64_t n, char *err,
		   size_t errlen)
{
	if (PLM_GROW(s->runs, s->rcap, s->nruns + 1))
		return oom(s, err, errlen);
	s->runs[s->nruns++] = (struct run){ off, n };
	return 0;
}

/* The buffer, sorted, becomes a run at the end of fd[cur]. */
static int spill(plm_extsort *s, char *err, size_t errlen)
{
	if (open_file(s, s->cur, err, errlen))
		return -1;
	qsort(s->buf, s->n, s->size, s->cmp);
	errno = 0;
	if (full_pwrite(s->fd[s->cur], s->buf, s->n * s->size,
			s->end[s->cur] * s->size))
		return fail(s, err, errlen, "write");
	if (add_run(s, s->end[s->cur], s->n, err, errlen))
		return -1;
	s->end[s->cur] += s->n;
	s->spilled++;
	s->n = 0;
	return 0;
}

int plm_extsort_add(plm_extsort *s, const void *rec, char *err,
		    size_t errlen)
{
	if (s->state != ADDING) {
		snprintf(err, errlen, "internal error: record added after sorting");
		return -1;
	}
	if (s->n == s->cap && spill(s, err, errlen))
		return -1;
	if (s->n == s->bcap) {
		/* grow by half, but never past the budget */
		size_t want = s->bcap < 64 ? 64 : s->bcap + s->bcap / 2;
		if (want > s->cap || want < s->bcap)
			want = s->cap;
		unsigned char *p = realloc(s->buf, want * s->size);
		if (!p)
			return oom(s, err, errlen);
		s->buf = p;
		s->bcap = want;
	}
	memcpy(s->buf + s->n * s->size, rec, s->size);
	s->n++;
	s->total++;
	return 0;
}

/* ---- merging ---------------------------------------------------------- */

static const void *top_rec(const plm_extsort *s, size_t i)
{
	const struct src *r = &s->src[i];
	return r->buf + r->pos * s->size;
}

static int less(const plm_extsort *s, size_t a, size_t b)
{
	int c = s->cmp(top_rec(s, a), top_rec(s, b));
	return c < 0 || (c == 0 && a < b);
}

static void sift_down(plm_extsort *s, size_t i)
{
	size_t *h = s->heap, n = s->nheap;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && less(s, h[l], h[m]))
			m = l;
		if (l + 1 < n && less(s, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		size_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Reads the next window of source i from fd; 0 when it is exhausted, 1,
 * or -1 on a read error. */
static int refill(plm_extsort *s, int fd, size_t i, size_t per)
{
	struct src *r = &s->src[i];
	if (!r->left)
		return 0;
	size_t len = r->left < per ? (size_t)r->left : per;
	if (full_pread(fd, r->buf, len * s->size, r->off * s->size))
		return -1;
	r->off += len;
	r->left -= len;
	r->pos = 0;
	r->len = len;
	return 1;
}

/* Sets up a merge of runs[0 .. k) of fd[cur], each with a window of per
 * records carved from s->mem. */
static int merge_start(plm_extsort *s, const struct run *runs, size_t k,
		       size_t per, char *err, size_t errlen)
{
	s->nheap = 0;
	s->pending = 0;
	for (size_t i = 0; i < k; i++) {
		struct src *r = &s->src[i];
		*r = (struct src){ runs[i].off, runs[i].n, 0, 0,
				   s->mem + i * per * s->size };
		errno = 0;
		int rc = refill(s, s->fd[s->cur], i, per);
		if (rc < 0)
			return fail(s, err, errlen, "read");
		if (rc)
			s->heap[s->nheap++] = i;
	}
	for (size_t i = s->nheap / 2; i-- > 0;)
		sift_down(s, i);
	return 0;
}

/* Moves past the heap's top record.  0, or -1 on a read error. */
static int merge_advance(plm_extsort *s, size_t per)
{
	size_t i = s->heap[0];
	struct src *r = &s->src[i];
	if (++r->pos == r->len) {
		int rc = refill(s, s->fd[s->cur], i, per);
		if (rc < 0)
			return -1;
		if (!rc)
			s->heap[0] = s->heap[--s->nheap];
	}
	if (s->nheap)
		sift_down(s, 0);
	return 0;
}

/* Window sizes: k runs at a time, each with per records, within cap
 * (out: one more window for the output of an intermediate pass). */
static size_t fan_in(const plm_extsort *s, int out)
{
	size_t k = s->cap / 16;
	if (out && k)
		k--;
	return k < 2 ? 2 : k;
}

/* One pass: groups of k runs of fd[cur] become one run each in the other
 * file; the file read is then emptied. */
static int merge_pass(plm_extsort *s, char *err, size_t errlen)
{
	int to = !s->cur;
	size_t k = fan_in(s, 1), per = s->cap / (k + 1);
	if (!per)
		per = 1;
	if (open_file(s, to, err, errlen))
		return -1;
	unsigned char *obuf = s->mem + k * per * s->size;
	struct run *old = s->runs;
	size_t nold = s->nruns;
	s->runs = NULL;
	s->nruns = s->rcap = 0;
	for (size_t g = 0; g < nold; g += k) {
		uint64_t start = s->end[to], nout = 0;
		size_t ob = 0;
		if (merge_start(s, old + g, nold - g < k ? nold - g : k, per,
				err, errlen))
			goto fail_old;
		while (s->nheap) {
			memcpy(obuf + ob * s->size, top_rec(s, s->heap[0]),
			       s->size);
			errno = 0;
			if (++ob == per) {
				if (full_pwrite(s->fd[to], obuf, ob * s->size,
						(start + nout) * s->size))
					goto write_fail;
				nout += ob;
				ob = 0;
			}
			if (merge_advance(s, per)) {
				fail(s, err, errlen, "read");
				goto fail_old;
			}
		}
		errno = 0;
		if (ob && full_pwrite(s->fd[to], obuf, ob * s->size,
				      (start + nout) * s->size))
			goto write_fail;
		nout += ob;
		s->end[to] += nout;
		if (add_run(s, start, nout, err, errlen))
			goto fail_old;
	}
	free(old);
	errno = 0;
	if (ftruncate(s->fd[s->cur], 0))
		return fail(s, err, errlen, "truncate");
	s->end[s->cur] = 0;
	s->cur = to;
	return 0;
write_fail:
	fail(s, err, errlen, "write");
fail_old:
	free(old);
	return -1;
}

int plm_extsort_sort(plm_extsort *s, char *err, size_t errlen)
{
	if (s->state != ADDING) {
		snprintf(err, errlen, "internal error: sorted twice");
		return -1;
	}
	if (!s->nruns) {
		if (s->n)
			qsort(s->buf, s->n, s->size, s->cmp);
		s->state = IN_MEMORY;
		return 0;
	}
	if (s->n && spill(s, err, errlen))
		return -1;
	free(s->buf);
	s->buf = NULL;
	s->bcap = 0;
	size_t k = fan_in(s, 0);
	if (k < fan_in(s, 1) + 1)
		k = fan_in(s, 1) + 1;
	/* the windows of every pass fit in the budget (3 records at least:
	 * two runs and the output of a pass) */
	if (!(s->mem = malloc((s->cap < 3 ? 3 : s->cap) * s->size)) ||
	    !(s->src = calloc(k, sizeof *s->src)) ||
	    !(s->heap = calloc(k, sizeof *s->heap)))
		return oom(s, err, errlen);
	while (s->nruns > fan_in(s, 0))
		if (merge_pass(s, err, errlen))
			return -1;
	if (merge_start(s, s->runs, s->nruns, s->cap / s->nruns, err, errlen))
		return -1;
	s->state = MERGING;
	return 0;
}

int plm_extsort_next(plm_extsort *s, const void **rec, char *err,
		     size_t errlen)
{
	switch (s->state) {
	case IN_MEMORY:
		if (s->walk == s->n)
			return 0;
		*rec = s->buf + s->walk++ * s->size;
		return 1;
	case MERGING:
		if (s->pending) {
			errno = 0;
			if (merge_advance(s, s->cap / s->nruns))
				return fail(s, err, errlen, "read");
		}
		if (!s->nheap) {
			s->pending = 0;
			return 0;
		}
		s->pending = 1;
		*rec = top_rec(s, s->heap[0]);
		return 1;
	default:
		snprintf(err, errlen, "internal error: sorter not ready");
		return -1;
	}
}

uint64_t plm_extsort_count(const plm_extsort *s)
{
	return s->total;
}

size_t plm_extsort_runs(const plm_extsort *s)
{
	return s->spilled;
}

void plm_extsort_free(plm_extsort *s)
{
	if (!s)
		return;
	for (int f = 0; f < 2; f++)
		if (s->fd[f] >= 0)
			close(s->fd[f]);
	PLM_FREE(s->buf, s->runs, s->src, s->heap, s->mem, s->dir, s);
}

int plm_size_parse(const char *s, size_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	int shift = 0;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	}
	if (shift && *p == 'i')
		p++;
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p || !v || v > (SIZE_MAX >> shift))
		return -1;
	*out = (size_t)(v << shift);
	return 0;
}
