/* safetensors.c — mmap a .safetensors file and validate its header.
 *
 * The tensors' data are read without keeping them resident: float32 data
 * is pread into the caller's buffer (the mapping is never touched), other
 * dtypes are converted from the mapping and their pages released after,
 * so loading a model costs the converted copy, not the copy plus the
 * file. */
#include "plm/safetensors.h"
#include "plm/err.h"
#include "plm/float.h"
#include "plm/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header larger than this is not a model header (the real ones are tens
 * of kilobytes); the cap keeps a hostile length from driving allocation. */
#define MAX_HEADER (256u << 20)

struct plm_st {
	char *path;
	int fd;                      /* for plm_st_read_f32; -1 when closed */
	void *map;
	size_t map_len;
	plm_json_doc *doc;
	plm_st_tensor *t;            /* sorted by data offset */
	size_t n;
	const plm_st_tensor **by_name; /* into t, sorted by name */
	const plm_json *meta;
};

static const struct {
	const char *name;
	size_t size;
} dtypes[PLM_ST_NDTYPES] = {
	[PLM_ST_BOOL] = { "BOOL", 1 },  [PLM_ST_U8] = { "U8", 1 },
	[PLM_ST_I8] = { "I8", 1 },      [PLM_ST_F8_E4M3] = { "F8_E4M3", 1 },
	[PLM_ST_F8_E5M2] = { "F8_E5M2", 1 },
	[PLM_ST_I16] = { "I16", 2 },    [PLM_ST_U16] = { "U16", 2 },
	[PLM_ST_F16] = { "F16", 2 },    [PLM_ST_BF16] = { "BF16", 2 },
	[PLM_ST_I32] = { "I32", 4 },    [PLM_ST_U32] = { "U32", 4 },
	[PLM_ST_F32] = { "F32", 4 },
	[PLM_ST_I64] = { "I64", 8 },    [PLM_ST_U64] = { "U64", 8 },
	[PLM_ST_F64] = { "F64", 8 },
};

const char *plm_st_dtype_name(enum plm_st_dtype t)
{
	return (unsigned)t < PLM_ST_NDTYPES ? dtypes[t].name : "?";
}

size_t plm_st_dtype_size(enum plm_st_dtype t)
{
	return (unsigned)t < PLM_ST_NDTYPES ? dtypes[t].size : 0;
}

