/* AveragePool (ONNX): kernel, strides, pads, dilations, ceil_mode, count_include_pad.
 * The divisor follows the ONNX reference (and PyTorch): without count_include_pad it is the
 * number of taps inside the input; with it, the number of taps inside the padded input, so
 * the explicit pads count as zeros but the overhang that ceil_mode adds past the bottom/right
 * padding never does. Both are separable: the divisor is the product of per-axis tap counts. */
#include "cpu_ops.h"

#include "core/status.h"

typedef struct pool_axis {
    int size, pad_lo, pad_hi, kernel, stride, dilation;
} pool_axis;

/* Number of taps of window `o` that fall in [lo, hi). */
static int taps_within(const pool_axis *ax, int o, int lo, int hi) {
    int n = 0;
    for (int k = 0; k < ax->kernel; k++) {
        int pos = o * ax->stride - ax->pad_lo + k * ax->dilation;
        n += pos >= lo && pos < hi;
    }
    return n;
}

static int axis_count(const pool_axis *ax, int o, int include_pad) {
    return include_pad ? taps_within(ax, o, -ax->pad_lo, ax->size + ax->pad_hi) : taps_within(ax, o, 0, ax->size);
}

typedef struct pool_geom {
    pool_axis y, x;
    int oh, ow;
    size_t planes;
    int include_pad;
} pool_geom;

static cnv_status geom_init(const cnv_cpu_args *a, pool_geom *g) {
    const cnv_shape *in = &a->in_shape[0], *out = &a->out_shape;
    const cnv_attrs *at = a->a;
    if (in->ndim != 4 || out->ndim != 4 || in->d[0] != out->d[0] || in->d[1] != out->d[1])
        return cnv_fail(CNV_ERR_SHAPE, "avgpool '%s': input and output must be NCHW with the same N, C",
                        a->node->name);
    g->y = (pool_axis){in->d[2], at->pads[0], at->pads[2], at->kernel[0], at->stride[0], at->dilation[0]};
    g->x = (pool_axis){in->d[3], at->pads[1], at->pads[3], at->kernel[1], at->stride[1], at->dilation[1]};
    g->oh = out->d[2];
    g->ow = out->d[3];
    g->planes = (size_t)in->d[0] * in->d[1];
    g->include_pad = at->count_include_pad;
    return CNV_OK;
}

/* Visits the in-input taps of output (oy, ox): GATHER sums x over them into *acc; SCATTER adds
 * *acc to dx at each of them. One walk for both keeps the two directions exact adjoints. */
typedef enum { GATHER, SCATTER } walk_dir;

static void window_walk(const pool_geom *g, int oy, int ox, walk_dir dir, float *plane, float *acc) {
    for (int i = 0; i < g->y.kernel; i++) {
        int iy = oy * g->y.stride - g->y.pad_lo + i * g->y.dilation;
        if (iy < 0 || iy >= g->y.size) continue;
        for (int j = 0; j < g->x.kernel; j++) {
            int ix = ox * g->x.stride - g->x.pad_lo + j * g->x.dilation;
            if (ix < 0 || ix >= g->x.size) continue;
            float *cell = plane + (size_t)iy * g->x.size + ix;
            if (dir == GATHER) *acc += *cell;
            else *cell += *acc;
        }
    }
}

static int divisor(const pool_geom *g, int oy, int ox) {
    return axis_count(&g->y, oy, g->include_pad) * axis_count(&g->x, ox, g->include_pad);
}

cnv_status cnv_cpu_avgpool_forward(const cnv_cpu_args *a) {
    pool_geom g;
    CNV_TRY(geom_init(a, &g));
    const size_t plane_in = (size_t)g.y.size * g.x.size, plane_out = (size_t)g.oh * g.ow;
    for (size_t p = 0; p < g.planes; p++) {
        for (int oy = 0; oy < g.oh; oy++) {
            for (int ox = 0; ox < g.ow; ox++) {
                float sum = 0.0f;
                int d = divisor(&g, oy, ox);
                /* GATHER only reads the plane. */
                window_walk(&g, oy, ox, GATHER, (float *)a->in[0] + p * plane_in, &sum);
                a->out[p * plane_out + (size_t)oy * g.ow + ox] = d ? sum / (float)d : 0.0f;
            }
        }
    }
    return CNV_OK;
}

cnv_status cnv_cpu_avgpool_backward(const cnv_cpu_args *a) {
    pool_geom g;
    CNV_TRY(geom_init(a, &g));
    if (!a->grad_in[0]) return CNV_OK;
    const size_t plane_in = (size_t)g.y.size * g.x.size, plane_out = (size_t)g.oh * g.ow;
    for (size_t p = 0; p < g.planes; p++) {
        for (int oy = 0; oy < g.oh; oy++) {
            for (int ox = 0; ox < g.ow; ox++) {
                int d = divisor(&g, oy, ox);
                if (!d) continue;
                float share = a->grad_out[p * plane_out + (size_t)oy * g.ow + ox] / (float)d;
                window_walk(&g, oy, ox, SCATTER, a->grad_in[0] + p * plane_in, &share);
            }
        }
    }
    return CNV_OK;
}
