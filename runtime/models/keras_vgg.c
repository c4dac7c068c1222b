/* VGG16 / VGG19 as keras.applications defines them, for weights-only .h5 files (which carry no
 * topology): 5 blocks of 3x3 "same" ReLU convs (blockB_convI) each ending in a 2x2 max pool
 * (blockB_pool), then, with the top, flatten, fc1 and fc2 (ReLU) and predictions (softmax). */
#include "models/keras_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

static const int block_widths[5] = {64, 128, 256, 512, 512};

/* Adds a layer reading the previous one. */
static keras_layer *add_after(const char *path, keras_model *m, const char *name, const char *cls, keras_kind kind,
                              cnv_status *st) {
    keras_layer *l = keras_model_add(m, name, cls, kind);
    if (l && m->n > 1) {
        l->inputs[0] = malloc(strlen(m->layers[m->n - 2].name) + 1);
        if (l->inputs[0]) {
            strcpy(l->inputs[0], m->layers[m->n - 2].name);
            l->n_in = 1;
        } else {
            l = NULL;
        }
    }
    if (!l) *st = cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    return l;
}

static int has_name(char **names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return 1;
    return 0;
}

/* The dims of the first weight (the kernel) a layer stores. */
static cnv_status kernel_dims(const char *path, hid_t weights, const char *layer, int dims[4]) {
    hid_t group = H5Gopen2(weights, layer, H5P_DEFAULT);
    if (group < 0) return cnv_fail(CNV_ERR_FORMAT, "%s: layer '%s' has no weights in the file", path, layer);
    char **names;
    int n, rank = 0;
    cnv_status st = keras_h5_string_list(path, group, "weight_names", &names, &n);
    if (st == CNV_OK && n < 1) st = cnv_fail(CNV_ERR_FORMAT, "%s: layer '%s' has no weights in the file", path, layer);
    if (st == CNV_OK) st = keras_h5_dataset_dims(path, group, names[0], &rank, dims);
    if (st == CNV_OK && rank != 2)
        st = cnv_fail(CNV_ERR_SHAPE, "%s: layer '%s' (Dense): kernel has %d dims in the file, expected 2", path, layer, rank);
    keras_h5_free_list(names, n);
    H5Gclose(group);
    return st;
}

/* With the top, the input side follows from fc1's rows: 512 * s * s for a 32s x 32s image. */
static cnv_status side_from_fc1(const char *path, hid_t weights, int *side, int units[3]) {
    static const char *head[3] = {"fc1", "fc2", "predictions"};
    int dims[4];
    for (int k = 0; k < 3; k++) {
        CNV_TRY(kernel_dims(path, weights, head[k], dims));
        units[k] = dims[1];
        if (k > 0) continue;
        int s = 1;
        while (512 * s * s < dims[0]) s++;
        if (512 * s * s != dims[0])
            return cnv_fail(CNV_ERR_SHAPE, "%s: layer 'fc1' (Dense): kernel has shape %dx%d in the file, expected "
                            "(512*s*s)x%d, e.g. 25088x%d for a 224x224 input", path, dims[0], dims[1], dims[1], dims[1]);
        *side = 32 * s;
    }
    return CNV_OK;
}

cnv_status keras_vgg_layers(const char *path, hid_t weights, int depth, int side, keras_model *m) {
    char **names;
    int n_names;
    CNV_TRY(keras_h5_string_list(path, weights, "layer_names", &names, &n_names));
    int top = has_name(names, n_names, "fc1") || has_name(names, n_names, "predictions");
    keras_h5_free_list(names, n_names);

    int units[3] = {0, 0, 0};
    if (top) CNV_TRY(side_from_fc1(path, weights, &side, units));
    if (!side) side = 224;
    if (side < 32) return cnv_fail(CNV_ERR_ARG, "%s: VGG needs an input of at least 32x32 (got %d)", path, side);

    cnv_status st = CNV_OK;
    keras_layer *l = keras_model_add(m, "input_1", "InputLayer", KL_INPUT);
    if (!l) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    l->rank = 3;
    l->shape[0] = l->shape[1] = side;
    l->shape[2] = 3;
    int convs_in_block = depth == 16 ? 3 : 4; /* blocks 3..5; blocks 1 and 2 have two */
    char name[64];
    for (int block = 1; block <= 5 && st == CNV_OK; block++) {
        int convs = block <= 2 ? 2 : convs_in_block;
        for (int i = 1; i <= convs && st == CNV_OK; i++) {
            snprintf(name, sizeof name, "block%d_conv%d", block, i);
            if (!(l = add_after(path, m, name, "Conv2D", KL_CONV, &st))) break;
            l->units = block_widths[block - 1];
            l->kernel[0] = l->kernel[1] = 3;
            l->same = 1;
            l->act.op = CNV_OP_RELU;
        }
        snprintf(name, sizeof name, "block%d_pool", block);
        if (st != CNV_OK || !(l = add_after(path, m, name, "MaxPooling2D", KL_MAXPOOL, &st))) break;
        l->kernel[0] = l->kernel[1] = l->strides[0] = l->strides[1] = 2;
    }
    if (!top || st != CNV_OK) return st;
    if (!add_after(path, m, "flatten", "Flatten", KL_FLATTEN, &st)) return st;
    static const char *head[3] = {"fc1", "fc2", "predictions"};
    for (int k = 0; k < 3; k++) {
        if (!(l = add_after(path, m, head[k], "Dense", KL_DENSE, &st))) return st;
        l->units = units[k];
        l->act.op = k < 2 ? CNV_OP_RELU : CNV_OP_SOFTMAX;
    }
    return CNV_OK;
}
