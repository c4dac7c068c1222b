/* Conv (ONNX, 2-D, groups, strides, dilations, asymmetric pads) on the GPU as implicit matrix
 * products per group (shaders/conv2d.glsl), all three through the tiled product of
 * shaders/gemm_tile.glsl with tile sizes from tiles.c:
 *   forward:           Y_g  = W_g · im2col(X)_g (+ B)            [Mg x N*OH*OW, reduce Cg*kH*kW]
 *   backward to data:  dX_g += W_gᵀ · dY_g per stride phase       [Cg x N*H*W/(sH*sW), reduce Mg*taps of the phase]
 *   backward to W, B:  [dW_g | dB_g] += dY_g · [im2col(X)_g | 1]ᵀ [Mg x Cg*kH*kW+1, reduce N*OH*OW]
 * The im2col matrix is never stored: the kernels read it from X on the fly. */
#include "tiled.h"

#include "core/status.h"

/* Push constants of the three conv kernels (shaders/conv2d.glsl: ConvParams). */
typedef struct conv_push {
    uint32_t n, c, h, w;
    uint32_t m, oh, ow;
    uint32_t kh, kw;
    uint32_t sh, sw, dh, dw;
    int32_t pt, pl;
    uint32_t cg, mg;
    uint32_t flags;
} conv_push;

#define CONV_BIAS 1u    /* forward: B is bound; backward to the weights: dB is wanted */
#define CONV_WANT_DW 2u /* backward to the weights: dW is wanted */
#define CONV_RELU 4u    /* forward: max(Y, 0) is written too (cnv_op_io's relu_out) */
#define CONV_ASSIGN 8u     /* backward: dX (to the data) or dW (to the weights) holds no gradient yet: written */
#define CONV_ASSIGN_DB 16u /* backward to the weights: dB likewise */
#define CONV_RELU_ONLY 32u /* forward: max(Y, 0) is written instead of Y (relu_out bound as Y) */

static cnv_status conv_params(const cnv_op_io *io, conv_push *p) {
    const cnv_shape *x = &io->in_shape[0], *wt = &io->in_shape[1], *y = &io->out_shape;
    const cnv_attrs *a = &io->node->attrs;
    if (io->n_in < 2 || x->ndim != 4 || wt->ndim != 4 || y->ndim != 4 || a->group < 1 || x->d[1] % a->group ||
        y->d[1] % a->group || wt->d[0] != y->d[1] || wt->d[1] != x->d[1] / a->group || y->d[0] != x->d[0])
        return cnv_fail(CNV_ERR_SHAPE, "vulkan conv '%s': inputs do not fit a 2-D convolution", io->node->name);
    *p = (conv_push){
        .n = (uint32_t)x->d[0], .c = (uint32_t)x->d[1], .h = (uint32_t)x->d[2], .w = (uint32_t)x->d[3],
        .m = (uint32_t)y->d[1], .oh = (uint32_t)y->d[2], .ow = (uint32_t)y->d[3],
        .kh = (uint32_t)wt->d[2], .kw = (uint32_t)wt->d[3],
        .sh = (uint32_t)a->stride[0], .sw = (uint32_t)a->stride[1],
        .dh = (uint32_t)a->dilation[0], .dw = (uint32_t)a->dilation[1],
        .pt = a->pads[0], .pl = a->pads[1],
        .cg = (uint32_t)(x->d[1] / a->group), .mg = (uint32_t)(y->d[1] / a->group),
    };
    return CNV_OK;
}

static uint32_t groups_of(const conv_push *p) { return p->c / p->cg; }
static uint32_t taps_of(const conv_push *p) { return p->kh * p->kw; }

/* Specialization constants a conv kernel adds after the tile's (ids 3 + CNV_VK_TILE_SPECS ...: 11 on). */
#define CONV_MAX_SPECS 10

/* `products` tiled products of `rows` x `cols` reducing over `depth` (the z of the grid). The
 * kernel's B operand is read down its columns (b_column_major) only in the backward to the
 * weights, where the reduction runs along the pixels. */
static cnv_status conv_product(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                               uint32_t texel, int a_column_major, int b_column_major, const conv_push *push, uint64_t rows,
                               uint64_t cols, uint64_t depth, uint64_t products, const uint32_t *extra, uint32_t n_extra,
                               cnv_buf *const *bufs) {
    const cnv_vk_caps *caps = cnv_vkb_caps(vb);
    cnv_vk_tiles t;
    CNV_TRY(cnv_vk_tiles_choose(caps, rows, cols, &t));
    t.split = cnv_vk_tiles_split(caps, &t, rows, cols, depth, products);
    uint32_t spec[CNV_VK_TILE_SPECS + CONV_MAX_SPECS];
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written, .texel = texel,
                            .push_size = sizeof *push,
                            .spec = spec, .spec_count = CNV_VK_TILE_SPECS + n_extra};
    for (uint32_t i = 0; i < n_extra; i++) spec[CNV_VK_TILE_SPECS + i] = extra[i];
    cnv_vk_binding bind[CNV_VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < bindings; i++) bind[i] = (cnv_vk_binding){cnv_vkb_buffer_of(vb, bufs[i]), 0, 0};
    return cnv_vk_tiled_dispatch(vb, &d, spec, &t, a_column_major, b_column_major, bind, push, rows, cols, products);
}

/* One axis of a stride phase of the backward to the data (shaders/conv2d_bwd_data.comp): input
 * coordinate phase + stride*a receives from output o through tap i when o*stride + i*dil - pad
 * equals it, i.e. when stride divides phase + pad - i*dil. The serving taps are first + t*step
 * (t < count; step is the least with stride dividing step*dil), and tap t reads
 * o = a + offset - t*shift. */
