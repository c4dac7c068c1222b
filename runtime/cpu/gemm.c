/* Gemm (ONNX): Y = alpha · op(A) · op(B) + beta · C, with op() an optional transpose and C
 * unidirectionally broadcast to [M, N] (scalar, [N], [1, N], [M, 1] or [M, N]).
 * MatMul is the same product with alpha = 1 and no C, once per batch entry (core/matmul_batch.h:
 * numpy broadcasting of the batch dims; the backward of a broadcast operand sums over the
 * products, which run in turn).
 * Backward, for the stored (possibly transposed) layouts:
 *   dA  = alpha · dY · op(B)ᵀ   (stored transposed when trans_a: alpha · op(B) · dYᵀ)
 *   dB  = alpha · op(A)ᵀ · dY   (stored transposed when trans_b: alpha · dYᵀ · op(A))
 *   dC  = beta · dY summed over the broadcast axes */
#include "cpu_ops.h"

#include "core/matmul_batch.h"
#include "core/status.h"

#include <cblas.h>

typedef struct gemm_geom {
    int m, n, k;
    int trans_a, trans_b;
    int lda, ldb;  /* row strides of A and B as stored */
    float alpha, beta;
    const float *c;  /* NULL without C */
    int c_rows, c_cols; /* C's extent before broadcasting: 1 or M, 1 or N */
    cnv_matmul_batch batch; /* MatMul's products (one for Gemm) */
} gemm_geom;

static int last_dim(const cnv_shape *s, int from_end) {
    return s->ndim > from_end ? s->d[s->ndim - 1 - from_end] : 1;
}

static cnv_status geom_init(const cnv_cpu_args *a, gemm_geom *g) {
    const cnv_shape *sa = &a->in_shape[0], *sb = &a->in_shape[1];
    const int is_gemm = a->node->op == CNV_OP_GEMM;
    if (!is_gemm) {
        *g = (gemm_geom){.alpha = 1.0f, .c_rows = 1, .c_cols = 1};
        CNV_TRY(cnv_matmul_batch_make(sa, sb, &a->out_shape, a->node->name, &g->batch));
        g->m = g->batch.m, g->n = g->batch.n, g->k = g->batch.k;
        g->lda = g->k, g->ldb = g->n;
        return CNV_OK;
    }
    g->batch = (cnv_matmul_batch){.count = 1};
    if (a->n_in < 2 || sa->ndim != 2 || sb->ndim != 2 || a->out_shape.ndim != 2)
        return cnv_fail(CNV_ERR_SHAPE, "gemm '%s': A and B must be 2-D", a->node->name);
    g->trans_a = is_gemm && a->a->trans_a;
    g->trans_b = is_gemm && a->a->trans_b;
    g->alpha = is_gemm ? a->a->alpha : 1.0f;
    g->beta = is_gemm ? a->a->beta : 0.0f;
    g->m = g->trans_a ? sa->d[1] : sa->d[0];
    g->k = g->trans_a ? sa->d[0] : sa->d[1];
    g->n = g->trans_b ? sb->d[0] : sb->d[1];
    g->lda = sa->d[1];
    g->ldb = sb->d[1];
    if ((g->trans_b ? sb->d[1] : sb->d[0]) != g->k || a->out_shape.d[0] != g->m || a->out_shape.d[1] != g->n)
        return cnv_fail(CNV_ERR_SHAPE, "gemm '%s': inner or output dimensions do not match", a->node->name);
    g->c = is_gemm && a->n_in > 2 ? a->in[2] : NULL;
    g->c_rows = g->c_cols = 1;
    if (g->c) {
        const cnv_shape *sc = &a->in_shape[2];
        g->c_rows = last_dim(sc, 1);
        g->c_cols = last_dim(sc, 0);
        if (sc->ndim > 2 || (g->c_rows != 1 && g->c_rows != g->m) || (g->c_cols != 1 && g->c_cols != g->n))
            return cnv_fail(CNV_ERR_SHAPE, "gemm '%s': C does not broadcast to [M, N]", a->node->name);
    }
    return CNV_OK;
}

/* Index into C of output element (i, j) under broadcasting. */
static size_t c_index(const gemm_geom *g, int i, int j) {
    return (size_t)(g->c_rows == 1 ? 0 : i) * g->c_cols + (g->c_cols == 1 ? 0 : j);
}

static CBLAS_TRANSPOSE trans(int t) { return t ? CblasTrans : CblasNoTrans; }

