/* h5arr.c — float datasets and string ids in HDF5 (h5arr.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "plm/cli.h"
#include "plm/h5arr.h"
#include "h5util.h"

struct plm_h5arr {
	hid_t f, d;
	int rank;
	uint64_t shape[2];
};

static void quiet(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);  /* errors are ours to say */
}

int plm_h5_sniff(const void *p, size_t n)
{
	return n >= 8 && memcmp(p, "\x89HDF\r\n\x1a\n", 8) == 0;
}

static hid_t open_ds(const char *path, const char *name, hid_t *f, char *err,
		     size_t errlen)
{
	quiet();
	*f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (*f < 0) {
		snprintf(err, errlen, "%s: cannot open as HDF5", path);
		return -1;
	}
	if (H5Lexists(*f, name, H5P_DEFAULT) <= 0) {
		snprintf(err, errlen, "%s: no dataset '%s'", path, name);
		H5Fclose(*f);
		return -1;
	}
	hid_t d = H5Dopen2(*f, name, H5P_DEFAULT);
	if (d < 0) {
		snprintf(err, errlen, "%s: '%s' is not a dataset", path, name);
		H5Fclose(*f);
		return -1;
	}
	return d;
}

plm_h5arr *plm_h5arr_open(const char *path, const char *name, int *rank,
			  uint64_t shape[2], char *err, size_t errlen)
{
	hid_t f, d = open_ds(path, name, &f, err, errlen);
	if (d < 0)
		return NULL;
	hid_t t = H5Dget_type(d), s = H5Dget_space(d);
	int r = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
	hsize_t dims[H5S_MAX_RANK];
	H5T_class_t cl = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
	size_t sz = t >= 0 ? H5Tget_size(t) : 0;
	if (t >= 0)
		H5Tclose(t);
	if (r >= 0)
		H5Sget_simple_extent_dims(s, dims, NULL);
	if (s >= 0)
		H5Sclose(s);
	if (cl != H5T_FLOAT || (sz != 2 && sz != 4 && sz != 8)) {
		snprintf(err, errlen, "%s: dataset '%s': not float16, float32 "
			 "or float64", path, name);
		goto fail;
	}
	if (r != 1 && r != 2) {
		snprintf(err, errlen, "%s: dataset '%s' has %d dimensions, not "
			 "2 [N, D]", path, name, r);
		goto fail;
	}
	plm_h5arr *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->f = f, a->d = d, a->rank = r;
	a->shape[0] = dims[0];
	a->shape[1] = r == 2 ? dims[1] : 1;
	*rank = r;
	shape[0] = dims[0];
	shape[1] = r == 2 ? dims[1] : 0;
	return a;
fail:
	H5Dclose(d);
	H5Fclose(f);
	return NULL;
}

int plm_h5arr_read(plm_h5arr *a, uint64_t row, uint64_t n, double *out,
		   char *err, size_t errlen)
{
	hsize_t start[2] = { row, 0 }, count[2] = { n, a->shape[1] };
	hid_t fs = H5Dget_space(a->d);
	hid_t ms = H5Screate_simple(a->rank, count, NULL);
	int rc = -1;
	if (fs >= 0 && ms >= 0 &&
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count,
				NULL) >= 0 &&
	    H5Dread(a->d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, out) >= 0)
		rc = 0;
	else
		snprintf(err, errlen, "reading rows %" PRIu64 "..%" PRIu64
			 " failed", row, row + n);
	if (ms >= 0)
		H5Sclose(ms);
	if (fs >= 0)
		H5Sclose(fs);
	return rc;
}

void plm_h5arr_close(plm_h5arr *a)
{
	if (!a)
		return;
	H5Dclose(a->d);
	H5Fclose(a->f);
	free(a);
}

void plm_h5_strings_free(char **ids, uint64_t n)
{
	if (!ids)
		return;
	for (uint64_t k = 0; k < n; k++)
		free(ids[k]);
	free(ids);
}

