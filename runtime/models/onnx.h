/* ONNX import (protobuf-c bindings generated at build time from the system's onnx.proto). */
#ifndef CNV_MODELS_ONNX_H
#define CNV_MODELS_ONNX_H

#include "core/graph.h"

/* Loads an ONNX model: initializers become weights, Constant nodes and constant int inputs
 * (Reshape shape, Pad pads, Clip min/max) are resolved into attributes, BatchNormalization is
 * folded into the preceding Conv, shapes are inferred with batch 1. A symbolic batch is 1 and a
 * symbolic height and width are 224 (g->input_symbolic says which were). Opsets 7..20.
 * Errors name the file and, for an unsupported op or attribute, the node. */
cnv_status cnv_onnx_load(const char *path, cnv_graph **out);

/* Like cnv_onnx_load, with a symbolic input height and width set to height x width (0: 224) and
 * shape arithmetic evaluated for that size; a model whose input size is fixed in the file loads
 * only at that size, and any other gives CNV_ERR_SHAPE naming the shape it expects. */
cnv_status cnv_onnx_load_sized(const char *path, int height, int width, cnv_graph **out);
/* cnv_onnx_load_sized that also leaves the file's SHA-256 in g->sha256, taken while the file is
 * read (the one read of the load; the hash costs about 3.6 ns a byte, 2 s for VGG16's 553 MB). */
cnv_status cnv_onnx_load_hashed(const char *path, int height, int width, cnv_graph **out);

/* Like cnv_onnx_load, for models that take weights or shapes as graph inputs (ONNX's operator
 * tests do): the graph inputs after the first non-initializer one are bound, in order, to the
 * float32 or int64 tensors in the given TensorProto (.pb) files, as constants. */
cnv_status cnv_onnx_load_bound(const char *path, int n_bound, const char *const *bound_pb, cnv_graph **out);

/* The distinct op_type names of the model's nodes, space separated, in a malloc'ed string
 * (tools and tests use it to pick models by op without importing them). */
cnv_status cnv_onnx_list_ops(const char *path, char **ops);

/* Reads a serialized TensorProto (.pb, as in ONNX test_data_set_N) holding float32 data
 * (raw_data or float_data) of up to 4 dims. *data is malloc'ed. */
cnv_status cnv_onnx_read_tensor(const char *path, float **data, cnv_shape *shape);

#endif
