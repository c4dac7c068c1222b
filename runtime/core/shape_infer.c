/* Shape inference with ONNX semantics for every cnnvis op, and the walk over a whole graph.
 * Runs at load (batch 1) and again whenever an executor is created for another batch size, so
 * it must be cheap and must leave attributes in a state that re-running it reproduces. */
#include "graph.h"
#include "shape_check.h"
#include "status.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Formats "node '<name>' (<Op>): <problem>" as a CNV_ERR_SHAPE failure. */
static cnv_status shape_fail(cnv_op_type op, const char *node, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static cnv_status shape_fail(cnv_op_type op, const char *node, const char *fmt, ...) {
    char problem[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    return cnv_fail(CNV_ERR_SHAPE, "node '%s' (%s): %s", node ? node : "?", cnv_op_name(op), problem);
}

#define SHAPE_STR(s) cnv_shape_str((s), (char[64]){0}, 64)

/* Spatial output size of a sliding window along one axis, ONNX rules. With ceil_mode the last
 * window must still start inside the input or the left padding (PyTorch does the same). */
static int window_out(int in, int k, int s, int d, int pad_begin, int pad_end, int ceil_mode) {
    int span = in + pad_begin + pad_end - d * (k - 1) - 1;
    if (span < 0) return 0;
    int out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    if (ceil_mode && (out - 1) * s >= in + pad_begin) out--;
    return out;
}

/* Resolves auto_pad into pads for one axis (index 0 = H, 1 = W). */
static void resolve_auto_pad(cnv_attrs *a, int axis, int in) {
    int *begin = &a->pads[axis], *end = &a->pads[axis + 2];
    if (a->auto_pad == CNV_AUTO_PAD_VALID) {
        *begin = *end = 0;
        return;
    }
    int s = a->stride[axis];
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + a->dilation[axis] * (a->kernel[axis] - 1) + 1 - in;
    if (total < 0) total = 0;
    if (a->auto_pad == CNV_AUTO_PAD_SAME_UPPER) {
        *begin = total / 2;
        *end = total - total / 2;
    } else {
        *begin = total - total / 2;
        *end = total / 2;
    }
}

/* Conv and the two windowed pools: N, C from the input, H, W from the window. */
static cnv_status infer_window(cnv_op_type op, cnv_attrs *a, const cnv_shape *x, int out_c, cnv_shape *out,
                               const char *node) {
    for (int i = 0; i < 2; i++) {
        if (a->kernel[i] <= 0 || a->stride[i] <= 0 || a->dilation[i] <= 0)
            return shape_fail(op, node, "kernel %dx%d, strides %dx%d and dilations %dx%d must be positive",
                              a->kernel[0], a->kernel[1], a->stride[0], a->stride[1], a->dilation[0],
                              a->dilation[1]);
        if (a->auto_pad != CNV_AUTO_PAD_NOTSET) resolve_auto_pad(a, i, x->d[2 + i]);
        if (a->pads[i] < 0 || a->pads[i + 2] < 0) return shape_fail(op, node, "negative pads");
    }
    int ceil_mode = a->auto_pad == CNV_AUTO_PAD_NOTSET && a->ceil_mode;
    *out = cnv_shape4(x->d[0], out_c, 0, 0);
    for (int i = 0; i < 2; i++) {
        out->d[2 + i] = window_out(x->d[2 + i], a->kernel[i], a->stride[i], a->dilation[i], a->pads[i],
                                   a->pads[i + 2], ceil_mode);
        if (out->d[2 + i] <= 0)
            return shape_fail(op, node, "window %dx%d (dilation %dx%d) does not fit the padded input %s",
                              a->kernel[0], a->kernel[1], a->dilation[0], a->dilation[1], SHAPE_STR(x));
    }
    return CNV_OK;
}

static cnv_status infer_conv(cnv_attrs *a, int n_in, const cnv_shape *in, cnv_shape *out, const char *node) {
    const cnv_op_type op = CNV_OP_CONV;
    const cnv_shape *x = &in[0], *w = &in[1];
    if (w->ndim != 4) return shape_fail(op, node, "weight %s must be 4-D [M, C/group, kH, kW]", SHAPE_STR(w));
    /* kernel_shape is optional in ONNX: the weight's spatial dims are authoritative. */
    for (int i = 0; i < 2; i++) {
        if (a->kernel[i] == 0) a->kernel[i] = w->d[2 + i];
        if (a->kernel[i] != w->d[2 + i])
            return shape_fail(op, node, "kernel_shape %dx%d differs from the weight %s", a->kernel[0], a->kernel[1],
                              SHAPE_STR(w));
    }
    if (a->group <= 0 || x->d[1] != w->d[1] * a->group || w->d[0] % a->group != 0)
        return shape_fail(op, node, "input %s, weight %s and group %d do not fit", SHAPE_STR(x), SHAPE_STR(w),
                          a->group);
    if (n_in == 3 && (in[2].ndim != 1 || in[2].d[0] != w->d[0]))
        return shape_fail(op, node, "bias %s must be [%d]", SHAPE_STR(&in[2]), w->d[0]);
    return infer_window(op, a, x, w->d[0], out, node);
}

/* ConvTranspose (ONNX): along each axis the full output is s*(in-1) + output_padding + d*(k-1) + 1
 * before pads. With output_shape, or auto_pad SAME (output in*s), the pads are derived from the
 * wanted size: total = max(0, full - wanted), the odd one at the start for SAME_LOWER, else at
 * the end (ONNX's test_convtranspose_autopad_same); an output larger than the full one is zero
 * there. */
static cnv_status infer_convtranspose(cnv_attrs *a, const cnv_shape *in, cnv_shape *out, const char *node) {
    const cnv_op_type op = CNV_OP_CONVTRANSPOSE;
    const cnv_shape *x = &in[0], *w = &in[1];
    if (w->ndim != 4) return shape_fail(op, node, "weight %s must be 4-D [C, M/group, kH, kW]", SHAPE_STR(w));
    if (a->group <= 0 || x->d[1] != w->d[0] || w->d[0] % a->group != 0)
        return shape_fail(op, node, "input %s, weight %s and group %d do not fit", SHAPE_STR(x), SHAPE_STR(w),
                          a->group);
    *out = cnv_shape4(x->d[0], w->d[1] * a->group, 0, 0);
    for (int i = 0; i < 2; i++) {
        if (a->kernel[i] == 0) a->kernel[i] = w->d[2 + i];
        if (a->kernel[i] != w->d[2 + i])
            return shape_fail(op, node, "kernel_shape %dx%d differs from the weight %s", a->kernel[0], a->kernel[1],
                              SHAPE_STR(w));
        const int s = a->stride[i], d = a->dilation[i], pad_out = a->output_padding[i];
        if (s <= 0 || d <= 0 || pad_out < 0 || (pad_out >= s && pad_out >= d))
            return shape_fail(op, node, "strides %dx%d, dilations %dx%d must be positive and output_padding %dx%d "
                              "below one of them", a->stride[0], a->stride[1], a->dilation[0], a->dilation[1],
                              a->output_padding[0], a->output_padding[1]);
        const long full = (long)s * (x->d[2 + i] - 1) + pad_out + (long)d * (a->kernel[i] - 1) + 1;
        long wanted = a->out_hw[i] > 0 ? a->out_hw[i] : 0;
        if (!wanted && (a->auto_pad == CNV_AUTO_PAD_SAME_UPPER || a->auto_pad == CNV_AUTO_PAD_SAME_LOWER))
            wanted = (long)x->d[2 + i] * s;
        if (a->auto_pad == CNV_AUTO_PAD_VALID) a->pads[i] = a->pads[i + 2] = 0;
        if (wanted) {
            long total = full > wanted ? full - wanted : 0;
            long head = a->auto_pad == CNV_AUTO_PAD_SAME_LOWER ? total - total / 2 : total / 2;
            a->pads[i] = (int)head;
            a->pads[i + 2] = (int)(total - head);
        }
        if (a->pads[i] < 0 || a->pads[i + 2] < 0) return shape_fail(op, node, "negative pads");
        long o = a->out_hw[i] > 0 ? a->out_hw[i] : full - a->pads[i] - a->pads[i + 2];
        if (o < 1 || o > (1 << 20))
            return shape_fail(op, node, "output size %ld along axis %d is out of range (1..%d)", o, 2 + i, 1 << 20);
        out->d[2 + i] = (int)o;
    }
    return CNV_OK;
}

static cnv_status infer_gemm(cnv_attrs *a, int n_in, const cnv_shape *in, cnv_shape *out, const char *node) {
    const cnv_shape *A = &in[0], *B = &in[1];
    if (A->ndim != 2 || B->ndim != 2)
        return shape_fail(CNV_OP_GEMM, node, "inputs %s and %s must be 2-D", SHAPE_STR(A), SHAPE_STR(B));
    int m = a->trans_a ? A->d[1] : A->d[0], k = a->trans_a ? A->d[0] : A->d[1];
    int kb = a->trans_b ? B->d[1] : B->d[0], n = a->trans_b ? B->d[0] : B->d[1];
    if (k != kb)
        return shape_fail(CNV_OP_GEMM, node, "inner dims differ: A %s (transA %d), B %s (transB %d)", SHAPE_STR(A),
                          a->trans_a, SHAPE_STR(B), a->trans_b);
    *out = (cnv_shape){2, {m, n}};
    if (n_in == 3) {
        /* C broadcasts one way onto [M, N]. */
        const cnv_shape *c = &in[2];
        int ok = c->ndim <= 2;
        for (int i = 0; ok && i < c->ndim; i++) {
            int d = c->d[c->ndim - 1 - i], want = out->d[1 - i];
            ok = d == 1 || d == want;
        }
        if (!ok) return shape_fail(CNV_OP_GEMM, node, "C %s does not broadcast to %dx%d", SHAPE_STR(c), m, n);
    }
    return CNV_OK;
}

/* Multidirectional (numpy) broadcasting: dims aligned from the right must be equal or 1. */
static cnv_status infer_broadcast(cnv_op_type op, const cnv_shape *a, const cnv_shape *b, cnv_shape *out,
                                  const char *node);

/* numpy matmul of operands with 2 or more dims: [..., M, K] x [..., K, N], the batch dims
 * broadcast. (1-D operands, which numpy promotes, are refused.) */
static cnv_status infer_matmul(const cnv_shape *in, cnv_shape *out, const char *node) {
    const cnv_shape *A = &in[0], *B = &in[1];
    if (A->ndim < 2 || B->ndim < 2 || A->d[A->ndim - 1] != B->d[B->ndim - 2])
        return shape_fail(CNV_OP_MATMUL, node, "needs inputs [..., M, K] x [..., K, N], got %s and %s", SHAPE_STR(A),
                          SHAPE_STR(B));
    cnv_shape ba = *A, bb = *B;
    ba.ndim -= 2;
    bb.ndim -= 2;
    if (infer_broadcast(CNV_OP_MATMUL, &ba, &bb, out, node) != CNV_OK)
        return shape_fail(CNV_OP_MATMUL, node, "batch dims of %s and %s do not broadcast", SHAPE_STR(A), SHAPE_STR(B));
    out->d[out->ndim++] = A->d[A->ndim - 2];
    out->d[out->ndim++] = B->d[B->ndim - 1];
    return CNV_OK;
}

/* Multidirectional (numpy) broadcasting: dims aligned from the right must be equal or 1. */
static cnv_status infer_broadcast(cnv_op_type op, const cnv_shape *a, const cnv_shape *b, cnv_shape *out,
                                  const char *node) {
    out->ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < out->ndim; i++) {
        int da = i < a->ndim ? a->d[a->ndim - 1 - i] : 1;
        int db = i < b->ndim ? b->d[b->ndim - 1 - i] : 1;
        if (da != db && da != 1 && db != 1)
            return shape_fail(op, node, "shapes %s and %s do not broadcast", SHAPE_STR(a), SHAPE_STR(b));
        out->d[out->ndim - 1 - i] = da == 1 ? db : da;
    }
    return CNV_OK;
}

/* Normalizes a possibly negative axis into [0, limit); returns 0 when out of range. */
static int normalize_axis(int *axis, int ndim, int limit) {
    if (*axis < 0) *axis += ndim;
    return *axis >= 0 && *axis < limit;
}

/* ReduceMean/Sum/Max: the reduced dims become 1, or leave the shape without keepdims. The bits
 * past the input's rank are dropped (the default, every dim, sets them all); the importer has
 * refused an axis out of range by then. */
static cnv_status infer_reduce(cnv_attrs *a, const cnv_shape *x, cnv_shape *out) {
    a->reduce_axes &= (1 << x->ndim) - 1;
    out->ndim = 0;
    for (int k = 0; k < x->ndim; k++)
        if (!(a->reduce_axes >> k & 1)) out->d[out->ndim++] = x->d[k];
        else if (a->keepdims) out->d[out->ndim++] = 1;
    return CNV_OK;
}

static cnv_status infer_concat(cnv_attrs *a, int n_in, const cnv_shape *in, cnv_shape *out, const char *node) {
    const cnv_op_type op = CNV_OP_CONCAT;
    if (!normalize_axis(&a->axis, in[0].ndim, in[0].ndim))
        return shape_fail(op, node, "axis %d out of range for %s", a->axis, SHAPE_STR(&in[0]));
    *out = in[0];
    for (int j = 1; j < n_in; j++) {
        int ok = in[j].ndim == in[0].ndim;
        for (int i = 0; ok && i < in[0].ndim; i++) ok = i == a->axis || in[j].d[i] == in[0].d[i];
        if (!ok)
            return shape_fail(op, node, "input %d %s does not match input 0 %s outside axis %d", j,
                              SHAPE_STR(&in[j]), SHAPE_STR(&in[0]), a->axis);
        out->d[a->axis] += in[j].d[a->axis];
    }
    return CNV_OK;
}

static cnv_status infer_flatten(cnv_attrs *a, const cnv_shape *x, cnv_shape *out, const char *node) {
    if (!normalize_axis(&a->axis, x->ndim, x->ndim + 1))
        return shape_fail(CNV_OP_FLATTEN, node, "axis %d out of range for %s", a->axis, SHAPE_STR(x));
    *out = (cnv_shape){2, {1, 1}};
    for (int i = 0; i < x->ndim; i++) out->d[i < a->axis ? 0 : 1] *= x->d[i];
    return CNV_OK;
}

static cnv_status infer_reshape(const cnv_attrs *a, const cnv_shape *x, cnv_shape *out, const char *node) {
    const cnv_op_type op = CNV_OP_RESHAPE;
    if (a->shape_n < 1 || a->shape_n > CNV_MAX_DIMS)
        return shape_fail(op, node, "target shape has %d dims (1..%d supported)", a->shape_n, CNV_MAX_DIMS);
    out->ndim = a->shape_n;
    size_t known = 1;
    int infer_at = -1;
    for (int i = 0; i < a->shape_n; i++) {
        int d = a->shape[i];
        if (d == 0) {
            if (i >= x->ndim) return shape_fail(op, node, "0 at dim %d copies a dim %s lacks", i, SHAPE_STR(x));
            d = x->d[i];
        } else if (d == -1) {
            if (infer_at >= 0) return shape_fail(op, node, "target shape has more than one -1");
            infer_at = i;
            continue;
        } else if (d < 0) {
            return shape_fail(op, node, "target dim %d is %d", i, d);
        }
        out->d[i] = d;
        known *= (size_t)d;
    }
    size_t total = cnv_shape_numel(x);
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            return shape_fail(op, node, "cannot infer the -1 dim: %zu elements into %zu", total, known);
        out->d[infer_at] = (int)(total / known);
        known = total;
    }
    if (known != total)
        return shape_fail(op, node, "%s (%zu elements) cannot become %s", SHAPE_STR(x), total, SHAPE_STR(out));
    return CNV_OK;
}

