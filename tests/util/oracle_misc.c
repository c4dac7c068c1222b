/* Float64 oracles for the elementwise and data-movement ops, straight from the ONNX operator
 * definitions: every output element is computed on its own from its multi-index. */
#include "oracle.h"

#include <math.h>

/* Multi-index of flat index i in shape s (row-major). */
static void unflatten(size_t i, const cnv_shape *s, int idx[CNV_MAX_DIMS]) {
    for (int k = s->ndim - 1; k >= 0; k--) {
        idx[k] = (int)(i % (size_t)s->d[k]);
        i /= (size_t)s->d[k];
    }
}

static size_t flatten(const int idx[CNV_MAX_DIMS], const cnv_shape *s) {
    size_t i = 0;
    for (int k = 0; k < s->ndim; k++) i = i * (size_t)s->d[k] + (size_t)idx[k];
    return i;
}

/* Straight from the ONNX definitions (Gelu: opset 20; HardSwish: x * HardSigmoid(1/6, 1/2)). */
static double unary(cnv_op_type op, const cnv_attrs *a, double x) {
    switch (op) {
    case CNV_OP_RELU: return x > 0 ? x : 0;
    case CNV_OP_LEAKYRELU: return x >= 0 ? x : a->alpha * x;
    case CNV_OP_CLIP: return fmin(fmax(x, a->min), a->max);
    case CNV_OP_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case CNV_OP_TANH: return tanh(x);
    case CNV_OP_ELU: return x >= 0 ? x : a->alpha * (exp(x) - 1.0);
    case CNV_OP_IDENTITY: return x;
    case CNV_OP_NEG: return -x;
    case CNV_OP_ABS: return fabs(x);
    case CNV_OP_SQRT: return sqrt(x);
    case CNV_OP_EXP: return exp(x);
    case CNV_OP_LOG: return log(x);
    case CNV_OP_RECIPROCAL: return 1.0 / x;
    case CNV_OP_ERF: return erf(x);
    case CNV_OP_SOFTPLUS: return log(1.0 + exp(x));
    case CNV_OP_HARDSIGMOID: return fmax(0.0, fmin(1.0, a->alpha * x + a->beta));
    case CNV_OP_HARDSWISH: return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    case CNV_OP_GELU:
        if (a->approximate) return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
        return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    default: return NAN; /* no oracle: test_op_coverage and every comparison fail */
    }
}

TU_ORACLE_DECLARE(unary) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) out[i] = unary(op, a, in[0][i]);
}

static double binary(cnv_op_type op, double x, double y) {
    switch (op) {
    case CNV_OP_ADD: return x + y;
    case CNV_OP_SUB: return x - y;
    case CNV_OP_MUL: return x * y;
    case CNV_OP_DIV: return x / y;
    case CNV_OP_POW: return pow(x, y);
    case CNV_OP_MAX: return fmax(x, y);
    case CNV_OP_MIN: return fmin(x, y);
    case CNV_OP_PRELU: return x < 0 ? y * x : x;
    default: return NAN; /* no oracle: test_op_coverage and every comparison fail */
    }
}

/* numpy broadcasting: shapes aligned on the right, size-1 dims repeat. */
TU_ORACLE_DECLARE(binary) {
    (void)a;
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) {
        int oi[CNV_MAX_DIMS];
        unflatten(i, out_shape, oi);
        double v[2];
        for (int t = 0; t < 2; t++) {
            const cnv_shape *s = &in_shape[t];
            int ii[CNV_MAX_DIMS];
            for (int k = 0; k < s->ndim; k++) {
                const int ok = k + out_shape->ndim - s->ndim;
                ii[k] = s->d[k] == 1 ? 0 : oi[ok];
            }
            v[t] = in[t][flatten(ii, s)];
        }
        out[i] = binary(op, v[0], v[1]);
    }
}

TU_ORACLE_DECLARE(concat) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) {
        int idx[CNV_MAX_DIMS];
        unflatten(i, out_shape, idx);
        int t = 0;
        while (idx[a->axis] >= in_shape[t].d[a->axis]) idx[a->axis] -= in_shape[t++].d[a->axis];
        out[i] = in[t][flatten(idx, &in_shape[t])];
    }
}

