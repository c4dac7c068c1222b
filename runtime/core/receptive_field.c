/* Receptive fields: how many input pixels (per axis) one output position of each node sees,
 * and how far apart (the jump) neighbouring output positions are on the input. Standard
 * recurrence: size' = size + (dilation*(k-1)) * jump, jump' = jump * stride; the ops that
 * enlarge a map (Resize, ConvTranspose: a U-Net's decoder) divide the jump instead. */
#include "graph.h"

#include "status.h"

#include <stdlib.h>

/* A whole-input field: after a layer that mixes all positions, one "position" sees everything. */
static cnv_receptive_field whole_input(const cnv_graph *g) {
    const cnv_shape *s = &g->values[g->input].shape;
    cnv_receptive_field rf = {{1, 1}, {1, 1}};
    if (s->ndim == 4)
        for (int i = 0; i < 2; i++) rf.size[i] = rf.stride[i] = s->d[2 + i];
    return rf;
}

/* A Transpose that moves the spatial dims (H, W of a 4-D tensor) makes its output positions
 * something other than image positions, as Flatten does; one that only permutes batch and
 * channels keeps them. */
static int moves_positions(const cnv_graph *g, const cnv_node *n) {
    const int *p = n->attrs.perm;
    return g->values[n->in[0]].shape.ndim != 4 || p[2] != 2 || p[3] != 3;
}

/* A Slice keeps image positions when it only crops H and W (a field has no offset to move); a
 * step other than 1 along them (a stride, or a flip) is treated as mixing positions. */
static int slice_moves_positions(const cnv_graph *g, const cnv_node *n) {
    return g->values[n->in[0]].shape.ndim != 4 || n->attrs.slice_step[2] != 1 || n->attrs.slice_step[3] != 1;
}

static int covers_whole_input(const cnv_graph *g, const cnv_node *n) {
    const cnv_op_type op = n->op;
    return op == CNV_OP_FLATTEN || op == CNV_OP_GEMM || op == CNV_OP_MATMUL || op == CNV_OP_GLOBALAVGPOOL ||
           op == CNV_OP_RESHAPE || (op == CNV_OP_TRANSPOSE && moves_positions(g, n)) ||
           (op == CNV_OP_SLICE && slice_moves_positions(g, n));
}

static int is_whole(const cnv_receptive_field *rf, const cnv_receptive_field *whole) {
    return rf->size[0] == whole->size[0] && rf->size[1] == whole->size[1] && rf->stride[0] == whole->stride[0] &&
           rf->stride[1] == whole->stride[1];
}

static int has_window(cnv_op_type op) {
    return op == CNV_OP_CONV || op == CNV_OP_MAXPOOL || op == CNV_OP_AVGPOOL;
}

/* Resize scales the jump by its input size over its output size, ConvTranspose divides it by
 * its stride (at least 1: a field cannot resolve finer than the input's pixels); what one output
 * position sees widens by the input positions it reads beyond the first (a linear Resize's
 * second tap; a ConvTranspose kernel wider than its stride). */
static int scaled_jump(int jump, int in_size, int out_size) {
    long j = out_size > 0 ? (long)jump * in_size / out_size : jump;
    return j > 1 ? (int)j : 1;
}

static int enlarges(cnv_op_type op) { return op == CNV_OP_RESIZE || op == CNV_OP_CONVTRANSPOSE; }

static void enlarged_field(const cnv_graph *g, const cnv_node *n, const cnv_receptive_field *in,
                           cnv_receptive_field *rf) {
    const cnv_shape *x = &g->values[n->in[0]].shape, *y = &g->values[n->out].shape;
    for (int a = 0; a < 2; a++) {
        int extra, s = n->attrs.stride[a];
        if (n->op == CNV_OP_CONVTRANSPOSE) {
            extra = n->attrs.dilation[a] * (n->attrs.kernel[a] - 1) / s;
            rf->stride[a] = scaled_jump(in->stride[a], 1, s);
        } else {
            extra = n->attrs.resize_mode == CNV_RESIZE_LINEAR;
            if (x->ndim == 4 && y->ndim == 4) rf->stride[a] = scaled_jump(in->stride[a], x->d[2 + a], y->d[2 + a]);
        }
        rf->size[a] = in->size[a] + extra * in->stride[a];
    }
}

void cnv_graph_receptive_fields(const cnv_graph *g, cnv_receptive_field *rf) {
    const cnv_receptive_field whole = whole_input(g);
    for (int i = 0; i < g->n_nodes; i++) {
        const cnv_node *n = &g->nodes[i];
        /* Field of the node's data inputs (weights have none): the largest over them. */
        cnv_receptive_field in = {{1, 1}, {1, 1}};
        for (int j = 0; j < n->n_in; j++) {
            int p = g->values[n->in[j]].producer;
            if (p < 0 || p >= i) continue; /* the graph input (1x1) or a weight */
            for (int a = 0; a < 2; a++) {
                if (rf[p].size[a] > in.size[a]) in.size[a] = rf[p].size[a];
                if (rf[p].stride[a] > in.stride[a]) in.stride[a] = rf[p].stride[a];
            }
        }
        /* Once a field is the whole input, positions mean nothing more: windows after it
         * (convs after a Transpose that moved H and W) see the whole input too. */
        if (covers_whole_input(g, n) || is_whole(&in, &whole)) {
            rf[i] = whole;
            continue;
        }
        rf[i] = in;
        if (enlarges(n->op)) enlarged_field(g, n, &in, &rf[i]);
        if (!has_window(n->op)) continue;
        for (int a = 0; a < 2; a++) {
            rf[i].size[a] = in.size[a] + n->attrs.dilation[a] * (n->attrs.kernel[a] - 1) * in.stride[a];
            rf[i].stride[a] = in.stride[a] * n->attrs.stride[a];
        }
    }
}

