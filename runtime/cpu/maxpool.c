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

/* The window of output (oy, ox), its rows [i0, i1) inside the input, tap by tap. */
CNV_CPU_INLINE void window_max(const cnv_attrs *at, const float *x, int w, int y0, int i0, int i1, int ox, float *y,
                       int32_t *sw) {
    const int x0 = ox * at->stride[1] - at->pads[1], dy = at->dilation[0], dx = at->dilation[1];
    int j0, j1;
    taps_inside(x0, dx, at->kernel[1], w, &j0, &j1);
    if (i0 == i1 || j0 == j1) { /* no cell of the window inside the input */
        *y = 0.0f;
        *sw = -1;
        return;
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
    *y = top;
    *sw = best;
}

/* Outputs [lo, hi) of one row whose windows lie inside the input's columns: the same taps in
 * the same order, each over the whole run of outputs, a loop the compiler vectorizes. Alone on
 * this 2-core Xeon, best of 30: SqueezeNet batch 8's first pool 6.77 -> 2.13 ms, its third (13
 * outputs a row) 1.62 -> 1.18 ms, Fashion-MNIST batch 32's first (14) 0.65 -> 0.43 ms, window by
 * window before. sx is the column stride: a constant
 * 1 or 2 lets the strided loads become vector loads and shuffles rather than one load a lane. */
CNV_CPU_INLINE void row_taps(const cnv_attrs *at, int sx, const float *x, int w, int y0, int i0, int i1, int lo,
                             int hi, float *y, int32_t *sw) {
    const int dy = at->dilation[0], dx = at->dilation[1], base = -at->pads[1];
    const int first = (y0 + i0 * dy) * w + base;
    for (int ox = lo; ox < hi; ox++) {
        y[ox] = x[first + ox * sx];
        sw[ox] = first + ox * sx;
    }
    for (int i = i0; i < i1; i++)
        for (int j = i == i0; j < at->kernel[1]; j++) {
            const int off = (y0 + i * dy) * w + base + j * dx;
            for (int ox = lo; ox < hi; ox++) {
                const float v = x[off + ox * sx], top = y[ox];
                const int gt = v > top;
                y[ox] = gt ? v : top;
                sw[ox] = gt ? off + ox * sx : sw[ox];
            }
        }
}

CNV_CPU_CLONES static void row_inside(const cnv_attrs *at, const float *x, int w, int y0, int i0, int i1, int lo,
                                      int hi, float *y, int32_t *sw) {
    if (at->stride[1] == 2)
        row_taps(at, 2, x, w, y0, i0, i1, lo, hi, y, sw);
    else if (at->stride[1] == 1)
        row_taps(at, 1, x, w, y0, i0, i1, lo, hi, y, sw);
    else
        row_taps(at, at->stride[1], x, w, y0, i0, i1, lo, hi, y, sw);
}

/* The outputs whose window lies inside the input's columns: [*lo, *hi). */
static void columns_inside(const cnv_attrs *at, int w, int ow, int *lo, int *hi) {
    const int sx = at->stride[1], pl = at->pads[1], span = (at->kernel[1] - 1) * at->dilation[1];
    *lo = (pl + sx - 1) / sx;                              /* ox * sx - pl >= 0 */
    *hi = w - 1 - span + pl < 0 ? 0 : (w - 1 - span + pl) / sx + 1; /* ox * sx - pl + span <= w - 1 */
    if (*hi > ow) *hi = ow;
    if (*lo > *hi) *lo = *hi;
}

static void forward_planes(void *ctx, size_t lo, size_t hi) {
    const cnv_cpu_args *a = ctx;
    const cnv_attrs *at = a->a;
    const int h = a->in_shape[0].d[2], w = a->in_shape[0].d[3];
    const int oh = a->out_shape.d[2], ow = a->out_shape.d[3];
    int in_lo, in_hi;
    columns_inside(at, w, ow, &in_lo, &in_hi);
    for (size_t p = lo; p < hi; p++) {
        const float *x = a->in[0] + p * h * w;
        for (int oy = 0; oy < oh; oy++) {
            float *y = a->out + p * oh * ow + (size_t)oy * ow;
            int32_t *sw = a->aux + p * oh * ow + (size_t)oy * ow;
            const int y0 = oy * at->stride[0] - at->pads[0];
            int i0, i1;
            taps_inside(y0, at->dilation[0], at->kernel[0], h, &i0, &i1);
            const int fast = i0 < i1 && in_lo < in_hi;
            for (int ox = 0; ox < ow; ox++) {
                if (fast && ox == in_lo) {
                    row_inside(at, x, w, y0, i0, i1, in_lo, in_hi, y, sw);
                    ox = in_hi - 1;
                    continue;
                }
                window_max(at, x, w, y0, i0, i1, ox, y + ox, sw + ox);
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
