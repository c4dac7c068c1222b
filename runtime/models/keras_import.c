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

static cnv_status build_and_fold(const char *path, const keras_model *m, hid_t weights, cnv_graph **out) {
    CNV_TRY(keras_build_graph(path, m, weights, out));
    cnv_status st = cnv_graph_fold_batchnorm(*out);
    if (st != CNV_OK) {
        cnv_graph_free(*out);
        *out = NULL;
    }
    return st;
}

static cnv_status load_full(const char *path, hid_t file, cnv_graph **out) {
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
    if (st == CNV_OK) st = build_and_fold(path, &m, weights, out);
    if (weights >= 0) H5Gclose(weights);
    keras_model_free(&m);
    return st;
}


static cnv_status load_arch(const char *path, hid_t file, int depth, int side, cnv_graph **out) {
    hid_t weights = open_weights(file);
    if (weights < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: the weights group cannot be opened", path);
    keras_model m = {0};
    cnv_status st = keras_vgg_layers(path, weights, depth, side, &m);
    if (st == CNV_OK) st = build_and_fold(path, &m, weights, out);
    keras_model_free(&m);
    H5Gclose(weights);
    return st;
}

static int arch_depth(const char *arch) {
    return !arch ? 0 : !strcasecmp(arch, "vgg16") ? 16 : !strcasecmp(arch, "vgg19") ? 19 : 0;
}

cnv_status keras_load_direct(const char *path, const char *arch, int side, cnv_graph **out) {
    *out = NULL;
    hid_t file;
    CNV_TRY(keras_h5_open(path, &file));
    cnv_status st = arch ? load_arch(path, file, arch_depth(arch), side, out) : load_full(path, file, out);
    H5Fclose(file);
    return st;
}

cnv_status cnv_keras_load(const char *path, cnv_graph **out) { return keras_load_isolated(path, NULL, 0, out); }

cnv_status cnv_keras_load_arch(const char *path, const char *arch, int side, cnv_graph **out) {
    *out = NULL;
    if (!arch_depth(arch))
        return cnv_fail(CNV_ERR_ARG, "%s: unknown architecture '%s' for a Keras weights file (vgg16, vgg19)", path,
                        arch ? arch : "");
    if (side < 0) return cnv_fail(CNV_ERR_ARG, "%s: input size %d is negative", path, side);
    return keras_load_isolated(path, arch, side, out);
}
