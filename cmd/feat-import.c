/* feat-import — a float array from .npy, .npz or HDF5, with its ids, into
 * a record stream of id and a vector field. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/float.h"
#include "plm/h5arr.h"
#include "plm/npy.h"
#include "plm/stream.h"

static const char operands[] = "FILE";
static const char summary[] =
	"read a float array [N, D] from .npy, .npz or HDF5 into records of id and a vector";

enum { KIND_NPY, KIND_NPZ, KIND_H5 };

struct src {
	const char *path;
	int kind;
	const unsigned char *map;       /* the mapped file */
	size_t maplen;
	unsigned char *inflated;        /* a deflated .npz member */
	plm_npy h;                      /* .npy, .npz: the array */
	const unsigned char *data;
	plm_h5arr *h5;
	uint64_t n, d;
	double *blk;                    /* HDF5: rows [blk0, blk0 + blkn) */
	uint64_t blk0, blkn, blkcap;
};

struct ids {
	char **v;
	uint64_t n;
	const char *from;               /* for messages */
};

static const char *const one_d_names[] = { "row", "column", NULL };

/* ---- arrays ----------------------------------------------------------- */

/* Member name (NAME.npy) of the .npz into *h and *data, inflating it if
 * it is deflated (*owned: the buffer to free). */
static void npz_member(struct src *s, const char *name, const char *opt,
		       plm_npy *h, const unsigned char **data,
		       unsigned char **owned)
{
	char err[512], names[256], *mname = plm_xmalloc(strlen(name) + 5);
	plm_zip_member m;
	sprintf(mname, "%s.npy", name);
	int rc = plm_zip_find(s->map, s->maplen, mname, &m, names,
			      sizeof names, err, sizeof err);
	if (rc < 0)
		plm_die("%s: %s", s->path, err);
	if (rc > 0)
		plm_die("%s: %s: no array '%s' (the archive has: %s)", s->path,
			opt, name, *names ? names : "nothing");
	const unsigned char *p = s->map + m.off;
	*owned = NULL;
	if (m.method == 8) {
		if (m.usize > SIZE_MAX)
			plm_die("%s: array '%s' too large", s->path, name);
		*owned = plm_xmalloc(m.usize ? (size_t)m.usize : 1);
		if (plm_zip_inflate(s->map, s->maplen, &m, *owned, err,
				    sizeof err))
			plm_die("%s: array '%s': %s", s->path, name, err);
		p = *owned;
	} else if (m.csize != m.usize) {
		plm_die("%s: array '%s': malformed zip archive", s->path, name);
	}
	if (plm_npy_parse(p, (size_t)m.usize, h, err, sizeof err))
		plm_die("%s: array '%s': %s", s->path, name, err);
	if (h->nbytes != m.usize - h->data_off)
		plm_die("%s: array '%s': %" PRIu64 " data bytes, the shape "
			"needs %" PRIu64, s->path, name, m.usize - h->data_off,
			h->nbytes);
	*data = p + h->data_off;
	free(mname);
}

static void shape_str(const plm_npy *h, char *buf, size_t len)
{
	size_t k = (size_t)snprintf(buf, len, "(");
	for (int r = 0; r < h->rank && k < len; r++)
		k += (size_t)snprintf(buf + k, len - k, "%s%" PRIu64,
				      r ? ", " : "", h->shape[r]);
	if (k < len)
		snprintf(buf + k, len - k, h->rank == 1 ? ",)" : ")");
}

/* Rank 2, or rank 1 read as one_d says; a float dtype. */
static void check_shape(struct src *s, const char *what, int one_d)
{
	char sh[256], dt[32];
	plm_npy *h = &s->h;
	if (h->dtype != PLM_NPY_F16 && h->dtype != PLM_NPY_F32 &&
	    h->dtype != PLM_NPY_F64)
		plm_die("%s: %s: dtype '%s' is not float16, float32 or "
			"float64", s->path, what,
			plm_npy_dtype_name(h, dt, sizeof dt));
	if (h->rank == 1 && one_d >= 0) {
		uint64_t len = h->shape[0];
		h->rank = 2;
		h->fortran = 0;
		h->shape[0] = one_d == 0 ? 1 : len;
		h->shape[1] = one_d == 0 ? len : 1;
	}
	if (h->rank != 2) {
		shape_str(h, sh, sizeof sh);
		plm_die("%s: %s has shape %s, not [N, D]%s", s->path, what, sh,
			h->rank == 1 ? " (--1d row or --1d column reads a "
				       "1-D array)" : "");
	}
	s->n = h->shape[0], s->d = h->shape[1];
}

