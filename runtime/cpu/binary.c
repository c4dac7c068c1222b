/* The binary elementwise ops with multidirectional (numpy) broadcasting (core/op_list.h: the ops
 * with a CNV_BINARY_* number): Add, Sub, Mul, Div, Pow, Max, Min, PRelu. Shapes are aligned on
 * their last dimension and viewed at CNV_MAX_DIMS dims; a broadcast dimension gets stride 0,
 * so one walk over the output serves every combination. The backward of each input adds
 * dy * df/d(input) over the positions broadcast from each of its elements. The functions mirror
 * shaders/binary.glsl. */
#include "cpu_ops.h"

#include "core/status.h"

#include <math.h>
#include <string.h>

#define R CNV_MAX_DIMS

CNV_CPU_INLINE float binary_value(int f, float a, float b) {
    switch (f) {
    case CNV_BINARY_ADD: return a + b;
    case CNV_BINARY_SUB: return a - b;
    case CNV_BINARY_MUL: return a * b;
    case CNV_BINARY_DIV: return a / b;
    case CNV_BINARY_POW: return powf(a, b);
    case CNV_BINARY_MAX: return a >= b ? a : b;
    case CNV_BINARY_MIN: return a <= b ? a : b;
    default: return a >= 0.0f ? a : b * a; /* CNV_BINARY_PRELU */
    }
}

/* df/da (which = 0) or df/db (which = 1). Max and Min pass a tie to a; Pow's df/db needs a > 0. */
CNV_CPU_INLINE float binary_partial(int f, int which, float a, float b) {
    switch (f) {
    case CNV_BINARY_ADD: return 1.0f;
    case CNV_BINARY_SUB: return which ? -1.0f : 1.0f;
    case CNV_BINARY_MUL: return which ? a : b;
    case CNV_BINARY_DIV: return which ? -a / (b * b) : 1.0f / b;
    case CNV_BINARY_POW: return which ? powf(a, b) * logf(a) : b * powf(a, b - 1.0f);
    case CNV_BINARY_MAX: return (a >= b) == !which ? 1.0f : 0.0f;
    case CNV_BINARY_MIN: return (a <= b) == !which ? 1.0f : 0.0f;
    default: return a >= 0.0f ? (which ? 0.0f : 1.0f) : (which ? a : b); /* CNV_BINARY_PRELU */
    }
}

typedef struct binary_plan {
    int f;
    int out[R];
    size_t total;        /* output elements */
    size_t stride[2][R]; /* element strides of a and b seen through the output, 0 where broadcast */
} binary_plan;

static cnv_status plan(const cnv_cpu_args *a, binary_plan *p) {
    p->f = cnv_op_binary_number(a->node->op);
    const cnv_shape *o = &a->out_shape;
    if (p->f < 0)
        return cnv_fail(CNV_ERR_INTERNAL, "%s: op %s is not a binary elementwise op", a->node->name,
                        cnv_op_name(a->node->op));
    if (a->n_in != 2 || o->ndim > R || a->in_shape[0].ndim > o->ndim || a->in_shape[1].ndim > o->ndim)
        return cnv_fail(CNV_ERR_SHAPE, "%s: %s needs two inputs of rank up to the output's", a->node->name,
                        cnv_op_name(a->node->op));
    p->total = cnv_shape_numel(o);
    for (int k = 0; k < R; k++) p->out[k] = k >= R - o->ndim ? o->d[k - (R - o->ndim)] : 1;
    for (int i = 0; i < 2; i++) {
        const cnv_shape *s = &a->in_shape[i];
        size_t step = 1;
        for (int k = R - 1; k >= 0; k--) {
            const int dim = k >= R - s->ndim ? s->d[k - (R - s->ndim)] : 1;
            if (dim != p->out[k] && dim != 1)
                return cnv_fail(CNV_ERR_SHAPE, "%s: %s input %d does not broadcast to the output", a->node->name,
                                cnv_op_name(a->node->op), i);
            p->stride[i][k] = dim == 1 ? 0 : step;
            step *= (size_t)dim;
        }
    }
    return CNV_OK;
}

