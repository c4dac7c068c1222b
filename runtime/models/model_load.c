/* cnv_model_load: picks the importer by file extension. */
#include "models/keras.h"
#include "models/onnx.h"
#include "core/status.h"
#include "cnnvis/cnnvis.h"

#include <string.h>
#include <strings.h>

static int has_extension(const char *path, const char *ext) {
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

cnv_status cnv_model_load(const char *path, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load: no path given");
    *out = NULL;
    if (has_extension(path, ".onnx")) return cnv_onnx_load(path, out);
    if (has_extension(path, ".h5") || has_extension(path, ".hdf5")) return cnv_keras_load(path, out);
    return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: unknown model format (expected .onnx or .h5)", path);
}

cnv_status cnv_model_load_sized(const char *path, int height, int width, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_sized: no path given");
    *out = NULL;
    if (height < 0 || width < 0)
        return cnv_fail(CNV_ERR_ARG, "%s: input size %dx%d is not positive", path, height, width);
    if (has_extension(path, ".onnx")) return cnv_onnx_load_sized(path, height, width, out);
    CNV_TRY(cnv_model_load(path, out));
    /* Keras files freeze their input size at load (keras_build.c): another one is refused. */
    const cnv_shape *in = &(*out)->values[(*out)->input].shape;
    if ((height || width) && (in->ndim != 4 || (height && in->d[2] != height) || (width && in->d[3] != width))) {
        char fixed[64];
        cnv_shape_str(in, fixed, sizeof fixed);
        cnv_graph_free(*out);
        *out = NULL;
        return cnv_fail(CNV_ERR_SHAPE, "%s: the model's input is fixed at %s; it cannot run at %dx%d", path, fixed,
                        height, width);
    }
    return CNV_OK;
}

cnv_status cnv_model_load_arch(const char *path, const char *arch, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_arch: no path given");
    *out = NULL;
    if (!arch || !arch[0]) return cnv_model_load(path, out);
    return cnv_keras_load_arch(path, arch, 0, out);
}
