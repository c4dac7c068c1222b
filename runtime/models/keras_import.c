/* Keras .h5 entry points: tells a full model from a weights-only file, gets the layer list from
 * model_config or from the named architecture, builds the graph and folds BatchNormalization. */
#include "models/keras.h"
#include "models/keras_internal.h"

#include <stdlib.h>
#include <strings.h>

#include "core/status.h"

/* The group holding one subgroup per layer: /model_weights in a full model, the root in a
 * weights-only file. */
static hid_t open_weights(hid_t file) {
    if (H5Lexists(file, "model_weights", H5P_DEFAULT) > 0) return H5Gopen2(file, "model_weights", H5P_DEFAULT);
    return H5Gopen2(file, "/", H5P_DEFAULT);
}

static cnv_status build_and_fold(const char *path, const keras_model *m, hid_t weights, keras_fit *fit,
                                 cnv_graph **out) {
    CNV_TRY(keras_build_graph(path, m, weights, fit, out));
    cnv_status st = cnv_graph_fold_batchnorm(*out);
    if (st != CNV_OK) {
        cnv_graph_free(*out);
        *out = NULL;
    }
    return st;
}

/* The square side at which a None-sized input gives the Dense of `fit` the features its kernel
 * takes (0: none does). The features grow with the side (convolutions, pools, paddings and
 * upsamplings all do), so a bisection finds it; a size at which the model cannot be built at all
 * counts as too small. */
static int fitting_side(const char *path, keras_model *m, hid_t weights, const keras_fit *fit) {
    int lo = 1, hi = 1 << 12; /* the answer, if any, is in [lo, hi]; checked by a last build */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        m->want_hw[0] = m->want_hw[1] = mid;
        keras_fit at = {0, 0, NULL};
        cnv_graph *g = NULL;
        cnv_status st = build_and_fold(path, m, weights, &at, &g);
        cnv_graph_free(g);
        int enough = st == CNV_OK || (at.want && at.have >= fit->want);
        if (enough) hi = mid;
        else lo = mid + 1;
    }
    m->want_hw[0] = m->want_hw[1] = lo;
    keras_fit at = {0, 0, NULL};
    cnv_graph *g = NULL;
    cnv_status st = build_and_fold(path, m, weights, &at, &g);
    cnv_graph_free(g);
    return st == CNV_OK ? lo : 0;
}

/* Builds at the size asked for (height x width, 0: the default where the input is None). A
 * None-sized input followed by a Flatten and a Dense runs at one size only: without a size
 * asked that one is found and built; another size is refused naming it. */
static cnv_status build_sized(const char *path, keras_model *m, hid_t weights, int height, int width,
                              cnv_graph **out) {
    m->want_hw[0] = height;
    m->want_hw[1] = width;
    keras_fit fit;
    cnv_status st = build_and_fold(path, m, weights, &fit, out);
    if (st != CNV_ERR_SHAPE || !fit.want) return st;
    char why[1024], layer[256];
    snprintf(why, sizeof why, "%s", cnv_last_error());
    snprintf(layer, sizeof layer, "%s", fit.layer);
    const int side = fitting_side(path, m, weights, &fit);
    int channels = 0;
    for (int i = 0; i < m->n; i++)
        if (m->layers[i].kind == KL_INPUT) channels = m->layers[i].shape[2];
    if (!side) return cnv_fail(CNV_ERR_SHAPE, "%s (no input size gives the %d features it takes)", why, fit.want);
    if (height || width)
        return cnv_fail(CNV_ERR_SHAPE, "%s: the model's input is fixed at 1x%dx%dx%d (its None height and width meet "
                        "layer '%s', a Dense of %d features); it cannot run at %dx%d", path, channels, side, side, layer,
                        fit.want, height, width);
    m->want_hw[0] = m->want_hw[1] = side;
    CNV_TRY(build_and_fold(path, m, weights, NULL, out));
    (*out)->input_symbolic &= ~12u; /* it runs at this size only */
    return CNV_OK;
}

static cnv_status load_full(const char *path, hid_t file, int height, int width, cnv_graph **out) {
    if (!keras_h5_has_attr(file, "model_config")) {
        if (keras_h5_has_attr(file, "layer_names") || keras_h5_has_attr(file, "layer_names0"))
            return cnv_fail(CNV_ERR_ARG, "%s: a weights-only Keras file (no model_config): pass its architecture with "
                            "--arch vgg16 or --arch vgg19", path);
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a Keras model (no model_config or layer_names attribute)", path);
    }
    char *config;
    CNV_TRY(keras_h5_string_attr(path, file, "model_config", &config));
    keras_model m = {0};
    char *version = NULL;
    if (keras_h5_has_attr(file, "keras_version") && keras_h5_string_attr(path, file, "keras_version", &version) == CNV_OK)
        m.keras3 = version[0] >= '3' && version[0] <= '9' && version[1] == '.';
    free(version);
    cnv_status st = keras_config_parse(path, config, &m);
    free(config);
    hid_t weights = st == CNV_OK ? open_weights(file) : H5I_INVALID_HID;
    if (st == CNV_OK && weights < 0) st = cnv_fail(CNV_ERR_FORMAT, "%s: the weights group cannot be opened", path);
    if (st == CNV_OK) st = build_sized(path, &m, weights, height, width, out);
    if (weights >= 0) H5Gclose(weights);
    keras_model_free(&m);
    return st;
}

static cnv_status load_arch(const char *path, hid_t file, int depth, int side, cnv_graph **out) {
    hid_t weights = open_weights(file);
    if (weights < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: the weights group cannot be opened", path);
    keras_model m = {0};
    cnv_status st = keras_vgg_layers(path, weights, depth, side, &m);
    if (st == CNV_OK) st = build_and_fold(path, &m, weights, NULL, out);
    keras_model_free(&m);
    H5Gclose(weights);
    return st;
}

static int arch_depth(const char *arch) {
    return !arch ? 0 : !strcasecmp(arch, "vgg16") ? 16 : !strcasecmp(arch, "vgg19") ? 19 : 0;
}

cnv_status keras_load_direct(const char *path, const char *arch, int height, int width, cnv_graph **out) {
    *out = NULL;
    hid_t file;
    CNV_TRY(keras_h5_open(path, &file));
    cnv_status st = arch ? load_arch(path, file, arch_depth(arch), height, out) : load_full(path, file, height, width, out);
    H5Fclose(file);
    return st;
}

cnv_status cnv_keras_load(const char *path, cnv_graph **out) { return keras_load_isolated(path, NULL, 0, 0, out); }

cnv_status cnv_keras_load_sized(const char *path, int height, int width, cnv_graph **out) {
    *out = NULL;
    if (height < 0 || width < 0) return cnv_fail(CNV_ERR_ARG, "%s: input size %dx%d is negative", path, height, width);
    return keras_load_isolated(path, NULL, height, width, out);
}

cnv_status cnv_keras_load_arch(const char *path, const char *arch, int side, cnv_graph **out) {
    *out = NULL;
    if (!arch_depth(arch))
        return cnv_fail(CNV_ERR_ARG, "%s: unknown architecture '%s' for a Keras weights file (vgg16, vgg19)", path,
                        arch ? arch : "");
    if (side < 0) return cnv_fail(CNV_ERR_ARG, "%s: input size %d is negative", path, side);
    return keras_load_isolated(path, arch, side, side, out);
}