/* Output multi-index o reads the input at index i with i[perm[k]] = o[k]. */
TU_ORACLE_DECLARE(transpose) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) {
        int o[CNV_MAX_DIMS], src[CNV_MAX_DIMS];
        unflatten(i, out_shape, o);
        for (int k = 0; k < out_shape->ndim; k++) src[a->perm[k]] = o[k];
        out[i] = in[0][flatten(src, &in_shape[0])];
    }
}

/* Python's slice(start, end, step).indices(d), which ONNX's Slice follows: the first index. */
static long long slice_first(long long start, long long step, long long d) {
    if (start < 0) return start + d < 0 ? (step < 0 ? -1 : 0) : start + d;
    return start >= d ? (step < 0 ? d - 1 : d) : start;
}

/* Output index o along dim k reads input index first_k + o * step_k. */
TU_ORACLE_DECLARE(slice) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) {
        int o[CNV_MAX_DIMS], src[CNV_MAX_DIMS];
        unflatten(i, out_shape, o);
        for (int k = 0; k < out_shape->ndim; k++)
            src[k] = (int)(slice_first(a->slice_start[k], a->slice_step[k], in_shape[0].d[k]) +
                           (long long)o[k] * a->slice_step[k]);
        out[i] = in[0][flatten(src, &in_shape[0])];
    }
}

TU_ORACLE_DECLARE(copy) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) out[i] = in[0][i];
}

/* Pads smaller than the dim (one reflection at most), as ONNX's reference does. */
TU_ORACLE_DECLARE(pad) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) {
        int idx[CNV_MAX_DIMS];
        int inside = 1;
        unflatten(i, out_shape, idx);
        for (int k = 0; k < out_shape->ndim; k++) {
            const int d = in_shape[0].d[k];
            int s = idx[k] - a->pad_full[k];
            if (s < 0 || s >= d) {
                if (a->pad_mode == CNV_PAD_CONSTANT) inside = 0;
                else if (a->pad_mode == CNV_PAD_EDGE) s = s < 0 ? 0 : d - 1;
                else s = s < 0 ? -s : 2 * (d - 1) - s;
            }
            idx[k] = s;
        }
        out[i] = inside ? in[0][flatten(idx, &in_shape[0])] : a->pad_value;
    }
}

/* Resize as the ONNX spec reads: x_original from the coordinate transformation; nearest rounds
 * it and reads the nearest element in range; linear interpolates between floor(x) and floor(x)+1,
 * the input extended by its edge values outside (ONNX's reference pads with the edge). */
static double resize_coord(const cnv_attrs *a, int axis, int o, int in, int out) {
    const double s = a->resize_scale[axis] > 0.0f ? (double)a->resize_scale[axis] : (double)out / in;
    switch (a->resize_coord) {
    case CNV_COORD_HALF_PIXEL: return (o + 0.5) / s - 0.5;
    case CNV_COORD_PYTORCH_HALF_PIXEL: return out > 1 ? (o + 0.5) / s - 0.5 : 0.0;
    case CNV_COORD_ALIGN_CORNERS: return out == 1 ? 0.0 : o * (in - 1.0) / (in * s - 1.0); /* length in * s */
    case CNV_COORD_ASYMMETRIC: return o / s;
    case CNV_COORD_TF_HALF_PIXEL_FOR_NN: return (o + 0.5) / s;
    default: return NAN;
    }
}

static double edge_value(const double *plane, int h_in, int w_in, int y, int x) {
    y = y < 0 ? 0 : y >= h_in ? h_in - 1 : y;
    x = x < 0 ? 0 : x >= w_in ? w_in - 1 : x;
    return plane[(size_t)y * w_in + x];
}

static int round_nearest(int mode, double x) {
    const double f = floor(x);
    switch (mode) {
    case CNV_NEAREST_ROUND_PREFER_FLOOR: return (int)(x - f <= 0.5 ? f : f + 1);
    case CNV_NEAREST_ROUND_PREFER_CEIL: return (int)(x - f < 0.5 ? f : f + 1);
    case CNV_NEAREST_FLOOR: return (int)f;
    default: return (int)ceil(x);
    }
}

