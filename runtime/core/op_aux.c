/* Per-node state kept between forward and backward, or scratch of the backward. MaxPool keeps
 * the switches (argmax positions) of its forward, which its backward and the deconvnet unpooling
 * read; ConvTranspose's backward to the data runs the Conv forward (which overwrites) into a
 * scratch of the input's size and then adds it. */
#include "backend.h"

size_t cnv_op_aux_numel(const cnv_node *node, const cnv_shape *in_shape, const cnv_shape *out_shape) {
    switch (node->op) {
    case CNV_OP_MAXPOOL: return cnv_shape_numel(out_shape);
    case CNV_OP_CONVTRANSPOSE: return cnv_shape_numel(in_shape);
    default: return 0;
    }
}
