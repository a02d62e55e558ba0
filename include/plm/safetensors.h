/* safetensors.h — read-only access to a .safetensors file by mmap.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON (an object
 * name -> {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional
 * "__metadata__" object of strings), then the data region; offsets are
 * relative to the data region.
 *
 * plm_st_open validates the whole header before anything is trusted: the
 * length lies within the file, the JSON parses, every entry has a known
 * dtype, a shape of non-negative integers, offsets inside the data region
 * with begin <= end, (end - begin) == numel * dtype size (no overflow), no
 * two tensors overlap, and no name appears twice.  Tensor data pointers
 * point into the mapping and live until plm_st_close; the pages a reader
 * touches stay resident until plm_st_release or plm_st_close. */
#ifndef PLM_SAFETENSORS_H
#define PLM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

enum plm_st_dtype {
	PLM_ST_BOOL, PLM_ST_U8, PLM_ST_I8, PLM_ST_F8_E4M3, PLM_ST_F8_E5M2,
	PLM_ST_I16, PLM_ST_U16, PLM_ST_F16, PLM_ST_BF16,
	PLM_ST_I32, PLM_ST_U32, PLM_ST_F32,
	PLM_ST_I64, PLM_ST_U64, PLM_ST_F64,
	PLM_ST_NDTYPES
};

#define PLM_ST_MAX_DIMS 8

typedef struct plm_st_tensor {
	const char *name;            /* NUL-terminated */
	enum plm_st_dtype dtype;
	int ndim;                    /* 0 = scalar */
	int64_t shape[PLM_ST_MAX_DIMS];
	size_t numel;
	size_t nbytes;
	const void *data;            /* into the mapping; may be unaligned */
} plm_st_tensor;

typedef struct plm_st plm_st;

/* NULL on error with "PATH: what" in err. */
plm_st *plm_st_open(const char *path, char *err, size_t errlen);
void plm_st_close(plm_st *st);

size_t plm_st_count(const plm_st *st);
/* Tensors in file order of their data offsets. */
const plm_st_tensor *plm_st_at(const plm_st *st, size_t i);
/* By name, or NULL. */
const plm_st_tensor *plm_st_find(const plm_st *st, const char *name);
/* The "__metadata__" value for key, or NULL. */
const char *plm_st_meta(const plm_st *st, const char *key);

/* "F32", "BF16", ... */
const char *plm_st_dtype_name(enum plm_st_dtype t);
size_t plm_st_dtype_size(enum plm_st_dtype t);

/* Converts a F32, F16, BF16 or F64 tensor to float32 into out[numel].
 * 0, or -1 with "tensor 'X' has dtype D; expected F32, F16 or BF16". */
int plm_st_to_f32(const plm_st_tensor *t, float *out, char *err,
		  size_t errlen);

/* Converts t (a tensor of st) like plm_st_to_f32 without leaving its data
 * resident: F32 data is read with pread (the mapping is not touched), other
 * dtypes are converted from the mapping, whose pages are released after.
 * 0, or -1 with "PATH: what" in err. */
int plm_st_read_f32(plm_st *st, const plm_st_tensor *t, float *out,
		    char *err, size_t errlen);

/* Releases the mapped pages of t's data (they count in the resident set
 * once touched); t->data stays valid, a later access reads the file
 * again. */
void plm_st_release(plm_st *st, const plm_st_tensor *t);

/* Formats a shape as "[a,b]" into buf; returns buf. */
char *plm_st_shape_str(const int64_t *shape, int ndim, char *buf,
		       size_t len);

#endif
