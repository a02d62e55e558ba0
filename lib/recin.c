/* recin.c — FILE operands read in sequence as one record stream; a
 * FASTA or FASTQ file reads as the records fasta-cat makes of it, a
 * Parquet file as its columns, a split manifest (split.h; its digest
 * verified first) as id, seq_hash, split with its recipe in the meta. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plm/fields.h"
#include "plm/recin.h"
#include "plm/fasta.h"
#include "plm/hash.h"
#include "plm/parquet.h"
#include "plm/split.h"

/* plm_recin_want(): the fields a Parquet file is asked for (-1: all). */
static int want_n = -1;
static const char *const *want_names;

void plm_recin_want(int n, const char *const *names)
{
	want_n = n;
	want_names = names;
}

/* One file: a record stream (r), or FASTA/FASTQ (fa over in) whose
 * records become rows of the fields fasta-cat writes. */
typedef struct source {
	plm_reader *r;
	plm_pq *pq;             /* Parquet (in kept for its name) */
	plm_in *in;
	plm_fasta *fa;
	plm_manifest *man;      /* a split manifest, read whole */
	char hex[33];           /* its current row's seq_hash */
	plm_schema fs;          /* id, desc, seq, len; no meta (FASTA) */
	uint64_t recno;         /* FASTA or manifest records read */
} source;

struct plm_recin {
	int n, cur;
	char **paths;          /* borrowed from the caller (argv) */
	source src;
	int open;              /* src holds a file */
	plm_seqrec rec;        /* the FASTA record the row points into */
	plm_val vals[4];
	plm_schema s;          /* copy of the current section's fields */
	uint64_t recno;
	uint64_t done_bytes;   /* raw bytes of the files already finished */
	uint64_t total;        /* 0 when any input's size is unknown */
	char err[1024];
};

static int is_stdin(const char *p)
{
	return !p || strcmp(p, "-") == 0;
}

static uint64_t total_size(int n, char **paths)
{
	uint64_t t = 0;
	struct stat st;
	if (n == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		if (is_stdin(paths[i]) || stat(paths[i], &st) || !S_ISREG(st.st_mode))
			return 0;
		t += (uint64_t)st.st_size;
	}
	return t;
}

static void source_close(source *x)
{
	if (x->r)
		plm_reader_close(x->r);
	plm_pq_close(x->pq);
	plm_fasta_close(x->fa);
	if (x->man) {
		plm_manifest_free(x->man);
		free(x->man);
	}
	if (x->in)
		plm_in_close(x->in);
	plm_schema_free(&x->fs);
	memset(x, 0, sizeof *x);
}

/* A Parquet file: a regular uncompressed file is read by its path, any
 * other input (stdin, a pipe, a compressed file) is spooled first. */
static int pq_open(source *x, plm_in *in, const char *path, char *err,
		   size_t errlen)
{
	struct stat st;
	int fd = -1;
	x->in = in;
	if (!is_stdin(path) && plm_in_codec(in) == PLM_CODEC_PLAIN &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (fd = plm_spool_fd_from(in, err, errlen)) < 0)
		return -1;
	x->pq = plm_pq_open_fd(fd, plm_in_name(in), err, errlen);
	if (!x->pq || plm_pq_start(x->pq, want_n, want_names, err, errlen))
		return -1;
	return 0;
}

/* Takes over in (closed on failure too).  0, or -1 and err. */
static int source_open(source *x, plm_in *in, const char *path, char *err,
		       size_t errlen)
{
	memset(x, 0, sizeof *x);
	plm_schema_init(&x->fs);
	int k = plm_pq_sniff(in);
	if (k > 0) {
		if (pq_open(x, in, path, err, errlen)) {
			source_close(x);
			return -1;
		}
		return 0;
	}
	if (k == 0 && (k = plm_manifest_sniff(in)) > 0) {
		x->in = in;
		if (!(x->man = malloc(sizeof *x->man))) {
			snprintf(err, errlen, "out of memory");
			source_close(x);
			return -1;
		}
		if (plm_manifest_read_in(x->man, in, err, errlen)) {
			free(x->man);
			x->man = NULL;
			source_close(x);
			return -1;
		}
		if (plm_manifest_schema(x->man, &x->fs, err, errlen)) {
			source_close(x);
			return -1;
		}
		return 0;
	}
	if (k == 0)
		k = plm_fasta_sniff(in);
	if (k < 0) {
		snprintf(err, errlen, "%s", plm_in_error(in));
		plm_in_close(in);
		return -1;
	}
	if (k == 0) {
		x->r = plm_reader_from(in, err, errlen);
		return x->r ? 0 : -1;
	}
	x->in = in;
	if (!(x->fa = plm_fasta_open(in)) || plm_fasta_schema(&x->fs)) {
		snprintf(err, errlen, "out of memory");
		source_close(x);
		return -1;
	}
	return 0;
}

