/* embcache.c — the HDF5 embedding cache (embcache.h has the file layout
 * and the crash-safety design: the .h5 file is only ever replaced whole,
 * new rows go to a checksummed journal first).
 *
 * Journal (PATH-journal; the format is in embjournal.h): the header holds
 * the settings text, a record is kind 'E' (a row: the tail is the vector,
 * vecsize bytes) or 'F' (a failure: the tail is the reason).  Any other
 * record, or an 'E' of another size, ends the valid journal as a torn
 * record does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "h5util.h"
#include "plm/alloc.h"
#include "plm/cli.h"
#include "plm/embcache.h"
#include "plm/embjournal.h"
#include "plm/err.h"
#include "plm/float.h"
#include "plm/h128set.h"

#define KEY_CHUNK 1024
#define FAIL_CHUNK 256
#define BLOCK 1024                      /* rows per HDF5 write at commit */
#define CHUNK_CACHE ((size_t)64 << 20)  /* HDF5 chunk cache for emb reads */

struct jrow {
	uint64_t off;           /* journal offset of the id bytes */
	uint32_t idlen;         /* the vector follows the id */
};

struct fail {
	plm_h128 h;
	char *id, *reason;
	int journal;            /* from the journal, not in the .h5 yet */
};

struct plm_embcache {
	char *path, *jpath, *cpath;
	int write;
	plm_embcache_cfg cfg;   /* strings below */
	char *sig, *model, *pool;
	size_t vecsize;
	hid_t file, demb, did, espace, emem, etype;
	size_t nfile;           /* rows in the .h5 */
	plm_h128 *hash;         /* every row's hash, file rows then journal */
	size_t nhash, hcap;
	plm_h128set *set;       /* hash → row */
	plm_h128set *fset;      /* hash → failure */
	struct jrow *jr;
	size_t njr, jrcap;
	struct fail *fail;
	size_t nfail, fcap, jfail;
	plm_ejournal j;         /* fd -1: no journal (a reader) */
	char *id;               /* last id handed out */
	size_t idcap;
	const char *reason;
	char msg[1024];
};

/* ---- small helpers ---------------------------------------------------- */

static char *catstr(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	char *p = malloc(n + m + 1);
	if (p) {
		memcpy(p, a, n);
		memcpy(p + n, b, m + 1);
	}
	return p;
}

static const char *dtype_name(enum plm_type t)
{
	return t == PLM_T_F16 ? "f16" : t == PLM_T_F32 ? "f32" : "?";
}

/* The settings that must match, as one text (journal header). */
static int settings_text(const plm_embcache_cfg *c, char *buf, size_t len)
{
	return snprintf(buf, len, "signature=%s\nlayer=%d\npool=%s\ndtype=%s\n"
			"dim=%" PRIu32 "\nmax_len=%d\n", c->signature, c->layer,
			c->pool, dtype_name(c->dtype), c->dim, c->max_len);
}

const char *plm_embcache_cfg_diff(const plm_embcache_cfg *a,
				  const plm_embcache_cfg *b, char *buf,
				  size_t len)
{
	if (strcmp(a->signature, b->signature))
		snprintf(buf, len, "model signature %s vs %s", a->signature,
			 b->signature);
	else if (a->layer != b->layer)
		snprintf(buf, len, "layer %d vs %d", a->layer, b->layer);
	else if (strcmp(a->pool, b->pool))
		snprintf(buf, len, "pool %s vs %s", a->pool, b->pool);
	else if (a->dtype != b->dtype)
		snprintf(buf, len, "dtype %s vs %s", dtype_name(a->dtype),
			 dtype_name(b->dtype));
	else if (a->dim != b->dim)
		snprintf(buf, len, "dim %" PRIu32 " vs %" PRIu32, a->dim, b->dim);
	else if (a->max_len != b->max_len)
		snprintf(buf, len, "max_len %d vs %d", a->max_len, b->max_len);
	else
		return NULL;
	return buf;
}

static int cfg_valid(const plm_embcache_cfg *c, char *err, size_t len)
{
	const char *bad = NULL;
	if (!c->signature || !*c->signature || strchr(c->signature, '\n'))
		bad = "signature";
	else if (c->layer < 0)
		bad = "layer (must be resolved, >= 0)";
	else if (!c->pool || !*c->pool || strchr(c->pool, '\n'))
		bad = "pool";
	else if (c->dtype != PLM_T_F16 && c->dtype != PLM_T_F32)
		bad = "dtype (f16 or f32)";
	else if (!c->dim || c->dim > (1u << 24))
		bad = "dim";
	else if (c->max_len < 0)
		bad = "max_len";
	if (bad)
		plm_errf(err, len, "invalid cache setting: %s", bad);
	return bad ? -1 : 0;
}

/* ---- HDF5 helpers ----------------------------------------------------- */

/* IEEE half precision, little-endian (HDF5 1.10 has no predefined one;
 * built the way h5py builds its float16, which h5py maps back to it). */
static hid_t f16_type(void)
{
	hid_t t = H5Tcopy(H5T_IEEE_F32LE);
	if (t < 0)
		return t;
	if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
	    H5Tset_ebias(t, 15) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

static hid_t emb_type(enum plm_type dt)
{
	return dt == PLM_T_F16 ? f16_type() : H5Tcopy(H5T_IEEE_F32LE);
}

static hid_t key_type(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, 32);
	H5Tset_strpad(t, H5T_STR_NULLPAD);
	return t;
}

static hid_t vstr_type(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	return t;
}

struct frec {
	char key[32];
	char *id;
	char *reason;
};

static hid_t fail_type(void)
{
	hid_t k = key_type(), v = vstr_type();
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct frec));
	H5Tinsert(t, "key", HOFFSET(struct frec, key), k);
	H5Tinsert(t, "id", HOFFSET(struct frec, id), v);
	H5Tinsert(t, "reason", HOFFSET(struct frec, reason), v);
	H5Tclose(k);
	H5Tclose(v);
	return t;
}

static int attr_put_str(hid_t loc, const char *name, const char *val)
{
	hid_t t = vstr_type(), s = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a < 0 || H5Awrite(a, t, &val) < 0 ? -1 : 0;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(s);
	H5Tclose(t);
	return rc;
}

/* Creates or overwrites an int64 attribute. */
static int attr_put_i64(hid_t loc, const char *name, int64_t v)
{
	hid_t a;
	if (H5Aexists(loc, name) > 0) {
		a = H5Aopen(loc, name, H5P_DEFAULT);
	} else {
		hid_t s = H5Screate(H5S_SCALAR);
		a = H5Acreate2(loc, name, H5T_STD_I64LE, s, H5P_DEFAULT,
			       H5P_DEFAULT);
		H5Sclose(s);
	}
	int rc = a < 0 || H5Awrite(a, H5T_NATIVE_INT64, &v) < 0 ? -1 : 0;
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

/* Reads a string attribute (fixed or variable length) into a malloc'd
 * string; NULL when absent or not a string. */
static char *attr_get_str(hid_t loc, const char *name)
{
	if (H5Aexists(loc, name) <= 0)
		return NULL;
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	hid_t t = a < 0 ? -1 : H5Aget_type(a);
	char *out = NULL;
	if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
		if (H5Tis_variable_str(t) > 0) {
			char *v = NULL;
			hid_t m = vstr_type();
			if (H5Aread(a, m, &v) >= 0 && v) {
				out = strdup(v);
				H5free_memory(v);
			}
			H5Tclose(m);
		} else {
			size_t n = H5Tget_size(t);
			char *v = calloc(n + 1, 1);
			if (v && H5Aread(a, t, v) >= 0)
				out = v;
			else
				free(v);
		}
	}
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return out;
}

