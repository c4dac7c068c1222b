/* Depthwise Conv on the CPU: each output plane correlates its own input plane with its own
 * k x k kernel. Through im2col it had been one product per channel with a single output row (a
 * matrix-vector product over a k^2-row col matrix unrolled per channel, 49 rows for ConvNeXt's 7x7);
 * here every tap is one pass along an output row, y[ox] += w * x[ox * s + offset], which the
 * compiler vectorizes (the strides 1 and 2 get copies of their own, so that the loads are vector
 * loads and shuffles). The backward to the data is the same walk with the roles swapped:
 * dx[ox * s + offset] += w * dy[ox]; a plane's dx is one thread's, so nothing races. */
#include "conv_depthwise.h"

#include "cpu_ops.h"

#include <string.h>

/* The outputs ox of a row whose tap ix = ox * s + off lies inside [0, w): [*lo, *hi). */
static void inside(int s, int off, int w, int ow, int *lo, int *hi) {
    int a = off >= 0 ? 0 : (-off + s - 1) / s;
    int b = w - 1 - off < 0 ? 0 : (w - 1 - off) / s + 1;
    if (b > ow) b = ow;
    if (a > b) a = b;
    *lo = a, *hi = b;
}

typedef struct depthwise_job {
    const cnv_depthwise_conv *d;
    const float *in, *bias;
    float *out, *relu;
    int assign;
} depthwise_job;

/* Output planes [lo, hi), column stride s (a constant in each copy). */
CNV_CPU_INLINE void forward_planes_s(int s, const depthwise_job *j, size_t lo, size_t hi) {
    const cnv_depthwise_conv *d = j->d;
    const size_t in_plane = (size_t)d->h * d->w, out_plane = (size_t)d->oh * d->ow;
    for (size_t p = lo; p < hi; p++) {
        const int ch = (int)(p % (size_t)d->c);
        const float *x = j->in + p * in_plane, *wt = d->wt + (size_t)ch * d->kh * d->kw;
        const float b = j->bias ? j->bias[ch] : 0.0f;
        for (int oy = 0; oy < d->oh; oy++) {
            float *y = j->out + p * out_plane + (size_t)oy * d->ow;
            for (int ox = 0; ox < d->ow; ox++) y[ox] = b;
            for (int ky = 0; ky < d->kh; ky++) {
                const int iy = oy * d->sh - d->pt + ky;
                if (iy < 0 || iy >= d->h) continue;
                const float *row = x + (size_t)iy * d->w;
                for (int kx = 0; kx < d->kw; kx++) {
                    const int off = kx - d->pl;
                    const float wv = wt[ky * d->kw + kx];
                    int a, e;
                    inside(s, off, d->w, d->ow, &a, &e);
                    for (int ox = a; ox < e; ox++) y[ox] += wv * row[ox * s + off];
                }
            }
            if (j->relu) cnv_cpu_relu_copy(y, j->relu + p * out_plane + (size_t)oy * d->ow, (size_t)d->ow);
        }
    }
}

CNV_CPU_CLONES static void forward_planes(void *ctx, size_t lo, size_t hi) {
    const depthwise_job *j = ctx;
    if (j->d->sw == 1)
        forward_planes_s(1, j, lo, hi);
    else if (j->d->sw == 2)
        forward_planes_s(2, j, lo, hi);
    else
        forward_planes_s(j->d->sw, j, lo, hi);
}

void cnv_cpu_depthwise_forward(const cnv_depthwise_conv *d, const float *x, const float *bias, float *y,
                               float *relu_y) {
    depthwise_job j = {d, x, bias, y, relu_y, 0};
    const size_t planes = (size_t)d->n * d->c;
    cnv_cpu_parallel(planes, cnv_cpu_min_items((size_t)d->oh * d->ow * d->kh * d->kw), forward_planes, &j);
}

/* Input planes [lo, hi) of dx, column stride s. */
CNV_CPU_INLINE void backward_planes_s(int s, const depthwise_job *j, size_t lo, size_t hi) {
    const cnv_depthwise_conv *d = j->d;
    const size_t in_plane = (size_t)d->h * d->w, out_plane = (size_t)d->oh * d->ow;
    for (size_t p = lo; p < hi; p++) {
        const int ch = (int)(p % (size_t)d->c);
        const float *wt = d->wt + (size_t)ch * d->kh * d->kw;
        float *dx = j->out + p * in_plane;
        if (j->assign) memset(dx, 0, in_plane * sizeof *dx);
        for (int oy = 0; oy < d->oh; oy++) {
            const float *dy = j->in + p * out_plane + (size_t)oy * d->ow;
            for (int ky = 0; ky < d->kh; ky++) {
                const int iy = oy * d->sh - d->pt + ky;
                if (iy < 0 || iy >= d->h) continue;
                float *row = dx + (size_t)iy * d->w;
                for (int kx = 0; kx < d->kw; kx++) {
                    const int off = kx - d->pl;
                    const float wv = wt[ky * d->kw + kx];
                    int a, e;
                    inside(s, off, d->w, d->ow, &a, &e);
                    for (int ox = a; ox < e; ox++) row[ox * s + off] += wv * dy[ox];
                }
            }
        }
    }
}

CNV_CPU_CLONES static void backward_planes(void *ctx, size_t lo, size_t hi) {
    const depthwise_job *j = ctx;
    if (j->d->sw == 1)
        backward_planes_s(1, j, lo, hi);
    else if (j->d->sw == 2)
        backward_planes_s(2, j, lo, hi);
    else
        backward_planes_s(j->d->sw, j, lo, hi);
}

void cnv_cpu_depthwise_backward_data(const cnv_depthwise_conv *d, const float *dy, int assign, float *dx) {
    depthwise_job j = {d, dy, NULL, dx, NULL, assign};
    const size_t planes = (size_t)d->n * d->c;
    cnv_cpu_parallel(planes, cnv_cpu_min_items((size_t)d->oh * d->ow * d->kh * d->kw), backward_planes, &j);
}