static const plm_schema *source_schema(const source *x)
{
	if (x->pq)
		return plm_pq_schema(x->pq);
	return x->r ? plm_reader_schema(x->r) : &x->fs;
}

static plm_in *source_in(const source *x)
{
	return x->r ? plm_reader_in(x->r) : x->in;
}

static uint64_t source_recno(const source *x)
{
	if (x->pq)
		return plm_pq_recno(x->pq);
	return x->r ? plm_reader_recno(x->r) : x->recno;
}

/* Input bytes read: of the Parquet file, or compressed bytes. */
static uint64_t source_pos(const source *x)
{
	return x->pq ? plm_pq_pos(x->pq) : plm_in_raw_pos(source_in(x));
}

/* plm_reader_next() for either kind; a FASTA file is one section. */
static int source_next(plm_recin *r, const plm_val **row)
{
	source *x = &r->src;
	if (x->pq) {
		int rc = plm_pq_next(x->pq, row);
		if (rc == PLM_ERR)
			snprintf(r->err, sizeof r->err, "%s", plm_pq_error(x->pq));
		return rc;
	}
	if (x->r) {
		int rc = plm_reader_next(x->r, row);
		if (rc == PLM_ERR)
			snprintf(r->err, sizeof r->err, "%s",
				 plm_reader_error(x->r));
		return rc;
	}
	if (x->man) {
		if (x->recno == x->man->n)
			return PLM_EOF;
		plm_manifest_row(x->man, x->recno++, x->hex, r->vals);
		*row = r->vals;
		return PLM_ROW;
	}
	int rc = plm_fasta_next(x->fa, &r->rec);
	if (rc < 0) {
		snprintf(r->err, sizeof r->err, "%s", plm_fasta_error(x->fa));
		return PLM_ERR;
	}
	if (rc == 0)
		return PLM_EOF;
	x->recno++;
	r->vals[0] = plm_v_str(r->rec.id, r->rec.id_len);
	r->vals[1] = plm_v_str(r->rec.desc, r->rec.desc_len);
	r->vals[2] = plm_v_str(r->rec.seq, r->rec.seq_len);
	r->vals[3] = plm_v_int((int64_t)r->rec.seq_len);
	*row = r->vals;
	return PLM_ROW;
}

plm_recin *plm_recin_open(int n, char **paths, char *err, size_t errlen)
{
	plm_in *in = plm_in_open(n ? paths[0] : NULL, err, errlen);
	return in ? plm_recin_from(in, n, paths, err, errlen) : NULL;
}

plm_recin *plm_recin_from(plm_in *in0, int n, char **paths, char *err,
			  size_t errlen)
{
	plm_recin *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(err, errlen, "out of memory");
		plm_in_close(in0);
		return NULL;
	}
	r->n = n;
	r->paths = paths;
	plm_schema_init(&r->s);
	if (source_open(&r->src, in0, n ? paths[0] : NULL, err, errlen)) {
		plm_recin_close(r);
		return NULL;
	}
	r->open = 1;
	/* plm_schema_copy() overwrites its destination (init on failure) */
	if (plm_schema_copy(&r->s, source_schema(&r->src))) {
		snprintf(err, errlen, "out of memory");
		plm_recin_close(r);
		return NULL;
	}
	r->total = total_size(n, paths);
	return r;
}

/* The current file ended cleanly: move on.  PLM_ROW-like 1 to keep
 * reading (same fields), PLM_HEADER, PLM_EOF or PLM_ERR. */
