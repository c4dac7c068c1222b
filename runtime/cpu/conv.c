/* Conv (ONNX): X [N, C, H, W] * W [M, C/group, kH, kW] (+ B [M]) -> Y [N, M, OH, OW].
 *
 * Lowered to matrix products per image and group: im2col unrolls the receptive fields of one
 * group's input channels into a [C/group * kH * kW, OH * OW] matrix, so that
 *   forward:          Y_g  = W_g · col
 *   backward to data: col  = W_gᵀ · dY_g, folded back onto dX by col2im (accumulating)
 *   backward to W:    dW_g += dY_g · colᵀ,   dB += the row sums of dY
 * A 1x1 kernel with stride 1 and no padding needs no unrolling: its col matrix is the input
 * itself, which is common enough (SqueezeNet's squeeze and expand layers) to be worth the path. */
#include "cpu_ops.h"

#include "core/status.h"

#include <cblas.h>
#include <stdlib.h>

typedef struct conv_geom {
    int n, c, h, w;      /* input */
    int m, oh, ow;       /* output channels and size */
    int kh, kw;          /* kernel */
    int sh, sw, dh, dw;  /* strides, dilations */
    int pt, pl;          /* top and left padding (bottom/right are implied by the output size) */
    int group, cg, mg;   /* groups, input and output channels per group */
    int rows, cols;      /* col matrix: cg*kh*kw rows, oh*ow columns */
    int identity_cols;   /* 1x1, stride 1, no padding: col == input */
} conv_geom;

static cnv_status conv_geom_init(const cnv_cpu_args *a, conv_geom *g) {
    const cnv_shape *x = &a->in_shape[0], *wt = &a->in_shape[1], *y = &a->out_shape;
    const cnv_attrs *at = a->a;
    if (a->n_in < 2 || x->ndim != 4 || wt->ndim != 4 || y->ndim != 4 || at->group < 1 ||
        x->d[1] % at->group || y->d[1] % at->group)
        return cnv_fail(CNV_ERR_SHAPE, "conv '%s': inputs do not fit a 2-D convolution", a->node->name);
    *g = (conv_geom){
        .n = x->d[0], .c = x->d[1], .h = x->d[2], .w = x->d[3],
        .m = y->d[1], .oh = y->d[2], .ow = y->d[3],
        .kh = wt->d[2], .kw = wt->d[3],
        .sh = at->stride[0], .sw = at->stride[1], .dh = at->dilation[0], .dw = at->dilation[1],
        .pt = at->pads[0], .pl = at->pads[1],
        .group = at->group, .cg = x->d[1] / at->group, .mg = y->d[1] / at->group,
    };
    g->rows = g->cg * g->kh * g->kw;
    g->cols = g->oh * g->ow;
    g->identity_cols = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 &&
                       g->pl == 0 && g->oh == g->h && g->ow == g->w;
    return CNV_OK;
}

/* The col matrix is written (im2col) or read back onto the image (col2im) through one walk, so
 * that both directions agree on the layout by construction. */
typedef enum { UNROLL, FOLD } col_direction;

/* UNROLL: col[r][p] = x at that tap (0 in the padding). FOLD: x at that tap += col[r][p].
 * Rows r = (c * kh + i) * kw + j, columns p = oy * ow + ox; x points at the group's first channel. */
static void col_walk(const conv_geom *g, col_direction dir, float *x, float *col) {
    for (int c = 0; c < g->cg; c++) {
        float *plane = x + (size_t)c * g->h * g->w;
        for (int i = 0; i < g->kh; i++) {
            for (int j = 0; j < g->kw; j++) {
                float *row = col + ((size_t)(c * g->kh + i) * g->kw + j) * g->cols;
                for (int oy = 0; oy < g->oh; oy++) {
                    int iy = oy * g->sh - g->pt + i * g->dh;
                    float *out = row + (size_t)oy * g->ow;
                    int inside_y = iy >= 0 && iy < g->h;
                    for (int ox = 0; ox < g->ow; ox++) {
                        int ix = ox * g->sw - g->pl + j * g->dw;
                        int inside = inside_y && ix >= 0 && ix < g->w;
                        if (dir == UNROLL)
                            out[ox] = inside ? plane[(size_t)iy * g->w + ix] : 0.0f;
                        else if (inside)
                            plane[(size_t)iy * g->w + ix] += out[ox];
                    }
                }
            }
        }
    }
}

/* The col matrix of image n, group gi: the input itself on the identity path, else unrolled
 * into the workspace. */