/* Resize: the given output size, or floor(input * scale) (ONNX); the output may not be empty and
 * is bounded (a scale of 1e9 is a broken file, not a request for memory). */
static cnv_status infer_resize(const cnv_attrs *a, const cnv_shape *x, cnv_shape *out, const char *node) {
    int hw[2];
    for (int k = 0; k < 2; k++) {
        double s = a->resize_scale[k];
        if (a->out_hw[k] == 0 && !(s > 0.0 && s <= 1e4))
            return shape_fail(CNV_OP_RESIZE, node, "scale %g of the %s is not in (0, 1e4]", s, k ? "width" : "height");
        double v = a->out_hw[k] > 0 ? a->out_hw[k] : floor(x->d[2 + k] * s);
        if (v < 1 || v > (1 << 20))
            return shape_fail(CNV_OP_RESIZE, node, "output %s %.0f from an input of %d is out of range (1..%d)",
                              k ? "width" : "height", v, x->d[2 + k], 1 << 20);
        hw[k] = (int)v;
    }
    if (x->d[2] < 1 || x->d[3] < 1) return shape_fail(CNV_OP_RESIZE, node, "empty input %s", SHAPE_STR(x));
    *out = cnv_shape4(x->d[0], x->d[1], hw[0], hw[1]);
    return CNV_OK;
}