typedef struct phase_axis {
    uint32_t phase, first, step, count;
    int32_t offset; /* the shader derives shift = step*dil/stride */
} phase_axis;

static phase_axis phase_axis_of(uint32_t phase, uint32_t k, uint32_t stride, uint32_t dil, int32_t pad) {
    phase_axis a = {.phase = phase, .first = k, .step = 1};
    while ((a.step * dil) % stride) a.step++;
    for (uint32_t i = 0; i < a.step && i < k; i++) {
        const int64_t v = (int64_t)phase + pad - (int64_t)i * dil;
        if ((v % stride + stride) % stride == 0) {
            a.first = i;
            break;
        }
    }
    if (a.first >= k) return a; /* no tap serves this phase: its inputs get no gradient */
    a.count = (k - a.first + a.step - 1) / a.step;
    a.offset = (int32_t)(((int64_t)phase + pad - (int64_t)a.first * dil) / (int64_t)stride); /* exact */
    return a;
}

/* Whether some tap serves every stride phase, so that the phases' products together write every
 * element of dX (a 1x1 kernel at stride 2 serves one phase in four: the others get no gradient). */
static int every_phase_served(const conv_push *p) {
    for (uint32_t py = 0; py < p->sh && py < p->h; py++)
        if (!phase_axis_of(py, p->kh, p->sh, p->dh, p->pt).count) return 0;
    for (uint32_t px = 0; px < p->sw && px < p->w; px++)
        if (!phase_axis_of(px, p->kw, p->sw, p->dw, p->pl).count) return 0;
    return 1;
}

/* dX += (with CONV_ASSIGN in p's flags, =) the backward of Y over W: one product per stride phase
 * that some tap serves. W is read down its input channels when the kernel is 1x1 (neighbours in
 * memory then). */
static cnv_status conv_backward_data(cnv_vk_backend *vb, const conv_push *p, cnv_buf *const *bufs) {
    for (uint32_t py = 0; py < p->sh && py < p->h; py++) {
        const phase_axis ay = phase_axis_of(py, p->kh, p->sh, p->dh, p->pt);
        for (uint32_t px = 0; px < p->sw && px < p->w; px++) {
            const phase_axis ax = phase_axis_of(px, p->kw, p->sw, p->dw, p->pl);
            if (!ay.count || !ax.count) continue;
            const uint32_t spec[CONV_MAX_SPECS] = {
                ay.phase, ay.first, ay.step, ay.count, (uint32_t)ay.offset,
                ax.phase, ax.first, ax.step, ax.count, (uint32_t)ax.offset,
            };
            const uint64_t cols = (uint64_t)p->n * ((p->h - py + p->sh - 1) / p->sh) * ((p->w - px + p->sw - 1) / p->sw);
            CNV_TRY(conv_product(vb, "conv2d_bwd_data", 3, 0x4, 0x3, taps_of(p) == 1, 0, p, p->cg, cols,
                                 (uint64_t)p->mg * ay.count * ax.count, groups_of(p), spec, CONV_MAX_SPECS, bufs));
        }
    }
    return CNV_OK;
}

cnv_status cnv_vk_conv_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    conv_push p;
    CNV_TRY(conv_params(io, &p));
    cnv_buf *bias = io->n_in > 2 ? io->in[2] : NULL;
    if (bias) p.flags |= CONV_BIAS;
    const int both = io->relu_out && io->out;
    p.flags |= both ? CONV_RELU : io->relu_out ? CONV_RELU_ONLY : 0u;
    cnv_buf *bufs[5] = {io->in[0], io->in[1], bias, io->out ? io->out : io->relu_out, both ? io->relu_out : NULL};
    return conv_product(vb, "conv2d_fwd", 5, both ? 0x18 : 0x8, 0x7, 0, 0, &p, p.mg, (uint64_t)p.n * p.oh * p.ow,
                        (uint64_t)p.cg * taps_of(&p), groups_of(&p), NULL, 0, bufs);
}

cnv_status cnv_vk_conv_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    conv_push p;
    CNV_TRY(conv_params(io, &p));
    if (io->grad_in[0]) {
        conv_push q = p;
        /* dX holding no gradient yet is written by the phases' products, or zeroed first where
         * some of its elements get none. */
        if (io->grad_assign & 1) {
            if (every_phase_served(&p))
                q.flags |= CONV_ASSIGN;
            else
                CNV_TRY(cnv_vkb_fill(vb, io->grad_in[0], 0.0f, cnv_shape_numel(&io->in_shape[0])));
        }
        cnv_buf *bufs[3] = {io->in[1], io->grad_out, io->grad_in[0]};
        CNV_TRY(conv_backward_data(vb, &q, bufs));
    }
    cnv_buf *dw = io->grad_in[1], *db = io->n_in > 2 ? io->grad_in[2] : NULL;
    if (!dw && !db) return CNV_OK;
    p.flags = (dw ? CONV_WANT_DW : 0u) | (db ? CONV_BIAS : 0u) | (dw && io->grad_assign >> 1 & 1 ? CONV_ASSIGN : 0u) |
              (db && io->grad_assign >> 2 & 1 ? CONV_ASSIGN_DB : 0u);
    const uint64_t cols = (dw ? (uint64_t)p.cg * taps_of(&p) : 0) + (db ? 1 : 0);
    cnv_buf *bufs[4] = {io->in[0], io->grad_out, dw, db};
    return conv_product(vb, "conv2d_bwd_weights", 4, 0xC, 0x3, 0, 1, &p, p.mg, cols, (uint64_t)p.n * p.oh * p.ow,
                        groups_of(&p), NULL, 0, bufs);
}