static const float *image_cols(const conv_geom *g, const float *x, int n, int gi, float *work) {
    const float *xg = x + ((size_t)n * g->c + (size_t)gi * g->cg) * g->h * g->w;
    if (g->identity_cols) return xg;
    col_walk(g, UNROLL, (float *)xg, work); /* unrolling only reads x */
    return work;
}

static cnv_status alloc_work(const cnv_cpu_args *a, const conv_geom *g, float **work) {
    *work = NULL;
    if (g->identity_cols) return CNV_OK;
    *work = malloc((size_t)g->rows * g->cols * sizeof(float) + 1);
    if (!*work) return cnv_fail(CNV_ERR_NOMEM, "conv '%s': out of memory for the im2col workspace", a->node->name);
    return CNV_OK;
}

cnv_status cnv_cpu_conv_forward(const cnv_cpu_args *a) {
    conv_geom g;
    float *work;
    CNV_TRY(conv_geom_init(a, &g));
    CNV_TRY(alloc_work(a, &g, &work));
    const float *x = a->in[0], *wt = a->in[1], *bias = a->n_in > 2 ? a->in[2] : NULL;
    for (int n = 0; n < g.n; n++) {
        for (int gi = 0; gi < g.group; gi++) {
            const float *col = image_cols(&g, x, n, gi, work);
            float *y = a->out + ((size_t)n * g.m + (size_t)gi * g.mg) * g.cols;
            const float *wg = wt + (size_t)gi * g.mg * g.rows;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.mg, g.cols, g.rows, 1.0f, wg, g.rows,
                        col, g.cols, 0.0f, y, g.cols);
            if (!bias) continue;
            for (int m = 0; m < g.mg; m++) {
                float b = bias[gi * g.mg + m];
                for (int p = 0; p < g.cols; p++) y[(size_t)m * g.cols + p] += b;
            }
        }
    }
    free(work);
    return CNV_OK;
}

/* dX += col2im(W_gᵀ · dY_g); on the identity path the product lands on dX directly. */
static void backward_data(const cnv_cpu_args *a, const conv_geom *g, float *work) {
    for (int n = 0; n < g->n; n++) {
        for (int gi = 0; gi < g->group; gi++) {
            const float *dy = a->grad_out + ((size_t)n * g->m + (size_t)gi * g->mg) * g->cols;
            const float *wg = a->in[1] + (size_t)gi * g->mg * g->rows;
            float *dx = a->grad_in[0] + ((size_t)n * g->c + (size_t)gi * g->cg) * g->h * g->w;
            float *dst = g->identity_cols ? dx : work;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->rows, g->cols, g->mg, 1.0f, wg, g->rows,
                        dy, g->cols, g->identity_cols ? 1.0f : 0.0f, dst, g->cols);
            if (!g->identity_cols) col_walk(g, FOLD, dx, work);
        }
    }
}

/* dW_g += dY_g · colᵀ summed over the batch; dB[m] += Σ dY[m]. */
static void backward_weights(const cnv_cpu_args *a, const conv_geom *g, float *work) {
    float *dw = a->grad_in[1], *db = a->n_in > 2 ? a->grad_in[2] : NULL;
    for (int n = 0; n < g->n; n++) {
        for (int gi = 0; gi < g->group; gi++) {
            const float *dy = a->grad_out + ((size_t)n * g->m + (size_t)gi * g->mg) * g->cols;
            if (dw) {
                const float *col = image_cols(g, a->in[0], n, gi, work);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->mg, g->rows, g->cols, 1.0f, dy, g->cols,
                            col, g->cols, 1.0f, dw + (size_t)gi * g->mg * g->rows, g->rows);
            }
            if (db) {
                for (int m = 0; m < g->mg; m++) {
                    float s = 0.0f;
                    for (int p = 0; p < g->cols; p++) s += dy[(size_t)m * g->cols + p];
                    db[gi * g->mg + m] += s;
                }
            }
        }
    }
}

cnv_status cnv_cpu_conv_backward(const cnv_cpu_args *a) {
    conv_geom g;
    float *work;
    CNV_TRY(conv_geom_init(a, &g));
    CNV_TRY(alloc_work(a, &g, &work));
    if (a->grad_in[0]) backward_data(a, &g, work);
    if (a->grad_in[1] || (a->n_in > 2 && a->grad_in[2])) backward_weights(a, &g, work);
    free(work);
    return CNV_OK;
}
