/* A serialized ONNX TensorProto (.pb), as the ONNX test data and --input read them. */
#include "fuzz_file.h"

#include "models/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    float *x = NULL;
    cnv_shape s;
    if (cnv_onnx_read_tensor(fuzz_file(data, size, ".pb"), &x, &s) == CNV_OK) free(x);
    return 0;
}