static int attr_get_i64(hid_t loc, const char *name, int64_t *v)
{
	if (H5Aexists(loc, name) <= 0)
		return -1;
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	int rc = a < 0 || H5Aread(a, H5T_NATIVE_INT64, v) < 0 ? -1 : 0;
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

/* Chunked, extendable along the first dimension; gzip level > 0 adds
 * HDF5's deflate filter (readers need nothing special). */
static int mkds(hid_t f, const char *name, hid_t type, int rank, hsize_t d1,
		hsize_t chunk, int gzip)
{
	hsize_t dims[2] = { 0, d1 }, max[2] = { H5S_UNLIMITED, d1 };
	hsize_t ch[2] = { chunk, d1 };
	hid_t sp = H5Screate_simple(rank, dims, max);
	hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
	hid_t d = -1;
	if (sp >= 0 && pl >= 0 && H5Pset_chunk(pl, rank, ch) >= 0 &&
	    (gzip <= 0 || H5Pset_deflate(pl, (unsigned)gzip) >= 0))
		d = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
	if (pl >= 0)
		H5Pclose(pl);
	if (sp >= 0)
		H5Sclose(sp);
	if (d < 0)
		return -1;
	H5Dclose(d);
	return 0;
}

static hsize_t ds_len(hid_t d, int *rank, hsize_t *d1)
{
	hsize_t dims[2] = { 0, 0 };
	hid_t s = H5Dget_space(d);
	int r = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
	if (r >= 1 && r <= 2)
		H5Sget_simple_extent_dims(s, dims, NULL);
	if (s >= 0)
		H5Sclose(s);
	if (rank)
		*rank = r;
	if (d1)
		*d1 = dims[1];
	return dims[0];
}

/* ---- the writer side of an .h5 file (create, commit, merge) ----------- */

struct h5w {
	hid_t f, dkey, did, demb, dfail;
	hid_t ktype, vtype, etype, ftype;
	hsize_t n, nf, dim;
	/* one block of rows being gathered */
	char *keys;             /* BLOCK * 32 */
	char **ids;             /* BLOCK */
	unsigned char *vecs;    /* BLOCK * vecsize */
	size_t nb, vecsize;
};

static void h5w_free(struct h5w *w)
{
	if (w->dkey > 0) H5Dclose(w->dkey);
	if (w->did > 0) H5Dclose(w->did);
	if (w->demb > 0) H5Dclose(w->demb);
	if (w->dfail > 0) H5Dclose(w->dfail);
	if (w->ktype > 0) H5Tclose(w->ktype);
	if (w->vtype > 0) H5Tclose(w->vtype);
	if (w->etype > 0) H5Tclose(w->etype);
	if (w->ftype > 0) H5Tclose(w->ftype);
	if (w->f > 0) H5Fclose(w->f);
	for (size_t i = 0; i < w->nb; i++)
		free(w->ids[i]);
	free(w->keys);
	free(w->ids);
	free(w->vecs);
	memset(w, 0, sizeof *w);
}

/* Opens the datasets of file w->f (just created or copied). */
static int h5w_attach(struct h5w *w, const plm_embcache_cfg *cfg)
{
	w->vecsize = (size_t)cfg->dim * plm_type_elsize(cfg->dtype);
	w->dim = cfg->dim;
	w->ktype = key_type();
	w->vtype = vstr_type();
	w->etype = emb_type(cfg->dtype);
	w->ftype = fail_type();
	w->dkey = H5Dopen2(w->f, "key", H5P_DEFAULT);
	w->did = H5Dopen2(w->f, "id", H5P_DEFAULT);
	w->demb = H5Dopen2(w->f, "emb", H5P_DEFAULT);
	w->dfail = H5Dopen2(w->f, "failed", H5P_DEFAULT);
	w->keys = malloc(BLOCK * 32);
	w->ids = calloc(BLOCK, sizeof *w->ids);
	w->vecs = malloc(BLOCK * w->vecsize);
	if (w->dkey < 0 || w->did < 0 || w->demb < 0 || w->dfail < 0 ||
	    w->ktype < 0 || w->vtype < 0 || w->etype < 0 || w->ftype < 0 ||
	    !w->keys || !w->ids || !w->vecs)
		return -1;
	w->n = ds_len(w->dkey, NULL, NULL);
	w->nf = ds_len(w->dfail, NULL, NULL);
	return 0;
}

static int h5w_create(struct h5w *w, const char *path,
		      const plm_embcache_cfg *cfg)
{
	memset(w, 0, sizeof *w);
	w->f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (w->f < 0)
		return -1;
	hid_t kt = key_type(), vt = vstr_type(), et = emb_type(cfg->dtype);
	hid_t ft = fail_type();
	size_t vs = (size_t)cfg->dim * plm_type_elsize(cfg->dtype);
	hsize_t ech = (256 << 10) / vs;
	ech = ech < 1 ? 1 : ech > 4096 ? 4096 : ech;
	int rc = mkds(w->f, "key", kt, 1, 0, KEY_CHUNK, 0) ||
		 mkds(w->f, "id", vt, 1, 0, KEY_CHUNK, 0) ||
		 mkds(w->f, "emb", et, 2, cfg->dim, ech, cfg->compress) ||
		 mkds(w->f, "failed", ft, 1, 0, FAIL_CHUNK, 0) ||
		 attr_put_i64(w->f, "format", PLM_EMBCACHE_FORMAT) ||
		 attr_put_str(w->f, "signature", cfg->signature) ||
		 attr_put_str(w->f, "model", cfg->model ? cfg->model : "") ||
		 attr_put_i64(w->f, "layer", cfg->layer) ||
		 attr_put_str(w->f, "pool", cfg->pool) ||
		 attr_put_str(w->f, "dtype", dtype_name(cfg->dtype)) ||
		 attr_put_i64(w->f, "dim", cfg->dim) ||
		 attr_put_i64(w->f, "max_len", cfg->max_len) ||
		 attr_put_i64(w->f, "rows", 0) ||
		 attr_put_i64(w->f, "failed", 0) ||
		 attr_put_str(w->f, "creator", "plmkit " PLM_VERSION) ? -1 : 0;
	H5Tclose(kt);
	H5Tclose(vt);
	H5Tclose(et);
	H5Tclose(ft);
	return rc ? -1 : h5w_attach(w, cfg);
}

static int h5w_flush_block(struct h5w *w)
{
	int rc = plm_h5_append(w->dkey, w->ktype, 1, 0, w->n, w->nb, w->keys) ||
		 plm_h5_append(w->did, w->vtype, 1, 0, w->n, w->nb, w->ids) ||
		 plm_h5_append(w->demb, w->etype, 2, w->dim, w->n, w->nb, w->vecs);
	for (size_t i = 0; i < w->nb; i++) {
		free(w->ids[i]);
		w->ids[i] = NULL;
	}
	w->n += w->nb;
	w->nb = 0;
	return rc ? -1 : 0;
}

static int h5w_row(struct h5w *w, plm_h128 h, const char *id, size_t idlen,
		   const void *vec)
{
	char hex[33];
	size_t k = w->nb;
	plm_h128_hex(h, hex);
	memcpy(w->keys + 32 * k, hex, 32);
	if (!(w->ids[k] = malloc(idlen + 1)))
		return -1;
	memcpy(w->ids[k], id, idlen);
	w->ids[k][idlen] = 0;
	memcpy(w->vecs + k * w->vecsize, vec, w->vecsize);
	if (++w->nb == BLOCK)
		return h5w_flush_block(w);
	return 0;
}

static int h5w_fails(struct h5w *w, const struct fail *f, size_t n)
{
	struct frec *r = calloc(n ? n : 1, sizeof *r);
	char hex[33];
	if (!r)
		return -1;
	for (size_t i = 0; i < n; i++) {
		plm_h128_hex(f[i].h, hex);
		memcpy(r[i].key, hex, 32);
		r[i].id = f[i].id;
		r[i].reason = f[i].reason;
	}
	int rc = plm_h5_append(w->dfail, w->ftype, 1, 0, w->nf, n, r);
	w->nf += n;
	free(r);
	return rc;
}

/* Writes the last block and the counters, closes the file. */
static int h5w_finish(struct h5w *w)
{
	int rc = 0;
	if (w->nb && h5w_flush_block(w))
		rc = -1;
	if (!rc && (attr_put_i64(w->f, "rows", (int64_t)w->n) ||
		    attr_put_i64(w->f, "failed", (int64_t)w->nf)))
		rc = -1;
	if (!rc && H5Fflush(w->f, H5F_SCOPE_GLOBAL) < 0)
		rc = -1;
	h5w_free(w);
	return rc;
}

/* ---- reading the .h5 file --------------------------------------------- */

/* HDF5 converts between any two numeric types on read: an emb dataset of
 * another type than the dtype attribute says would be served converted
 * (int to float, f32 rounded to f16, f64 overflowing to Inf) instead of
 * refused.  So the stored type must be the IEEE float of the dtype. */
static int emb_type_bad(hid_t d, enum plm_type dt, char *what, size_t len)
{
	hid_t t = H5Dget_type(d);
	size_t es = plm_type_elsize(dt), spos, epos, esize, mpos, msize;
	int bad = t < 0 || H5Tget_class(t) != H5T_FLOAT ||
		  H5Tget_size(t) != es ||
		  H5Tget_precision(t) != 8 * es ||
		  H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) < 0 ||
		  (dt == PLM_T_F16 ? spos != 15 || epos != 10 || esize != 5 ||
		   mpos != 0 || msize != 10 || H5Tget_ebias(t) != 15 :
		   spos != 31 || epos != 23 || esize != 8 || mpos != 0 ||
		   msize != 23 || H5Tget_ebias(t) != 127);
	if (bad) {
		H5T_class_t cl = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
		snprintf(what, len, "emb holds %s%zu-byte values, the dtype "
			 "attribute says %s (IEEE %s)",
			 cl == H5T_FLOAT ? "float " : cl == H5T_INTEGER ?
			 "integer " : "non-numeric ", t < 0 ? (size_t)0 :
			 H5Tget_size(t), dtype_name(dt),
			 dt == PLM_T_F16 ? "half" : "single");
	}
	if (t >= 0)
		H5Tclose(t);
	return bad;
}