static cnv_status infer_pad(const cnv_attrs *a, const cnv_shape *x, cnv_shape *out, const char *node) {
    *out = *x;
    if (x->ndim > CNV_PAD_MAX_DIMS)
        return shape_fail(CNV_OP_PAD, node, "input %s has %d dims; Pad takes up to %d", SHAPE_STR(x), x->ndim,
                          CNV_PAD_MAX_DIMS);
    for (int i = 0; i < CNV_MAX_DIMS; i++) {
        int begin = a->pad_full[i], end = a->pad_full[CNV_MAX_DIMS + i];
        if (i >= x->ndim) {
            if (begin || end) return shape_fail(CNV_OP_PAD, node, "pads dim %d of a %d-D input", i, x->ndim);
            continue;
        }
        if (a->pad_mode == CNV_PAD_REFLECT && (begin >= x->d[i] || end >= x->d[i]))
            return shape_fail(CNV_OP_PAD, node, "reflect pads %d,%d on dim %d of %s need pads < dim", begin, end, i,
                              SHAPE_STR(x));
        out->d[i] = x->d[i] + begin + end;
        if (out->d[i] <= 0) return shape_fail(CNV_OP_PAD, node, "pads crop dim %d of %s to nothing", i, SHAPE_STR(x));
    }
    return CNV_OK;
}