int plm_h5_strings(const char *path, const char *name, char ***idsp,
		   uint64_t *np, char *err, size_t errlen)
{
	hid_t f, d = open_ds(path, name, &f, err, errlen);
	if (d < 0)
		return -1;
	hid_t t = H5Dget_type(d), s = H5Dget_space(d), m = -1;
	char **ids = NULL;
	hsize_t n = 0;
	int rc = -1;
	if (t < 0 || s < 0 || H5Tget_class(t) != H5T_STRING) {
		snprintf(err, errlen, "%s: dataset '%s': not strings", path,
			 name);
		goto out;
	}
	if (H5Sget_simple_extent_ndims(s) != 1) {
		snprintf(err, errlen, "%s: dataset '%s': not one-dimensional",
			 path, name);
		goto out;
	}
	H5Sget_simple_extent_dims(s, &n, NULL);
	if (!(ids = calloc(n ? n : 1, sizeof *ids)))
		goto oom;
	m = H5Tcopy(H5T_C_S1);
	if (H5Tis_variable_str(t) > 0) {
		H5Tset_size(m, H5T_VARIABLE);
		H5Tset_cset(m, H5Tget_cset(t));
		char **v = calloc(n ? n : 1, sizeof *v);
		if (!v)
			goto oom;
		if (H5Dread(d, m, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
			free(v);
			goto rderr;
		}
		for (hsize_t k = 0; k < n; k++) {
			ids[k] = strdup(v[k] ? v[k] : "");
			if (!ids[k]) {
				H5Dvlen_reclaim(m, s, H5P_DEFAULT, v);
				free(v);
				goto oom;
			}
		}
		H5Dvlen_reclaim(m, s, H5P_DEFAULT, v);
		free(v);
	} else {
		size_t w = H5Tget_size(t);
		H5Tset_size(m, w);
		H5Tset_strpad(m, H5T_STR_NULLPAD);
		H5Tset_cset(m, H5Tget_cset(t));
		int spacepad = H5Tget_strpad(t) == H5T_STR_SPACEPAD;
		char *buf = malloc(w * (n ? n : 1));
		if (!buf)
			goto oom;
		if (H5Dread(d, m, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
			free(buf);
			goto rderr;
		}
		for (hsize_t k = 0; k < n; k++) {
			const char *p = buf + k * w;
			size_t l = strnlen(p, w);
			while (spacepad && l > 0 && p[l - 1] == ' ')
				l--;
			if (!(ids[k] = strndup(p, l))) {
				free(buf);
				goto oom;
			}
		}
		free(buf);
	}
	*idsp = ids, *np = n;
	ids = NULL;
	rc = 0;
	goto out;
rderr:
	snprintf(err, errlen, "%s: dataset '%s': cannot be read", path, name);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	plm_h5_strings_free(ids, n);
	if (m >= 0)
		H5Tclose(m);
	if (t >= 0)
		H5Tclose(t);
	if (s >= 0)
		H5Sclose(s);
	H5Dclose(d);
	H5Fclose(f);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

#define BLOCK 1024              /* rows buffered per write */

struct plm_h5w {
	char *path, *tmp;
	hid_t f, emb, id, vstr;
	uint32_t d;
	uint64_t rows;
	size_t nbuf;
	float *buf;
	char **ids;
};

static hid_t mkds(hid_t f, const char *name, hid_t type, int rank, hsize_t d1,
		hsize_t chunk)
{
	hsize_t dims[2] = { 0, d1 }, max[2] = { H5S_UNLIMITED, d1 };
	hsize_t ch[2] = { chunk, d1 ? d1 : 1 };
	hid_t sp = H5Screate_simple(rank, dims, max);
	hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t d = -1;
	if (sp >= 0 && pl >= 0 && H5Pset_chunk(pl, rank, ch) >= 0)
		d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
	if (pl >= 0)
		H5Pclose(pl);
	if (sp >= 0)
		H5Sclose(sp);
	return d;
}

int plm_h5_append(hid_t d, hid_t mtype, int rank, hsize_t d1, hsize_t at,
		  hsize_t n, const void *buf)
{
	hsize_t size[2] = { at + n, d1 }, start[2] = { at, 0 };
	hsize_t count[2] = { n, d1 };
	if (!n)
		return 0;
	if (H5Dset_extent(d, size) < 0)
		return -1;
	hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, count, NULL);
	int rc = -1;
	if (fs >= 0 && ms >= 0 &&
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count,
				NULL) >= 0 &&
	    H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf) >= 0)
		rc = 0;
	if (ms >= 0)
		H5Sclose(ms);
	if (fs >= 0)
		H5Sclose(fs);
	return rc;
}