static int next_file(plm_recin *r)
{
	if (r->cur + 1 >= r->n)
		return PLM_EOF;
	r->done_bytes += source_pos(&r->src);
	source_close(&r->src);
	r->open = 0;
	plm_in *in = plm_in_open(r->paths[++r->cur], r->err, sizeof r->err);
	if (!in || source_open(&r->src, in, r->paths[r->cur], r->err,
			       sizeof r->err))
		return PLM_ERR;
	r->open = 1;
	const plm_schema *ns = source_schema(&r->src);
	if (plm_schema_equal(&r->s, ns))
		return 1;
	plm_schema_free(&r->s);
	if (plm_schema_copy(&r->s, ns)) {
		snprintf(r->err, sizeof r->err, "out of memory");
		return PLM_ERR;
	}
	return PLM_HEADER;
}

int plm_recin_next(plm_recin *r, const plm_val **row)
{
	for (;;) {
		if (!r->open)
			return PLM_ERR;
		int rc = source_next(r, row);
		switch (rc) {
		case PLM_ROW:
			r->recno++;
			return PLM_ROW;
		case PLM_HEADER:
			plm_schema_free(&r->s);
			if (plm_schema_copy(&r->s, source_schema(&r->src))) {
				snprintf(r->err, sizeof r->err, "out of memory");
				return PLM_ERR;
			}
			return PLM_HEADER;
		case PLM_EOF:
			rc = next_file(r);
			if (rc != 1)
				return rc;
			break;
		default:
			return PLM_ERR;
		}
	}
}

const plm_schema *plm_recin_schema(const plm_recin *r)
{
	return &r->s;
}

const char *plm_recin_error(const plm_recin *r)
{
	return r->err;
}

uint64_t plm_recin_recno(const plm_recin *r)
{
	return r->recno;
}

uint64_t plm_recin_file_recno(const plm_recin *r)
{
	return r->open ? source_recno(&r->src) : 0;
}

const char *plm_recin_name(const plm_recin *r)
{
	return r->open ? plm_in_name(source_in(&r->src)) : "";
}

void plm_recin_bytes(const plm_recin *r, uint64_t *done, uint64_t *total)
{
	uint64_t d = r->done_bytes;
	if (r->open)
		d += source_pos(&r->src);
	*done = d;
	*total = r->total;
}

void plm_recin_progress(const plm_recin *r, plm_progress *p, int end)
{
	uint64_t d, t;
	if (!p->on)
		return;
	plm_recin_bytes(r, &d, &t);
	if (end)
		plm_progress_end(p, d, r->recno);
	else
		plm_progress_update(p, d, t, r->recno);
}

void plm_recin_close(plm_recin *r)
{
	if (!r)
		return;
	if (r->open)
		source_close(&r->src);
	plm_seqrec_free(&r->rec);
	plm_schema_free(&r->s);
	free(r);
}

int plm_shard_field(const plm_schema *s, const char *name, char *err,
		    size_t errlen)
{
	int i = plm_schema_find(s, name);
	if (i < 0) {
		plm_nofield(err, errlen, s, "no field '%s' in input", name);
		return -1;
	}
	if (s->f[i].type != PLM_T_STR && s->f[i].type != PLM_T_INT) {
		char tn[64];
		plm_type_name(s->f[i].type, s->f[i].dim, tn, sizeof tn);
		snprintf(err, errlen, "field '%s' is %s: a shard key must be str or int",
			 name, tn);
		return -1;
	}
	return i;
}

uint64_t plm_shard_bucket(const plm_val *v, enum plm_type t, uint64_t n)
{
	char buf[32];
	if (v->nil)
		return plm_key_hash("", 0) % n;
	if (t == PLM_T_INT) {
		int len = snprintf(buf, sizeof buf, "%" PRId64, v->i);
		return plm_key_hash(buf, (size_t)len) % n;
	}
	return plm_key_hash(v->s, v->n) % n;
}

int plm_shard_keep_val(const plm_shard *sh, const plm_val *v, enum plm_type t)
{
	return sh->n == 0 || plm_shard_bucket(v, t, sh->n) == sh->k;
}