/* Output dim k is input dim perm[k]; perm must use each of the input's dims once. */
static cnv_status infer_transpose(const cnv_attrs *a, const cnv_shape *x, cnv_shape *out, const char *node) {
    int used[CNV_MAX_DIMS] = {0};
    out->ndim = x->ndim;
    for (int k = 0; k < x->ndim; k++) {
        int p = a->perm[k];
        if (p < 0 || p >= x->ndim || used[p]++)
            return shape_fail(CNV_OP_TRANSPOSE, node, "perm is not a permutation of the %d dims of %s", x->ndim,
                              SHAPE_STR(x));
        out->d[k] = x->d[p];
    }
    return CNV_OK;
}

/* ONNX Slice on one dim of size d: a negative start or end counts from the end, then both are
 * clamped to [0, d] (step > 0) or [0, d-1] and [-1, d-1] (step < 0). */
static int slice_dim(long long start, long long end, int step, int d, int *first) {
    if (start < 0) start += d;
    if (end < 0) end += d;
    long long lo = step > 0 ? 0 : -1, hi = step > 0 ? d : d - 1;
    start = start < 0 ? 0 : start > hi ? hi : start;
    end = end < lo ? lo : end > hi ? hi : end;
    *first = (int)start;
    long long span = step > 0 ? end - start : start - end, s = step > 0 ? step : -(long long)step;
    return span <= 0 ? 0 : (int)((span + s - 1) / s);
}

