/* npy.h — NumPy .npy arrays and the .npz zip archives that hold them.
 *
 * Reading: plm_npy_parse() reads the header of a .npy (versions 1 to 3)
 * from its first bytes; the data that follows is addressed in place (a
 * mapped file or a stored .npz member), so a row costs D elements of
 * memory whatever N is.  Accepted dtypes: little-endian float16, float32,
 * float64 ('<f2', '<f4', '<f8'), and for ids the fixed-width strings
 * '<U<n>' (UTF-32) and '|S<n>' (bytes).  Object arrays ('|O', pickled) and
 * big-endian data are refused.
 *
 * .npz: plm_zip_find() looks a member up in the central directory (zip64
 * included, as numpy writes it), plm_zip_inflate() inflates a deflated
 * member (zlib raw inflate; its CRC-32 is checked).
 *
 * Writing: plm_npyw writes a float32 [N, D] C-order .npy whose N is not
 * known in advance: a fixed-size header is reserved, the rows written,
 * and the header patched on close; the file is made under
 * PATH.tmp.PID.XXXXXX (registered with plm_tmp_register) and renamed into
 * place, so a failed run leaves nothing.
 *
 * Functions return -1 (or NULL) and a message in err; they never exit. */
#ifndef PLM_NPY_H
#define PLM_NPY_H

#include <stddef.h>
#include <stdint.h>

enum plm_npy_dtype {
	PLM_NPY_F16 = 1,
	PLM_NPY_F32,
	PLM_NPY_F64,
	PLM_NPY_U,              /* '<U<n>': n UTF-32LE code points */
	PLM_NPY_S,              /* '|S<n>': n bytes */
};

#define PLM_NPY_MAXRANK 8

typedef struct plm_npy {
	enum plm_npy_dtype dtype;
	size_t itemsize;        /* bytes per element */
	int fortran;            /* 1: column-major */
	int rank;
	uint64_t shape[PLM_NPY_MAXRANK];
	size_t data_off;        /* bytes of magic + header */
	uint64_t nbytes;        /* itemsize × the product of shape */
} plm_npy;

/* The header at p[0..n).  Checks the magic, the dict, the dtype and that
 * the element count does not overflow; n must hold the whole header.
 * 0, or -1 with err ("not a .npy file", "dtype '>f4': big-endian data is
 * not supported", ...). */
int plm_npy_parse(const void *p, size_t n, plm_npy *h, char *err,
		  size_t errlen);
/* The dtype as numpy spells it ("<f4"), for messages. */
const char *plm_npy_dtype_name(const plm_npy *h, char *buf, size_t len);

/* Row i of a float array of rank 2 [N, D] (either order), data the bytes
 * after the header: out[0..D) as float32 (float16 and float32 exactly,
 * float64 rounded to nearest).  Returns -1 when every value is finite
 * in float32, else the column of the first that is not (NaN, an infinity,
 * or a float64 beyond the float32 range); out is filled either way. */
long plm_npy_row_f32(const plm_npy *h, const unsigned char *data, uint64_t i,
		     float *out);

/* Element i of a string array of rank 1 as UTF-8 into buf (at least
 * 4 × itemsize + 1 bytes; NUL-terminated), trailing NULs stripped as
 * numpy does.  Its length, or -1 with err (a NUL inside the string, a
 * code point that is not Unicode). */
long plm_npy_str(const plm_npy *h, const unsigned char *data, uint64_t i,
		 char *buf, size_t buflen, char *err, size_t errlen);

/* ---- .npz (zip) ------------------------------------------------------- */

typedef struct plm_zip_member {
	uint64_t off;           /* the member's data in the archive */
	uint64_t csize, usize;  /* compressed, uncompressed bytes */
	int method;             /* 0 stored, 8 deflate */
	uint32_t crc;
} plm_zip_member;

/* Member `name` of the zip archive p[0..n).  0 found, 1 absent (names
 * then lists the members, comma-separated, cut to namelen), -1 with err
 * on a malformed or encrypted archive or an unsupported method. */
int plm_zip_find(const unsigned char *p, size_t n, const char *name,
		 plm_zip_member *m, char *names, size_t namelen, char *err,
		 size_t errlen);
/* A deflated member into out[0..m->usize); checks sizes and CRC-32. */
int plm_zip_inflate(const unsigned char *p, size_t n, const plm_zip_member *m,
		    unsigned char *out, char *err, size_t errlen);

/* ---- mapped files ----------------------------------------------------- */

/* The whole file read-only through a mapping (an empty file gives p
 * NULL, n 0).  0, or -1 with err ("path: why"). */
int plm_map_file(const char *path, const unsigned char **p, size_t *n,
		 char *err, size_t errlen);
void plm_unmap_file(const unsigned char *p, size_t n);

/* ---- writing ---------------------------------------------------------- */

#define PLM_NPY_HDR 128         /* bytes reserved for magic + header */

/* The header of a float32 C-order [n, d] array, padded to PLM_NPY_HDR
 * bytes (version 1.0). */
void plm_npy_header_f32(unsigned char buf[PLM_NPY_HDR], uint64_t n,
			uint64_t d);

typedef struct plm_npyw plm_npyw;

plm_npyw *plm_npyw_open(const char *path, uint32_t d, char *err,
			size_t errlen);
/* One row of d float32 values. */
int plm_npyw_row(plm_npyw *w, const float *row, char *err, size_t errlen);
uint64_t plm_npyw_rows(const plm_npyw *w);
/* Patches the header, closes, renames into place; frees w either way. */
int plm_npyw_close(plm_npyw *w, char *err, size_t errlen);
void plm_npyw_abort(plm_npyw *w);

#endif
