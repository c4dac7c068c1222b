/* Add with multidirectional (numpy) broadcasting of up to 4-D shapes, viewed as 4-D with
 * leading unit dims. Forward maps each output element to both inputs (shaders/add_fwd.comp);
 * backward gathers, per gradient element of an input, dy over the positions broadcast from it
 * (shaders/add_bwd_data.comp), so no atomics. The same backward serves an input that is a
 * weight (a bias initializer): it fills whichever grad_in slots are set. */
#include "vk_backend.h"

#include "core/status.h"

typedef struct add_plan {
    uint32_t n, out4[4], in4[2][4];
} add_plan;

static cnv_status plan(const cnv_op_io *io, add_plan *p) {
    const cnv_shape *o = &io->out_shape;
    if (io->n_in != 2 || o->ndim > CNV_MAX_DIMS || io->in_shape[0].ndim > o->ndim || io->in_shape[1].ndim > o->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Add needs two inputs of rank up to the output's", io->node->name);
    const size_t numel = cnv_shape_numel(o);
    if (numel > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Add output too large for one dispatch", io->node->name);
    p->n = (uint32_t)numel;
    const int lead = CNV_MAX_DIMS - o->ndim;
    for (int k = 0; k < CNV_MAX_DIMS; k++) p->out4[k] = k >= lead ? (uint32_t)o->d[k - lead] : 1;
    for (int i = 0; i < 2; i++) {
        const cnv_shape *s = &io->in_shape[i];
        const int in_lead = CNV_MAX_DIMS - s->ndim;
        for (int k = 0; k < CNV_MAX_DIMS; k++) {
            const uint32_t d = k >= in_lead ? (uint32_t)s->d[k - in_lead] : 1;
            if (d != p->out4[k] && d != 1)
                return cnv_fail(CNV_ERR_SHAPE, "%s: Add input %d does not broadcast to the output", io->node->name, i);
            p->in4[i][k] = d;
        }
    }
    return CNV_OK;
}

static cnv_status add_kernel(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t push_size,
                             const cnv_vk_pipeline **pipe) {
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = 1u << (bindings - 1),
                            .push_size = push_size, .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    return cnv_vkb_kernel(vb, &d, pipe);
}

cnv_status cnv_vk_add_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    add_plan p;
    CNV_TRY(plan(io, &p));
    struct {
        uint32_t n, out4[4], a4[4], b4[4];
    } push = {.n = p.n};
    for (int k = 0; k < 4; k++) {
        push.out4[k] = p.out4[k];
        push.a4[k] = p.in4[0][k];
        push.b4[k] = p.in4[1][k];
    }
    const cnv_vk_pipeline *pipe;
    CNV_TRY(add_kernel(vb, "add_fwd", 3, sizeof push, &pipe));
    cnv_buf *bufs[3] = {io->in[0], io->in[1], io->out};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n);
}

cnv_status cnv_vk_add_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    add_plan p;
    CNV_TRY(plan(io, &p));
    for (int i = 0; i < 2; i++) {
        if (!io->grad_in[i]) continue;
        struct {
            uint32_t n, out4[4], in4[4];
        } push = {.n = (uint32_t)cnv_shape_numel(&io->in_shape[i])};
        for (int k = 0; k < 4; k++) {
            push.out4[k] = p.out4[k];
            push.in4[k] = p.in4[i][k];
        }
        const cnv_vk_pipeline *pipe;
        CNV_TRY(add_kernel(vb, "add_bwd_data", 2, sizeof push, &pipe));
        cnv_buf *bufs[2] = {io->grad_out, io->grad_in[i]};
        CNV_TRY(cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, push.n));
    }
    return CNV_OK;
}
