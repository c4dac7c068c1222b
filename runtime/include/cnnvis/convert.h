/* cnnvis — public C API: models made and written. The named architectures are graphs built
 * without any file, with seeded weights (to train, test and export); ONNX export writes any
 * model cnnvis holds, loaded or built, as a file that cnnvis, onnx.checker and OpenCV DNN read.
 * What `cnnvis convert` and `cnnvis train` use. */
#ifndef CNNVIS_CONVERT_H
#define CNNVIS_CONVERT_H

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- named architectures ---- */

/* Builds architecture `name` ("smallnet", "vgg-small", "fashion-cnn" for 28x28 gray; "vgg16",
 * "resnet50", "squeezenet1.1" in torchvision's layouts) with He-uniform weights drawn from
 * `seed` and zero biases: the same seed gives the same weights bit for bit on every machine.
 * *out is the caller's (cnv_model_free). CNV_ERR_NOT_FOUND for an unknown name (the message
 * lists the known ones). */
CNV_API cnv_status cnv_arch_build(const char *name, uint64_t seed, cnv_graph **out);
/* The names of every architecture, comma-separated, into buf (size bytes, truncated to fit). */
CNV_API void cnv_arch_list(char *buf, size_t size);
/* One-line description of an architecture (its input and layers); NULL when unknown. */
CNV_API const char *cnv_arch_describe(const char *name);

/* ---- what a model holds ---- */

/* The number of weights and biases (floats held in the file) of the whole model. */
CNV_API size_t cnv_model_param_count(const cnv_graph *g);
/* Renames the model's input tensor (what an exported file calls it; presets recognize some
 * models by it). CNV_ERR_ARG when another tensor of the model has that name or it is empty. */
CNV_API cnv_status cnv_model_rename_input(cnv_graph *g, const char *name);

/* ---- ONNX export ---- */

/* The opset and IR version written; a model with a Gelu (an ONNX op from opset 20 on) is
 * written at opset 20, IR version 9. */
#define CNV_ONNX_EXPORT_OPSET 13
#define CNV_ONNX_EXPORT_IR_VERSION 7
#define CNV_ONNX_EXPORT_GELU_OPSET 20
#define CNV_ONNX_EXPORT_GELU_IR_VERSION 9

/* Writes g to path atomically (a temporary file, then a rename: never a partial file; an
 * existing file is replaced only when the whole model is written). Weights become float32
 * initializers (raw_data); constant inputs cnnvis holds as attributes (Reshape shape, Pad pads
 * and value, Clip min/max) become initializers; value and node names are kept. The input's
 * batch axis is the symbol "N" when the model runs at any batch size, else 1 — found by
 * re-running shape inference at batch 2, which is why g is not const (it is left as it was).
 * Errors: CNV_ERR_IO naming the file, CNV_ERR_UNSUPPORTED naming the node, CNV_ERR_NOMEM. */
CNV_API cnv_status cnv_onnx_save(cnv_graph *g, const char *path);

#ifdef __cplusplus
}
#endif
#endif