static void open_src(struct src *s, const char *array, const char *dataset,
		     int one_d)
{
	char err[512];
	if (plm_map_file(s->path, &s->map, &s->maplen, err, sizeof err))
		plm_die("%s", err);
	if (s->maplen >= 6 && memcmp(s->map, "\x93NUMPY", 6) == 0) {
		s->kind = KIND_NPY;
		if (array)
			plm_usage_die("--array is for .npz archives; %s is a "
				      ".npy file", s->path);
		if (plm_npy_parse(s->map, s->maplen, &s->h, err, sizeof err))
			plm_die("%s: %s", s->path, err);
		if (s->h.nbytes != s->maplen - s->h.data_off)
			plm_die("%s: %zu data bytes, the shape needs %" PRIu64,
				s->path, s->maplen - s->h.data_off,
				s->h.nbytes);
		s->data = s->map + s->h.data_off;
		check_shape(s, "the array", one_d);
	} else if (s->maplen >= 4 && memcmp(s->map, "PK", 2) == 0) {
		s->kind = KIND_NPZ;
		if (!array)
			plm_usage_die("%s is an .npz archive: --array NAME "
				      "says which array", s->path);
		npz_member(s, array, "--array", &s->h, &s->data, &s->inflated);
		char what[300];
		snprintf(what, sizeof what, "array '%s'", array);
		check_shape(s, what, one_d);
	} else if (plm_h5_sniff(s->map, s->maplen)) {
		s->kind = KIND_H5;
		int rank;
		uint64_t shape[2];
		if (!dataset)
			plm_usage_die("%s is an HDF5 file: --dataset NAME "
				      "says which dataset", s->path);
		plm_unmap_file(s->map, s->maplen);
		s->map = NULL;
		if (!(s->h5 = plm_h5arr_open(s->path, dataset, &rank, shape,
					     err, sizeof err)))
			plm_die("%s", err);
		if (rank == 1 && one_d < 0)
			plm_die("%s: dataset '%s' has shape (%" PRIu64 ",), "
				"not [N, D] (--1d row or --1d column reads a "
				"1-D array)", s->path, dataset, shape[0]);
		if (rank == 1 && one_d == 0)
			plm_die("%s: --1d row: not for HDF5 datasets",
				s->path);
		s->n = shape[0];
		s->d = rank == 2 ? shape[1] : 1;
		s->blkcap = s->d ? ((1u << 20) / 8 + s->d - 1) / s->d : 1;
		s->blk = plm_xmalloc((size_t)(s->blkcap * (s->d ? s->d : 1)) *
				     sizeof *s->blk);
	} else {
		plm_die("%s: not a .npy, .npz or HDF5 file", s->path);
	}
	if (s->kind != KIND_H5 && dataset)
		plm_usage_die("--dataset is for HDF5 files");
	if (s->d == 0)
		plm_die("%s: the rows have no values (D = 0)", s->path);
	if (s->d > UINT32_MAX / 4)
		plm_die("%s: D = %" PRIu64 " is too large", s->path, s->d);
}

/* Row i as float32; -1, or the column of the first non-finite value. */
static long src_row(struct src *s, uint64_t i, float *out)
{
	char err[512];
	if (s->kind != KIND_H5)
		return plm_npy_row_f32(&s->h, s->data, i, out);
	if (i < s->blk0 || i >= s->blk0 + s->blkn) {
		s->blk0 = i;
		s->blkn = s->n - i < s->blkcap ? s->n - i : s->blkcap;
		if (plm_h5arr_read(s->h5, s->blk0, s->blkn, s->blk, err,
				   sizeof err))
			plm_die("%s: %s", s->path, err);
	}
	const double *r = s->blk + (i - s->blk0) * s->d;
	long bad = -1;
	for (uint64_t j = 0; j < s->d; j++) {
		out[j] = (float)r[j];
		if ((!isfinite(r[j]) || !isfinite(out[j])) && bad < 0)
			bad = (long)j;
	}
	return bad;
}

static void close_src(struct src *s)
{
	plm_h5arr_close(s->h5);
	free(s->blk);
	free(s->inflated);
	plm_unmap_file(s->map, s->maplen);
}

/* ---- ids -------------------------------------------------------------- */

static void ids_push(struct ids *x, uint64_t *cap, char *id)
{
	if (x->n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		x->v = plm_xrealloc(x->v, (size_t)*cap * sizeof *x->v);
	}
	x->v[x->n++] = id;
}

