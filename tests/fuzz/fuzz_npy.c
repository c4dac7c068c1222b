/* NumPy .npy: the header dict, its size checks, the data. */
#include "fuzz_file.h"

#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    float *x = NULL;
    cnv_shape s;
    if (cnv_npy_read(fuzz_file(data, size, ".npy"), &x, &s) == CNV_OK) free(x);
    return 0;
}
