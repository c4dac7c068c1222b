/* ImageNet architectures in torchvision's layouts, with seeded He-uniform weights: what
 * `cnnvis bench` measures and `cnnvis check --arch` checks without a model file.
 *
 * - vgg16: torchvision.models.vgg16 with its node names as torch 1.13 exports them to ONNX (so
 *   the vgg16-torchvision preset is detected at 224). The adaptive average pool is left out: at
 *   224 it is the identity on the 7x7 map, and at other sizes the first Linear takes the actual
 *   map (512 x s/32 x s/32 inputs) instead of a resampled 7x7 one. Dropout is left out (the
 *   identity at inference, and absent from the export).
 * - resnet50: torchvision.models.resnet50 (v1.5: the stride on the 3x3 conv of each bottleneck)
 *   with every BatchNormalization folded into the conv before it, so every conv has a bias and
 *   no BN node remains: what cnnvis's importers make of a trained model's eval-mode BN.
 * - squeezenet1.1: torchvision.models.squeezenet1_1 (Iandola et al. 2016, v1.1) with the Caffe
 *   model's node names (conv1, fire2/squeeze1x1, ..., pool10), so the squeezenet preset is
 *   detected at 227; the dropout before conv10 is left out. */
#include <stdio.h>

#include "models/arch_build.h"

/* torchvision's vgg16 "D" configuration: channels of each 3x3 conv, 0 for a 2x2 max pool. */
static const int vgg16_config[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};

static int build_vgg16(cnv_arch_builder *b, int x) {
    char name[64];
    int index = 0; /* the module's index in torchvision's `features` Sequential */
    for (size_t i = 0; i < sizeof vgg16_config / sizeof vgg16_config[0]; i++) {
        if (vgg16_config[i] == 0) {
            snprintf(name, sizeof name, "/features/features.%d/MaxPool", index++);
            x = cnv_ab_maxpool(b, name, x, 2, 2, 0, 0);
            continue;
        }
        snprintf(name, sizeof name, "/features/features.%d/Conv", index++);
        x = cnv_ab_conv(b, name, x, vgg16_config[i], 3, 1, 1);
        snprintf(name, sizeof name, "/features/features.%d/Relu", index++);
        x = cnv_ab_unary(b, name, CNV_OP_RELU, x);
    }
    x = cnv_ab_unary(b, "/Flatten", CNV_OP_FLATTEN, x);
    x = cnv_ab_dense(b, "/classifier/classifier.0/Gemm", x, 4096);
    x = cnv_ab_unary(b, "/classifier/classifier.1/Relu", CNV_OP_RELU, x);
    x = cnv_ab_dense(b, "/classifier/classifier.3/Gemm", x, 4096);
    x = cnv_ab_unary(b, "/classifier/classifier.4/Relu", CNV_OP_RELU, x);
    return cnv_ab_dense(b, "/classifier/classifier.6/Gemm", x, 1000);
}

/* One bottleneck block "layer<l>.<k>": 1x1 to `planes`, 3x3 (the stride), 1x1 to 4 planes, plus
 * the identity or, when the shape changes, a strided 1x1 projection; then a ReLU. */
static int bottleneck(cnv_arch_builder *b, const char *block, int x, int planes, int stride) {
    char name[64];
    int in_channels = x >= 0 ? b->g->values[x].shape.d[1] : 0;
    snprintf(name, sizeof name, "%s.conv1", block);
    int y = cnv_ab_conv(b, name, x, planes, 1, 1, 0);
    snprintf(name, sizeof name, "%s.relu1", block);
    y = cnv_ab_unary(b, name, CNV_OP_RELU, y);
    snprintf(name, sizeof name, "%s.conv2", block);
    y = cnv_ab_conv(b, name, y, planes, 3, stride, 1);
    snprintf(name, sizeof name, "%s.relu2", block);
    y = cnv_ab_unary(b, name, CNV_OP_RELU, y);
    snprintf(name, sizeof name, "%s.conv3", block);
    y = cnv_ab_conv(b, name, y, 4 * planes, 1, 1, 0);
    int shortcut = x;
    if (stride != 1 || in_channels != 4 * planes) {
        snprintf(name, sizeof name, "%s.downsample", block);
        shortcut = cnv_ab_conv(b, name, x, 4 * planes, 1, stride, 0);
    }
    snprintf(name, sizeof name, "%s.add", block);
    int sum[2] = {y, shortcut};
    y = cnv_ab_op(b, name, CNV_OP_ADD, 2, sum);
    snprintf(name, sizeof name, "%s.relu", block);
    return cnv_ab_unary(b, name, CNV_OP_RELU, y);
}

