/* Gemm (ONNX) and MatMul: Y = alpha · op(A) · op(B) + beta · C, C broadcast from a
 * scalar, [N], [1, N], [M, 1] or [M, N]. Every product, forward and backward, is the one tiled
 * kernel shaders/gemm_fwd.comp (shaders/gemm_tile.glsl) with the operands' memory order as
 * specialization constants, so a transposed operand is read in place:
 *   forward  Y   = alpha · op(A) · op(B) + beta · C
 *   dA  += alpha · dY · op(B)ᵀ    (stored transposed when trans_a: alpha · op(B) · dYᵀ)
 *   dB  += alpha · op(A)ᵀ · dY    (stored transposed when trans_b: alpha · dYᵀ · op(A))
 *   dC  += beta · dY summed over C's broadcast axes (shaders/gemm_bwd_c.comp, a gather).
 * MatMul's batch entries (core/matmul_batch.h) are one dispatch each, with the operands' offsets
 * as push constants; dispatches that accumulate into the same gradient run in turn. */
#include "tiles.h"
#include "vk_backend.h"

#include "core/matmul_batch.h"
#include "core/status.h"

/* Push constants of gemm_fwd.comp. */
typedef struct gemm_push {
    uint32_t m, n, k;
    uint32_t lda, ldb;
    uint32_t c_rows, c_cols;
    uint32_t has_c;
    float alpha, beta;
    uint32_t a_off, b_off, out_off;
} gemm_push;

typedef struct gemm_geom {
    uint32_t m, n, k;
    int trans_a, trans_b;
    uint32_t lda, ldb; /* row lengths of A and B as stored */
    float alpha, beta;
    cnv_buf *c;        /* NULL without C */
    uint32_t c_rows, c_cols;
    cnv_matmul_batch batch; /* MatMul's products (one for Gemm) */
} gemm_geom;

static uint32_t last_dim(const cnv_shape *s, int from_end) {
    return s->ndim > from_end ? (uint32_t)s->d[s->ndim - 1 - from_end] : 1;
}

static cnv_status geom_init(const cnv_op_io *io, gemm_geom *g) {
    const cnv_shape *sa = &io->in_shape[0], *sb = &io->in_shape[1];
    const cnv_attrs *at = &io->node->attrs;
    const int is_gemm = io->node->op == CNV_OP_GEMM;
    *g = (gemm_geom){0}; /* written on every path; callers read it only on success */
    if (!is_gemm) {
        CNV_TRY(cnv_matmul_batch_make(sa, sb, &io->out_shape, io->node->name, &g->batch));
        if (cnv_shape_numel(sa) > UINT32_MAX || cnv_shape_numel(sb) > UINT32_MAX ||
            cnv_shape_numel(&io->out_shape) > UINT32_MAX)
            return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan MatMul '%s': operands too large", io->node->name);
        *g = (gemm_geom){.m = (uint32_t)g->batch.m, .n = (uint32_t)g->batch.n, .k = (uint32_t)g->batch.k,
                         .lda = (uint32_t)g->batch.k, .ldb = (uint32_t)g->batch.n, .alpha = 1.0f, .c_rows = 1,
                         .c_cols = 1, .batch = g->batch};
        return CNV_OK;
    }
    if (io->n_in < 2 || sa->ndim != 2 || sb->ndim != 2 || io->out_shape.ndim != 2)
        return cnv_fail(CNV_ERR_SHAPE, "vulkan gemm '%s': A and B must be 2-D", io->node->name);
    *g = (gemm_geom){
        .trans_a = is_gemm && at->trans_a, .trans_b = is_gemm && at->trans_b,
        .alpha = is_gemm ? at->alpha : 1.0f, .beta = is_gemm ? at->beta : 0.0f,
        .lda = (uint32_t)sa->d[1], .ldb = (uint32_t)sb->d[1], .c_rows = 1, .c_cols = 1,
        .batch = {.count = 1},
    };
    g->m = (uint32_t)(g->trans_a ? sa->d[1] : sa->d[0]);
    g->k = (uint32_t)(g->trans_a ? sa->d[0] : sa->d[1]);
    g->n = (uint32_t)(g->trans_b ? sb->d[0] : sb->d[1]);
    if ((uint32_t)(g->trans_b ? sb->d[1] : sb->d[0]) != g->k || (uint32_t)io->out_shape.d[0] != g->m ||
        (uint32_t)io->out_shape.d[1] != g->n)
        return cnv_fail(CNV_ERR_SHAPE, "vulkan gemm '%s': inner or output dimensions do not match", io->node->name);
    g->c = is_gemm && io->n_in > 2 ? io->in[2] : NULL;
    if (g->c) {
        const cnv_shape *sc = &io->in_shape[2];
        g->c_rows = last_dim(sc, 1);
        g->c_cols = last_dim(sc, 0);
        if (sc->ndim > 2 || (g->c_rows != 1 && g->c_rows != g->m) || (g->c_cols != 1 && g->c_cols != g->n))
            return cnv_fail(CNV_ERR_SHAPE, "vulkan gemm '%s': C does not broadcast to [M, N]", io->node->name);
    }
    return CNV_OK;
}

/* One operand of a product as stored: column_major when element (i, k) and (i + 1, k) are
 * neighbours (a transposed row-major matrix); ld is the stored row length. */
typedef struct operand {
    cnv_buf *buf;
    int column_major;
    uint32_t ld;
    uint32_t off; /* where the matrix starts in buf */
} operand;

/* out [rows, cols] = alpha · L · R (+ beta · C as described by push), or out += alpha · L · R
 * when accumulate; push carries the C description and the scalars, this fills the rest. */
