/* Optimizer steps on the device: shaders/optimizer_step.comp, SGD or Adam by spec constant. */
#include "vk_backend.h"

#include "core/status.h"

cnv_status cnv_vk_optim_step(cnv_vk_backend *vb, const cnv_optim_io *io) {
    if (!io->x || !io->g || !io->m || !io->hyper || (io->kind == CNV_OPTIM_ADAM && !io->v))
        return cnv_fail(CNV_ERR_INTERNAL, "vulkan: optimizer step without its buffers");
    uint32_t kind = (uint32_t)io->kind;
    cnv_vk_kernel_desc d = {.shader = "optimizer_step", .bindings = 5, .written = 0x7, .push_size = 4,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = &kind, .spec_count = 1};
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    uint32_t n = (uint32_t)io->n;
    /* SGD binds no second moment: the placeholder stands in and is never touched. */
    cnv_buf *bufs[5] = {io->x, io->g, io->m, io->kind == CNV_OPTIM_ADAM ? io->v : NULL, io->hyper};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &n, io->n);
}
