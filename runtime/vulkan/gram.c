/* Gram on the GPU: both directions are the tiled matrix product of shaders/gemm_tile.glsl,
 * one product per batch item (z), with the definitions of runtime/cpu/gram.c:
 *   forward  G_n [C, C]   = (1/P) F_n · F_nᵀ          (shaders/gram_fwd.comp)
 *   backward dF_n [C, P] += (1/P) (dG_n + dG_nᵀ) · F_n (shaders/gram_bwd_data.comp)
 * F_n is read in place as both operands: as A row-major, as Fᵀ through B_COLUMN_MAJOR, so both
 * slab loads walk F along its rows (coalesced). The backward's left operand is symmetrized as
 * it is loaded, so it needs no scratch buffer. Tile sizes follow the device (tiles.c).
 * The forward's reduction runs over the positions in chunks of POSITION_CHUNK, one dispatch
 * each, the first writing G and the others adding to it: llvmpipe ends a shader after 65535 loop
 * iterations in all (LP_MAX_TGSI_LOOP_ITERATIONS), which one pass over a plane of ~300x300
 * positions exceeds; and no float running sum gets longer than a chunk. */
#include "tiles.h"
#include "vk_backend.h"

#include "core/status.h"

/* Positions one forward dispatch reduces over. */
#define POSITION_CHUNK 16384u

/* Push constants of both kernels. */
typedef struct gram_push {
    uint32_t channels, positions;
    float scale;    /* 1 / positions */
    uint32_t first; /* forward: the chunk of positions [first, first + count) */
    uint32_t count;
} gram_push;

static cnv_status geom_init(const cnv_op_io *io, gram_push *push, uint32_t *items) {
    const cnv_shape *s = &io->in_shape[0];
    *push = (gram_push){0}; /* written on every path; callers read them only on success */
    *items = 0;
    if (io->n_in != 1 || s->ndim != 4 || io->out_shape.ndim != 4 || io->out_shape.d[0] != s->d[0] ||
        io->out_shape.d[1] != 1 || io->out_shape.d[2] != s->d[1] || io->out_shape.d[3] != s->d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Gram needs one NCHW input and an [N, 1, C, C] output", io->node->name);
    if (cnv_shape_numel(s) > UINT32_MAX || cnv_shape_numel(&io->out_shape) > UINT32_MAX)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: Gram of %zu features is too large for 32-bit indexing", io->node->name,
                        cnv_shape_numel(s));
    *items = (uint32_t)s->d[0];
    *push = (gram_push){.channels = (uint32_t)s->d[1], .positions = (uint32_t)s->d[2] * (uint32_t)s->d[3],
                        .scale = 1.0f / (float)(s->d[2] * s->d[3])};
    return CNV_OK;
}

/* Dispatches `shader`, an [rows, cols] product per item whose operands are stored as the
 * flags say. */
static cnv_status product(cnv_vk_backend *vb, const char *shader, cnv_buf *const *bufs, uint32_t n_bufs,
                          const gram_push *push, uint32_t items, uint32_t rows, uint32_t cols, int b_column_major) {
    const cnv_vk_caps *caps = cnv_vkb_caps(vb);
    cnv_vk_tiles t;
    CNV_TRY(cnv_vk_tiles_choose(caps, rows, cols, &t));
    uint32_t spec[CNV_VK_TILE_SPECS];
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = n_bufs, .written = 1u << (n_bufs - 1),
                            .push_size = sizeof *push, .spec = spec, .spec_count = CNV_VK_TILE_SPECS};
    cnv_vk_tiles_kernel(&t, 0, b_column_major, 0, spec, &d);
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    uint32_t grid[3];
    CNV_TRY(cnv_vk_tiles_grid(caps, &t, rows, cols, items, grid));
    return cnv_vkb_dispatch(vb, pipe, bufs, push, grid);
}

cnv_status cnv_vk_gram_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    gram_push push;
    uint32_t items;
    CNV_TRY(geom_init(io, &push, &items));
    cnv_buf *bufs[2] = {io->in[0], io->out};
    for (push.first = 0; push.first < push.positions; push.first += POSITION_CHUNK) {
        push.count = push.positions - push.first < POSITION_CHUNK ? push.positions - push.first : POSITION_CHUNK;
        CNV_TRY(product(vb, "gram_fwd", bufs, 2, &push, items, push.channels, push.channels, 1));
    }
    return CNV_OK;
}

cnv_status cnv_vk_gram_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    gram_push push;
    uint32_t items;
    CNV_TRY(geom_init(io, &push, &items));
    if (!io->grad_in[0]) return CNV_OK;
    cnv_buf *bufs[3] = {io->in[0], io->grad_out, io->grad_in[0]};
    return product(vb, "gram_bwd_data", bufs, 3, &push, items, push.channels, push.positions, 0);
}