static cnv_status product(cnv_vk_backend *vb, operand l, operand r, cnv_buf *c, cnv_buf *out, uint32_t rows,
                          uint32_t cols, uint32_t depth, int accumulate, uint32_t out_off, gemm_push push) {
    const cnv_vk_caps *caps = cnv_vkb_caps(vb);
    cnv_vk_tiles t;
    CNV_TRY(cnv_vk_tiles_choose(caps, rows, cols, &t));
    uint32_t spec[CNV_VK_TILE_SPECS + 1];
    cnv_vk_kernel_desc d = {.shader = "gemm_fwd", .bindings = 4, .written = 0x8, .push_size = sizeof push,
                            .spec = spec, .spec_count = CNV_VK_TILE_SPECS + 1};
    cnv_vk_tiles_kernel(&t, l.column_major, r.column_major, spec, &d);
    spec[CNV_VK_TILE_SPECS] = accumulate ? 1u : 0u; /* ACCUMULATE, id 8 */
    const cnv_vk_pipeline *pipe;
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    uint32_t grid[3];
    CNV_TRY(cnv_vk_tiles_grid(caps, &t, rows, cols, 1, grid));
    push.m = rows;
    push.n = cols;
    push.k = depth;
    push.lda = l.ld;
    push.ldb = r.ld;
    push.a_off = l.off;
    push.b_off = r.off;
    push.out_off = out_off;
    cnv_buf *bufs[4] = {l.buf, r.buf, c, out};
    return cnv_vkb_dispatch(vb, pipe, bufs, &push, grid);
}

cnv_status cnv_vk_gemm_forward(cnv_vk_backend *vb, const cnv_op_io *io) {
    gemm_geom g;
    CNV_TRY(geom_init(io, &g));
    gemm_push push = {.c_rows = g.c_rows, .c_cols = g.c_cols, .has_c = g.c != NULL, .alpha = g.alpha, .beta = g.beta};
    for (size_t z = 0; z < g.batch.count; z++) {
        size_t ao, bo;
        cnv_matmul_batch_offsets(&g.batch, z, &ao, &bo);
        CNV_TRY(product(vb, (operand){io->in[0], g.trans_a, g.lda, (uint32_t)ao},
                        (operand){io->in[1], g.trans_b, g.ldb, (uint32_t)bo}, g.c, io->out, g.m, g.n, g.k, 0,
                        (uint32_t)(z * g.m * g.n), push));
    }
    return CNV_OK;
}

static cnv_status backward_c(cnv_vk_backend *vb, const gemm_geom *g, cnv_buf *dy, cnv_buf *dc) {
    const cnv_vk_pipeline *pipe;
    struct {
        uint32_t m, n, c_rows, c_cols;
        float beta;
    } push = {g->m, g->n, g->c_rows, g->c_cols, g->beta};
    cnv_vk_kernel_desc d = {.shader = "gemm_bwd_c", .bindings = 2, .written = 0x2, .push_size = sizeof push,
                            .local_size = {cnv_vkb_local_1d(vb), 1, 1}};
    CNV_TRY(cnv_vkb_kernel(vb, &d, &pipe));
    cnv_buf *bufs[2] = {dy, dc};
    return cnv_vkb_dispatch_1d(vb, pipe, bufs, &push, (size_t)g->c_rows * g->c_cols);
}

cnv_status cnv_vk_gemm_backward(cnv_vk_backend *vb, const cnv_op_io *io) {
    gemm_geom g;
    CNV_TRY(geom_init(io, &g));
    const gemm_push push = {.alpha = g.alpha};
    for (size_t z = 0; z < g.batch.count; z++) {
        size_t ao, bo;
        cnv_matmul_batch_offsets(&g.batch, z, &ao, &bo);
        const uint32_t yo = (uint32_t)(z * g.m * g.n), a_off = (uint32_t)ao, b_off = (uint32_t)bo;
        const operand dy = {io->grad_out, 0, g.n, yo}, dy_t = {io->grad_out, 1, g.n, yo};
        const operand a = {io->in[0], g.trans_a, g.lda, a_off}, b = {io->in[1], g.trans_b, g.ldb, b_off};
        const operand a_t = {a.buf, !a.column_major, a.ld, a_off}, b_t = {b.buf, !b.column_major, b.ld, b_off};
        if (io->grad_in[0]) {
            if (!g.trans_a) /* dA [M,K] += alpha · dY [M,N] · op(B)ᵀ [N,K] */
                CNV_TRY(product(vb, dy, b_t, NULL, io->grad_in[0], g.m, g.k, g.n, 1, a_off, push));
            else /* dA [K,M] += alpha · op(B) [K,N] · dYᵀ [N,M] */
                CNV_TRY(product(vb, b, dy_t, NULL, io->grad_in[0], g.k, g.m, g.n, 1, a_off, push));
        }
        if (io->grad_in[1]) {
            if (!g.trans_b) /* dB [K,N] += alpha · op(A)ᵀ [K,M] · dY [M,N] */
                CNV_TRY(product(vb, a_t, dy, NULL, io->grad_in[1], g.k, g.n, g.m, 1, b_off, push));
            else /* dB [N,K] += alpha · dYᵀ [N,M] · op(A) [M,K] */
                CNV_TRY(product(vb, dy_t, a, NULL, io->grad_in[1], g.n, g.k, g.m, 1, b_off, push));
        }
    }
    if (g.c && io->grad_in[2]) CNV_TRY(backward_c(vb, &g, io->grad_out, io->grad_in[2]));
    return CNV_OK;
}
