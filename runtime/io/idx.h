/* IDX files, the format of MNIST and Fashion-MNIST (train-images-idx3-ubyte, ...): a big-endian
 * header (two zero bytes, a type code, the number of dimensions, then each dimension as a
 * 32-bit count) followed by the values. Only unsigned bytes (type 0x08) are read, which is what
 * every MNIST-style data set holds. Files may be gzip-compressed (read through zlib, which
 * reads plain files too). */
#ifndef CNV_IO_IDX_H
#define CNV_IO_IDX_H

#include <stddef.h>

#include "cnnvis/cnnvis.h"

#define CNV_IDX_MAX_DIMS 4

typedef struct cnv_idx {
    int ndim;
    int dims[CNV_IDX_MAX_DIMS];
    unsigned char *data; /* dims[0] x ... x dims[ndim-1] bytes, malloc'ed */
} cnv_idx;

/* Reads an unsigned-byte IDX file of `ndim` dimensions, keeping at most `limit` items along the
 * first dimension (limit <= 0: all). CNV_ERR_IO when it cannot be opened, CNV_ERR_FORMAT (naming
 * the file) when it is not such a file or is truncated. */
cnv_status cnv_idx_read(const char *path, int ndim, int limit, cnv_idx *out);
void cnv_idx_free(cnv_idx *idx);

#endif
