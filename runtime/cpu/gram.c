/* Gram, CNV_OP_GRAM: the channel correlations of feature maps (style transfer). Item n's
 * features F [C, P] (P = H*W positions, the plane flattened) give
 *     G[n, 0, i, j] = (1/P) sum_p F[i, p] F[j, p],   G = F Fᵀ / P, output [N, 1, C, C].
 * Backward: dF += (1/P) (dG + dGᵀ) F; G reads F twice, hence both dG and its transpose.
 * Both products are CBLAS calls per item: ssyrk computes the upper triangle, mirrored so that G
 * is exactly symmetric; the backward symmetrizes dG into a C x C scratch and multiplies with
 * ssymm, adding into dF. */
#include "cpu_ops.h"

#include "core/status.h"

#include <cblas.h>
#include <stdlib.h>

typedef struct gram_geom {
    int items, channels, positions;
} gram_geom;

static cnv_status geom_init(const cnv_cpu_args *a, gram_geom *g) {
    const cnv_shape *s = &a->in_shape[0];
    *g = (gram_geom){0}; /* written on every path; callers read it only on success */
    if (a->n_in != 1 || s->ndim != 4 || a->out_shape.ndim != 4 || a->out_shape.d[0] != s->d[0] ||
        a->out_shape.d[1] != 1 || a->out_shape.d[2] != s->d[1] || a->out_shape.d[3] != s->d[1])
        return cnv_fail(CNV_ERR_SHAPE, "%s: Gram needs one NCHW input and an [N, 1, C, C] output", a->node->name);
    g->items = s->d[0];
    g->channels = s->d[1];
    g->positions = s->d[2] * s->d[3];
    return CNV_OK;
}

cnv_status cnv_cpu_gram_forward(const cnv_cpu_args *a) {
    gram_geom g;
    CNV_TRY(geom_init(a, &g));
    const int C = g.channels, P = g.positions;
    for (int n = 0; n < g.items; n++) {
        const float *f = a->in[0] + (size_t)n * C * P;
        float *out = a->out + (size_t)n * C * C;
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, C, P, 1.0f / (float)P, f, P, 0.0f, out, C);
        for (int i = 0; i < C; i++)
            for (int j = 0; j < i; j++) out[(size_t)i * C + j] = out[(size_t)j * C + i];
    }
    return CNV_OK;
}

cnv_status cnv_cpu_gram_backward(const cnv_cpu_args *a) {
    gram_geom g;
    CNV_TRY(geom_init(a, &g));
    if (!a->grad_in[0]) return CNV_OK;
    const int C = g.channels, P = g.positions;
    float *sym = malloc((size_t)C * C * sizeof(float));
    if (!sym) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory for a %dx%d Gram gradient", a->node->name, C, C);
    for (int n = 0; n < g.items; n++) {
        const float *dg = a->grad_out + (size_t)n * C * C, *f = a->in[0] + (size_t)n * C * P;
        for (int i = 0; i < C; i++)
            for (int j = 0; j < C; j++) sym[(size_t)i * C + j] = dg[(size_t)i * C + j] + dg[(size_t)j * C + i];
        cblas_ssymm(CblasRowMajor, CblasLeft, CblasUpper, C, P, 1.0f / (float)P, sym, C, f, P, 1.0f,
                    a->grad_in[0] + (size_t)n * C * P, P);
    }
    free(sym);
    return CNV_OK;
}