cnv_status cnv_slice_resolve(const cnv_attrs *a, const cnv_shape *x, int first[CNV_MAX_DIMS], int count[CNV_MAX_DIMS],
                             int step[CNV_MAX_DIMS], const char *node) {
    for (int k = 0; k < x->ndim; k++) {
        step[k] = a->slice_step[k];
        if (step[k] == 0) return shape_fail(CNV_OP_SLICE, node, "step 0 on dim %d", k);
        count[k] = slice_dim(a->slice_start[k], a->slice_end[k], step[k], x->d[k], &first[k]);
        if (count[k] <= 0) /* valid ONNX, but cnnvis holds no empty tensors */
            return cnv_fail(CNV_ERR_UNSUPPORTED,
                            "node '%s' (Slice): starts %d, ends %d, steps %d leave dim %d of %s empty (empty tensors "
                            "are not supported)",
                            node ? node : "?", a->slice_start[k], a->slice_end[k], step[k], k, SHAPE_STR(x));
    }
    return CNV_OK;
}

static cnv_status infer_slice(const cnv_attrs *a, const cnv_shape *x, cnv_shape *out, const char *node) {
    int first[CNV_MAX_DIMS], step[CNV_MAX_DIMS];
    for (int k = x->ndim; k < CNV_MAX_DIMS; k++)
        if (a->slice_start[k] != 0 || a->slice_end[k] != INT32_MAX || a->slice_step[k] != 1)
            return shape_fail(CNV_OP_SLICE, node, "slices dim %d of a %d-D input %s", k, x->ndim, SHAPE_STR(x));
    out->ndim = x->ndim;
    return cnv_slice_resolve(a, x, first, out->d, step, node);
}