/* C [M,N] = alpha · op(A) [M,K] · op(B) [K,N] + beta · C, row-major (cblas_sgemm's arguments).
 * A product with one row or one column (a batch-1 classifier: VGG16's fc6 reads 411 MB of
 * weights for a 25088-vector) is a matrix-vector product: sgemm would first copy the whole matrix
 * into its packed layout, reading and writing it twice more than sgemv, which streams it once. */
static void product(int ta, int tb, int m, int n, int k, float alpha, const float *A, int lda, const float *B,
                    int ldb, float beta, float *C, int ldc) {
    if (m != 1 && n != 1) { /* on the pool's threads, as the convolutions' products (blas_split.c) */
        const cnv_cpu_products p = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .count = 1, .alpha = alpha,
                                    .beta = beta, .a = A, .lda = lda, .b = B, .ldb = ldb, .c = C, .ldc = ldc,
                                    .a_period = 1};
        cnv_cpu_products_run(&p);
        return;
    }
    /* BLAS may leave beta · C unevaluated when beta is 0, but C's old contents must not leak in
     * as NaN either way: it is cleared here. */
    if (beta == 0.0f)
        for (int i = 0; i < (m == 1 ? n : m); i++) C[(size_t)i * (m == 1 ? 1 : (size_t)ldc)] = 0.0f;
    if (m == 1) /* c[j] = Σ_k a[k] op(B)[k][j]: a is A's one row (or column, when stored transposed) */
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? n : k, tb ? k : n, alpha, B, ldb, A,
                    ta ? lda : 1, beta, C, 1);
    else /* c[i] = Σ_k op(A)[i][k] b[k]: b is B's one column (or row) */
        cblas_sgemv(CblasRowMajor, trans(ta), ta ? k : m, ta ? m : k, alpha, A, lda, B, tb ? 1 : ldb, beta, C, ldc);
}

cnv_status cnv_cpu_gemm_forward(const cnv_cpu_args *a) {
    gemm_geom g;
    CNV_TRY(geom_init(a, &g));
    float *y = a->out;
    if (g.c)
        for (int i = 0; i < g.m; i++)
            for (int j = 0; j < g.n; j++) y[(size_t)i * g.n + j] = g.beta * g.c[c_index(&g, i, j)];
    const size_t mn = (size_t)g.m * g.n;
    for (size_t z = 0; z < g.batch.count; z++) {
        size_t ao, bo;
        cnv_matmul_batch_offsets(&g.batch, z, &ao, &bo);
        product(g.trans_a, g.trans_b, g.m, g.n, g.k, g.alpha, a->in[0] + ao, g.lda, a->in[1] + bo, g.ldb,
                g.c ? 1.0f : 0.0f, y + z * mn, g.n);
    }
    return CNV_OK;
}

cnv_status cnv_cpu_gemm_backward(const cnv_cpu_args *a) {
    gemm_geom g;
    CNV_TRY(geom_init(a, &g));
    const size_t mn = (size_t)g.m * g.n;
    for (size_t z = 0; z < g.batch.count; z++) {
        size_t ao, bo;
        cnv_matmul_batch_offsets(&g.batch, z, &ao, &bo);
        const float *dy = a->grad_out + z * mn, *A = a->in[0] + ao, *B = a->in[1] + bo;
        if (a->grad_in[0]) {
            float *dA = a->grad_in[0] + ao;
            if (!g.trans_a) /* dA [M,K] += alpha · dY [M,N] · op(B)ᵀ [N,K] */
                product(0, !g.trans_b, g.m, g.k, g.n, g.alpha, dy, g.n, B, g.ldb, 1.0f, dA, g.k);
            else /* dA [K,M] += alpha · op(B) [K,N] · dYᵀ [N,M] */
                product(g.trans_b, 1, g.k, g.m, g.n, g.alpha, B, g.ldb, dy, g.n, 1.0f, dA, g.m);
        }
        if (a->grad_in[1]) {
            float *dB = a->grad_in[1] + bo;
            if (!g.trans_b) /* dB [K,N] += alpha · op(A)ᵀ [K,M] · dY [M,N] */
                product(!g.trans_a, 0, g.k, g.n, g.m, g.alpha, A, g.lda, dy, g.n, 1.0f, dB, g.n);
            else /* dB [N,K] += alpha · dYᵀ [N,M] · op(A) [M,K] */
                product(1, g.trans_a, g.n, g.k, g.m, g.alpha, dy, g.n, A, g.lda, 1.0f, dB, g.k);
        }
    }
    if (g.c && a->grad_in[2])
        for (int i = 0; i < g.m; i++)
            for (int j = 0; j < g.n; j++) a->grad_in[2][c_index(&g, i, j)] += g.beta * a->grad_out[(size_t)i * g.n + j];
    return CNV_OK;
}
