/* h5arr.h — a float dataset [N, D] of an HDF5 file read in row blocks,
 * its string ids, and the [N, D] float32 + id file feat-export writes.
 *
 * Reading: any IEEE float class (float16 as h5py stores it, float32,
 * float64) is converted by HDF5 to double rows, so the caller sees the
 * values exactly and rounds them once.  Ids: a rank-1 dataset of strings,
 * variable or fixed length (NUL- or space-padding stripped).
 *
 * Writing: datasets "emb" (float32 [N, D], chunked, extended as rows
 * come) and "id" (variable-length UTF-8 strings), made under
 * PATH.tmp.PID.XXXXXX and renamed into place by plm_h5w_close().
 *
 * Functions return -1 (or NULL) and a message in err; they never exit. */
#ifndef PLM_H5ARR_H
#define PLM_H5ARR_H

#include <stddef.h>
#include <stdint.h>

typedef struct plm_h5arr plm_h5arr;

/* Dataset `name` of the HDF5 file at path; rank and shape[0..rank) set
 * (rank 1 or 2; other ranks and non-float classes are errors). */
plm_h5arr *plm_h5arr_open(const char *path, const char *name, int *rank,
			  uint64_t shape[2], char *err, size_t errlen);
/* Rows [row, row + n) of a rank-2 dataset (a rank-1 one: elements, each a
 * row of 1) into out[n × D] as doubles. */
int plm_h5arr_read(plm_h5arr *a, uint64_t row, uint64_t n, double *out,
		   char *err, size_t errlen);
void plm_h5arr_close(plm_h5arr *a);

/* Every string of the rank-1 dataset `name`: *ids[0..*n), each malloc'd
 * and NUL-terminated (free with plm_h5_strings_free). */
int plm_h5_strings(const char *path, const char *name, char ***ids,
		   uint64_t *n, char *err, size_t errlen);
void plm_h5_strings_free(char **ids, uint64_t n);

/* Does the file start with the HDF5 signature? */
int plm_h5_sniff(const void *p, size_t n);

typedef struct plm_h5w plm_h5w;

plm_h5w *plm_h5w_open(const char *path, uint32_t d, char *err,
		      size_t errlen);
int plm_h5w_row(plm_h5w *w, const float *row, const char *id, size_t idlen,
		char *err, size_t errlen);
uint64_t plm_h5w_rows(const plm_h5w *w);
int plm_h5w_close(plm_h5w *w, char *err, size_t errlen);
void plm_h5w_abort(plm_h5w *w);

#endif