static int build_resnet50(cnv_arch_builder *b, int x) {
    static const int blocks[4] = {3, 4, 6, 3};
    x = cnv_ab_conv(b, "conv1", x, 64, 7, 2, 3);
    x = cnv_ab_unary(b, "relu", CNV_OP_RELU, x);
    x = cnv_ab_maxpool(b, "maxpool", x, 3, 2, 1, 0);
    for (int l = 0; l < 4; l++)
        for (int k = 0; k < blocks[l]; k++) {
            char block[32];
            snprintf(block, sizeof block, "layer%d.%d", l + 1, k);
            x = bottleneck(b, block, x, 64 << l, k == 0 && l > 0 ? 2 : 1);
        }
    x = cnv_ab_unary(b, "avgpool", CNV_OP_GLOBALAVGPOOL, x);
    x = cnv_ab_unary(b, "flatten", CNV_OP_FLATTEN, x);
    return cnv_ab_dense(b, "fc", x, 1000);
}

/* A fire module "fire<n>": squeeze 1x1, then expand 1x1 and 3x3 side by side, concatenated. */
static int fire(cnv_arch_builder *b, int n, int x, int squeeze, int expand) {
    char name[64];
    snprintf(name, sizeof name, "fire%d/squeeze1x1", n);
    x = cnv_ab_conv(b, name, x, squeeze, 1, 1, 0);
    snprintf(name, sizeof name, "fire%d/relu_squeeze1x1", n);
    x = cnv_ab_unary(b, name, CNV_OP_RELU, x);
    int branch[2];
    for (int k = 0; k < 2; k++) {
        const char *kind = k ? "3x3" : "1x1";
        snprintf(name, sizeof name, "fire%d/expand%s", n, kind);
        branch[k] = cnv_ab_conv(b, name, x, expand, k ? 3 : 1, 1, k);
        snprintf(name, sizeof name, "fire%d/relu_expand%s", n, kind);
        branch[k] = cnv_ab_unary(b, name, CNV_OP_RELU, branch[k]);
    }
    snprintf(name, sizeof name, "fire%d/concat", n);
    return cnv_ab_op(b, name, CNV_OP_CONCAT, 2, branch);
}

static int build_squeezenet11(cnv_arch_builder *b, int x) {
    x = cnv_ab_conv(b, "conv1", x, 64, 3, 2, 0);
    x = cnv_ab_unary(b, "relu_conv1", CNV_OP_RELU, x);
    x = cnv_ab_maxpool(b, "pool1", x, 3, 2, 0, 1);
    x = fire(b, 2, x, 16, 64);
    x = fire(b, 3, x, 16, 64);
    x = cnv_ab_maxpool(b, "pool3", x, 3, 2, 0, 1);
    x = fire(b, 4, x, 32, 128);
    x = fire(b, 5, x, 32, 128);
    x = cnv_ab_maxpool(b, "pool5", x, 3, 2, 0, 1);
    x = fire(b, 6, x, 48, 192);
    x = fire(b, 7, x, 48, 192);
    x = fire(b, 8, x, 64, 256);
    x = fire(b, 9, x, 64, 256);
    x = cnv_ab_conv(b, "conv10", x, 1000, 1, 1, 0);
    x = cnv_ab_unary(b, "relu_conv10", CNV_OP_RELU, x);
    x = cnv_ab_unary(b, "pool10", CNV_OP_GLOBALAVGPOOL, x);
    return cnv_ab_unary(b, "prob_flat", CNV_OP_FLATTEN, x);
}

const cnv_arch_net cnv_arch_nets[] = {
    {"vgg16", "3xSxS RGB (S = 224): torchvision VGG16 (13 conv3x3 + relu, 5 maxpool2, dense 4096-4096-1000 on the "
              "512 x S/32 x S/32 map), 138M parameters at 224",
     224, 32, build_vgg16},
    {"resnet50", "3xSxS RGB (S = 224): torchvision ResNet-50 v1.5 with BatchNorm folded into conv biases, 25.6M "
                 "parameters",
     224, 32, build_resnet50},
    {"squeezenet1.1", "3xSxS RGB (S = 227): SqueezeNet 1.1 (torchvision squeezenet1_1, Caffe node names), 1.2M "
                      "parameters",
     227, 32, build_squeezenet11},
};
const int cnv_arch_net_count = (int)(sizeof cnv_arch_nets / sizeof cnv_arch_nets[0]);