cnv_status cnv_op_infer_shape(cnv_op_type op, cnv_attrs *attrs, int n_in, const cnv_shape *in, cnv_shape *out,
                              const char *node_name) {
    const cnv_op_desc *desc = cnv_op_desc_of(op);
    if (!desc) return cnv_fail(CNV_ERR_INTERNAL, "node '%s': unknown op %d", node_name ? node_name : "?", (int)op);
    if (n_in < desc->min_in || n_in > desc->max_in)
        return shape_fail(op, node_name, "takes %d..%d inputs, got %d", desc->min_in, desc->max_in, n_in);
    for (int j = 0; j < n_in; j++) {
        if (in[j].ndim < 0 || in[j].ndim > CNV_MAX_DIMS)
            return shape_fail(op, node_name, "input %d has %d dims", j, in[j].ndim);
        for (int i = 0; i < in[j].ndim; i++)
            if (in[j].d[i] <= 0) return shape_fail(op, node_name, "input %d has an empty dim: %s", j, SHAPE_STR(&in[j]));
    }
    if ((desc->flags & CNV_OPF_NCHW) && in[0].ndim != 4)
        return shape_fail(op, node_name, "input %s must be 4-D NCHW", SHAPE_STR(&in[0]));
    switch (desc->shape) {
    case CNV_SHAPE_SAME: *out = in[0]; return CNV_OK;
    case CNV_SHAPE_BROADCAST: return infer_broadcast(op, &in[0], &in[1], out, node_name);
    case CNV_SHAPE_BROADCAST_TO_FIRST:
        CNV_TRY(infer_broadcast(op, &in[0], &in[1], out, node_name));
        if (!cnv_shape_equal(out, &in[0]))
            return shape_fail(op, node_name, "input 1 %s does not broadcast onto input 0 %s", SHAPE_STR(&in[1]),
                              SHAPE_STR(&in[0]));
        return CNV_OK;
    case CNV_SHAPE_OWN: break;
    }

    switch (op) {
    case CNV_OP_CONV: return infer_conv(attrs, n_in, in, out, node_name);
    case CNV_OP_MAXPOOL:
    case CNV_OP_AVGPOOL: return infer_window(op, attrs, &in[0], in[0].d[1], out, node_name);
    case CNV_OP_GLOBALAVGPOOL: *out = cnv_shape4(in[0].d[0], in[0].d[1], 1, 1); return CNV_OK;
    case CNV_OP_SOFTMAX:
        if (!normalize_axis(&attrs->axis, in[0].ndim, in[0].ndim))
            return shape_fail(op, node_name, "axis %d out of range for %s", attrs->axis, SHAPE_STR(&in[0]));
        *out = in[0];
        return CNV_OK;
    case CNV_OP_BATCHNORM:
        if (in[0].ndim < 2) return shape_fail(op, node_name, "input %s has no channel dim", SHAPE_STR(&in[0]));
        for (int j = 1; j < 3; j++)
            if (in[j].ndim != 1 || in[j].d[0] != in[0].d[1])
                return shape_fail(op, node_name, "per-channel input %d %s must be [%d]", j, SHAPE_STR(&in[j]),
                                  in[0].d[1]);
        *out = in[0];
        return CNV_OK;
    case CNV_OP_GEMM: return infer_gemm(attrs, n_in, in, out, node_name);
    case CNV_OP_MATMUL: return infer_matmul(in, out, node_name);
    case CNV_OP_CONCAT: return infer_concat(attrs, n_in, in, out, node_name);
    case CNV_OP_REDUCEMEAN:
    case CNV_OP_REDUCESUM:
    case CNV_OP_REDUCEMAX: return infer_reduce(attrs, &in[0], out);
    case CNV_OP_FLATTEN: return infer_flatten(attrs, &in[0], out, node_name);
    case CNV_OP_RESHAPE: return infer_reshape(attrs, &in[0], out, node_name);
    case CNV_OP_PAD: return infer_pad(attrs, &in[0], out, node_name);
    case CNV_OP_TRANSPOSE: return infer_transpose(attrs, &in[0], out, node_name);
    case CNV_OP_SLICE: return infer_slice(attrs, &in[0], out, node_name);
    case CNV_OP_FOURIER: {
        int h = attrs->out_hw[0], w = attrs->out_hw[1];
        if (h < 1 || w < 1 || in[0].d[1] % 2 || in[0].d[2] != h || in[0].d[3] != w / 2 + 1)
            return shape_fail(op, node_name, "coefficients %s do not fit an image of %dx%d (need [N, 2C, %d, %d])",
                              SHAPE_STR(&in[0]), h, w, h, w / 2 + 1);
        *out = cnv_shape4(in[0].d[0], in[0].d[1] / 2, h, w);
        return CNV_OK;
    }
    case CNV_OP_RESAMPLE:
        if (attrs->out_hw[0] < 1 || attrs->out_hw[1] < 1)
            return shape_fail(op, node_name, "output size %dx%d", attrs->out_hw[0], attrs->out_hw[1]);
        if (in[1].ndim != 2 || in[1].d[0] != in[0].d[0] || in[1].d[1] != 6)
            return shape_fail(op, node_name, "transforms %s must be [%d, 6]", SHAPE_STR(&in[1]), in[0].d[0]);
        *out = cnv_shape4(in[0].d[0], in[0].d[1], attrs->out_hw[0], attrs->out_hw[1]);
        return CNV_OK;
    case CNV_OP_RESIZE: return infer_resize(attrs, &in[0], out, node_name);
    case CNV_OP_CONVTRANSPOSE: return infer_convtranspose(attrs, in, out, node_name);
    case CNV_OP_GRAM: *out = cnv_shape4(in[0].d[0], 1, in[0].d[1], in[0].d[1]); return CNV_OK;
    case CNV_OP_SQDIST:
        if (!cnv_shape_equal(&in[0], &in[1]))
            return shape_fail(op, node_name, "target %s differs from the input %s", SHAPE_STR(&in[1]), SHAPE_STR(&in[0]));
        *out = (cnv_shape){2, {in[0].d[0], 1}};
        return CNV_OK;
    default: break;
    }
    return cnv_fail(CNV_ERR_INTERNAL, "node '%s': no shape rule for op %d", node_name ? node_name : "?", (int)op);
}

