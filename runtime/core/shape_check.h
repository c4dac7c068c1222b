/* Bounds that keep shape inference's int arithmetic exact on hostile models: every dim below
 * 2^30, every tensor below 2^31 elements, window and padding attributes small enough that no
 * rule in shape_infer.c can overflow. cnv_graph_infer_shapes checks a node's inputs and
 * attributes before its rule runs and its output after; a model outside the bounds is refused
 * (CNV_ERR_LIMIT, naming the node) instead of loading with a wrapped-around shape. */
#ifndef CNV_CORE_SHAPE_CHECK_H
#define CNV_CORE_SHAPE_CHECK_H

#include "core/graph.h"

#define CNV_MAX_DIM ((1 << 30) - 1)
#define CNV_MAX_NUMEL (((size_t)1 << 31) - 1)
#define CNV_MAX_WINDOW (1 << 14) /* kernel, stride, dilation */
#define CNV_MAX_PAD (1 << 24)

cnv_status cnv_shape_check_inputs(const cnv_graph *g, const cnv_node *n, const cnv_shape *in);
cnv_status cnv_shape_check_output(const cnv_graph *g, const cnv_node *n, const cnv_shape *out);

#endif
