/* MaxPool (ONNX): kernel, strides, pads, dilations, ceil_mode over NCHW planes.
 * Padded cells never win: they are skipped, not read as -inf or 0. The forward records each
 * output's switch (the flat index iy * W + ix of its argmax inside the input plane) in aux; the
 * backward routes the gradient through those switches, and the deconvnet unpools with them
 * (or, with unpool_fill, spreads it over the whole window).
 * Ties go to the first maximum in row-major window order. A window with no cell inside the
 * input (possible only with pads as large as the kernel) yields 0 and switch -1. */
#include "cpu_ops.h"

#include "core/status.h"

#include <string.h>

static cnv_status check_shapes(const cnv_cpu_args *a) {
    const cnv_shape *x = &a->in_shape[0], *y = &a->out_shape;
    if (x->ndim != 4 || y->ndim != 4 || x->d[0] != y->d[0] || x->d[1] != y->d[1] || !a->aux)
        return cnv_fail(CNV_ERR_SHAPE, "maxpool '%s': input and output must be NCHW with the same N, C",
                        a->node->name);
    return CNV_OK;
}

/* The loops below run over planes [lo, hi) of the batch (cnv_cpu_parallel); ctx is the call's
 * cnv_cpu_args. */
static size_t planes_of(const cnv_cpu_args *a) { return (size_t)a->in_shape[0].d[0] * a->in_shape[0].d[1]; }

static size_t min_planes(const cnv_cpu_args *a) {
    return cnv_cpu_min_items((size_t)a->in_shape[0].d[2] * a->in_shape[0].d[3]);
}

/* The window taps k in [*lo, *hi) of a window starting at `base` with step `dil` that fall inside
 * [0, n): the forward then scans only those, with no bounds test per cell. */
static void taps_inside(int base, int dil, int kernel, int n, int *lo, int *hi) {
    *lo = base < 0 ? (-base + dil - 1) / dil : 0;
    *hi = base > n - 1 ? 0 : (n - 1 - base) / dil + 1;
    if (*hi > kernel) *hi = kernel;
    if (*hi < *lo) *hi = *lo;
}

static void forward_planes(void *ctx, size_t lo, size_t hi) {
    const cnv_cpu_args *a = ctx;
    const cnv_attrs *at = a->a;
    const int h = a->in_shape[0].d[2], w = a->in_shape[0].d[3];
    const int oh = a->out_shape.d[2], ow = a->out_shape.d[3];
    const int dy = at->dilation[0], dx = at->dilation[1];
    for (size_t p = lo; p < hi; p++) {
        const float *x = a->in[0] + p * h * w;
        float *y = a->out + p * oh * ow;
        int32_t *sw = a->aux + p * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            const int y0 = oy * at->stride[0] - at->pads[0];
            int i0, i1;
            taps_inside(y0, dy, at->kernel[0], h, &i0, &i1);
            for (int ox = 0; ox < ow; ox++) {
                const int x0 = ox * at->stride[1] - at->pads[1];
                int j0, j1;
                taps_inside(x0, dx, at->kernel[1], w, &j0, &j1);
                if (i0 == i1 || j0 == j1) { /* no cell of the window inside the input */
                    y[oy * ow + ox] = 0.0f;
                    sw[oy * ow + ox] = -1;
                    continue;
                }
                int best = (y0 + i0 * dy) * w + x0 + j0 * dx;
                float top = x[best];
                /* Row-major over the taps inside, strictly greater: ties keep the first. */
                for (int i = i0; i < i1; i++) {
                    const int row = (y0 + i * dy) * w + x0;
                    for (int j = j0; j < j1; j++)
                        if (x[row + j * dx] > top) {
                            top = x[row + j * dx];
                            best = row + j * dx;
                        }
                }
                y[oy * ow + ox] = top;
                sw[oy * ow + ox] = best;
            }
        }
    }
}

cnv_status cnv_cpu_maxpool_forward(const cnv_cpu_args *a) {
    CNV_TRY(check_shapes(a));
    cnv_cpu_parallel(planes_of(a), min_planes(a), forward_planes, (void *)a);
    return CNV_OK;
}

/* Fill unpooling: every output's gradient goes to each cell of its window inside the input;
 * overlapping windows add. */
static void unpool_fill_planes(void *ctx, size_t lo, size_t hi) {
    const cnv_cpu_args *a = ctx;
    const cnv_attrs *at = a->a;
    const int h = a->in_shape[0].d[2], w = a->in_shape[0].d[3];
    const int oh = a->out_shape.d[2], ow = a->out_shape.d[3];
    for (size_t p = lo; p < hi; p++) {
        float *dx = a->grad_in[0] + p * h * w;
        const float *dy = a->grad_out + p * oh * ow;
        if (cnv_cpu_assigns(a, 0)) memset(dx, 0, (size_t)h * w * sizeof *dx);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int i = 0; i < at->kernel[0]; i++) {
                    int iy = oy * at->stride[0] - at->pads[0] + i * at->dilation[0];
                    if (iy < 0 || iy >= h) continue;
                    for (int j = 0; j < at->kernel[1]; j++) {
                        int ix = ox * at->stride[1] - at->pads[1] + j * at->dilation[1];
                        if (ix >= 0 && ix < w) dx[iy * w + ix] += dy[oy * ow + ox];
                    }
                }
    }
}

/* The gradient through the switches. */
static void switch_planes(void *ctx, size_t lo, size_t hi) {
    const cnv_cpu_args *a = ctx;
    const size_t plane_in = (size_t)a->in_shape[0].d[2] * a->in_shape[0].d[3];
    const size_t plane_out = (size_t)a->out_shape.d[2] * a->out_shape.d[3];
    for (size_t p = lo; p < hi; p++) {
        float *dx = a->grad_in[0] + p * plane_in;
        const float *dy = a->grad_out + p * plane_out;
        const int32_t *sw = a->aux + p * plane_out;
        if (cnv_cpu_assigns(a, 0)) memset(dx, 0, plane_in * sizeof *dx); /* here, while the plane is in cache */
        for (size_t o = 0; o < plane_out; o++)
            if (sw[o] >= 0) dx[sw[o]] += dy[o];
    }
}

cnv_status cnv_cpu_maxpool_backward(const cnv_cpu_args *a) {
    CNV_TRY(check_shapes(a));
    if (!a->grad_in[0]) return CNV_OK;
    cnv_cpu_parallel(planes_of(a), min_planes(a), a->unpool_fill ? unpool_fill_planes : switch_planes, (void *)a);
    return CNV_OK;
}
