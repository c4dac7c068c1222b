/* Keras .h5 import (libhdf5 for the file, jansson for the model_config JSON).
 *
 * Two kinds of files are read:
 * - a full model (`model.save("x.h5")`): the root attribute `model_config` gives the topology
 *   (Sequential or functional, Keras 2.x / tf.keras 2.x dialects) and /model_weights the weights;
 * - a weights-only file (`model.save_weights("x.h5")`, the legacy layout: root attribute
 *   layer_names, a group per layer with attribute weight_names) together with a named
 *   architecture (vgg16, vgg19) that is built in code.
 *
 * The graph is NCHW like every cnnvis graph: kernels are turned from HWIO into OIHW, and the
 * rows of a Dense that reads a Flatten are permuted from Keras' HWC order into CHW, so every
 * output matches Keras exactly. Each Keras layer's final node carries the layer's name (so
 * `--layer conv2d` is Keras' conv2d output, after its activation); helper nodes are named
 * "<layer>/<role>", e.g. "dense_1/dense" is the logits under a softmax. BatchNormalization
 * right after a conv is folded into it. Errors name the file, and the layer where one is at fault. */
#ifndef CNV_MODELS_KERAS_H
#define CNV_MODELS_KERAS_H

#include "core/graph.h"

/* Loads a full Keras model. A weights-only file fails with CNV_ERR_ARG saying to pass an
 * architecture (cnv_keras_load_arch). */
cnv_status cnv_keras_load(const char *path, cnv_graph **out);

/* Like cnv_keras_load with a None input height and width set to height x width (0: 224, the
 * ONNX importer's default; g->input_symbolic says which dims were None). A Flatten and Dense
 * after a None-sized input fix the size after all: with none asked that one is found and
 * loaded, and another is refused with CNV_ERR_SHAPE naming it. A size the file fixes is not
 * checked here (cnv_model_load_sized refuses another). */
cnv_status cnv_keras_load_sized(const char *path, int height, int width, cnv_graph **out);

/* Loads a weights-only file into architecture `arch` ("vgg16" or "vgg19"). With the classifier
 * (layers fc1, fc2, predictions) the input size follows from fc1's weights (224 for the real
 * ones); without it the input is side x side pixels (side 0: 224). The conv trunk must have
 * VGG's exact shapes (CNV_ERR_SHAPE names the layer and both shapes); the widths of the dense
 * head are taken from the file (Keras' `classes` argument changes them). */
cnv_status cnv_keras_load_arch(const char *path, const char *arch, int side, cnv_graph **out);

#endif
