/* The preset table. Values come from how each model was trained:
 * - squeezenet: forresti/SqueezeNet v1.1 train_val.prototxt (Caffe): BGR, 0..255, mean
 *   B=104 G=117 R=123, no scaling. Its ONNX form (shared/models, converted from the OpenVINO IR)
 *   ends conv10 -> relu_conv10 -> pool10 (global average) -> prob_flat -> prob (Softmax), so
 *   the logits are pool10's 1000 values.
 * - mnist-zoo: the ONNX model zoo MNIST CNN: a white digit on black, raw 0..255, no mean; its
 *   graph output Plus214_Output_0 is already the logits.
 * - vgg16-keras, vgg19-keras: keras.applications VGG16/VGG19, whose preprocess_input is the
 *   "caffe" mode: RGB -> BGR, 0..255, minus the ImageNet mean B=103.939 G=116.779 R=123.68, no
 *   scaling. The Keras importer (keras_build.c) names a Conv2D/Dense layer's activation node
 *   after the layer and the conv or matrix product before it "<layer>/conv" or "<layer>/dense":
 *   block5_conv3 is the ReLU output, as in Keras, and the last Dense, "predictions", whose
 *   activation is softmax, has its pre-softmax logits in "predictions/dense". Class order is
 *   the sorted-WordNet-id order of Caffe's synset_words.txt.
 * - vgg16-torchvision: torchvision.models.vgg16: RGB, 0..1, ImageNet mean/std. Node names are
 *   those torch.onnx.export (torch 1.13) writes: "/<module path>/<OpType>", so features[28]
 *   (block 5's last conv) is "/features/features.28/Conv"; checked against a real export in
 *   tests/fixtures/torch_arch/vgg16_tv_names.onnx. The default layers are each block's last
 *   conv, as for Keras (block1_conv2 = features.2, ..., block5_conv3 = features.28).
 * - imagenet-torchvision: any other torchvision ImageNet classifier exported by torch.onnx.export
 *   (ResNet, SqueezeNet, MobileNet, ...: torchvision's weights all take the same input): RGB,
 *   0..1, ImageNet mean/std, the model's own input size. Recognized by 1000 outputs, a 3-channel
 *   input and node names as torch (1.13 and later) writes them, "/<module path>/<OpType>".
 * - mobilenet-keras: keras.applications MobileNet and MobileNetV2, whose preprocess_input is the
 *   "tf" mode, x / 127.5 - 1 (RGB, -1..1), at the model's own size (128..224). Recognized by
 *   1000 outputs and the applications' layer names: conv_dw_1 and conv_pw_1 (v1),
 *   block_1_expand and block_1_depthwise (v2).
 * - fashion-mnist: models/fashion_mnist.onnx, trained by `cnnvis train` on pixels / 255 (gray,
 *   0..1, no mean); detected by the input name the training command gives it.
 * - bgr255: never detected (nothing in a file says how its pixels were read): models trained on
 *   frames read by OpenCV (cv2.imread, VideoCapture) without scaling, such as the lane U-Net of
 *   ../shared/models/SOURCES.md M: BGR, raw 0..255, no mean, the model's own size.
 * - generic: never detected; used when nothing matches, taking the model's own input size. */
#include "models/preset.h"

#include "core/name_list.h"

#include <stdio.h>
#include <string.h>

/* ImageNet mean and std of torchvision's models, for 0..1 RGB. */
#define TORCHVISION_MEAN {0.485f, 0.456f, 0.406f}
#define TORCHVISION_STD {0.229f, 0.224f, 0.225f}
/* The ImageNet mean of keras.applications' "caffe" preprocessing, in BGR order. */
#define CAFFE_BGR_MEAN {103.939f, 116.779f, 123.68f}

