/* cnv_model_load: picks the importer by file extension. */
#include "models/keras.h"
#include "models/onnx.h"
#include "core/status.h"

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

cnv_status cnv_model_load_arch(const char *path, const char *arch, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_arch: no path given");
    *out = NULL;
    if (!arch || !arch[0]) return cnv_model_load(path, out);
    return cnv_keras_load_arch(path, arch, 0, out);
}
