/* IDX files (MNIST layout), plain or gzip (zlib reads both). The first byte picks images (3
 * dims) or labels (1 dim) and a record limit. */
#include "fuzz_file.h"

#include "io/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    cnv_idx idx;
    int ndim = data[0] & 1 ? 3 : 1, limit = data[0] >> 1;
    if (cnv_idx_read(fuzz_file(data + 1, size - 1, ".idx"), ndim, limit, &idx) == CNV_OK) cnv_idx_free(&idx);
    return 0;
}
