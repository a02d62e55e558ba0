/* h5util.h — HDF5 steps the embedding cache and the array tools share
 * (private to lib/). */
#ifndef PLM_H5UTIL_H
#define PLM_H5UTIL_H

#include <hdf5.h>

/* Grows dataset d (rank 1, or 2 with second dimension d1) from `at` rows
 * to at + n and writes the n rows of buf (memory type mtype) there.  0,
 * or -1 (HDF5's error stack says why). */
int plm_h5_append(hid_t d, hid_t mtype, int rank, hsize_t d1, hsize_t at,
		  hsize_t n, const void *buf);

#endif