static const char *const digit_labels[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

static const char *const cifar10_labels[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                               "dog", "frog", "horse", "ship", "truck"};
static const char *const fashion_labels[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

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
        .name = "vgg16-keras",
        .description = "Keras VGG16 ImageNet: 3x224x224 BGR 0..255 minus mean (103.939,116.779,123.68)",
        .channels = 3, .height = 224, .width = 224,
        .order = CNV_ORDER_BGR,
        .scale = 1.0f,
        .mean = CAFFE_BGR_MEAN,
        .std = {1.0f, 1.0f, 1.0f},
        .logits_layer = "predictions/dense",
        .labels_file = "synset_words.txt",
        .default_layers = "block1_conv2,block2_conv2,block3_conv3,block4_conv3,block5_conv3",
    },
    {
        .name = "vgg19-keras",
        .description = "Keras VGG19 ImageNet: 3x224x224 BGR 0..255 minus mean (103.939,116.779,123.68)",
        .channels = 3, .height = 224, .width = 224,
        .order = CNV_ORDER_BGR,
        .scale = 1.0f,
        .mean = CAFFE_BGR_MEAN,
        .std = {1.0f, 1.0f, 1.0f},
        .logits_layer = "predictions/dense",
        .labels_file = "synset_words.txt",
        .default_layers = "block1_conv2,block2_conv2,block3_conv4,block4_conv4,block5_conv4",
    },
    {
        .name = "vgg16-torchvision",
        .description = "torchvision VGG16 ImageNet (ONNX from torch 1.13): 3x224x224 RGB 0..1, ImageNet mean/std",
        .channels = 3, .height = 224, .width = 224,
        .order = CNV_ORDER_RGB,
        .scale = 1.0f / 255.0f,
        .mean = TORCHVISION_MEAN,
        .std = TORCHVISION_STD,
        .logits_layer = "/classifier/classifier.6/Gemm",
        .labels_file = "synset_words.txt",
        .default_layers = "/features/features.2/Conv,/features/features.7/Conv,/features/features.14/Conv,"
                          "/features/features.21/Conv,/features/features.28/Conv",
    },
    {
        /* channels/height/width 0: whatever the model's input is (torchvision's CNNs take any). */
        .name = "imagenet-torchvision",
        .description = "torchvision ImageNet classifier (ONNX from torch): RGB 0..1, ImageNet mean/std",
        .order = CNV_ORDER_RGB,
        .scale = 1.0f / 255.0f,
        .mean = TORCHVISION_MEAN,
        .std = TORCHVISION_STD,
        .labels_file = "synset_words.txt",
    },
    {
        /* keras.applications.mobilenet(_v2).preprocess_input: x / 127.5 - 1 = (x / 255 - 0.5) / 0.5.
         * Any size (Keras applications take several); the logits are the softmax's input. */
        .name = "mobilenet-keras",
        .description = "Keras MobileNet / MobileNetV2 ImageNet: RGB scaled to -1..1 (x / 127.5 - 1)",
        .order = CNV_ORDER_RGB,
        .scale = 1.0f / 255.0f,
        .mean = {0.5f, 0.5f, 0.5f},
        .std = {0.5f, 0.5f, 0.5f},
        .labels_file = "synset_words.txt",
    },
    {
        .name = "fashion-mnist",
        .description = "Fashion-MNIST classifier (models/fashion_mnist.onnx): 1x28x28 gray, 0..1",
        .channels = 1, .height = 28, .width = 28,
        .order = CNV_ORDER_GRAY,
        .scale = 1.0f / 255.0f,
        .mean = {0.0f, 0.0f, 0.0f},
        .std = {1.0f, 1.0f, 1.0f},
        .logits_layer = NULL,
        .builtin_labels = fashion_labels,
        .n_builtin_labels = 10,
        .default_layers = "conv1,conv2",
    },
    {
        /* ../shared/models/SOURCES.md: the MLPerf Tiny ResNet-8 takes raw 0..255 RGB. */
        .name = "cifar10-raw",
        .description = "CIFAR-10 classifiers fed raw pixels (MLPerf Tiny ResNet-8): 3x32x32 RGB, 0..255",
        .channels = 3,
        .height = 32,
        .width = 32,
        .order = CNV_ORDER_RGB,
        .scale = 1.0f,
        .std = {1.0f, 1.0f, 1.0f},
        .builtin_labels = cifar10_labels,
        .n_builtin_labels = 10,
        .default_layers = "activation_2,activation_4,activation_6", /* the ends of ResNet-8's three stages */
    },
    {
        /* The Keras CIFAR-10 tutorials' convention: pixels / 255. */
        .name = "cifar10",
        .description = "CIFAR-10 classifiers of the Keras tutorials: 3x32x32 RGB, 0..1",
        .channels = 3,
        .height = 32,
        .width = 32,
        .order = CNV_ORDER_RGB,
        .scale = 1.0f / 255.0f,
        .std = {1.0f, 1.0f, 1.0f},
        .builtin_labels = cifar10_labels,
        .n_builtin_labels = 10,
        .default_layers = "conv2d,conv2d_1", /* tf.keras's names of the first two Conv2D layers */
    },
    {
        /* channels/height/width 0: whatever the model's input is. */
        .name = "bgr255",
        .description = "any model fed cv2.imread pixels: its own input size, BGR, raw 0..255, no mean",
        .order = CNV_ORDER_BGR,
        .scale = 1.0f,
        .std = {1.0f, 1.0f, 1.0f},
    },
    /* channels/height/width 0: whatever the model's input is. */
    CNV_PRESET_GENERIC,
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

static int has_node(const cnv_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return 1;
    return 0;
}

/* A node named `layer` or "<layer>/..." (the Keras importer's names for a layer's parts). */
static int has_layer(const cnv_graph *g, const char *layer) {
    size_t n = strlen(layer);
    for (int i = 0; i < g->n_nodes; i++)
        if (strncmp(g->nodes[i].name, layer, n) == 0 && (g->nodes[i].name[n] == '\0' || g->nodes[i].name[n] == '/'))
            return 1;
    return 0;
}

/* torch.onnx.export (torch 1.13 on) names every node "/<module path>/<OpType>". */
static int torch_node_names(const cnv_graph *g) {
    if (g->n_nodes == 0) return 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].name[0] != '/') return 0;
    return 1;
}