static void ids_file(struct ids *x, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	uint64_t vcap = 0, lineno = 0;
	ssize_t k;
	if (!fp)
		plm_die("%s: %s", path, strerror(errno));
	while ((k = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (k > 0 && line[k - 1] == '\n')
			line[--k] = 0;
		if (k > 0 && line[k - 1] == '\r')
			line[--k] = 0;
		if (k == 0)
			plm_die("%s:%" PRIu64 ": empty id", path, lineno);
		if (memchr(line, 0, (size_t)k))
			plm_die("%s:%" PRIu64 ": a NUL byte in the id", path,
				lineno);
		ids_push(x, &vcap, plm_xstrdup(line));
	}
	if (ferror(fp))
		plm_die("%s: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	x->from = path;
}

static void ids_npz(struct ids *x, struct src *s, const char *name)
{
	plm_npy h;
	const unsigned char *data;
	unsigned char *owned;
	char err[512], dt[32];
	uint64_t vcap = 0;
	if (s->kind != KIND_NPZ)
		plm_usage_die("--ids-array is for .npz archives");
	npz_member(s, name, "--ids-array", &h, &data, &owned);
	if (h.dtype != PLM_NPY_U && h.dtype != PLM_NPY_S)
		plm_die("%s: ids array '%s': dtype '%s' is not strings ('<U' "
			"or '|S')", s->path, name,
			plm_npy_dtype_name(&h, dt, sizeof dt));
	if (h.rank != 1)
		plm_die("%s: ids array '%s' has %d dimensions, not 1", s->path,
			name, h.rank);
	size_t buflen = h.itemsize * 4 + 1;
	char *buf = plm_xmalloc(buflen);
	for (uint64_t i = 0; i < h.shape[0]; i++) {
		long k = plm_npy_str(&h, data, i, buf, buflen, err, sizeof err);
		if (k < 0)
			plm_die("%s: ids array '%s': %s", s->path, name, err);
		if (k == 0)
			plm_die("%s: ids array '%s': element %" PRIu64 ": "
				"empty id", s->path, name, i);
		ids_push(x, &vcap, plm_xstrdup(buf));
	}
	free(buf);
	free(owned);
	x->from = name;
}

static void ids_h5(struct ids *x, struct src *s, const char *name)
{
	char err[512];
	if (s->kind != KIND_H5)
		plm_usage_die("--ids-dataset is for HDF5 files");
	if (plm_h5_strings(s->path, name, &x->v, &x->n, err, sizeof err))
		plm_die("%s", err);
	for (uint64_t i = 0; i < x->n; i++)
		if (!*x->v[i])
			plm_die("%s: ids dataset '%s': element %" PRIu64 ": "
				"empty id", s->path, name, i);
	x->from = name;
}

static const struct ids *cmp_ids;

static int cmp_idx(const void *a, const void *b)
{
	uint64_t i = *(const uint64_t *)a, j = *(const uint64_t *)b;
	int c = strcmp(cmp_ids->v[i], cmp_ids->v[j]);
	return c ? c : (i > j) - (i < j);
}

static void check_dups(const struct ids *x, const char *path)
{
	if (x->n < 2)
		return;
	uint64_t *ix = plm_xcalloc((size_t)x->n, sizeof *ix);
	for (uint64_t i = 0; i < x->n; i++)
		ix[i] = i;
	cmp_ids = x;
	qsort(ix, (size_t)x->n, sizeof *ix, cmp_idx);
	for (uint64_t k = 1; k < x->n; k++)
		if (strcmp(x->v[ix[k - 1]], x->v[ix[k]]) == 0)
			plm_die("%s: duplicate id '%s' (rows %" PRIu64 " and %"
				PRIu64 ")", path, x->v[ix[k - 1]], ix[k - 1],
				ix[k]);
	free(ix);
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
	plm_common c = { 0 };
	const char *array = NULL, *ids_array = NULL, *ids_path = NULL;
	const char *dataset = NULL, *ids_dataset = NULL, *field = "emb";
	int dtype = 0, one_d = -1, allow_nf = 0;
	const plm_opt opts[] = {
		PLM_STR(0, "array", &array, "NAME", "the array of an .npz archive"),
		PLM_STR(0, "ids-array", &ids_array, "NAME",
			"the ids from this string array of the .npz"),
		PLM_STR(0, "dataset", &dataset, "NAME", "the dataset of an HDF5 file"),
		PLM_STR(0, "ids-dataset", &ids_dataset, "NAME",
			"the ids from this string dataset of the HDF5 file"),
		PLM_STR(0, "ids", &ids_path, "FILE", "the ids from FILE, one per line"),
		PLM_STR(0, "field", &field, "NAME", "the vector field written (default emb)"),
		PLM_CHOICE(0, "dtype", &dtype, "TYPE",
			   "the vector type written: f32 (default) or f16", "f32|f16"),
		PLM_CHOICE_V(0, "1d", &one_d, "HOW",
			     "read a 1-D array as one row (row) or as N rows of one value (column)",
			     one_d_names),
		PLM_FLAG(0, "allow-nonfinite", &allow_nf,
			 "write NaN and infinities instead of refusing them"),
		PLM_OPTS_STREAM(&c),
	};
	char err[1024];

	int i = plm_start("feat-import", argc, argv, opts, operands, summary);
	if (argc - i != 1)
		plm_usage_die("one FILE is needed");
	if (!!ids_array + !!ids_path + !!ids_dataset != 1)
		plm_usage_die("the ids: one of --ids FILE, --ids-array NAME, "
			      "--ids-dataset NAME");
	if (!*field || strcmp(field, "id") == 0)
		plm_usage_die("--field: '%s' is not a usable name", field);
	struct src s = { .path = argv[i] };
	open_src(&s, array, dataset, one_d);

	struct ids x = { 0 };
	if (ids_path)
		ids_file(&x, ids_path);
	else if (ids_array)
		ids_npz(&x, &s, ids_array);
	else
		ids_h5(&x, &s, ids_dataset);
	if (x.n != s.n)
		plm_die("%s: %" PRIu64 " id%s (%s) for %" PRIu64 " row%s",
			s.path, x.n, x.n == 1 ? "" : "s", x.from, s.n,
			s.n == 1 ? "" : "s");
	check_dups(&x, s.path);

	size_t d = (size_t)s.d;
	float *row = plm_xmalloc(d * sizeof *row);
	/* All is checked before the first row goes out: no partial output,
	 * on standard output too. */
	if (!allow_nf)
		for (uint64_t r = 0; r < s.n; r++) {
			long j = src_row(&s, r, row);
			if (j >= 0)
				plm_die("%s: row %" PRIu64 " (id %s), column "
					"%ld: non-finite value%s (--allow-"
					"nonfinite writes it)", s.path, r,
					x.v[r], j, isfinite(row[j]) ||
					s.h.dtype != PLM_NPY_F64 ? "" :
					" in float32");
		}

	plm_schema out;
	plm_schema_init(&out);
	enum plm_type vt = dtype == 1 ? PLM_T_F16 : PLM_T_F32;
	if (plm_schema_add(&out, "id", PLM_T_STR, 0) < 0 ||
	    plm_schema_add(&out, field, vt, (uint32_t)d) < 0 ||
	    plm_schema_add_prov(&out, plm_tool(), PLM_VERSION, argc, argv, 0, 0))
		plm_oom();
	plm_writer *w = plm_writer_open(c.output, plm_common_format(&c), &out,
					err, sizeof err);
	if (!w)
		plm_die("%s", err);
	plm_shard sh = plm_shard_parse(c.shard);
	plm_progress pg;
	plm_progress_init(&pg, c.progress, "records");
	unsigned char *vec = plm_xmalloc(d * 4);
	for (uint64_t r = 0; r < s.n; r++) {
		size_t idlen = strlen(x.v[r]);
		if (!plm_shard_keep(&sh, x.v[r], idlen))
			continue;
		src_row(&s, r, row);
		for (size_t j = 0; j < d; j++) {
			if (vt == PLM_T_F16) {
				uint16_t h = plm_f32_to_f16(row[j]);
				vec[2 * j] = (unsigned char)h;
				vec[2 * j + 1] = (unsigned char)(h >> 8);
			} else {
				uint32_t u = plm_f32_bits(row[j]);
				for (int b = 0; b < 4; b++)
					vec[4 * j + b] = (unsigned char)(u >> 8 * b);
			}
		}
		plm_val v[2] = { plm_v_str(x.v[r], idlen),
				 plm_v_bytes(vec, d * plm_type_elsize(vt), 1) };
		if (plm_writer_row(w, v))
			plm_die("%s", plm_writer_error(w));
		plm_progress_update(&pg, r + 1, s.n, r + 1);
	}
	plm_progress_end(&pg, s.n, s.n);
	if (plm_writer_close(w, err, sizeof err))
		plm_die("%s", err);
	plm_schema_free(&out);
	free(vec);
	free(row);
	plm_h5_strings_free(x.v, x.n);
	close_src(&s);
	return 0;
}
