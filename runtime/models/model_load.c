/* cnv_model_load: picks the importer by file extension, then refuses weights that are not
 * finite numbers: a NaN or infinity in a weight turns every output it reaches into NaN (a black
 * picture, "confident" probabilities), so a damaged file is named at load instead. */
#include "models/keras.h"
#include "models/onnx.h"
#include "core/graph.h"
#include "core/sha256.h"
#include "core/status.h"
#include "cnnvis/cnnvis.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

static int has_extension(const char *path, const char *ext) {
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* The index of the first element of x that is not finite, or n. The test runs a block at a time
 * without an early exit, on the bits (an exponent of all ones is a NaN or an infinity), so that
 * the compiler vectorizes it: VGG16's 138 million weights take a few tens of ms, not a quarter
 * of a second. */
static size_t first_not_finite(const float *x, size_t n) {
    enum { BLOCK = 4096 };
    for (size_t at = 0; at < n; at += BLOCK) {
        const size_t end = n - at < BLOCK ? n : at + BLOCK;
        uint32_t any = 0;
        for (size_t k = at; k < end; k++) {
            uint32_t bits;
            memcpy(&bits, &x[k], sizeof bits);
            any |= (bits & 0x7f800000u) == 0x7f800000u;
        }
        for (size_t k = at; any && k < end; k++)
            if (!isfinite(x[k])) return k;
    }
    return n;
}

static cnv_status check_finite(const char *path, cnv_graph *g) {
    for (int i = 0; i < g->n_values; i++) {
        const cnv_value *v = &g->values[i];
        if (!v->init) continue;
        const size_t n = cnv_shape_numel(&v->shape), k = first_not_finite(v->init, n);
        if (k < n) {
            cnv_status st = cnv_fail(CNV_ERR_FORMAT, "%s: weight '%s' holds %s at element %zu of %zu (a damaged "
                                     "model)", path, v->name, isnan(v->init[k]) ? "NaN" : "an infinity", k, n);
            cnv_graph_free(g);
            return st;
        }
    }
    return CNV_OK;
}

/* The loaded graph, or nothing when a weight is not finite. */
static cnv_status finish(const char *path, cnv_status st, cnv_graph **out) {
    if (st != CNV_OK) return st;
    st = check_finite(path, *out);
    if (st != CNV_OK) *out = NULL;
    return st;
}

/* A loaded graph whose input is not height x width (0: any) is freed and refused, naming the
 * size it has: its importer could not make another. */
static cnv_status refuse_other_size(const char *path, int height, int width, cnv_graph **out) {
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

cnv_status cnv_model_load(const char *path, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load: no path given");
    *out = NULL;
    if (has_extension(path, ".onnx")) return finish(path, cnv_onnx_load(path, out), out);
    if (has_extension(path, ".h5") || has_extension(path, ".hdf5")) return finish(path, cnv_keras_load(path, out), out);
    return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: unknown model format (expected .onnx or .h5)", path);
}

cnv_status cnv_model_load_sized(const char *path, int height, int width, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_sized: no path given");
    *out = NULL;
    if (height < 0 || width < 0)
        return cnv_fail(CNV_ERR_ARG, "%s: input size %dx%d is not positive", path, height, width);
    if (has_extension(path, ".onnx")) return finish(path, cnv_onnx_load_sized(path, height, width, out), out);
    if (!has_extension(path, ".h5") && !has_extension(path, ".hdf5")) return cnv_model_load(path, out);
    /* A Keras file's None height and width take the size; one it fixes refuses another. */
    CNV_TRY(finish(path, cnv_keras_load_sized(path, height, width, out), out));
    return refuse_other_size(path, height, width, out);
}

cnv_status cnv_model_load_arch_sized(const char *path, const char *arch, int height, int width, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_arch_sized: no path given");
    *out = NULL;
    if (!arch || !arch[0]) return cnv_model_load_sized(path, height, width, out);
    if (height < 0 || width < 0)
        return cnv_fail(CNV_ERR_ARG, "%s: input size %dx%d is not positive", path, height, width);
    /* The built architectures take a square input (keras_vgg.c). */
    if (height && width && height != width)
        return cnv_fail(CNV_ERR_SHAPE, "%s: architecture %s takes a square input, not %dx%d", path, arch, height, width);
    CNV_TRY(finish(path, cnv_keras_load_arch(path, arch, height ? height : width, out), out));
    return refuse_other_size(path, height, width, out);
}

cnv_status cnv_model_load_arch(const char *path, const char *arch, cnv_graph **out) {
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_arch: no path given");
    *out = NULL;
    if (!arch || !arch[0]) return cnv_model_load(path, out);
    return finish(path, cnv_keras_load_arch(path, arch, 0, out), out);
}

cnv_status cnv_model_load_with(const char *path, const cnv_load_opts *opts, cnv_graph **out) {
    static const cnv_load_opts defaults = {0};
    const cnv_load_opts *o = opts ? opts : &defaults;
    if (!path || !out) return cnv_fail(CNV_ERR_ARG, "cnv_model_load_with: no path given");
    *out = NULL;
    const int h = o->height, w = o->width, arch = o->arch && o->arch[0];
    if (o->sha256 && !arch && has_extension(path, ".onnx")) {
        if (h < 0 || w < 0) return cnv_fail(CNV_ERR_ARG, "%s: input size %dx%d is not positive", path, h, w);
        return finish(path, cnv_onnx_load_hashed(path, h, w, out), out);
    }
    CNV_TRY(cnv_model_load_arch_sized(path, o->arch, h, w, out));
    /* libhdf5 reads a Keras file in the sandbox's child: its digest takes a read of its own. */
    if (o->sha256 && cnv_sha256_file(path, (*out)->sha256) != CNV_OK) (*out)->sha256[0] = '\0';
    return CNV_OK;
}