/* Ids are read as variable-length strings (HDF5 does not convert fixed
 * length strings or numbers to them): anything else is unreadable. */
static int id_type_bad(hid_t d, char *what, size_t len)
{
	hid_t t = H5Dget_type(d);
	int bad = t < 0 || H5Tget_class(t) != H5T_STRING ||
		  H5Tis_variable_str(t) <= 0;
	if (bad)
		snprintf(what, len, "id is not variable-length strings");
	if (t >= 0)
		H5Tclose(t);
	return bad;
}

/* Fills c->cfg from the file's attributes. */
static int read_cfg(plm_embcache *c, char *err, size_t len)
{
	int64_t fmt, layer, dim, maxlen;
	char *dt = NULL;
	if (attr_get_i64(c->file, "format", &fmt)) {
		plm_errf(err, len, "%s: not an embedding cache (no 'format' "
		       "attribute)", c->path);
		return -1;
	}
	if (fmt != PLM_EMBCACHE_FORMAT) {
		plm_errf(err, len, "%s: cache format %" PRId64 ", this program "
		       "reads format %d", c->path, fmt, PLM_EMBCACHE_FORMAT);
		return -1;
	}
	c->sig = attr_get_str(c->file, "signature");
	c->model = attr_get_str(c->file, "model");
	c->pool = attr_get_str(c->file, "pool");
	dt = attr_get_str(c->file, "dtype");
	if (!c->sig || !c->pool || !dt || attr_get_i64(c->file, "layer", &layer) ||
	    attr_get_i64(c->file, "dim", &dim) ||
	    attr_get_i64(c->file, "max_len", &maxlen)) {
		free(dt);
		plm_errf(err, len, "%s: cache attributes missing (signature, "
		       "pool, dtype, layer, dim, max_len)", c->path);
		return -1;
	}
	c->cfg.signature = c->sig;
	c->cfg.model = c->model ? c->model : "";
	c->cfg.pool = c->pool;
	c->cfg.layer = (int)layer;
	c->cfg.dim = dim > 0 && dim <= (1 << 24) ? (uint32_t)dim : 0;
	c->cfg.max_len = (int)maxlen;
	c->cfg.dtype = !strcmp(dt, "f16") ? PLM_T_F16 :
		       !strcmp(dt, "f32") ? PLM_T_F32 : 0;
	free(dt);
	if (cfg_valid(&c->cfg, c->msg, sizeof c->msg)) {
		plm_errf(err, len, "%s: %s", c->path, c->msg);
		return -1;
	}
	c->vecsize = (size_t)c->cfg.dim * plm_type_elsize(c->cfg.dtype);
	return 0;
}

static int add_hash(plm_embcache *c, plm_h128 h)
{
	uint32_t *slot;
	if (PLM_GROW(c->hash, c->hcap, c->nhash + 1) ||
	    plm_h128set_add(c->set, h, &slot) < 0)
		return -1;
	*slot = (uint32_t)c->nhash;
	c->hash[c->nhash++] = h;
	return 0;
}

static int add_fail(plm_embcache *c, plm_h128 h, const char *id, size_t idlen,
		    const char *reason, size_t rlen, int journal)
{
	uint32_t *slot;
	if (PLM_GROW(c->fail, c->fcap, c->nfail + 1))
		return -1;
	struct fail *f = &c->fail[c->nfail];
	f->h = h;
	f->id = malloc(idlen + 1);
	f->reason = malloc(rlen + 1);
	if (!f->id || !f->reason || plm_h128set_add(c->fset, h, &slot) < 0) {
		free(f->id);
		free(f->reason);
		return -1;
	}
	memcpy(f->id, id, idlen);
	f->id[idlen] = 0;
	memcpy(f->reason, reason, rlen);
	f->reason[rlen] = 0;
	f->journal = journal;
	*slot = (uint32_t)c->nfail++;
	c->jfail += journal;
	return 0;
}