TU_ORACLE_DECLARE(resize) {
    (void)op, (void)n_in;
    const int h = in_shape[0].d[2], w = in_shape[0].d[3], oh = out_shape->d[2], ow = out_shape->d[3];
    const size_t planes = (size_t)in_shape[0].d[0] * in_shape[0].d[1];
    for (size_t p = 0; p < planes; p++) {
        const double *x = in[0] + p * h * w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                double cy = resize_coord(a, 0, oy, h, oh), cx = resize_coord(a, 1, ox, w, ow), v;
                if (a->resize_mode == CNV_RESIZE_NEAREST) {
                    v = edge_value(x, h, w, round_nearest(a->resize_nearest, cy), round_nearest(a->resize_nearest, cx));
                } else {
                    const int y0 = (int)floor(cy), x0 = (int)floor(cx);
                    const double ry = cy - y0, rx = cx - x0;
                    v = (1 - ry) * ((1 - rx) * edge_value(x, h, w, y0, x0) + rx * edge_value(x, h, w, y0, x0 + 1)) +
                        ry * ((1 - rx) * edge_value(x, h, w, y0 + 1, x0) + rx * edge_value(x, h, w, y0 + 1, x0 + 1));
                }
                out[(p * oh + oy) * ow + ox] = v;
            }
    }
}

TU_ORACLE_DECLARE(lrn) {
    const size_t n = cnv_shape_numel(out_shape);
    const int channels = in_shape[0].d[1];
    for (size_t i = 0; i < n; i++) {
        int idx[CNV_MAX_DIMS];
        unflatten(i, out_shape, idx);
        const int c = idx[1];
        double square_sum = 0;
        for (int j = c - (a->size - 1) / 2; j <= c + a->size / 2; j++) { /* ceil((size-1)/2) = floor(size/2) */
            if (j < 0 || j >= channels) continue;
            idx[1] = j;
            const double v = in[0][flatten(idx, &in_shape[0])];
            square_sum += v * v;
        }
        out[i] = in[0][i] / pow(a->bias + a->alpha / a->size * square_sum, a->beta);
    }
}

/* Opset 13: along the axis. Legacy: the input coerced to 2-D [d0*..*d(axis-1), rest], by rows. */
TU_ORACLE_DECLARE(softmax) {
    const size_t n = cnv_shape_numel(out_shape);
    size_t row = 1, stride = 1, len;
    for (int k = a->axis; k < in_shape[0].ndim; k++) row *= (size_t)in_shape[0].d[k];
    if (a->softmax_legacy) {
        len = row;
    } else {
        len = (size_t)in_shape[0].d[a->axis];
        stride = row / len;
    }
    for (size_t i = 0; i < n; i++) {
        /* the first element of i's softmax group, then its members at stride */
        const size_t pos = (i % row) / stride;
        const size_t first = i - pos * stride;
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < len; j++) mx = fmax(mx, in[0][first + j * stride]);
        for (size_t j = 0; j < len; j++) sum += exp(in[0][first + j * stride] - mx);
        out[i] = exp(in[0][i] - mx) / sum;
    }
}

TU_ORACLE_DECLARE(batchnorm) {
    const size_t n = cnv_shape_numel(out_shape);
    for (size_t i = 0; i < n; i++) {
        int idx[CNV_MAX_DIMS];
        unflatten(i, out_shape, idx);
        out[i] = in[0][i] * in[1][idx[1]] + in[2][idx[1]];
    }
}

/* ReduceMean/Sum/Max: every input element lands in the output element with its coordinates on
 * the reduced axes set to 0 (the output's layout is the same with or without keepdims). */
TU_ORACLE_DECLARE(reduce) {
    const cnv_shape *x = &in_shape[0];
    const size_t n_out = cnv_shape_numel(out_shape), n_x = cnv_shape_numel(x);
    size_t count = 1;
    for (int k = 0; k < x->ndim; k++)
        if (a->reduce_axes >> k & 1) count *= (size_t)x->d[k];
    for (size_t i = 0; i < n_out; i++) out[i] = op == CNV_OP_REDUCEMAX ? -INFINITY : 0.0;
    for (size_t j = 0; j < n_x; j++) {
        int idx[CNV_MAX_DIMS];
        unflatten(j, x, idx);
        size_t o = 0;
        for (int k = 0; k < x->ndim; k++)
            if (!(a->reduce_axes >> k & 1)) o = o * (size_t)x->d[k] + (size_t)idx[k];
        if (op == CNV_OP_REDUCEMAX)
            out[o] = fmax(out[o], in[0][j]);
        else
            out[o] += in[0][j] / (op == CNV_OP_REDUCEMEAN ? (double)count : 1.0);
    }
}
