/* Shared by the Keras importer's files: HDF5 reading (keras_h5.c), the layer list that both the
 * model_config parser (keras_config.c) and the VGG builder (keras_vgg.c) produce, and the graph
 * builder that turns that list plus the weights into a cnnvis graph (keras_build.c). */
#ifndef CNV_MODELS_KERAS_INTERNAL_H
#define CNV_MODELS_KERAS_INTERNAL_H

#include <hdf5.h>

#include "core/graph.h"

/* ---- HDF5 ---- */

/* Reads a Keras file in this process (arch NULL: a full model; else "vgg16"/"vgg19", square).
 * height x width is the input size asked for (0: the default) where the file leaves it free:
 * a full model's None height and width, a VGG trunk without its classifier.
 * Only for the sandbox's child and the fuzz harness: libhdf5 may crash on a hostile file. */
cnv_status keras_load_direct(const char *path, const char *arch, int height, int width, cnv_graph **out);
/* keras_load_direct in a child process under memory and time limits (keras_sandbox.c). */
cnv_status keras_load_isolated(const char *path, const char *arch, int height, int width, cnv_graph **out);

/* Opens a file read-only with HDF5's own error printing silenced; CNV_ERR_IO when it cannot be
 * read, CNV_ERR_FORMAT when it is not HDF5. */
cnv_status keras_h5_open(const char *path, hid_t *file);
int keras_h5_has_attr(hid_t obj, const char *name);
/* A scalar string attribute (variable or fixed length) into a malloc'ed string. */
cnv_status keras_h5_string_attr(const char *path, hid_t obj, const char *name, char **out);
/* A 1-D string-array attribute; Keras splits big ones into name0, name1, ... which are joined.
 * An empty array (Keras writes those as float64) gives *n = 0. *out holds *n malloc'ed strings. */
cnv_status keras_h5_string_list(const char *path, hid_t obj, const char *name, char ***out, int *n);
void keras_h5_free_list(char **list, int n);
/* The dims of a dataset (up to 4) without reading it. */
cnv_status keras_h5_dataset_dims(const char *path, hid_t loc, const char *name, int *rank, int dims[4]);
/* A whole dataset converted to float32 (HDF5 converts float16/float64); *data malloc'ed. */
cnv_status keras_h5_read_floats(const char *path, hid_t loc, const char *name, float **data, int *rank, int dims[4]);

/* ---- the layer list ---- */

typedef enum keras_kind {
    KL_INPUT, KL_CONV, KL_DENSE, KL_MAXPOOL, KL_AVGPOOL, KL_GLOBALAVGPOOL, KL_FLATTEN, KL_DROPOUT,
    KL_BATCHNORM, KL_ACTIVATION, KL_ZEROPAD, KL_CONCAT, KL_MERGE, KL_DEPTHWISE, KL_SEPCONV, KL_GLOBALMAXPOOL,
    KL_RESHAPE, KL_PERMUTE, KL_CONVT, KL_UPSAMPLE, KL_LAYERNORM
} keras_kind;

/* An activation as a node, then what Keras composes from it: CNV_OP_DROPOUT stands for
 * "linear" (no node). swish is x * sigmoid(x) (gate), selu scale * elu(x) (scale), ReLU with
 * both max_value and negative_slope min(leaky(x), max) (cap). */
typedef struct keras_activation {
    cnv_op_type op; /* an elementwise op, SOFTMAX, or DROPOUT for linear */
    float alpha;    /* LeakyRelu slope, Elu alpha, HardSigmoid alpha */
    float beta;     /* HardSigmoid beta */
    float max;      /* Clip upper bound (lower is 0) */
    int gate;       /* multiply the op's result by its input */
    float scale;    /* multiply the result by this (0: no) */
    float cap;      /* take min(result, cap) (0: no) */
} keras_activation;

#define KERAS_MAX_INPUTS 8