cnv_status cnv_graph_infer_shapes(cnv_graph *g, const cnv_shape *input_shape, cnv_shape *shapes) {
    if (g->input < 0 || g->input >= g->n_values)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: graph has no input", g->source);
    /* Which values hold a shape so far: initializers and the input, then each node's output. */
    char *known = calloc((size_t)(g->n_values ? g->n_values : 1), 1);
    if (!known) return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory inferring shapes", g->source);
    for (int v = 0; v < g->n_values; v++) {
        shapes[v] = g->values[v].shape;
        known[v] = g->values[v].init != NULL;
    }
    shapes[g->input] = *input_shape;
    known[g->input] = 1;

    cnv_status st = CNV_OK;
    for (int i = 0; i < g->n_nodes && st == CNV_OK; i++) {
        cnv_node *n = &g->nodes[i];
        cnv_shape in[CNV_MAX_INPUTS];
        for (int j = 0; j < n->n_in && st == CNV_OK; j++) {
            int v = n->in[j];
            if (v < 0 || v >= g->n_values || !known[v])
                st = cnv_fail(CNV_ERR_FORMAT, "%s: node '%s' (%s): input %d is not computed before it", g->source,
                              n->name, cnv_op_name(n->op), j);
            else
                in[j] = shapes[v];
        }
        if (st != CNV_OK) break;
        st = cnv_shape_check_inputs(g, n, in);
        if (st == CNV_OK) st = cnv_op_infer_shape(n->op, &n->attrs, n->n_in, in, &shapes[n->out], n->name);
        if (st == CNV_OK) st = cnv_shape_check_output(g, n, &shapes[n->out]);
        if (st == CNV_OK) known[n->out] = 1;
    }
    free(known);
    if (st == CNV_ERR_SHAPE) cnv_error_prefix(g->source);
    return st;
}