/* Loads keys and failures of the .h5 file; keeps emb and id open. */
static int read_file(plm_embcache *c, char *err, size_t len)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	c->file = H5Fopen(c->path, H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	if (c->file < 0) {
		plm_errf(err, len, "%s: cannot open as HDF5", c->path);
		return -1;
	}
	if (read_cfg(c, err, len))
		return -1;
	hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
	H5Pset_chunk_cache(dapl, 10007, CHUNK_CACHE, 1.0);
	hid_t dkey = H5Dopen2(c->file, "key", H5P_DEFAULT);
	c->did = H5Dopen2(c->file, "id", H5P_DEFAULT);
	c->demb = H5Dopen2(c->file, "emb", dapl);
	hid_t dfail = H5Dopen2(c->file, "failed", H5P_DEFAULT);
	H5Pclose(dapl);
	if (dkey < 0 || c->did < 0 || c->demb < 0 || dfail < 0) {
		if (dkey >= 0) H5Dclose(dkey);
		if (dfail >= 0) H5Dclose(dfail);
		plm_errf(err, len, "%s: cache datasets missing (key, id, emb, "
		       "failed)", c->path);
		return -1;
	}
	int rank;
	hsize_t d1, n = ds_len(dkey, NULL, NULL);
	hsize_t ne = ds_len(c->demb, &rank, &d1);
	int64_t rows;
	char what[160];
	if (rank != 2 || d1 != c->cfg.dim)
		snprintf(what, sizeof what, "emb is not [N, %" PRIu32 "] (dim "
			 "attribute)", c->cfg.dim);
	else if (emb_type_bad(c->demb, c->cfg.dtype, what, sizeof what) ||
		 id_type_bad(c->did, what, sizeof what))
		;
	else if (attr_get_i64(c->file, "rows", &rows) || (hsize_t)rows != n ||
		 ne != n || ds_len(c->did, NULL, NULL) != n)
		snprintf(what, sizeof what, "rows attribute, key, id and emb "
			 "lengths differ");
	else
		what[0] = 0;
	if (what[0]) {
		H5Dclose(dkey);
		H5Dclose(dfail);
		plm_errf(err, len, "%s: inconsistent cache: %s (run emb-cache "
		       "check)", c->path, what);
		return -1;
	}
	c->etype = emb_type(c->cfg.dtype);
	hsize_t one[2] = { 1, c->cfg.dim };
	c->emem = H5Screate_simple(2, one, NULL);
	c->espace = H5Dget_space(c->demb);
	hid_t kt = key_type();
	char *buf = malloc((size_t)65536 * 32);
	int rc = buf && c->etype >= 0 ? 0 : -1;
	for (hsize_t at = 0; !rc && at < n; at += 65536) {
		hsize_t k = n - at < 65536 ? n - at : 65536;
		hid_t fs = H5Dget_space(dkey), ms = H5Screate_simple(1, &k, NULL);
		if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &k,
					NULL) < 0 ||
		    H5Dread(dkey, kt, ms, fs, H5P_DEFAULT, buf) < 0)
			rc = -1;
		H5Sclose(fs);
		H5Sclose(ms);
		for (hsize_t i = 0; !rc && i < k; i++) {
			plm_h128 h;
			if (plm_h128_parse(buf + 32 * i, 32, &h) ||
			    plm_h128set_get(c->set, h)) {
				plm_errf(err, len, "%s: key %" PRIu64 " is %s (run "
				       "emb-cache check)", c->path,
				       (uint64_t)(at + i), plm_h128set_get(c->set, h)
				       ? "a duplicate" : "not 32 hex digits");
				rc = -2;
			} else if (add_hash(c, h)) {
				rc = -1;
			}
		}
	}
	free(buf);
	H5Tclose(kt);
	H5Dclose(dkey);
	c->nfile = c->nhash;
	hsize_t nf = rc ? 0 : ds_len(dfail, NULL, NULL);
	if (nf) {
		hid_t ft = fail_type();
		struct frec *r = calloc(nf, sizeof *r);
		if (!r || H5Dread(dfail, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) < 0)
			rc = -1;
		for (hsize_t i = 0; !rc && i < nf; i++) {
			plm_h128 h;
			if (plm_h128_parse(r[i].key, 32, &h) ||
			    plm_h128set_get(c->fset, h))
				continue;   /* check reports it */
			const char *id = r[i].id ? r[i].id : "";
			const char *rs = r[i].reason ? r[i].reason : "";
			if (add_fail(c, h, id, strlen(id), rs, strlen(rs), 0))
				rc = -1;
		}
		if (r) {
			hid_t sp = H5Dget_space(dfail);
			H5Dvlen_reclaim(ft, sp, H5P_DEFAULT, r);
			H5Sclose(sp);
		}
		free(r);
		H5Tclose(ft);
	}
	H5Dclose(dfail);
	if (rc == -1)
		plm_errf(err, len, "%s: cannot read the cache (HDF5 error or out "
		       "of memory)", c->path);
	return rc ? -1 : 0;
}

/* ---- the journal ------------------------------------------------------ */

/* The settings text of the journal header, or -1. */
static int jsettings(const plm_embcache *c, char *buf, size_t len)
{
	int L = settings_text(&c->cfg, buf, len);
	return L < 0 || (size_t)L >= len ? -1 : L;
}

/* A row of the journal: its id and vector are read back from there. */
static int add_jrow(plm_embcache *c, plm_h128 h, uint64_t off, uint32_t idlen)
{
	if (PLM_GROW(c->jr, c->jrcap, c->njr + 1))
		return -1;
	c->jr[c->njr].off = off;
	c->jr[c->njr++].idlen = idlen;
	return add_hash(c, h);
}

static int replay_rec(void *arg, const plm_ejrec *r)
{
	plm_embcache *c = arg;
	if (r->kind == 'E' && r->tlen == c->vecsize) {
		if (!plm_h128set_get(c->set, r->h) &&
		    add_jrow(c, r->h, r->off, r->idlen))
			return -1;
	} else if (r->kind == 'F') {
		if (!plm_h128set_get(c->fset, r->h) &&
		    add_fail(c, r->h, r->id, r->idlen, (const char *)r->tail,
			     r->tlen, 1))
			return -1;
	} else {
		return 1;
	}
	return 0;
}

/* Replays the journal at c->j.fd (if any).  Writer: a missing or torn
 * header is rewritten, a torn tail cut off. */
static int load_journal(plm_embcache *c, char *err, size_t len)
{
	char st[2048], hdr[401];
	if (c->j.fd < 0)
		return 0;
	int L = jsettings(c, st, sizeof st);
	int rc = L < 0 ? (errno = EINVAL, PLM_EJ_SYS)
		       : plm_ej_load(&c->j, st, (size_t)L, c->write,
				     replay_rec, c, hdr, sizeof hdr);
	switch (rc) {
	case 0:
		return 0;
	case PLM_EJ_NOTOURS:
		plm_errf(err, len, "%s: not a cache journal (remove it if it is "
		       "not one)", c->jpath);
		break;
	case PLM_EJ_OTHER:
		plm_errf(err, len, "%s: journal of a cache with other settings "
		       "(%s); remove it or use another cache file", c->jpath,
		       hdr);
		break;
	case PLM_EJ_ABORT:
		plm_errf(err, len, "%s: out of memory", c->jpath);
		break;
	default:
		plm_errf(err, len, "%s: %s", c->jpath, strerror(errno));
	}
	return -1;
}

/* Opens and locks the journal of a writer.  The lock is on the inode: a
 * committer unlinks the journal while holding it, so after locking check
 * that the name still leads to the locked file, else start over. */