typedef struct keras_layer {
    char *name;
    char *class_name;
    keras_kind kind;
    int n_in;
    char *inputs[KERAS_MAX_INPUTS]; /* names of the layers feeding this one */
    /* KL_INPUT: the shape without the batch, Keras order (H, W, C) or (features), 0 for a None
     * height or width; KL_RESHAPE: the target shape, the same way; KL_PERMUTE: the dims
     * (1-based Keras axes); KL_LAYERNORM: the normalized axes (Keras', negative from the end). */
    int rank, shape[3];
    unsigned symbolic;        /* KL_INPUT: bit k set when NCHW dim k is None in the file */
    /* Conv, pools. */
    int units;                /* conv filters, dense units */
    int kernel[2], strides[2], dilation[2], groups;
    int same;                 /* padding "same" (TF style: the extra pixel goes at the end) */
    int output_padding[2];    /* Conv2DTranspose: -1 when None */
    int bilinear;             /* UpSampling2D: interpolation "bilinear" (else "nearest"); size in kernel */
    int use_bias;
    int pads[4];              /* ZeroPadding2D: top, bottom, left, right */
    int axis;                 /* Concatenate: Keras axis (negative from the end) */
    cnv_op_type merge_op;     /* KL_MERGE: ADD, SUB, MUL, MAX, MIN chained over the inputs */
    int average;              /* KL_MERGE Average: the sum times 1/n */
    int depth_multiplier;     /* DepthwiseConv2D, SeparableConv2D */
    int keepdims;             /* GlobalAveragePooling2D keeps the 1x1 spatial dims */
    keras_activation act;     /* Conv/Dense activation field, Activation/ReLU/ELU/LeakyReLU layers */
    float epsilon;            /* BatchNormalization, LayerNormalization */
    int center, scale;
} keras_layer;

typedef struct keras_model {
    keras_layer *layers;
    int n, cap;
    char *output; /* name of the output layer (NULL: the last layer) */
    int keras3;   /* written by Keras 3, whose hard_sigmoid is relu6(x + 3) / 6 (Keras 2: 0.2x + 0.5) */
    int want_hw[2]; /* the size a None input height and width take (0: KERAS_DEFAULT_SPATIAL) */
} keras_model;

/* The size a None height or width takes when none is asked: the ONNX importer's default, the
 * ImageNet size of Keras applications. */
#define KERAS_DEFAULT_SPATIAL 224

/* What a build tells about a None-sized input that a Dense fixes after all: the features its
 * kernel takes and those the flattened map held at the size tried (0, 0: nothing disagreed). */
typedef struct keras_fit {
    int want, have;
    const char *layer; /* the Dense (a name of the layer list) */
} keras_fit;

/* Appends a zeroed layer with the given name and class; NULL when out of memory. */
keras_layer *keras_model_add(keras_model *m, const char *name, const char *class_name, keras_kind kind);
void keras_model_free(keras_model *m);
/* Sets l->act from a Keras activation name; CNV_ERR_UNSUPPORTED (naming file and layer) if unknown. */
cnv_status keras_activation_parse(const char *path, const keras_layer *l, const char *name, int keras3,
                                  keras_activation *act);

/* Parses a model_config JSON text into layers (m->keras3 set by the caller). */
cnv_status keras_config_parse(const char *path, const char *json_text, keras_model *m);

/* Lays out VGG16/19 (depth 16 or 19) for the weights-only file whose weights group is `weights`. */
cnv_status keras_vgg_layers(const char *path, hid_t weights, int depth, int side, keras_model *m);

/* Builds the graph: layers in the list's order (each after its inputs), weights read from
 * `weights`/<layer> in the legacy order (Conv/Dense: kernel, bias; BN: gamma, beta, mean, var;
 * LayerNormalization: gamma, beta). With a None input size, a Dense whose kernel does not fit
 * the flattened map fails with CNV_ERR_SHAPE and fills *fit (fit may be NULL). */
cnv_status keras_build_graph(const char *path, const keras_model *m, hid_t weights, keras_fit *fit, cnv_graph **out);

#endif
