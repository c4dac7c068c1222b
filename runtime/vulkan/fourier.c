/* Fourier (spectral) image parameterization on the GPU: shaders/fourier_fwd.comp (one workgroup
 * per ROWS_PER_GROUP image rows) and fourier_bwd_data.comp (as many frequency rows), both separable in two
 * stages through shared memory, O(H W (H + W/2+1)) per channel like the CPU kernel
 * (runtime/cpu/fourier.c). The image size is specialization constants 3 and 4, so each size
 * gets its own pipeline and its tables of unit roots fit in shared memory; a size whose tables
 * do not fit the device's shared memory is refused. */
#include "vk_backend.h"

#include "core/status.h"

#include <math.h>

typedef struct fourier_push {
    float decay, norm, floor_f;
} fourier_push;

/* Image rows (forward) or frequency rows (backward) per workgroup, fewer where their lines would
 * not fit the shared memory: each coefficient or dy element is then read once for all of them
 * (lavapipe, SqueezeNet at 227: the forward 111 -> 53 ms). */
#define ROWS_PER_GROUP 8

static uint64_t shared_bytes(uint32_t h, uint32_t w, uint64_t line_floats) {
    return 2 * sizeof(float) * ((uint64_t)h + w + line_floats);
}

/* Either kernel: binding 0 read, binding 1 written. Its shared memory holds the roots of H and
 * W plus `rows` lines of `line` complex values. */
static cnv_status fourier_kernel(cnv_vk_backend *vb, const cnv_op_io *io, const char *shader, uint32_t line,
                                 uint32_t *rows, const cnv_vk_pipeline **pipe) {
    const uint32_t h = (uint32_t)io->out_shape.d[2], w = (uint32_t)io->out_shape.d[3];
    const uint32_t limit = cnv_vkb_caps(vb)->max_shared_memory;
    while (*rows > 1 && shared_bytes(h, w, (uint64_t)*rows * line) > limit) (*rows)--;
    const uint64_t shared = shared_bytes(h, w, (uint64_t)*rows * line);
    if (shared > limit)
        return cnv_fail(CNV_ERR_UNSUPPORTED,
                        "%s: a %ux%u Fourier image needs %llu bytes of shared memory, the device has %u",
                        io->node->name, h, w, (unsigned long long)shared, limit);
    const uint32_t spec[3] = {h, w, *rows};
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = 2, .written = 0x2, .push_size = sizeof(fourier_push),
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}, .spec = spec, .spec_count = 3};
    return cnv_vkb_kernel(vb, &d, pipe);
}

static cnv_status fourier_plan(const cnv_op_io *io, fourier_push *push, uint32_t groups[3]) {
    const cnv_shape *in = &io->in_shape[0], *out = &io->out_shape;
    const int H = out->d[2], W = out->d[3];
    if (in->ndim != 4 || out->ndim != 4 || in->d[1] != 2 * out->d[1] || in->d[2] != H || in->d[3] != W / 2 + 1)
        return cnv_fail(CNV_ERR_SHAPE, "%s: Fourier coefficients do not fit a %dx%d image", io->node->name, H, W);
    push->decay = io->node->attrs.decay;
    push->norm = (float)(1.0 / sqrt((double)H * W));
    push->floor_f = (float)(1.0 / (H > W ? H : W));
    groups[0] = (uint32_t)H; /* forward: image rows; backward: frequency rows */
    groups[1] = (uint32_t)(out->d[0] * out->d[1]);
    groups[2] = 1;
    return CNV_OK;
}

cnv_status cnv_vk_fourier_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    fourier_push push;
    uint32_t groups[3];
    CNV_TRY(fourier_plan(io, &push, groups));
    const cnv_vk_pipeline *pipe;
    uint32_t rows = ROWS_PER_GROUP;
    CNV_TRY(fourier_kernel(vb, io, "fourier_fwd", (uint32_t)io->out_shape.d[3] / 2 + 1, &rows, &pipe));
    groups[0] = (groups[0] + rows - 1) / rows;
    cnv_buf *bufs[2] = {io->in[0], io->out};
    return cnv_vkb_dispatch(vb, pipe, bufs, &push, groups);
}

cnv_status cnv_vk_fourier_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    if (!io->grad_in[0]) return CNV_OK;
    fourier_push push;
    uint32_t groups[3];
    CNV_TRY(fourier_plan(io, &push, groups));
    const cnv_vk_pipeline *pipe;
    uint32_t rows = ROWS_PER_GROUP;
    CNV_TRY(fourier_kernel(vb, io, "fourier_bwd_data", (uint32_t)io->out_shape.d[3], &rows, &pipe));
    groups[0] = (groups[0] + rows - 1) / rows;
    cnv_buf *bufs[2] = {io->grad_out, io->grad_in[0]};
    return cnv_vkb_dispatch(vb, pipe, bufs, &push, groups);
}