static int lock_journal(plm_embcache *c, char *err, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(c->jpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0) {
			plm_errf(err, len, "%s: %s", c->jpath, strerror(errno));
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			int e = errno;
			close(fd);
			if (e == EWOULDBLOCK)
				plm_errf(err, len, "%s: cache in use by another "
				       "writer (%s is locked)", c->path, c->jpath);
			else
				plm_errf(err, len, "%s: lock: %s", c->jpath,
				       strerror(e));
			return -1;
		}
		struct stat a, b;
		if (!fstat(fd, &a) && !stat(c->jpath, &b) && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			c->j.fd = fd;
			return 0;
		}
		close(fd);
	}
	plm_errf(err, len, "%s: cannot lock the journal", c->jpath);
	return -1;
}

/* ---- open / close ----------------------------------------------------- */

static void cache_free(plm_embcache *c)
{
	if (!c)
		return;
	if (c->espace > 0) H5Sclose(c->espace);
	if (c->emem > 0) H5Sclose(c->emem);
	if (c->etype > 0) H5Tclose(c->etype);
	if (c->demb > 0) H5Dclose(c->demb);
	if (c->did > 0) H5Dclose(c->did);
	if (c->file > 0) H5Fclose(c->file);
	plm_ej_free(&c->j);
	for (size_t i = 0; i < c->nfail; i++) {
		free(c->fail[i].id);
		free(c->fail[i].reason);
	}
	free(c->fail);
	free(c->jr);
	free(c->hash);
	plm_h128set_free(c->set);
	plm_h128set_free(c->fset);
	PLM_FREE(c->id, c->sig, c->model, c->pool, c->path, c->jpath, c->cpath,
		 c);
}

/* A new, empty cache file with cfg, made at cpath and renamed to path. */
static int create_file(plm_embcache *c, const plm_embcache_cfg *cfg,
		       char *err, size_t len)
{
	struct h5w w;
	unlink(c->cpath);
	plm_tmp_register(c->cpath);
	int rc = h5w_create(&w, c->cpath, cfg);
	if (!rc)
		rc = h5w_finish(&w);
	else
		h5w_free(&w);
	if (!rc && rename(c->cpath, c->path))
		rc = -1;
	plm_tmp_forget(c->cpath);
	if (rc) {
		unlink(c->cpath);
		plm_errf(err, len, "%s: cannot create the cache: %s", c->path,
		       errno ? strerror(errno) : "HDF5 error");
	}
	return rc;
}

/* Every entry point calls this before its first HDF5 call.  HDF5's own
 * atexit handler closes the files still open; one whose flush failed (a
 * full disk at commit or merge) stays in its tables half torn down, and
 * closing it again at exit dereferences a null pointer: a segfault after
 * the tool has said what went wrong and chosen exit status 1.  Every
 * file this module writes is closed (or given up on) before the call
 * returns, so the handler has nothing to do that matters: go without it.
 * H5dont_atexit works only before the library starts, hence "first". */
static void h5_setup(void)
{
	static int started;

	if (!started) {
		H5dont_atexit();
		started = 1;
	}
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);     /* errors are ours to say */
}

