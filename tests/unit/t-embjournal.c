/* t-embjournal.c — the embedding cache's journal without HDF5: records
 * written and read back, a torn last record, a checksum mismatch, resume
 * after truncation, a journal of other settings, a file that is not one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plm/embjournal.h"
#include "tap.h"

#define ST "layer=6 pool=mean"

static char path[256];

struct seen {
	size_t n;
	int kind[16];
	plm_h128 h[16];
	char id[16][32];
	char tail[16][32];
	uint64_t off[16];
	int refuse;             /* kind answered with 1 */
};

static int each(void *arg, const plm_ejrec *r)
{
	struct seen *s = arg;
	if (r->kind == s->refuse)
		return 1;
	if (s->n == 16)
		return -1;
	s->kind[s->n] = r->kind;
	s->h[s->n] = r->h;
	snprintf(s->id[s->n], 32, "%.*s", (int)r->idlen, r->id);
	snprintf(s->tail[s->n], 32, "%.*s", (int)r->tlen,
		 (const char *)r->tail);
	s->off[s->n++] = r->off;
	return 0;
}

static plm_ejournal jopen(int flags)
{
	plm_ejournal j = { .fd = open(path, flags, 0644) };
	return j;
}

static off_t fsize(void)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

/* Loads the journal read-only into s. */
static int reread(struct seen *s, plm_ejournal *out)
{
	plm_ejournal j = jopen(O_RDONLY);
	memset(s, 0, sizeof *s);
	int rc = plm_ej_load(&j, ST, strlen(ST), 0, each, s, NULL, 0);
	if (out)
		*out = j;
	else
		plm_ej_free(&j);
	return rc;
}

/* A fresh journal with three records: E a, F b, E c. */
static uint64_t rec_end[3];

static int write_three(void)
{
	unlink(path);
	plm_ejournal j = jopen(O_RDWR | O_CREAT);
	struct seen s = { 0 };
	plm_h128 h[3] = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
	uint64_t off = 0;
	int good = plm_ej_load(&j, ST, strlen(ST), 1, each, &s, NULL, 0) == 0 &&
		   s.n == 0 && j.size == 8 + 4 + strlen(ST) + 8 &&
		   (off_t)j.size == fsize();
	good = good && !plm_ej_append(&j, 'E', h[0], "a", 1, "vec1", 4, &off) &&
	       off == j.size - 4 - 8 - 1;
	rec_end[0] = j.size;
	good = good && !plm_ej_append(&j, 'F', h[1], "bb", 2, "no luck", 7,
				      NULL);
	rec_end[1] = j.size;
	good = good && !plm_ej_append(&j, 'E', h[2], "c", 1, "vec3", 4, NULL);
	rec_end[2] = j.size;
	good = good && (off_t)j.size == fsize();
	plm_ej_free(&j);
	return good;
}

static void round_trip(void)
{
	struct seen s;
	plm_ejournal j;
	ok(write_three(), "a new journal gets its header; three records "
	   "appended, each at the offset it returns");
	ok(reread(&s, &j) == 0 && s.n == 3 && j.torn == 0 &&
	   j.size == rec_end[2], "three records read back, nothing torn");
	ok(s.kind[0] == 'E' && s.kind[1] == 'F' && s.kind[2] == 'E' &&
	   s.h[1].hi == 3 && s.h[1].lo == 4 && !strcmp(s.id[1], "bb") &&
	   !strcmp(s.tail[1], "no luck") && !strcmp(s.tail[2], "vec3"),
	   "kinds, hashes, ids and tails as written");
	char buf[5] = { 0 };
	ok(plm_ej_read(&j, buf, 4, s.off[0] + 1) == 0 && !strcmp(buf, "vec1"),
	   "plm_ej_read at the id offset + idlen gives the vector");
	plm_ej_free(&j);

	/* the caller ends the valid journal at a record it refuses */
	j = jopen(O_RDONLY);
	memset(&s, 0, sizeof s);
	s.refuse = 'F';
	ok(plm_ej_load(&j, ST, strlen(ST), 0, each, &s, NULL, 0) == 0 &&
	   s.n == 1 && j.size == rec_end[0] &&
	   j.torn == rec_end[2] - rec_end[0],
	   "a refused record ends the valid journal there");
	plm_ej_free(&j);
}

