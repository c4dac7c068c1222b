/* Regularize and GradNorm: pass-throughs (y = x) whose backward reshapes the gradient that
 * flows back to the image.
 *
 * Regularize: a visualization MAXIMIZES objective - penalty, so the gradient passed back is
 * dY - d(penalty)/dx, with (per item and channel, over the H x W plane, c = l_center)
 *     penalty = tv * TV(x) + l1 * sum |x - c| + l2 * sum (x - c)^2 / 2,
 *     TV(x)   = sum over pixels of (dv^2 + dh^2 + CNV_TV_EPS)^(tv_beta / 2),
 *     dv = x[h+1,w] - x[h,w] (0 on the last row), dh = x[h,w+1] - x[h,w] (0 on the last column).
 * sign(0) = 0 for the L1 term. Each pixel's TV gradient gathers the three terms that hold it:
 * its own and those of its upper and left neighbours (the same gather as the shader).
 *
 * GradNorm is no gradient of a function: with gradnorm_clip = 0 it divides each item's dY by
 * (mean over the item of |dY|) + eps (DeepDream's step normalization); with gradnorm_clip = 1
 * it clamps dY to [-clip, clip]. */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>
#include <string.h>

static cnv_status passthrough_forward(const cnv_cpu_args *a) {
    if (a->n_in != 1 || !cnv_shape_equal(&a->in_shape[0], &a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: %s needs one input shaped like its output", a->node->name,
                        cnv_op_name(a->node->op));
    memcpy(a->out, a->in[0], cnv_shape_numel(&a->out_shape) * sizeof(float));
    return CNV_OK;
}

cnv_status cnv_cpu_regularize_forward(const cnv_cpu_args *a) { return passthrough_forward(a); }
cnv_status cnv_cpu_gradnorm_forward(const cnv_cpu_args *a) { return passthrough_forward(a); }

/* TV term of pixel (h, w) of an H x W plane: its forward differences and
 * k = beta * (dv^2 + dh^2 + eps)^(beta/2 - 1), the factor of d(term)/d(dv) = k * dv. */
static float tv_term(const float *x, int height, int width, int h, int w, float beta, float *dv, float *dh) {
    const float v = x[(size_t)h * width + w];
    *dv = h + 1 < height ? x[(size_t)(h + 1) * width + w] - v : 0.0f;
    *dh = w + 1 < width ? x[(size_t)h * width + w + 1] - v : 0.0f;
    return beta * powf(*dv * *dv + *dh * *dh + CNV_TV_EPS, 0.5f * beta - 1.0f);
}

/* d TV / d x[h, w]. */
static float tv_gradient(const float *x, int height, int width, int h, int w, float beta) {
    float dv, dh;
    float g = -tv_term(x, height, width, h, w, beta, &dv, &dh) * (dv + dh);
    if (h > 0) g += tv_term(x, height, width, h - 1, w, beta, &dv, &dh) * dv;
    if (w > 0) g += tv_term(x, height, width, h, w - 1, beta, &dv, &dh) * dh;
    return g;
}

cnv_status cnv_cpu_regularize_backward(const cnv_cpu_args *a) {
    const cnv_shape *s = &a->in_shape[0];
    if (a->n_in != 1 || s->ndim != 4 || !cnv_shape_equal(s, &a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: Regularize needs one 4-D input shaped like its output", a->node->name);
    if (!a->grad_in[0]) return CNV_OK;
    const cnv_attrs *at = a->a;
    const int height = s->d[2], width = s->d[3];
    const size_t planes = (size_t)s->d[0] * s->d[1], hw = (size_t)height * width;
    for (size_t p = 0; p < planes; p++) {
        const float *x = a->in[0] + p * hw, *dy = a->grad_out + p * hw;
        float *dx = a->grad_in[0] + p * hw;
        for (int h = 0; h < height; h++)
            for (int w = 0; w < width; w++) {
                const size_t i = (size_t)h * width + w;
                const float off = x[i] - at->l_center;
                float penalty = at->l1 * (float)((off > 0.0f) - (off < 0.0f)) + at->l2 * off;
                if (at->tv != 0.0f) penalty += at->tv * tv_gradient(x, height, width, h, w, at->tv_beta);
                dx[i] += dy[i] - penalty;
            }
    }
    return CNV_OK;
}

cnv_status cnv_cpu_gradnorm_backward(const cnv_cpu_args *a) {
    const cnv_shape *s = &a->in_shape[0];
    if (a->n_in != 1 || s->ndim < 1 || !cnv_shape_equal(s, &a->out_shape))
        return cnv_fail(CNV_ERR_SHAPE, "%s: GradNorm needs one input shaped like its output", a->node->name);
    if (!a->grad_in[0]) return CNV_OK;
    const cnv_attrs *at = a->a;
    const size_t items = (size_t)s->d[0], per_item = cnv_shape_numel(s) / (items ? items : 1);
    for (size_t n = 0; n < items; n++) {
        const float *dy = a->grad_out + n * per_item;
        float *dx = a->grad_in[0] + n * per_item;
        if (at->gradnorm_clip) {
            for (size_t i = 0; i < per_item; i++) dx[i] += fminf(fmaxf(dy[i], -at->clip), at->clip);
            continue;
        }
        double sum = 0.0;
        for (size_t i = 0; i < per_item; i++) sum += fabs((double)dy[i]);
        const float denom = (float)(sum / (double)per_item) + at->eps;
        for (size_t i = 0; i < per_item; i++) dx[i] += dy[i] / denom;
    }
    return CNV_OK;
}
