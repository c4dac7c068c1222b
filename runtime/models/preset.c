/* The preset table. Values come from how each model was trained:
 * - squeezenet: forresti/SqueezeNet v1.1 train_val.prototxt (Caffe): BGR, 0..255, mean
 *   B=104 G=117 R=123, no scaling. Its ONNX form (shared/models, converted from the OpenVINO IR)
 *   ends conv10 -> relu_conv10 -> pool10 (global average) -> prob_flat -> prob (Softmax), so
 *   the logits are pool10's 1000 values.
 * - mnist-zoo: the ONNX model zoo MNIST CNN: a white digit on black, raw 0..255, no mean; its
 *   graph output Plus214_Output_0 is already the logits.
 * - generic: never detected; used when nothing matches, taking the model's own input size. */
#include "models/preset.h"

#include <stdio.h>
#include <string.h>

static const char *const digit_labels[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

static const cnv_preset presets[] = {
    {
        .name = "squeezenet",
        .description = "SqueezeNet 1.1 ImageNet (Caffe): 3x227x227 BGR 0..255 minus mean (104,117,123)",
        .channels = 3, .height = 227, .width = 227,
        .order = CNV_ORDER_BGR,
        .scale = 1.0f,
        .mean = {104.0f, 117.0f, 123.0f},
        .std = {1.0f, 1.0f, 1.0f},
        .logits_layer = "pool10",
        .labels_file = "synset_words.txt",
        .default_layers = "conv1,fire2/concat,fire3/concat,fire4/concat,fire5/concat,fire6/concat,"
                          "fire7/concat,fire8/concat,fire9/concat,conv10",
    },
    {
        .name = "mnist-zoo",
        .description = "ONNX model zoo MNIST CNN: 1x28x28 gray, raw 0..255, white digit on black",
        .channels = 1, .height = 28, .width = 28,
        .order = CNV_ORDER_GRAY,
        .scale = 1.0f,
        .mean = {0.0f, 0.0f, 0.0f},
        .std = {1.0f, 1.0f, 1.0f},
        .logits_layer = NULL,
        .builtin_labels = digit_labels,
        .n_builtin_labels = 10,
        .default_layers = "ReLU32,ReLU114",
    },
    {
        /* channels/height/width 0: whatever the model's input is. */
        .name = "generic",
        .description = "any model: its own input size, RGB (gray for 1 channel), 0..1, no mean",
        .order = CNV_ORDER_RGB,
        .scale = 1.0f / 255.0f,
        .mean = {0.0f, 0.0f, 0.0f},
        .std = {1.0f, 1.0f, 1.0f},
    },
};
static const int n_presets = (int)(sizeof presets / sizeof presets[0]);

const cnv_preset *cnv_preset_find(const char *name) {
    for (int i = 0; i < n_presets; i++)
        if (strcmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}

static int input_is(const cnv_graph *g, int c, int h, int w) {
    cnv_shape want = cnv_shape4(1, c, h, w);
    return cnv_shape_equal(&g->values[g->input].shape, &want);
}

const cnv_preset *cnv_preset_detect(const cnv_graph *g) {
    if (g->input < 0 || g->output < 0) return NULL;
    if (input_is(g, 3, 227, 227) && cnv_shape_numel(&g->values[g->output].shape) == 1000)
        return cnv_preset_find("squeezenet");
    if (input_is(g, 1, 28, 28) && strcmp(g->values[g->input].name, "Input3") == 0)
        return cnv_preset_find("mnist-zoo");
    return NULL;
}

void cnv_preset_list(char *buf, size_t size) {
    size_t used = 0;
    if (size) buf[0] = '\0';
    for (int i = 0; i < n_presets && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", presets[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
}