static void torn(void)
{
	struct seen s;
	plm_ejournal j;
	write_three();
	/* every cut inside the last record: two records survive */
	int all = 1;
	for (uint64_t cut = rec_end[1]; cut < rec_end[2]; cut++) {
		if (truncate(path, (off_t)cut) || reread(&s, &j) ||
		    s.n != 2 || j.size != rec_end[1] ||
		    j.torn != cut - rec_end[1])
			all = 0;
		plm_ej_free(&j);
		if (!all) {
			diag("cut at %llu", (unsigned long long)cut);
			break;
		}
	}
	ok(all, "a torn last record is ignored, at every cut");

	/* a writer cuts the torn tail off and appends after it */
	j = jopen(O_RDWR);
	memset(&s, 0, sizeof s);
	ok(plm_ej_load(&j, ST, strlen(ST), 1, each, &s, NULL, 0) == 0 &&
	   s.n == 2 && (off_t)j.size == fsize() && j.size == rec_end[1],
	   "a writer cuts the torn tail off");
	plm_h128 h = { 7, 8 };
	ok(plm_ej_append(&j, 'E', h, "d", 1, "vec4", 4, NULL) == 0,
	   "and appends");
	plm_ej_free(&j);
	ok(reread(&s, NULL) == 0 && s.n == 3 && !strcmp(s.id[2], "d") &&
	   !strcmp(s.tail[2], "vec4"), "resume after truncation: the new "
	   "record follows the two kept");

	/* a header cut short: no records, and a writer starts afresh */
	if (truncate(path, 10))
		diag("truncate: %s", strerror(errno));
	ok(reread(&s, NULL) == 0 && s.n == 0, "a torn header: no records");
	j = jopen(O_RDWR);
	ok(plm_ej_load(&j, ST, strlen(ST), 1, each, &s, NULL, 0) == 0 &&
	   j.size == 8 + 4 + strlen(ST) + 8 && (off_t)j.size == fsize(),
	   "a writer rewrites a torn header");
	plm_ej_free(&j);
}

static void flip(off_t at)
{
	int fd = open(path, O_RDWR);
	unsigned char b;
	if (pread(fd, &b, 1, at) != 1)
		diag("pread failed");
	b ^= 0x20;
	if (pwrite(fd, &b, 1, at) != 1)
		diag("pwrite failed");
	close(fd);
}

static void checksum(void)
{
	struct seen s;
	plm_ejournal j;
	write_three();
	flip((off_t)rec_end[1] - 12);     /* the reason of record 2 */
	ok(reread(&s, &j) == 0 && s.n == 1 && j.size == rec_end[0] &&
	   j.torn == rec_end[2] - rec_end[0],
	   "a checksum mismatch ends the valid journal before the record");
	plm_ej_free(&j);

	write_three();
	flip(9);                          /* the header's length */
	ok(reread(&s, NULL) == PLM_EJ_NOTOURS,
	   "a header failing its check is not a journal");

	write_three();
	flip(0);
	ok(reread(&s, NULL) == PLM_EJ_NOTOURS, "nor one with another magic");

	write_three();
	j = jopen(O_RDWR);
	char hdr[8];
	const char *other = "layer=5 pool=mean";
	ok(plm_ej_load(&j, other, strlen(other), 1, each, &s, hdr,
		       sizeof hdr) == PLM_EJ_OTHER && !strcmp(hdr, "layer=6"),
	   "other settings: PLM_EJ_OTHER, the header's text cut to fit");
	plm_ej_free(&j);
	ok(fsize() == (off_t)rec_end[2], "and the journal is left as it was");

	/* the callback aborts */
	write_three();
	j = jopen(O_RDONLY);
	memset(&s, 0, sizeof s);
	s.n = 16;
	ok(plm_ej_load(&j, ST, strlen(ST), 0, each, &s, NULL, 0) ==
	   PLM_EJ_ABORT, "a callback's -1 aborts the load");
	plm_ej_free(&j);
}

static void limits(void)
{
	plm_ejournal j;
	write_three();
	j = jopen(O_RDWR);
	struct seen s = { 0 };
	plm_ej_load(&j, ST, strlen(ST), 1, each, &s, NULL, 0);
	plm_h128 h = { 9, 9 };
	uint64_t size = j.size;
	ok(plm_ej_append(&j, 'E', h, "x", 1, "", PLM_EJ_MAXREC, NULL) == -2 &&
	   j.size == size && fsize() == (off_t)size,
	   "a record over PLM_EJ_MAXREC is refused, nothing written");
	plm_ej_free(&j);

	/* a write that fails (read-only descriptor) is cut back */
	j = jopen(O_RDONLY);
	j.size = (uint64_t)fsize();
	ok(plm_ej_append(&j, 'E', h, "x", 1, "v", 1, NULL) == -1 &&
	   fsize() == (off_t)rec_end[2], "a failed write returns -1 and "
	   "leaves the journal as it was");
	plm_ej_free(&j);

	char big[PLM_EJ_MAXSETTINGS + 2];
	memset(big, 's', sizeof big);
	j = jopen(O_RDWR);
	ok(plm_ej_header(&j, big, sizeof big) == -1 && errno == EINVAL &&
	   fsize() == (off_t)rec_end[2], "settings too long for a header");
	plm_ej_free(&j);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/t-embjournal.%ld",
		 tmp && *tmp ? tmp : "/tmp", (long)getpid());
	round_trip();
	torn();
	checksum();
	limits();
	unlink(path);
	return done_testing();
}