static const cnv_preset *found(const char *preset, char *why, size_t size, const char *reason, const char *detail) {
    if (why && size) snprintf(why, size, "detected: %s%s", reason, detail ? detail : "");
    return cnv_preset_find(preset);
}

/* An ImageNet VGG by its layer names: Keras names its convs block<b>_conv<k> and its first
 * dense fc1 (VGG19 has a fourth conv in block 5); torchvision's VGG16 ends its features with
 * the conv features.28 and the pool features.30 (VGG19 has convs up to features.34, and the
 * BatchNorm variants other indices). */
static const cnv_preset *detect_imagenet_vgg(const cnv_graph *g, char *why, size_t size) {
    if (has_node(g, "fc1") && has_node(g, "block5_conv4"))
        return found("vgg19-keras", why, size, "Keras VGG19 layer names (block5_conv4, fc1), 1000 classes", NULL);
    if (has_node(g, "fc1") && has_node(g, "block5_conv3"))
        return found("vgg16-keras", why, size, "Keras VGG16 layer names (block5_conv3, fc1), 1000 classes", NULL);
    if (has_node(g, "/features/features.28/Conv") && has_node(g, "/features/features.30/MaxPool") &&
        has_node(g, "/classifier/classifier.6/Gemm"))
        return found("vgg16-torchvision", why, size,
                     "torchvision VGG16 node names (/features/features.28/Conv, /classifier/classifier.6/Gemm), "
                     "1000 classes",
                     NULL);
    return NULL;
}

/* The ImageNet classifiers whose input size varies: Keras MobileNets, any torchvision export. */
static const cnv_preset *detect_imagenet_any_size(const cnv_graph *g, char *why, size_t size) {
    if (has_layer(g, "conv_dw_1") && has_layer(g, "conv_pw_1"))
        return found("mobilenet-keras", why, size, "Keras MobileNet layer names (conv_dw_1, conv_pw_1), 1000 classes",
                     NULL);
    if (has_layer(g, "block_1_expand") && has_layer(g, "block_1_depthwise"))
        return found("mobilenet-keras", why, size,
                     "Keras MobileNetV2 layer names (block_1_expand, block_1_depthwise), 1000 classes", NULL);
    if (torch_node_names(g)) {
        char detail[160];
        snprintf(detail, sizeof detail, " ('%.100s'), 3-channel input, 1000 classes", g->nodes[0].name);
        return found("imagenet-torchvision", why, size, "node names as torch.onnx.export writes them", detail);
    }
    return NULL;
}

const cnv_preset *cnv_preset_detect_why(const cnv_graph *g, char *why, size_t size) {
    if (why && size) why[0] = '\0';
    if (g->input < 0 || g->output < 0) return NULL;
    const cnv_shape *in = &g->values[g->input].shape;
    size_t outputs = cnv_shape_numel(&g->values[g->output].shape);
    if (input_is(g, 3, 227, 227) && outputs == 1000 && !torch_node_names(g))
        return found("squeezenet", why, size, "3x227x227 input, 1000 classes (Caffe SqueezeNet)", NULL);
    const cnv_preset *p = NULL;
    if (input_is(g, 3, 224, 224) && outputs == 1000) p = detect_imagenet_vgg(g, why, size);
    if (!p && in->ndim == 4 && in->d[1] == 3 && outputs == 1000) p = detect_imagenet_any_size(g, why, size);
    if (p) return p;
    if (input_is(g, 1, 28, 28) && strcmp(g->values[g->input].name, "Input3") == 0)
        return found("mnist-zoo", why, size, "1x28x28 input named Input3 (ONNX model zoo MNIST)", NULL);
    if (input_is(g, 1, 28, 28) && strcmp(g->values[g->input].name, "fashion_mnist_input") == 0)
        return found("fashion-mnist", why, size, "1x28x28 input named fashion_mnist_input (cnnvis train)", NULL);
    return NULL;
}

const cnv_preset *cnv_preset_detect(const cnv_graph *g) { return cnv_preset_detect_why(g, NULL, 0); }

void cnv_preset_list(char *buf, size_t size) {
    if (size) buf[0] = '\0';
    for (int i = 0; i < n_presets; i++) cnv_name_list_append(buf, size, presets[i].name);
}
