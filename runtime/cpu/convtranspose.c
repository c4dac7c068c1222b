/* ConvTranspose (ONNX) on the Conv kernel (runtime/cpu/conv.c), through its entry points: with
 * the roles of X and Y swapped, ConvTranspose's W [C, M/group, kH, kW] is the weight of the Conv
 * from Y's shape [N, M, OH, OW] to X's shape [N, C, H, W] with the same strides, dilations, pads
 * and groups. So
 *   forward:          Y   = that Conv's backward to its data, with X as its output gradient
 *   backward to data: dX += that Conv's forward of dY (into the scratch, then added)
 *   backward to W:    dW += that Conv's backward to its weight, with dY as its input, X as dY
 * The bias is a separate Add (the importer splits it off). */
#include "cpu_ops.h"

#include "core/status.h"

#include <string.h>

/* The Conv node of this ConvTranspose: the same attributes under the same name. */
static cnv_node conv_node_of(const cnv_cpu_args *a) {
    cnv_node n = *a->node;
    n.op = CNV_OP_CONV;
    return n;
}

/* Arguments of the Conv from shape Y to shape X: input 0 y (Y-shaped), weight W, output X-shaped. */
static cnv_cpu_args conv_args(const cnv_cpu_args *a, const cnv_node *conv, const float *y, float *x) {
    cnv_cpu_args c;
    memset(&c, 0, sizeof c);
    c.node = conv;
    c.a = &conv->attrs;
    c.n_in = 2;
    c.in[0] = y;
    c.in[1] = a->in[1];
    c.in_shape[0] = a->out_shape;
    c.in_shape[1] = a->in_shape[1];
    c.out = x;
    c.out_shape = a->in_shape[0];
    return c;
}

static cnv_status check(const cnv_cpu_args *a) {
    if (a->n_in != 2 || a->in_shape[0].ndim != 4 || a->in_shape[1].ndim != 4 || a->out_shape.ndim != 4)
        return cnv_fail(CNV_ERR_SHAPE, "convtranspose '%s': expects X, W (4-D) and a 4-D output", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_convtranspose_forward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    const cnv_node conv = conv_node_of(a);
    cnv_cpu_args c = conv_args(a, &conv, a->out, NULL);
    memset(a->out, 0, cnv_shape_numel(&a->out_shape) * sizeof(float)); /* the Conv backward accumulates */
    c.grad_out = a->in[0];
    c.grad_in[0] = a->out;
    return cnv_cpu_conv_backward(&c);
}

cnv_status cnv_cpu_convtranspose_backward(const cnv_cpu_args *a) {
    CNV_TRY(check(a));
    const cnv_node conv = conv_node_of(a);
    if (a->grad_in[0]) {
        float *scratch = (float *)a->aux; /* cnv_op_aux_numel: X's size */
        if (!scratch) return cnv_fail(CNV_ERR_INTERNAL, "convtranspose '%s': no scratch buffer", a->node->name);
        cnv_cpu_args c = conv_args(a, &conv, a->grad_out, scratch);
        CNV_TRY(cnv_cpu_conv_forward(&c));
        const size_t n = cnv_shape_numel(&a->in_shape[0]);
        for (size_t i = 0; i < n; i++) a->grad_in[0][i] += scratch[i];
    }
    if (a->grad_in[1]) {
        cnv_cpu_args c = conv_args(a, &conv, a->grad_out, NULL);
        c.grad_out = a->in[0];
        c.grad_in[1] = a->grad_in[1];
        CNV_TRY(cnv_cpu_conv_backward(&c));
    }
    return CNV_OK;
}