plm_embcache *plm_embcache_open(const char *path, const plm_embcache_cfg *cfg,
				int write, char *err, size_t errlen)
{
	h5_setup();
	if (write && cfg && cfg_valid(cfg, err, errlen))
		return NULL;
	plm_embcache *c = calloc(1, sizeof *c);
	if (!c) {
		plm_errf(err, errlen, "out of memory");
		return NULL;
	}
	c->file = c->demb = c->did = c->espace = c->emem = c->etype = -1;
	c->j.fd = -1;
	c->write = write;
	c->path = strdup(path);
	c->jpath = catstr(path, "-journal");
	c->cpath = catstr(path, "-commit");
	c->set = plm_h128set_new(0);
	c->fset = plm_h128set_new(0);
	if (!c->path || !c->jpath || !c->cpath || !c->set || !c->fset) {
		plm_errf(err, errlen, "out of memory");
		goto fail;
	}
	if (write) {
		if (lock_journal(c, err, errlen))
			goto fail;
		unlink(c->cpath);       /* a commit that was killed */
		if (access(path, F_OK)) {
			if (!cfg) {
				plm_errf(err, errlen, "%s: no such cache", path);
				goto fail;
			}
			if (create_file(c, cfg, err, errlen))
				goto fail;
		}
	} else {
		/* The journal first: a commit that runs meanwhile then gives
		 * us either the old file and its journal or the new file. */
		c->j.fd = open(c->jpath, O_RDONLY | O_CLOEXEC);
		if (access(path, F_OK)) {
			plm_errf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (read_file(c, err, errlen))
		goto fail;
	char buf[512];
	const char *d;
	if (write && cfg && (d = plm_embcache_cfg_diff(&c->cfg, cfg, buf,
						       sizeof buf))) {
		plm_errf(err, errlen, "%s: the cache was made with other "
		       "settings (cache vs this run: %s); use another cache "
		       "file", path, d);
		goto fail;
	}
	if (load_journal(c, err, errlen))
		goto fail;
	return c;
fail:
	/* a refused writer leaves no empty journal behind (unlinked while
	 * locked, as in close) */
	if (write && c->j.fd >= 0) {
		struct stat st;
		if (!fstat(c->j.fd, &st) && st.st_size == 0)
			unlink(c->jpath);
	}
	cache_free(c);
	return NULL;
}

const plm_embcache_cfg *plm_embcache_settings(const plm_embcache *c)
{
	return &c->cfg;
}

size_t plm_embcache_vecsize(const plm_embcache *c)
{
	return c->vecsize;
}

const char *plm_embcache_error(const plm_embcache *c)
{
	return c->msg;
}

/* ---- lookups ---------------------------------------------------------- */

/* The index of the first NaN or Inf in vec (cache dtype bytes), or -1. */
static long nonfinite(const plm_embcache *c, const void *vec)
{
	const unsigned char *s = vec;
	for (uint32_t j = 0; j < c->cfg.dim; j++) {
		if (c->cfg.dtype == PLM_T_F16) {
			if ((s[2 * j + 1] & 0x7c) == 0x7c)
				return (long)j;
		} else {
			float f;
			memcpy(&f, s + 4 * j, 4);
			if (!isfinite(f))
				return (long)j;
		}
	}
	return -1;
}

static int read_vec_raw(plm_embcache *c, size_t i, void *vec);

/* A stored vector, never a non-finite one: the callers pass it on as an
 * embedding, and a NaN there poisons everything downstream. */
static int read_vec(plm_embcache *c, size_t i, void *vec)
{
	if (read_vec_raw(c, i, vec))
		return -1;
	long j = nonfinite(c, vec);
	if (j >= 0) {
		char hex[33];
		plm_h128_hex(c->hash[i], hex);
		plm_errf(c->msg, sizeof c->msg, "%s: row %zu (key %s) holds NaN "
		       "or Inf (element %ld%s); run emb-cache check",
		       i < c->nfile ? c->path : c->jpath, i, hex, j,
		       i < c->nfile ? "" : ", journal");
		return -1;
	}
	return 0;
}

static int read_vec_raw(plm_embcache *c, size_t i, void *vec)
{
	if (i >= c->nfile) {
		const struct jrow *j = &c->jr[i - c->nfile];
		if (plm_ej_read(&c->j, vec, c->vecsize, j->off + j->idlen)) {
			plm_errf(c->msg, sizeof c->msg, "%s: read error",
			       c->jpath);
			return -1;
		}
		return 0;
	}
	hsize_t start[2] = { i, 0 }, count[2] = { 1, c->cfg.dim };
	if (H5Sselect_hyperslab(c->espace, H5S_SELECT_SET, start, NULL, count,
				NULL) < 0 ||
	    H5Dread(c->demb, c->etype, c->emem, c->espace, H5P_DEFAULT,
		    vec) < 0) {
		plm_errf(c->msg, sizeof c->msg, "%s: cannot read emb row %zu",
		       c->path, i);
		return -1;
	}
	return 0;
}

int plm_embcache_lookup(plm_embcache *c, plm_h128 h, void *vec)
{
	uint32_t *p = plm_h128set_get(c->set, h);
	if (p)
		return !vec || !read_vec(c, *p, vec) ? PLM_EC_HIT : PLM_EC_ERR;
	if ((p = plm_h128set_get(c->fset, h))) {
		c->reason = c->fail[*p].reason;
		return PLM_EC_FAILED;
	}
	return PLM_EC_MISS;
}

static void to_f32(const plm_embcache *c, const void *src, float *dst)
{
	if (c->cfg.dtype == PLM_T_F32) {
		memcpy(dst, src, c->vecsize);
		return;
	}
	const unsigned char *s = src;
	for (uint32_t i = 0; i < c->cfg.dim; i++)
		dst[i] = plm_f16_to_f32((uint16_t)(s[2 * i] | s[2 * i + 1] << 8));
}

static void from_f32(const plm_embcache *c, const float *src, void *dst)
{
	if (c->cfg.dtype == PLM_T_F32) {
		memcpy(dst, src, c->vecsize);
		return;
	}
	unsigned char *d = dst;
	for (uint32_t i = 0; i < c->cfg.dim; i++) {
		uint16_t v = plm_f32_to_f16(src[i]);
		d[2 * i] = (unsigned char)v;
		d[2 * i + 1] = (unsigned char)(v >> 8);
	}
}

int plm_embcache_lookup_f32(plm_embcache *c, plm_h128 h, float *vec)
{
	if (c->cfg.dtype == PLM_T_F32 || !vec)
		return plm_embcache_lookup(c, h, vec);
	/* f16 bytes fit in the second half of the float buffer */
	void *tmp = (char *)vec + c->vecsize;
	int rc = plm_embcache_lookup(c, h, tmp);
	if (rc == PLM_EC_HIT)
		to_f32(c, tmp, vec);
	return rc;
}

const char *plm_embcache_reason(const plm_embcache *c)
{
	return c->reason ? c->reason : "";
}

/* ---- puts ------------------------------------------------------------- */

/* Appends one record to the journal; *idoff as plm_ej_append. */
static int append_rec(plm_embcache *c, int kind, plm_h128 h, const char *id,
		      size_t idlen, const void *tail, size_t tlen,
		      uint64_t *idoff)
{
	if (!c->write) {
		plm_errf(c->msg, sizeof c->msg, "%s: cache opened read-only",
		       c->path);
		return -1;
	}
	int rc = plm_ej_append(&c->j, kind, h, id, idlen, tail, tlen, idoff);
	if (rc == -2)
		plm_errf(c->msg, sizeof c->msg, "%s: record too large or out "
		       "of memory", c->jpath);
	else if (rc)
		plm_errf(c->msg, sizeof c->msg, "%s: write: %s", c->jpath,
		       strerror(errno));
	if (c->j.dead)
		c->write = 0;   /* the journal can take no more */
	return rc ? -1 : 0;
}

int plm_embcache_put(plm_embcache *c, plm_h128 h, const char *id,
		     size_t idlen, const void *vec)
{
	if (plm_h128set_get(c->set, h))
		return 1;
	long j = nonfinite(c, vec);
	if (j >= 0) {
		plm_errf(c->msg, sizeof c->msg, "%s: refusing to store a vector "
		       "with NaN or Inf (id %.*s, element %ld)", c->path,
		       (int)(idlen < 200 ? idlen : 200), id, j);
		return -1;
	}
	uint64_t off;
	if (append_rec(c, 'E', h, id, idlen, vec, c->vecsize, &off))
		return -1;
	if (add_jrow(c, h, off, (uint32_t)idlen)) {
		plm_errf(c->msg, sizeof c->msg, "out of memory");
		return -1;
	}
	return 0;
}

int plm_embcache_put_f32(plm_embcache *c, plm_h128 h, const char *id,
			 size_t idlen, const float *vec)
{
	if (c->cfg.dtype == PLM_T_F32)
		return plm_embcache_put(c, h, id, idlen, vec);
	if (plm_h128set_get(c->set, h))
		return 1;
	void *tmp = malloc(c->vecsize);
	if (!tmp) {
		plm_errf(c->msg, sizeof c->msg, "out of memory");
		return -1;
	}
	from_f32(c, vec, tmp);
	int rc = plm_embcache_put(c, h, id, idlen, tmp);
	free(tmp);
	return rc;
}

int plm_embcache_put_failed(plm_embcache *c, plm_h128 h, const char *id,
			    size_t idlen, const char *reason)
{
	if (plm_h128set_get(c->set, h) || plm_h128set_get(c->fset, h))
		return 1;
	size_t rl = strcspn(reason ? reason : "", "\n");
	if (append_rec(c, 'F', h, id, idlen, reason, rl, NULL))
		return -1;
	if (add_fail(c, h, id, idlen, reason, rl, 1)) {
		plm_errf(c->msg, sizeof c->msg, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- whole-cache access ----------------------------------------------- */

size_t plm_embcache_rows(const plm_embcache *c)
{
	return c->nhash;
}

size_t plm_embcache_nfailed(const plm_embcache *c)
{
	return c->nfail;
}

void plm_embcache_journal(const plm_embcache *c, size_t *rows,
			  size_t *failed, uint64_t *torn)
{
	if (rows)
		*rows = c->njr;
	if (failed)
		*failed = c->jfail;
	if (torn)
		*torn = c->j.torn;
}

static int read_id(plm_embcache *c, size_t i, size_t *len)
{
	if (i >= c->nfile) {
		const struct jrow *j = &c->jr[i - c->nfile];
		if (PLM_GROW(c->id, c->idcap, (size_t)j->idlen + 1) ||
		    plm_ej_read(&c->j, c->id, j->idlen, j->off))
			return -1;
		c->id[j->idlen] = 0;
		*len = j->idlen;
		return 0;
	}
	hsize_t at = i, one = 1;
	hid_t fs = H5Dget_space(c->did), ms = H5Screate_simple(1, &one, NULL);
	hid_t t = vstr_type();
	char *s = NULL;
	int rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &one,
				     NULL) < 0 ||
		 H5Dread(c->did, t, ms, fs, H5P_DEFAULT, &s) < 0 ? -1 : 0;
	if (!rc) {
		size_t n = s ? strlen(s) : 0;
		if (PLM_GROW(c->id, c->idcap, n + 1))
			rc = -1;
		else {
			memcpy(c->id, s ? s : "", n + 1);
			*len = n;
		}
	}
	if (s)
		H5free_memory(s);
	H5Tclose(t);
	H5Sclose(ms);
	H5Sclose(fs);
	return rc;
}

int plm_embcache_row(plm_embcache *c, size_t i, plm_h128 *h,
		     const char **id, size_t *idlen, void *vec)
{
	if (i >= c->nhash) {
		plm_errf(c->msg, sizeof c->msg, "row %zu out of range", i);
		return -1;
	}
	if (h)
		*h = c->hash[i];
	if (id) {
		size_t n;
		if (read_id(c, i, &n)) {
			plm_errf(c->msg, sizeof c->msg, "%s: cannot read id %zu",
			       c->path, i);
			return -1;
		}
		*id = c->id;
		if (idlen)
			*idlen = n;
	}
	return vec ? read_vec(c, i, vec) : 0;
}

void plm_embcache_failed(const plm_embcache *c, size_t i, plm_h128 *h,
			 const char **id, const char **reason)
{
	const struct fail *f = &c->fail[i];
	if (h)
		*h = f->h;
	if (id)
		*id = f->id;
	if (reason)
		*reason = f->reason;
}

/* ---- commit ----------------------------------------------------------- */

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	char *buf = malloc(1 << 20);
	if (in < 0 || !buf)
		goto done;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		goto done;
	for (;;) {
		ssize_t n = read(in, buf, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto done;
		if (!n)
			break;
		if (plm_write_full(out, buf, (size_t)n))
			goto done;
	}
	rc = 0;
done:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		rc = -1;
	return rc;
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Copy of the file + the journal's rows → PATH-commit → rename. */
static int commit(plm_embcache *c, char *err, size_t len)
{
	struct h5w w;
	memset(&w, 0, sizeof w);
	unsigned char *vec = malloc(c->vecsize);
	struct fail *nf = calloc(c->jfail ? c->jfail : 1, sizeof *nf);
	size_t k = 0;
	int rc = -1;
	errno = 0;
	if (!vec || !nf)
		goto done;
	plm_tmp_register(c->cpath);
	if (copy_file(c->path, c->cpath))
		goto done;
	w.f = H5Fopen(c->cpath, H5F_ACC_RDWR, H5P_DEFAULT);
	if (w.f < 0 || h5w_attach(&w, &c->cfg) || w.n != c->nfile)
		goto done;
	for (size_t i = c->nfile; i < c->nhash; i++) {
		const char *id;
		size_t idlen;
		if (plm_embcache_row(c, i, NULL, &id, &idlen, vec) ||
		    h5w_row(&w, c->hash[i], id, idlen, vec))
			goto done;
	}
	for (size_t i = 0; i < c->nfail; i++)
		if (c->fail[i].journal)
			nf[k++] = c->fail[i];
	if (h5w_fails(&w, nf, k))
		goto done;
	rc = h5w_finish(&w);
	if (!rc && (fsync_path(c->cpath) || rename(c->cpath, c->path)))
		rc = -1;
done:
	if (rc) {
		plm_errf(err, len, "%s: commit failed (%s); the journal %s is "
		       "kept and a later run resumes from it", c->path,
		       errno ? strerror(errno) : "HDF5 error", c->jpath);
		if (w.f > 0)
			h5w_free(&w);
		unlink(c->cpath);
	}
	plm_tmp_forget(c->cpath);
	free(vec);
	free(nf);
	return rc;
}

int plm_embcache_close(plm_embcache *c, char *err, size_t errlen)
{
	int rc = 0;
	if (!c)
		return 0;
	if (c->write && c->j.fd >= 0) {
		if (c->njr || c->jfail)
			rc = commit(c, err, errlen);
		/* unlink while holding the lock (see lock_journal) */
		if (!rc && unlink(c->jpath) && errno != ENOENT) {
			plm_errf(err, errlen, "%s: %s", c->jpath, strerror(errno));
			rc = -1;
		}
	}
	cache_free(c);
	return rc;
}

void plm_embcache_abort(plm_embcache *c)
{
	cache_free(c);
}

/* ---- merge ------------------------------------------------------------ */

int plm_embcache_merge(const char *out, plm_embcache **in, size_t nin,
		       uint64_t *dups, char *err, size_t errlen)
{
	char buf[512], *tmp = NULL;
	const char *d;
	struct h5w w;
	memset(&w, 0, sizeof w);
	*dups = 0;
	if (!nin) {
		plm_errf(err, errlen, "no input caches");
		return -1;
	}
	for (size_t i = 1; i < nin; i++)
		if ((d = plm_embcache_cfg_diff(&in[0]->cfg, &in[i]->cfg, buf,
					       sizeof buf))) {
			plm_errf(err, errlen, "%s and %s have different settings:"
			       " %s", in[0]->path, in[i]->path, d);
			return -1;
		}
	h5_setup();
	size_t vs = in[0]->vecsize;
	plm_h128set *seen = plm_h128set_new(0), *fseen = plm_h128set_new(0);
	unsigned char *vec = malloc(vs);
	struct fail *nf = NULL;
	size_t nnf = 0, cap = 0;
	int rc = -1;
	if (!seen || !fseen || !vec)
		goto done;
	if (!(tmp = plm_tmp_name(out, err, errlen)))
		goto fail_msg;
	if (h5w_create(&w, tmp, &in[0]->cfg))
		goto done;
	for (size_t i = 0; i < nin; i++)
		for (size_t r = 0; r < in[i]->nhash; r++) {
			plm_h128 h;
			const char *id;
			size_t idlen;
			int a = plm_h128set_add(seen, in[i]->hash[r], NULL);
			if (a < 0)
				goto done;
			if (!a) {
				++*dups;
				continue;
			}
			if (plm_embcache_row(in[i], r, &h, &id, &idlen, vec)) {
				plm_errf(err, errlen, "%s", in[i]->msg);
				goto fail_msg;
			}
			if (h5w_row(&w, h, id, idlen, vec))
				goto done;
		}
	for (size_t i = 0; i < nin; i++)
		for (size_t r = 0; r < in[i]->nfail; r++) {
			struct fail *f = &in[i]->fail[r];
			if (plm_h128set_get(seen, f->h))
				continue;
			int a = plm_h128set_add(fseen, f->h, NULL);
			if (a < 0)
				goto done;
			if (!a)
				continue;
			if (nnf == cap) {
				cap = cap ? 2 * cap : 64;
				struct fail *p = realloc(nf, cap * sizeof *p);
				if (!p)
					goto done;
				nf = p;
			}
			nf[nnf++] = *f;
		}
	if (h5w_fails(&w, nf, nnf))
		goto done;
	rc = h5w_finish(&w);
	if (!rc && rename(tmp, out))
		rc = -1;
done:
	if (rc)
		plm_errf(err, errlen, "%s: cannot write the merged cache (%s)", out,
		       errno ? strerror(errno) : "HDF5 error or out of memory");
fail_msg:
	if (rc) {
		if (w.f > 0)
			h5w_free(&w);
		if (tmp)
			unlink(tmp);
	}
	if (tmp)
		plm_tmp_forget(tmp);
	free(tmp);
	free(nf);
	free(vec);
	plm_h128set_free(seen);
	plm_h128set_free(fseen);
	return rc;
}

/* ---- check ------------------------------------------------------------ */

struct checker {
	long n, max;
	void (*report)(void *, const char *);
	void *arg;
};

static void problem(struct checker *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct checker *k, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (k->n++ >= k->max || !k->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	k->report(k->arg, msg);
}

/* Keys of a fixed-string dataset or of the failed compound: valid and
 * unique. */
static void check_keys(struct checker *k, const char *what, const char *buf,
		       size_t stride, hsize_t n)
{
	plm_h128set *s = plm_h128set_new(n);
	for (hsize_t i = 0; s && i < n; i++) {
		plm_h128 h;
		uint32_t *first;
		if (plm_h128_parse(buf + i * stride, 32, &h)) {
			problem(k, "%s %" PRIu64 ": not 32 hex digits", what,
				(uint64_t)i);
			continue;
		}
		int a = plm_h128set_add(s, h, &first);
		if (a == 1)
			*first = (uint32_t)i;
		else if (a == 0)
			problem(k, "%s %" PRIu64 ": duplicate of %s %" PRIu32,
				what, (uint64_t)i, what, *first);
	}
	if (!s)
		problem(k, "out of memory");
	plm_h128set_free(s);
}

/* Reads every id the way plm_embcache_row does (variable-length strings),
 * so a cache that check passes can be exported. */
static void check_ids(struct checker *k, hid_t di, hsize_t n)
{
	const hsize_t B = 4096;
	char **s = calloc(B, sizeof *s);
	hid_t t = vstr_type(), fs = H5Dget_space(di);
	for (hsize_t at = 0; s && at < n; at += B) {
		hsize_t c = n - at < B ? n - at : B;
		hid_t ms = H5Screate_simple(1, &c, NULL);
		int bad = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &c,
					      NULL) < 0 ||
			  H5Dread(di, t, ms, fs, H5P_DEFAULT, s) < 0;
		if (!bad)
			H5Dvlen_reclaim(t, ms, H5P_DEFAULT, s);
		H5Sclose(ms);
		if (bad) {
			problem(k, "id rows %" PRIu64 "..: unreadable",
				(uint64_t)at);
			break;
		}
	}
	if (!s)
		problem(k, "out of memory");
	H5Sclose(fs);
	H5Tclose(t);
	free(s);
}

static void check_emb(struct checker *k, hid_t demb, enum plm_type dt,
		      hsize_t n, hsize_t dim)
{
	hsize_t rows = ((size_t)4 << 20) / (dim * 4);
	rows = rows ? rows : 1;
	float *buf = malloc(rows * dim * sizeof *buf);
	hid_t fs = H5Dget_space(demb);
	uint64_t bad = 0, first = 0;
	(void)dt;
	for (hsize_t at = 0; buf && at < n; at += rows) {
		hsize_t c[2] = { n - at < rows ? n - at : rows, dim };
		hsize_t st[2] = { at, 0 };
		hid_t ms = H5Screate_simple(2, c, NULL);
		/* HDF5 converts f16 to float here; the checks are on values */
		if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, c, NULL) < 0 ||
		    H5Dread(demb, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf) < 0) {
			problem(k, "emb rows %" PRIu64 "..: unreadable",
				(uint64_t)at);
			H5Sclose(ms);
			break;
		}
		H5Sclose(ms);
		for (hsize_t r = 0; r < c[0]; r++)
			for (hsize_t j = 0; j < dim; j++)
				if (!isfinite(buf[r * dim + j])) {
					if (!bad++)
						first = at + r;
					break;
				}
	}
	if (bad)
		problem(k, "emb: %" PRIu64 " rows hold NaN or Inf (first: row "
			"%" PRIu64 ")", bad, first);
	H5Sclose(fs);
	free(buf);
}

long plm_embcache_check(const char *path, long max,
			void (*report)(void *arg, const char *msg), void *arg,
			char *err, size_t errlen)
{
	struct checker k = { 0, max, report, arg };
	plm_embcache c;
	memset(&c, 0, sizeof c);
	h5_setup();
	c.path = (char *)path;
	c.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (c.file < 0) {
		plm_errf(err, errlen, "%s: cannot open as HDF5", path);
		return -1;
	}
	if (read_cfg(&c, err, errlen)) {
		H5Fclose(c.file);
		free(c.sig); free(c.model); free(c.pool);
		return -1;
	}
	hid_t dk = H5Dopen2(c.file, "key", H5P_DEFAULT);
	hid_t di = H5Dopen2(c.file, "id", H5P_DEFAULT);
	hid_t de = H5Dopen2(c.file, "emb", H5P_DEFAULT);
	hid_t df = H5Dopen2(c.file, "failed", H5P_DEFAULT);
	int64_t rows = -1, nfail = -1;
	attr_get_i64(c.file, "rows", &rows);
	attr_get_i64(c.file, "failed", &nfail);
	if (dk < 0 || di < 0 || de < 0 || df < 0) {
		problem(&k, "dataset missing:%s%s%s%s", dk < 0 ? " key" : "",
			di < 0 ? " id" : "", de < 0 ? " emb" : "",
			df < 0 ? " failed" : "");
		goto out;
	}
	int rank;
	hsize_t d1, n = ds_len(dk, NULL, NULL), ne = ds_len(de, &rank, &d1);
	hsize_t ni = ds_len(di, NULL, NULL), nf = ds_len(df, NULL, NULL);
	if (rows < 0 || (hsize_t)rows != n)
		problem(&k, "rows attribute is %" PRId64 ", key has %" PRIu64
			" rows", rows, (uint64_t)n);
	if (ni != n)
		problem(&k, "id has %" PRIu64 " rows, key %" PRIu64,
			(uint64_t)ni, (uint64_t)n);
	if (rank != 2 || d1 != c.cfg.dim)
		problem(&k, "emb is not [N, %" PRIu32 "]", c.cfg.dim);
	else if (ne != n)
		problem(&k, "emb has %" PRIu64 " rows, key %" PRIu64,
			(uint64_t)ne, (uint64_t)n);
	if (nfail < 0 || (hsize_t)nfail != nf)
		problem(&k, "failed attribute is %" PRId64 ", failed has %"
			PRIu64 " rows", nfail, (uint64_t)nf);
	char what[160];
	if (emb_type_bad(de, c.cfg.dtype, what, sizeof what))
		problem(&k, "%s", what);
	if (id_type_bad(di, what, sizeof what))
		problem(&k, "%s", what);
	else
		check_ids(&k, di, ni);
	char *buf = malloc(n ? n * 32 : 1);
	hid_t kt = key_type();
	if (buf && H5Dread(dk, kt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
		check_keys(&k, "key", buf, 32, n);
	else
		problem(&k, "key: unreadable");
	H5Tclose(kt);
	free(buf);
	if (nf) {
		hid_t ft = fail_type();
		struct frec *r = calloc(nf, sizeof *r);
		if (r && H5Dread(df, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, r) >= 0) {
			check_keys(&k, "failed", r[0].key, sizeof *r, nf);
			hid_t sp = H5Dget_space(df);
			H5Dvlen_reclaim(ft, sp, H5P_DEFAULT, r);
			H5Sclose(sp);
		} else {
			problem(&k, "failed: unreadable");
		}
		free(r);
		H5Tclose(ft);
	}
	if (rank == 2 && d1 == c.cfg.dim && ne == n)
		check_emb(&k, de, c.cfg.dtype, n, d1);
out:
	if (dk >= 0) H5Dclose(dk);
	if (di >= 0) H5Dclose(di);
	if (de >= 0) H5Dclose(de);
	if (df >= 0) H5Dclose(df);
	H5Fclose(c.file);
	free(c.sig);
	free(c.model);
	free(c.pool);
	return k.n;
}
