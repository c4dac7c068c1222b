/* ONNX model import: protobuf decoding, attributes, constant folding, shape inference. */
#include "fuzz_file.h"

#include "models/onnx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cnv_graph *g = NULL;
    if (cnv_onnx_load(fuzz_file(data, size, ".onnx"), &g) == CNV_OK) cnv_model_free(g);
    return 0;
}