/* The exact input box one output unit depends on: its interval of positions is carried back
 * through every node to the graph input, window ops widening it by their kernel, stride,
 * dilation and padding, Resize and ConvTranspose mapping it to the smaller map they read; a node
 * that mixes all positions widens it to everything. */
typedef struct box {
    int set;
    int y0, y1, x0, x1;
} box;

static void widen(box *dst, int y0, int y1, int x0, int x1) {
    if (!dst->set) {
        *dst = (box){1, y0, y1, x0, x1};
        return;
    }
    if (y0 < dst->y0) dst->y0 = y0;
    if (y1 > dst->y1) dst->y1 = y1;
    if (x0 < dst->x0) dst->x0 = x0;
    if (x1 > dst->x1) dst->x1 = x1;
}

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* The input positions [*lo, *hi] along `axis` that the output positions [o0, o1] of a Resize or
 * ConvTranspose read. */
static void enlarged_interval(const cnv_graph *g, const cnv_node *n, int axis, int o0, int o1, int *lo, int *hi) {
    const cnv_attrs *a = &n->attrs;
    if (n->op == CNV_OP_CONVTRANSPOSE) {
        /* Input i reaches the outputs i * stride - pad + k * dilation, k over the kernel. */
        *lo = -floor_div(-(o0 + a->pads[axis] - (a->kernel[axis] - 1) * a->dilation[axis]), a->stride[axis]);
        *hi = floor_div(o1 + a->pads[axis], a->stride[axis]);
        return;
    }
    int in = g->values[n->in[0]].shape.d[2 + axis], out = g->values[n->out].shape.d[2 + axis];
    /* Positions past the map's borders are the next window's padding: they read nothing. */
    o0 = o0 < 0 ? 0 : o0 >= out ? out - 1 : o0;
    o1 = o1 < 0 ? 0 : o1 >= out ? out - 1 : o1;
    *lo = cnv_resize_tap_of(a, axis, o0, in, out).lo; /* taps grow with the output index */
    *hi = cnv_resize_tap_of(a, axis, o1, in, out).hi;
}

cnv_status cnv_graph_unit_field(const cnv_graph *g, int node, int y, int x, int field[4]) {
    box *b = calloc((size_t)g->n_values, sizeof *b);
    if (!b) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    const int big = 1 << 28;
    b[g->nodes[node].out] = (box){1, y, y, x, x};
    for (int i = node; i >= 0; i--) {
        const cnv_node *n = &g->nodes[i];
        const box o = b[n->out];
        if (!o.set) continue;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (g->values[v].init) continue;
            const cnv_attrs *a = &n->attrs;
            if (covers_whole_input(g, n))
                widen(&b[v], -big, big, -big, big);
            else if (has_window(n->op))
                widen(&b[v], o.y0 * a->stride[0] - a->pads[0],
                      o.y1 * a->stride[0] - a->pads[0] + (a->kernel[0] - 1) * a->dilation[0],
                      o.x0 * a->stride[1] - a->pads[1],
                      o.x1 * a->stride[1] - a->pads[1] + (a->kernel[1] - 1) * a->dilation[1]);
            else if (enlarges(n->op) && j == 0) {
                int y0, y1, x0, x1;
                enlarged_interval(g, n, 0, o.y0, o.y1, &y0, &y1);
                enlarged_interval(g, n, 1, o.x0, o.x1, &x0, &x1);
                widen(&b[v], y0, y1, x0, x1);
            } else if (n->op == CNV_OP_PAD)
                widen(&b[v], o.y0 - a->pad_full[2], o.y1 - a->pad_full[2], o.x0 - a->pad_full[3], o.x1 - a->pad_full[3]);
            else
                widen(&b[v], o.y0, o.y1, o.x0, o.x1);
        }
    }
    const cnv_shape *s = &g->values[g->input].shape;
    box in = b[g->input];
    free(b);
    if (!in.set || s->ndim != 4) return cnv_fail(CNV_ERR_ARG, "%s: layer %d does not depend on the image input", g->source, node);
    field[0] = in.y0 < 0 ? 0 : in.y0;
    field[1] = in.x0 < 0 ? 0 : in.x0;
    field[2] = in.y1 >= s->d[2] ? s->d[2] - 1 : in.y1;
    field[3] = in.x1 >= s->d[3] ? s->d[3] - 1 : in.x1;
    return CNV_OK;
}
