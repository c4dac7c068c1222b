/* Per-node state kept between forward and backward. Only MaxPool keeps any: the switches
 * (argmax positions) of its forward, which its backward and the deconvnet unpooling read. */
#include "backend.h"

size_t cnv_op_aux_numel(const cnv_node *node, const cnv_shape *out_shape) {
    return node->op == CNV_OP_MAXPOOL ? cnv_shape_numel(out_shape) : 0;
}
