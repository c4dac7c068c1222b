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
#include "tiled.h"

#include "core/matmul_batch.h"
#include "core/status.h"

/* Push constants of gemm_fwd.comp. */
typedef struct gemm_push {
    uint32_t m, n, k;
    uint32_t lda, ldb;
    uint32_t c_rows, c_cols;
    uint32_t has_c;
    float alpha, beta;
    uint32_t a_off, b_off, out_off; /* MatMul: where this batch entry's A, B and Out start */
    uint32_t ldo;
    uint32_t m0, n0, k0;
    uint32_t a_base, b_base, c_base, out_base;
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

/* A piece of a product: rows [m0, m0 + m), columns [n0, n0 + n), reduction [k0, k0 + k). */
typedef struct piece {
    uint32_t m0, n0, k0, m, n, k;
} piece;

/* Elements [lo, hi) that a piece touches of a matrix indexed (i, j) for i in [i0, i1), j in
 * [j0, j1), stored at j * ld + i when column_major, else at i * ld + j. */
typedef struct span {
    uint64_t lo, hi;
} span;

static span matrix_span(int column_major, uint32_t ld, uint32_t i0, uint32_t i1, uint32_t j0, uint32_t j1) {
    if (column_major) return (span){(uint64_t)j0 * ld + i0, (uint64_t)(j1 - 1) * ld + i1};
    return (span){(uint64_t)i0 * ld + j0, (uint64_t)(i1 - 1) * ld + j1};
}

/* The descriptor range covering span sp of buf: the whole buffer when it fits the device's
 * range, else the span from the aligned offset below it; *base is the element the range starts
 * at. 0 when the span itself does not fit in one range. */
static int bind_span(const cnv_vk_caps *caps, const cnv_vk_buffer *buf, span sp, cnv_vk_binding *bind,
                     uint32_t *base) {
    *base = 0;
    *bind = (cnv_vk_binding){buf, 0, 0};
    if (buf->size <= caps->max_storage_buffer_range) return 1;
    /* Texel views (the kernel's texel build) have an alignment of their own: honour both. */
    uint64_t align = caps->min_storage_buffer_offset_alignment > 4 ? caps->min_storage_buffer_offset_alignment : 4;
    if (caps->min_texel_buffer_offset_alignment > align) align = caps->min_texel_buffer_offset_alignment;
    const uint64_t offset = sp.lo * sizeof(float) / align * align, end = sp.hi * sizeof(float);
    if (end - offset > caps->max_storage_buffer_range) return 0;
    *bind = (cnv_vk_binding){buf, offset, end - offset};
    *base = (uint32_t)(offset / sizeof(float));
    return 1;
}

enum { SPLIT_ROWS, SPLIT_COLS, SPLIT_DEPTH };

/* Binds the four buffers of piece pc of the product and fills its origin and bases into push;
 * 0 when some operand's span of this piece exceeds one descriptor range. */
static int bind_piece(const cnv_vk_caps *caps, const cnv_vk_buffer *const *vbuf, const int *column_major,
                      const uint32_t *ld, const piece *pc, gemm_push *push, cnv_vk_binding *bind) {
    const uint32_t m1 = pc->m0 + pc->m, n1 = pc->n0 + pc->n, k1 = pc->k0 + pc->k;
    const int c_rows_all = push->c_rows != 1, c_cols_all = push->c_cols != 1;
    const span spans[4] = {
        matrix_span(column_major[0], ld[0], pc->m0, m1, pc->k0, k1),
        matrix_span(column_major[1], ld[1], pc->k0, k1, pc->n0, n1),
        matrix_span(0, push->c_cols, c_rows_all ? pc->m0 : 0, c_rows_all ? m1 : 1, c_cols_all ? pc->n0 : 0,
                    c_cols_all ? n1 : 1),
        matrix_span(0, push->ldo, pc->m0, m1, pc->n0, n1),
    };
    uint32_t *bases[4] = {&push->a_base, &push->b_base, &push->c_base, &push->out_base};
    const uint32_t offs[4] = {push->a_off, push->b_off, 0, push->out_off}; /* MatMul's batch entry */
    for (int i = 0; i < 4; i++)
        if (!bind_span(caps, vbuf[i], (span){spans[i].lo + offs[i], spans[i].hi + offs[i]}, &bind[i], bases[i]))
            return 0;
    push->m = pc->m;
    push->n = pc->n;
    push->k = pc->k;
    push->m0 = pc->m0;
    push->n0 = pc->n0;
    push->k0 = pc->k0;
    return 1;
}

/* Piece i of `count` along axis of a rows x cols x depth product. */
static piece piece_of(int axis, uint32_t count, uint32_t i, uint32_t rows, uint32_t cols, uint32_t depth) {
    piece pc = {0, 0, 0, rows, cols, depth};
    uint32_t *origin = axis == SPLIT_ROWS ? &pc.m0 : axis == SPLIT_COLS ? &pc.n0 : &pc.k0;
    uint32_t *extent = axis == SPLIT_ROWS ? &pc.m : axis == SPLIT_COLS ? &pc.n : &pc.k;
    const uint32_t whole = *extent, step = (whole + count - 1) / count;
    *origin = i * step;
    *extent = *origin >= whole ? 0 : whole - *origin < step ? whole - *origin : step;
    return pc;
}

/* One piece's dispatch (or two, with a split reduction: tiled.c). */
static cnv_status gemm_dispatch(cnv_vk_backend *vb, const cnv_vk_tiles *t, int a_column_major, int b_column_major,
                                int accumulate, const cnv_vk_binding *bind, const gemm_push *push) {
    uint32_t spec[CNV_VK_TILE_SPECS + 1];
    cnv_vk_kernel_desc d = {.shader = "gemm_fwd", .bindings = 4, .written = 0x8, .texel = 0x7, .push_size = sizeof(gemm_push),
                            .spec = spec, .spec_count = CNV_VK_TILE_SPECS + 1};
    spec[CNV_VK_TILE_SPECS] = accumulate ? 1u : 0u; /* ACCUMULATE, the first id after the tile constants */
    return cnv_vk_tiled_dispatch(vb, &d, spec, t, a_column_major, b_column_major, bind, push, push->m, push->n, 1);
}

/* out [rows, cols] = alpha · L · R (+ beta · C as described by push), or out += alpha · L · R
 * when accumulate; push carries the C description and the scalars, this fills the rest.
 * When an operand exceeds the device's storage-buffer range (VGG16's fc6 weight, 392 MiB, on
 * llvmpipe's 128 MiB), the product runs in pieces along the axis that makes that operand's
 * pieces contiguous in memory: its stored rows, which are the product's rows or columns (each
 * piece writes its own part of out) or its reduction (pieces after the first accumulate). */
static cnv_status product(cnv_vk_backend *vb, operand l, operand r, cnv_buf *c, cnv_buf *out, uint32_t rows,
                          uint32_t cols, uint32_t depth, int accumulate, uint32_t out_off, gemm_push push) {
    const cnv_vk_caps *caps = cnv_vkb_caps(vb);
    if (!rows || !cols) return CNV_OK;
    cnv_vk_tiles t;
    CNV_TRY(cnv_vk_tiles_choose(caps, rows, cols, &t));
    const cnv_vk_buffer *vbuf[4] = {cnv_vkb_buffer_of(vb, l.buf), cnv_vkb_buffer_of(vb, r.buf),
                                    cnv_vkb_buffer_of(vb, c), cnv_vkb_buffer_of(vb, out)};
    const int column_major[2] = {l.column_major, r.column_major};
    const uint32_t ld[2] = {l.ld, r.ld};
    push.lda = l.ld;
    push.ldb = r.ld;
    push.a_off = l.off;
    push.b_off = r.off;
    push.out_off = out_off;
    push.ldo = cols;

    /* The axis follows the first operand too large for one range; the piece count grows until
     * every operand's span of every piece fits one. */
    const uint64_t range = caps->max_storage_buffer_range;
    int axis = SPLIT_ROWS;
    uint64_t biggest = 0;
    const int axis_of[4] = {l.column_major ? SPLIT_DEPTH : SPLIT_ROWS, r.column_major ? SPLIT_COLS : SPLIT_DEPTH,
                            SPLIT_ROWS, SPLIT_ROWS};
    for (int i = 3; i >= 0; i--)
        if (vbuf[i]->size > range) {
            if (!biggest) axis = axis_of[i]; /* the output's axis first: pieces of it never overlap */
            if (vbuf[i]->size > biggest) biggest = vbuf[i]->size;
        }
    const uint32_t extent = axis == SPLIT_ROWS ? rows : axis == SPLIT_COLS ? cols : depth;
    uint32_t count = biggest ? (uint32_t)((biggest + range - 1) / range) : 1;
    cnv_vk_binding bind[4];
    for (;; count++) {
        if (count > extent || count > 65536)
            return cnv_fail(CNV_ERR_UNSUPPORTED,
                            "vulkan: a %ux%ux%u product cannot be split into pieces within the device's storage "
                            "buffer range (%llu bytes)",
                            rows, cols, depth, (unsigned long long)range);
        int fits = 1;
        for (uint32_t i = 0; i < count && fits; i++) {
            const piece pc = piece_of(axis, count, i, rows, cols, depth);
            gemm_push probe = push;
            fits = pc.m == 0 || pc.n == 0 || pc.k == 0 || bind_piece(caps, vbuf, column_major, ld, &pc, &probe, bind);
        }
        if (fits) break;
    }

    for (uint32_t i = 0; i < count; i++) {
        const piece pc = piece_of(axis, count, i, rows, cols, depth);
        if (pc.m == 0 || pc.n == 0 || (pc.k == 0 && i > 0)) continue;
        /* Reduction pieces after the first add to what the first one wrote. */
        const int acc = accumulate || (axis == SPLIT_DEPTH && i > 0);
        gemm_push pp = push;
        if (acc && !accumulate) pp.has_c = 0;
        bind_piece(caps, vbuf, column_major, ld, &pc, &pp, bind);
        /* A product in one piece may split its reduction; pieces are already several dispatches. */
        cnv_vk_tiles tp = t;
        tp.split = count == 1 ? cnv_vk_tiles_split(caps, &t, pc.m, pc.n, pc.k, 1) : 1;
        CNV_TRY(gemm_dispatch(vb, &tp, l.column_major, r.column_major, acc, bind, &pp));
    }
    return CNV_OK;
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
