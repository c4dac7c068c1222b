/* ReduceSum, ReduceMean, ReduceMax on the GPU: shaders/reduce_fwd.comp and reduce_bwd_data.comp,
 * one invocation per output element walking its inputs (the walk of core/reduce_plan.h, the
 * kind as specialization constant 3). The reductions of the CNNs here are small per output
 * (ConvNeXt's LayerNorm: a few hundred channels; MNASNet's mean: one map), so one invocation
 * per output is enough. */
#include "vk_backend.h"

#include "core/reduce_plan.h"
#include "core/status.h"
#include "../../shaders/reduce_ops.h"

typedef struct reduce_push {
    uint32_t n_out, count;
    uint32_t kept_dim[CNV_MAX_DIMS], kept_step[CNV_MAX_DIMS];
    uint32_t red_dim[CNV_MAX_DIMS], red_step[CNV_MAX_DIMS];
} reduce_push;

/* The plan as push constants, each list padded in front to CNV_MAX_DIMS with unit dims. */
static cnv_status plan(const cnv_op_io *io, reduce_push *push, uint32_t *kind) {
    cnv_reduce_plan p;
    CNV_TRY(cnv_reduce_plan_make(&io->in_shape[0], io->node->attrs.reduce_axes, &io->out_shape, io->node->name, &p));
    if (cnv_shape_numel(&io->in_shape[0]) > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: reduction input too large for one dispatch", io->node->name);
    *push = (reduce_push){.n_out = (uint32_t)p.n_out, .count = (uint32_t)p.count};
    for (int k = 0; k < CNV_MAX_DIMS; k++) {
        const int kept = k - (CNV_MAX_DIMS - p.n_kept), red = k - (CNV_MAX_DIMS - p.n_red);
        push->kept_dim[k] = kept >= 0 ? (uint32_t)p.kept_dim[kept] : 1;
        push->kept_step[k] = kept >= 0 ? (uint32_t)p.kept_step[kept] : 0;
        push->red_dim[k] = red >= 0 ? (uint32_t)p.red_dim[red] : 1;
        push->red_step[k] = red >= 0 ? (uint32_t)p.red_step[red] : 0;
    }
    const cnv_op_type op = io->node->op;
    *kind = op == CNV_OP_REDUCEMAX ? CNV_REDUCE_MAX : op == CNV_OP_REDUCEMEAN ? CNV_REDUCE_MEAN : CNV_REDUCE_SUM;
    return CNV_OK;
}

static cnv_status run(cnv_vk_backend *vb, const char *shader, uint32_t bindings, cnv_buf *const *bufs,
                      const cnv_op_io *io) {
    reduce_push push;
    uint32_t kind;
    CNV_TRY(plan(io, &push, &kind));
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = 1u << (bindings - 1),
                            .push_size = sizeof push, .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &kind,
                            .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n_out);
}

cnv_status cnv_vk_reduce_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return run(vb, "reduce_fwd", 2, bufs, io);
}

cnv_status cnv_vk_reduce_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    cnv_buf *bufs[3] = {io->in[0], io->grad_out, io->grad_in[0]};
    return run(vb, "reduce_bwd_data", 3, bufs, io);
}
