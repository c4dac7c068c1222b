/* ConvTranspose on the Conv kernels (runtime/vulkan/conv.c), through their entry points, as on
 * the CPU (runtime/cpu/convtranspose.c): ConvTranspose's W is the weight of the Conv from Y's
 * shape to X's shape, so its forward is that Conv's backward to the data (into a zeroed Y), its
 * backward to the data is that Conv's forward of dY (into the scratch, then added to dX with the
 * copy kernel), and its weight gradient is that Conv's weight gradient with dY as the input and
 * X as the output gradient. */
#include "vk_backend.h"

#include "core/status.h"

static cnv_node conv_node_of(const cnv_op_io *io) {
    cnv_node n = *io->node;
    n.op = CNV_OP_CONV;
    return n;
}

/* The Conv from shape Y to shape X: input 0 y, weight W, output x. */
static cnv_op_io conv_io(const cnv_op_io *io, const cnv_node *conv, cnv_buf *y, cnv_buf *x) {
    cnv_op_io c = {.node = conv, .n_in = 2, .in = {y, io->in[1]}, .in_shape = {io->out_shape, io->in_shape[1]},
                   .out = x, .out_shape = io->in_shape[0]};
    return c;
}

static cnv_status check(const cnv_op_io *io) {
    if (io->n_in != 2 || io->in_shape[0].ndim != 4 || io->in_shape[1].ndim != 4 || io->out_shape.ndim != 4)
        return cnv_fail(CNV_ERR_SHAPE, "vulkan convtranspose '%s': expects X, W (4-D) and a 4-D output",
                        io->node->name);
    return CNV_OK;
}

cnv_status cnv_vk_convtranspose_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    CNV_TRY(check(io));
    const cnv_node conv = conv_node_of(io);
    CNV_TRY(cnv_vkb_fill(vb, io->out, 0.0f, cnv_shape_numel(&io->out_shape))); /* the Conv backward accumulates */
    cnv_op_io c = conv_io(io, &conv, io->out, NULL);
    c.grad_out = io->in[0];
    c.grad_in[0] = io->out;
    return cnv_vk_conv_backward(vb, &c);
}

cnv_status cnv_vk_convtranspose_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    CNV_TRY(check(io));
    const cnv_node conv = conv_node_of(io);
    if (io->grad_in[0]) {
        if (!io->aux) return cnv_fail(CNV_ERR_INTERNAL, "convtranspose '%s': no scratch buffer", io->node->name);
        cnv_op_io c = conv_io(io, &conv, io->grad_out, io->aux);
        CNV_TRY(cnv_vk_conv_forward(vb, &c));
        /* dX += scratch: the copy op's backward is exactly that accumulation. */
        cnv_node add = *io->node;
        add.op = CNV_OP_IDENTITY;
        cnv_op_io acc = {.node = &add, .n_in = 1, .in_shape = {io->in_shape[0]}, .out_shape = io->in_shape[0],
                         .grad_out = io->aux, .grad_in = {io->grad_in[0]}};
        CNV_TRY(cnv_vk_copy_backward(vb, &acc));
    }
    if (io->grad_in[1]) {
        cnv_op_io c = conv_io(io, &conv, io->grad_out, NULL);
        c.grad_out = io->in[0];
        c.grad_in[1] = io->grad_in[1];
        CNV_TRY(cnv_vk_conv_backward(vb, &c));
    }
    return CNV_OK;
}
