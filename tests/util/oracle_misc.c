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
