/* Keras .h5 read in this process (keras_load_direct, what the sandbox's child runs), so that
 * crashes in cnnvis's own code show; crashes inside libhdf5 are what the sandbox contains
 * (run with -fork=N -ignore_crashes=1 to go on past them). The first byte picks a full model or
 * a weights-only VGG16 file. */
#include "fuzz_file.h"

#include "models/keras_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    cnv_graph *g = NULL;
    const char *arch = data[0] & 1 ? "vgg16" : NULL;
    if (keras_load_direct(fuzz_file(data + 1, size - 1, ".h5"), arch, 32, 32, &g) == CNV_OK) cnv_model_free(g);
    return 0;
}