static void h5w_free(plm_h5w *w)
{
	if (w->ids)
		for (size_t k = 0; k < w->nbuf; k++)
			free(w->ids[k]);
	free(w->ids);
	free(w->buf);
	free(w->path);
	free(w->tmp);
	free(w);
}

plm_h5w *plm_h5w_open(const char *path, uint32_t d, char *err,
		      size_t errlen)
{
	plm_h5w *w = calloc(1, sizeof *w);
	if (!w || !(w->path = strdup(path)) ||
	    !(w->tmp = malloc(strlen(path) + 64)) ||
	    !(w->buf = malloc((size_t)BLOCK * (d ? d : 1) * sizeof(float))) ||
	    !(w->ids = calloc(BLOCK, sizeof *w->ids))) {
		snprintf(err, errlen, "out of memory");
		if (w)
			h5w_free(w);
		return NULL;
	}
	w->d = d;
	w->f = w->emb = w->id = w->vstr = -1;
	quiet();
	sprintf(w->tmp, "%s.tmp.%ld.XXXXXX", path, (long)getpid());
	int fd = mkstemp(w->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		h5w_free(w);
		return NULL;
	}
	close(fd);
	plm_tmp_register(w->tmp);
	w->f = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	w->vstr = H5Tcopy(H5T_C_S1);
	if (w->f < 0 || w->vstr < 0 ||
	    H5Tset_size(w->vstr, H5T_VARIABLE) < 0 ||
	    H5Tset_cset(w->vstr, H5T_CSET_UTF8) < 0 ||
	    (w->emb = mkds(w->f, "emb", H5T_IEEE_F32LE, 2, d, 256)) < 0 ||
	    (w->id = mkds(w->f, "id", w->vstr, 1, 0, 1024)) < 0) {
		snprintf(err, errlen, "%s: cannot create the HDF5 file", path);
		plm_h5w_abort(w);
		return NULL;
	}
	return w;
}

static int flush(plm_h5w *w, char *err, size_t errlen)
{
	if (plm_h5_append(w->emb, H5T_NATIVE_FLOAT, 2, w->d, w->rows, w->nbuf,
		   w->buf) < 0 ||
	    plm_h5_append(w->id, w->vstr, 1, 0, w->rows, w->nbuf, w->ids) < 0) {
		snprintf(err, errlen, "%s: write failed", w->path);
		return -1;
	}
	for (size_t k = 0; k < w->nbuf; k++) {
		free(w->ids[k]);
		w->ids[k] = NULL;
	}
	w->rows += w->nbuf;
	w->nbuf = 0;
	return 0;
}

int plm_h5w_row(plm_h5w *w, const float *row, const char *id, size_t idlen,
		char *err, size_t errlen)
{
	if (!(w->ids[w->nbuf] = strndup(id, idlen))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(w->buf + w->nbuf * w->d, row, (size_t)w->d * sizeof *row);
	if (++w->nbuf == BLOCK)
		return flush(w, err, errlen);
	return 0;
}

uint64_t plm_h5w_rows(const plm_h5w *w)
{
	return w->rows + w->nbuf;
}

int plm_h5w_close(plm_h5w *w, char *err, size_t errlen)
{
	if (flush(w, err, errlen)) {
		plm_h5w_abort(w);
		return -1;
	}
	H5Dclose(w->emb);
	H5Dclose(w->id);
	H5Tclose(w->vstr);
	w->emb = w->id = w->vstr = -1;
	herr_t rc = H5Fclose(w->f);
	w->f = -1;
	if (rc < 0) {
		snprintf(err, errlen, "%s: write failed", w->path);
		plm_h5w_abort(w);
		return -1;
	}
	mode_t um = umask(0);
	umask(um);
	chmod(w->tmp, 0666 & ~um);
	if (rename(w->tmp, w->path)) {
		snprintf(err, errlen, "%s: %s", w->path, strerror(errno));
		plm_h5w_abort(w);
		return -1;
	}
	plm_tmp_forget(w->tmp);
	h5w_free(w);
	return 0;
}

void plm_h5w_abort(plm_h5w *w)
{
	if (!w)
		return;
	if (w->emb >= 0)
		H5Dclose(w->emb);
	if (w->id >= 0)
		H5Dclose(w->id);
	if (w->vstr >= 0)
		H5Tclose(w->vstr);
	if (w->f >= 0)
		H5Fclose(w->f);
	unlink(w->tmp);
	plm_tmp_forget(w->tmp);
	h5w_free(w);
}
