/* ONNX export: any cnv_graph written as an ONNX ModelProto (IR version 7, opset 13) that
 * cnv_model_load, onnx.checker and OpenCV DNN read back. */
#ifndef CNV_MODELS_ONNX_EXPORT_H
#define CNV_MODELS_ONNX_EXPORT_H

#include "core/graph.h"

#define CNV_ONNX_EXPORT_OPSET 13
#define CNV_ONNX_EXPORT_IR_VERSION 7
/* A graph with a Gelu (an ONNX op from opset 20 on) is written at opset 20, IR version 9. */
#define CNV_ONNX_EXPORT_GELU_OPSET 20
#define CNV_ONNX_EXPORT_GELU_IR_VERSION 9

/* Writes g to path atomically (temporary file, then rename: never a partial file).
 * Weights become float32 initializers (raw_data); constant inputs held as attributes here
 * (Reshape shape, Pad pads and value, Clip min/max) become initializers; value and node names are
 * kept. The graph input's batch dim is the symbol "N" when the graph runs at any batch size,
 * else 1 — found by re-running shape inference at batch 2 (which is why g is not const).
 * Errors: CNV_ERR_IO naming the file, CNV_ERR_UNSUPPORTED naming the node, CNV_ERR_NOMEM. */
cnv_status cnv_onnx_save(cnv_graph *g, const char *path);

#endif