/* A position in the output walked in order, with the offsets of a and b it reads. */
typedef struct cursor {
    int idx[R];
    size_t ia, ib;
} cursor;

static inline void advance(const binary_plan *p, cursor *c) {
    for (int k = R - 1; k >= 0; k--) {
        c->ia += p->stride[0][k], c->ib += p->stride[1][k];
        if (++c->idx[k] < p->out[k]) return;
        c->ia -= p->stride[0][k] * (size_t)p->out[k], c->ib -= p->stride[1][k] * (size_t)p->out[k];
        c->idx[k] = 0;
    }
}

/* Inputs of the output's shape (a residual Add: 13% of a ResNet-50 step through the cursor) take
 * a plain loop, split among the cores, with Add's own copy (f constant) that the compiler
 * vectorizes. */
typedef struct same_job {
    int f, which, assign;
    const float *x, *y, *g;
    float *out;
} same_job;

CNV_CPU_INLINE void same_forward(int f, const same_job *j, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) j->out[i] = binary_value(f, j->x[i], j->y[i]);
}

CNV_CPU_INLINE void same_backward(int f, int assign, const same_job *j, size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; i++) {
        const float d = j->g[i] * binary_partial(f, j->which, j->x[i], j->y[i]);
        j->out[i] = assign ? d : j->out[i] + d;
    }
}

CNV_CPU_CLONES static void same_job_run(void *ctx, size_t lo, size_t hi) {
    const same_job *j = ctx;
    if (!j->g && j->f == CNV_BINARY_ADD)
        same_forward(CNV_BINARY_ADD, j, lo, hi);
    else if (!j->g)
        same_forward(j->f, j, lo, hi);
    else if (j->f == CNV_BINARY_ADD && j->assign)
        same_backward(CNV_BINARY_ADD, 1, j, lo, hi);
    else if (j->f == CNV_BINARY_ADD)
        same_backward(CNV_BINARY_ADD, 0, j, lo, hi);
    else
        same_backward(j->f, j->assign, j, lo, hi);
}

static int same_shapes(const cnv_cpu_args *a, const binary_plan *p) {
    return cnv_shape_numel(&a->in_shape[0]) == p->total && cnv_shape_numel(&a->in_shape[1]) == p->total;
}

cnv_status cnv_cpu_binary_forward(const cnv_cpu_args *a) {
    binary_plan p;
    CNV_TRY(plan(a, &p));
    const float *x = a->in[0], *y = a->in[1];
    if (same_shapes(a, &p)) {
        same_job j = {.f = p.f, .x = x, .y = y, .out = a->out};
        cnv_cpu_parallel(p.total, CNV_CPU_PARALLEL_MIN, same_job_run, &j);
        return CNV_OK;
    }
    cursor c = {{0}, 0, 0};
    for (size_t o = 0; o < p.total; o++, advance(&p, &c)) a->out[o] = binary_value(p.f, x[c.ia], y[c.ib]);
    return CNV_OK;
}

/* Assigned gradients are written where the shapes are the same; a broadcast input's is a sum
 * over the positions broadcast from each element, so it is zeroed first. */
cnv_status cnv_cpu_binary_backward(const cnv_cpu_args *a) {
    binary_plan p;
    CNV_TRY(plan(a, &p));
    const float *x = a->in[0], *y = a->in[1], *g = a->grad_out;
    const int same = same_shapes(a, &p);
    for (int which = 0; which < 2; which++) {
        float *d = a->grad_in[which];
        if (!d) continue;
        if (same) {
            same_job j = {.f = p.f, .which = which, .assign = cnv_cpu_assigns(a, which), .x = x, .y = y, .g = g, .out = d};
            cnv_cpu_parallel(p.total, CNV_CPU_PARALLEL_MIN, same_job_run, &j);
            continue;
        }
        if (cnv_cpu_assigns(a, which)) memset(d, 0, cnv_shape_numel(&a->in_shape[which]) * sizeof *d);
        cursor c = {{0}, 0, 0};
        for (size_t o = 0; o < p.total; o++, advance(&p, &c))
            d[which ? c.ib : c.ia] += g[o] * binary_partial(p.f, which, x[c.ia], y[c.ib]);
    }
    return CNV_OK;
}