char *plm_st_shape_str(const int64_t *shape, int ndim, char *buf, size_t len)
{
	size_t n = 0;
	if (!len)
		return buf;
	buf[0] = 0;
	n += (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < ndim && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? "," : "",
				      (long long)shape[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
	return buf;
}

static int cmp_offset(const void *a, const void *b)
{
	const plm_st_tensor *x = a, *y = b;
	const char *px = x->data, *py = y->data;
	if (px != py)
		return px < py ? -1 : 1;
	return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static int cmp_name(const void *a, const void *b)
{
	const plm_st_tensor *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/* One header entry -> t; 0 or -1 with err set (without the path). */
static int parse_entry(const char *name, const plm_json *v,
		       const unsigned char *data, size_t data_len,
		       plm_st_tensor *t, char *err, size_t errlen)
{
	const plm_json *dt = plm_json_get(v, "dtype");
	const plm_json *sh = plm_json_get(v, "shape");
	const plm_json *off = plm_json_get(v, "data_offsets");
	if (v->type != PLM_JSON_OBJ || !dt || dt->type != PLM_JSON_STR ||
	    !sh || sh->type != PLM_JSON_ARR || !off ||
	    off->type != PLM_JSON_ARR) {
		plm_errf(err, errlen, "tensor '%s': header entry needs dtype, "
			 "shape and data_offsets", name);
		return -1;
	}
	t->name = name;
	int k;
	for (k = 0; k < PLM_ST_NDTYPES; k++)
		if (strcmp(dt->s, dtypes[k].name) == 0)
			break;
	if (k == PLM_ST_NDTYPES) {
		plm_errf(err, errlen, "tensor '%s': unsupported dtype '%s'", name,
			 dt->s);
		return -1;
	}
	t->dtype = (enum plm_st_dtype)k;
	if (sh->len > PLM_ST_MAX_DIMS) {
		plm_errf(err, errlen, "tensor '%s': %zu dimensions (at most %d)",
			 name, sh->len, PLM_ST_MAX_DIMS);
		return -1;
	}
	t->ndim = (int)sh->len;
	size_t numel = 1;
	int overflow = 0;
	for (size_t i = 0; i < sh->len; i++) {
		const plm_json *d = &sh->kids[i];
		if (d->type != PLM_JSON_NUM || !d->is_int || d->i < 0) {
			plm_errf(err, errlen, "tensor '%s': bad shape", name);
			return -1;
		}
		t->shape[i] = d->i;
		if ((uint64_t)d->i > SIZE_MAX ||
		    (d->i && numel > SIZE_MAX / (size_t)d->i))
			overflow = 1;
		else
			numel *= (size_t)d->i;
	}
	size_t es = dtypes[k].size;
	if (overflow || numel > SIZE_MAX / es) {
		plm_errf(err, errlen, "tensor '%s': shape too large", name);
		return -1;
	}
	t->numel = numel;
	if (off->len != 2 || off->kids[0].type != PLM_JSON_NUM ||
	    off->kids[1].type != PLM_JSON_NUM || !off->kids[0].is_int ||
	    !off->kids[1].is_int || off->kids[0].i < 0 ||
	    off->kids[1].i < off->kids[0].i) {
		plm_errf(err, errlen, "tensor '%s': bad data_offsets", name);
		return -1;
	}
	uint64_t b = (uint64_t)off->kids[0].i, e = (uint64_t)off->kids[1].i;
	if (e > data_len) {
		plm_errf(err, errlen, "tensor '%s': data_offsets [%llu,%llu] "
			 "beyond the data region (%zu bytes; file truncated?)",
			 name, (unsigned long long)b, (unsigned long long)e,
			 data_len);
		return -1;
	}
	if (e - b != numel * es) {
		char s[128];
		plm_errf(err, errlen, "tensor '%s': %llu data bytes, but %s %s "
			 "needs %zu", name, (unsigned long long)(e - b),
			 dtypes[k].name,
			 plm_st_shape_str(t->shape, t->ndim, s, sizeof s),
			 numel * es);
		return -1;
	}
	t->nbytes = (size_t)(e - b);
	t->data = data + b;
	return 0;
}

static int parse_header(plm_st *st, const char *hdr, size_t hlen,
			const unsigned char *data, size_t data_len, char *err,
			size_t errlen)
{
	char jerr[200];
	st->doc = plm_json_parse(hdr, hlen, jerr, sizeof jerr);
	if (!st->doc) {
		plm_errf(err, errlen, "header JSON: %s", jerr);
		return -1;
	}
	const plm_json *root = plm_json_root(st->doc);
	if (root->type != PLM_JSON_OBJ) {
		plm_errf(err, errlen, "header JSON is not an object");
		return -1;
	}
	st->t = calloc(root->len ? root->len : 1, sizeof *st->t);
	st->by_name = calloc(root->len ? root->len : 1, sizeof *st->by_name);
	if (!st->t || !st->by_name) {
		plm_errf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < root->len; i++) {
		const char *name = root->keys[i];
		if (strcmp(name, "__metadata__") == 0) {
			const plm_json *m = &root->kids[i];
			if (st->meta || m->type != PLM_JSON_OBJ) {
				plm_errf(err, errlen, "bad __metadata__");
				return -1;
			}
			for (size_t j = 0; j < m->len; j++)
				if (m->kids[j].type != PLM_JSON_STR) {
					plm_errf(err, errlen, "__metadata__ "
						 "value '%s' is not a string",
						 m->keys[j]);
					return -1;
				}
			st->meta = m;
			continue;
		}
		if (parse_entry(name, &root->kids[i], data, data_len,
				&st->t[st->n], err, errlen))
			return -1;
		st->n++;
	}
	/* names first: a key given twice (same offsets, usually) is a
	 * duplicate, not an overlap.  by_name points into t, which the
	 * offset sort below reorders, so it is rebuilt after. */
	for (size_t i = 0; i < st->n; i++)
		st->by_name[i] = &st->t[i];
	qsort(st->by_name, st->n, sizeof *st->by_name, cmp_name);
	for (size_t i = 1; i < st->n; i++)
		if (!strcmp(st->by_name[i]->name, st->by_name[i - 1]->name)) {
			plm_errf(err, errlen, "duplicate key '%s'",
				 st->by_name[i]->name);
			return -1;
		}
	qsort(st->t, st->n, sizeof *st->t, cmp_offset);
	for (size_t i = 1; i < st->n; i++) {
		const char *prev_end = (const char *)st->t[i - 1].data +
				       st->t[i - 1].nbytes;
		if ((const char *)st->t[i].data < prev_end) {
			plm_errf(err, errlen, "tensors '%s' and '%s' overlap",
				 st->t[i - 1].name, st->t[i].name);
			return -1;
		}
	}
	for (size_t i = 0; i < st->n; i++)
		st->by_name[i] = &st->t[i];
	qsort(st->by_name, st->n, sizeof *st->by_name, cmp_name);
	return 0;
}

plm_st *plm_st_open(const char *path, char *err, size_t errlen)
{
	char e[400] = "";
	plm_st *st = calloc(1, sizeof *st);
	int fd = -1;
	struct stat sb;
	if (!st || !(st->path = strdup(path))) {
		plm_errf(err, errlen, "%s: out of memory", path);
		free(st);
		return NULL;
	}
	st->fd = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		snprintf(e, sizeof e, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(e, sizeof e, "not a regular file");
		goto fail;
	}
	if (sb.st_size < 8) {
		snprintf(e, sizeof e, "too short for a safetensors file "
			 "(%lld bytes)", (long long)sb.st_size);
		goto fail;
	}
	st->map_len = (size_t)sb.st_size;
	st->map = mmap(NULL, st->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		snprintf(e, sizeof e, "mmap: %s", strerror(errno));
		goto fail;
	}
	st->fd = fd;
	fd = -1;
	const unsigned char *p = st->map;
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | p[i];
	if (hlen > st->map_len - 8 || hlen > MAX_HEADER) {
		snprintf(e, sizeof e, "header length %llu does not fit in the "
			 "file (%zu bytes; truncated or not safetensors)",
			 (unsigned long long)hlen, st->map_len);
		goto fail;
	}
	if (parse_header(st, (const char *)p + 8, (size_t)hlen, p + 8 + hlen,
			 st->map_len - 8 - (size_t)hlen, e, sizeof e))
		goto fail;
	return st;
fail:
	plm_errf(err, errlen, "%s: %s", path, e);
	if (fd >= 0)
		close(fd);
	plm_st_close(st);
	return NULL;
}

void plm_st_close(plm_st *st)
{
	if (!st)
		return;
	if (st->map)
		munmap(st->map, st->map_len);
	if (st->fd >= 0)
		close(st->fd);
	free(st->path);
	plm_json_free(st->doc);
	free(st->t);
	free(st->by_name);
	free(st);
}

size_t plm_st_count(const plm_st *st)
{
	return st->n;
}

const plm_st_tensor *plm_st_at(const plm_st *st, size_t i)
{
	return i < st->n ? &st->t[i] : NULL;
}

const plm_st_tensor *plm_st_find(const plm_st *st, const char *name)
{
	size_t lo = 0, hi = st->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const plm_st_tensor *t = st->by_name[mid];
		int c = strcmp(name, t->name);
		if (!c)
			return t;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *plm_st_meta(const plm_st *st, const char *key)
{
	const plm_json *v = plm_json_get(st->meta, key);
	return v ? v->s : NULL;
}

int plm_st_to_f32(const plm_st_tensor *t, float *out, char *err,
		  size_t errlen)
{
	const unsigned char *p = t->data;
	size_t n = t->numel;
	/* The data may be unaligned and the host is little-endian (x86-64,
	 * aarch64): memcpy element by element. */
	switch (t->dtype) {
	case PLM_ST_F32:
		memcpy(out, p, n * 4);
		return 0;
	case PLM_ST_F16:
	case PLM_ST_BF16:
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			out[i] = t->dtype == PLM_ST_BF16 ? plm_bf16_to_f32(h) :
			         plm_f16_to_f32(h);
		}
		return 0;
	case PLM_ST_F64:
		for (size_t i = 0; i < n; i++) {
			double d;
			memcpy(&d, p + 8 * i, 8);
			out[i] = (float)d;
		}
		return 0;
	default:
		plm_errf(err, errlen, "tensor '%s' has dtype %s; expected F32, "
			 "F16 or BF16", t->name, plm_st_dtype_name(t->dtype));
		return -1;
	}
}

void plm_st_release(plm_st *st, const plm_st_tensor *t)
{
	static size_t page;
	if (!page) {
		long ps = sysconf(_SC_PAGESIZE);
		page = ps > 0 ? (size_t)ps : 4096;
	}
	uintptr_t base = (uintptr_t)st->map, lim = base + st->map_len;
	uintptr_t b = (uintptr_t)t->data & ~(uintptr_t)(page - 1);
	uintptr_t e = ((uintptr_t)t->data + t->nbytes + page - 1) &
		      ~(uintptr_t)(page - 1);
	if (b < base)
		b = base;
	if (e > lim)
		e = (lim + page - 1) & ~(uintptr_t)(page - 1);
	/* A private read-only file mapping that was never written: dropping
	 * pages loses nothing, a later access faults them in from the file
	 * again (the pages shared with a neighbour included). */
	if (e > b)
		(void)madvise((void *)b, e - b, MADV_DONTNEED);
}

int plm_st_read_f32(plm_st *st, const plm_st_tensor *t, float *out,
		    char *err, size_t errlen)
{
	if (t->dtype != PLM_ST_F32 || st->fd < 0) {
		char e[300];
		int rc = plm_st_to_f32(t, out, e, sizeof e);
		plm_st_release(st, t);
		if (rc)
			plm_errf(err, errlen, "%s: %s", st->path, e);
		return rc;
	}
	off_t off = (off_t)((const char *)t->data - (const char *)st->map);
	char *dst = (char *)out;
	size_t left = t->nbytes;
	while (left) {
		size_t chunk = left < (1u << 30) ? left : (1u << 30);
		ssize_t r = pread(st->fd, dst, chunk, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return plm_errf(err, errlen, "%s: tensor '%s': %s", st->path,
					t->name, r < 0 ? strerror(errno) :
					"unexpected end of file (truncated "
					"since it was opened?)");
		dst += r;
		off += r;
		left -= (size_t)r;
	}
	return 0;
}
