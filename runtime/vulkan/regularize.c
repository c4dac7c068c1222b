/* Regularize and GradNorm: identities forward (the copy kernel, cnv_vk_copy_forward in the op
 * table); their backwards reshape the gradient, with the definitions of runtime/cpu/regularize.c:
 * shaders/regularize_bwd_data.comp (one invocation per element, TV terms gathered from the
 * neighbours) and gradnorm_bwd_data.comp (one line reduction per batch item, line_reduce.h). */
#include "line_reduce.h"

#include "core/status.h"
#include "core/penalty.h" /* CNV_TV_EPS: the CPU kernel's constant, so both define the same penalty */

typedef struct regularize_push {
    uint32_t total, h, w;
    float tv, beta, l1, l2, center, eps;
} regularize_push;

typedef struct gradnorm_push {
    uint32_t lines, len, clip_mode;
    float clip, eps;
} gradnorm_push;

static cnv_status check_passthrough(const cnv_op_io *io, int need_4d) {
    const cnv_shape *s = &io->in_shape[0];
    if (io->n_in != 1 || (need_4d && s->ndim != 4) || s->ndim < 1 || !cnv_shape_equal(s, &io->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: %s needs one%s input shaped like its output", io->node->name,
                        cnv_op_name(io->node->op), need_4d ? " 4-D" : "");
    if (cnv_shape_numel(s) > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: %zu elements are too many for one dispatch", io->node->name,
                        cnv_shape_numel(s));
    return CNV_OK;
}

cnv_status cnv_vk_regularize_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    CNV_TRY(check_passthrough(io, 1));
    if (!io->grad_in[0]) return CNV_OK;
    const cnv_shape *s = &io->in_shape[0];
    const cnv_attrs *a = &io->node->attrs;
    regularize_push push = {(uint32_t)cnv_shape_numel(s), (uint32_t)s->d[2], (uint32_t)s->d[3], a->tv, a->tv_beta,
                            a->l1, a->l2, a->l_center, CNV_TV_EPS};
    cnv_vk_kernel_desc d = {.shader = "regularize_bwd_data", .bindings = 3, .written = 0x4,
                            .push_size = sizeof push, .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[3] = {io->in[0], io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.total);
}

cnv_status cnv_vk_gradnorm_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    CNV_TRY(check_passthrough(io, 0));
    if (!io->grad_in[0]) return CNV_OK;
    const cnv_shape *s = &io->in_shape[0];
    const cnv_attrs *a = &io->node->attrs;
    const size_t items = (size_t)s->d[0];
    gradnorm_push push = {(uint32_t)items, (uint32_t)(cnv_shape_numel(s) / items), a->gradnorm_clip ? 1u : 0u,
                          a->clip, a->eps};
    cnv_vk_line_kernel k;
    CNV_TRY(cnv_vk_line_kernel_get(vb, "gradnorm_bwd_data", 2, 0x2, sizeof push, push.len, &k));
    cnv_buf *bufs[2] = {io->grad_out, io->grad_in[0]};
    return cnv_vk_line_dispatch(vb, &k, bufs, &push, items);
}
