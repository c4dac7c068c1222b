/* The binary elementwise ops with multidirectional (numpy) broadcasting (core/op_list.h: the ops
 * with a CNV_BINARY_* number): Add, Sub, Mul, Div, Pow, Max, Min, PRelu. Shapes are aligned on
 * their last dimension and viewed at CNV_MAX_DIMS dims; a broadcast dimension gets stride 0,
 * and neighbouring dims both inputs walk alike are merged, so one walk over the output's rows
 * serves every combination (ConvNeXt-T's class step, its LayerNorms spelled out as broadcast
 * Sub, Pow, Div, Mul, Add: 0.59 -> 0.45 s, where one element at a time through a cursor over
 * every dim had been a fifth of it). The backward of each input adds
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
    case CNV_BINARY_POW: return b == 2.0f ? a * a : powf(a, b); /* a LayerNorm's square: no libm call */
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
    case CNV_BINARY_POW: return which ? powf(a, b) * logf(a) : b == 2.0f ? 2.0f * a : b * powf(a, b - 1.0f);
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

/* Neighbouring dims that both inputs walk alike (each either contiguous across the two or
 * broadcast in both) merged into one, and dims of 1 dropped, still right-aligned: a channel bias
 * [1, C, 1, 1] on [N, C, H, W] becomes rows of H W, a LayerNorm's [N, H, W, 1] on [N, H, W, C]
 * rows of C, so the inner loop runs long. */
static void coalesce(binary_plan *p) {
    int out[R];
    size_t st[2][R];
    int n = 0; /* merged dims so far, innermost first */
    for (int k = R - 1; k >= 0; k--) {
        if (p->out[k] == 1) continue;
        const int joins = n > 0 && p->stride[0][k] == st[0][n - 1] * (size_t)out[n - 1] &&
                          p->stride[1][k] == st[1][n - 1] * (size_t)out[n - 1];
        if (joins) {
            out[n - 1] *= p->out[k];
            continue;
        }
        out[n] = p->out[k], st[0][n] = p->stride[0][k], st[1][n] = p->stride[1][k];
        n++;
    }
    for (int k = 0; k < R; k++) {
        const int from = R - 1 - k; /* dim k takes merged dim R-1-k, or 1 */
        p->out[k] = from < n ? out[from] : 1;
        p->stride[0][k] = from < n ? st[0][from] : 0;
        p->stride[1][k] = from < n ? st[1][from] : 0;
    }
}

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
    coalesce(p);
    return CNV_OK;
}

/* The broadcasting walk goes row by row: a row is the innermost (coalesced) dim, which each
 * input reads contiguously (stride 1) or as one repeated element (stride 0). Row r's offsets into
 * a and b come from its index over the outer dims. */
static void row_offsets(const binary_plan *p, size_t r, size_t *ia, size_t *ib) {
    *ia = *ib = 0;
    for (int k = R - 2; k >= 0; k--) {
        const size_t i = r % (size_t)p->out[k];
        r /= (size_t)p->out[k];
        *ia += i * p->stride[0][k], *ib += i * p->stride[1][k];
    }
}

typedef struct rows_job {
    const binary_plan *p;
    int which; /* backward: the input whose gradient is made */
    const float *x, *y, *g;
    float *out;
} rows_job;

/* One row of the forward, f and the inputs' steps constant in each copy the compiler makes. */
CNV_CPU_INLINE void forward_row(int f, const float *x, size_t sx, const float *y, size_t sy, float *out, size_t n) {
    for (size_t k = 0; k < n; k++) out[k] = binary_value(f, x[k * sx], y[k * sy]);
}

CNV_CPU_INLINE void forward_rows_of(int f, const rows_job *j, size_t lo, size_t hi) {
    const binary_plan *p = j->p;
    const size_t n = (size_t)p->out[R - 1], sx = p->stride[0][R - 1], sy = p->stride[1][R - 1];
    for (size_t r = lo; r < hi; r++) {
        size_t ia, ib;
        row_offsets(p, r, &ia, &ib);
        float *o = j->out + r * n;
        if (sx && sy)
            forward_row(f, j->x + ia, 1, j->y + ib, 1, o, n);
        else if (sx)
            forward_row(f, j->x + ia, 1, j->y + ib, 0, o, n);
        else
            forward_row(f, j->x + ia, 0, j->y + ib, sy, o, n);
    }
}

CNV_CPU_CLONES static void forward_rows(void *ctx, size_t lo, size_t hi) {
    const rows_job *j = ctx;
    switch (j->p->f) {
    case CNV_BINARY_ADD: forward_rows_of(CNV_BINARY_ADD, j, lo, hi); break;
    case CNV_BINARY_SUB: forward_rows_of(CNV_BINARY_SUB, j, lo, hi); break;
    case CNV_BINARY_MUL: forward_rows_of(CNV_BINARY_MUL, j, lo, hi); break;
    case CNV_BINARY_DIV: forward_rows_of(CNV_BINARY_DIV, j, lo, hi); break;
    default: forward_rows_of(j->p->f, j, lo, hi);
    }
}

/* Rows [lo, hi) of one input's gradient: d (+)= g * df/d(input) where that input has a distinct
 * element per output position along the row (sd = 1), or the row's terms added in order onto
 * its one element (sd = 0), f constant in each copy the compiler makes. */
CNV_CPU_INLINE void backward_rows_of(int f, const rows_job *j, size_t lo, size_t hi) {
    const binary_plan *p = j->p;
    const int which = j->which;
    const size_t n = (size_t)p->out[R - 1], sx = p->stride[0][R - 1], sy = p->stride[1][R - 1];
    for (size_t r = lo; r < hi; r++) {
        size_t ia, ib;
        row_offsets(p, r, &ia, &ib);
        const float *x = j->x + ia, *y = j->y + ib, *g = j->g + r * n;
        float *d = j->out + (which ? ib : ia);
        if (sx && sy)
            for (size_t k = 0; k < n; k++) d[k] += g[k] * binary_partial(f, which, x[k], y[k]);
        else if (which ? sy : sx) /* the other input is the row's one element */
            for (size_t k = 0; k < n; k++) d[k] += g[k] * binary_partial(f, which, x[k * sx], y[k * sy]);
        else {
            float acc = *d;
            for (size_t k = 0; k < n; k++) acc += g[k] * binary_partial(f, which, x[k * sx], y[k * sy]);
            *d = acc;
        }
    }
}

CNV_CPU_CLONES static void backward_rows(void *ctx, size_t lo, size_t hi) {
    const rows_job *j = ctx;
    switch (j->p->f) {
    case CNV_BINARY_ADD: backward_rows_of(CNV_BINARY_ADD, j, lo, hi); break;
    case CNV_BINARY_SUB: backward_rows_of(CNV_BINARY_SUB, j, lo, hi); break;
    case CNV_BINARY_MUL: backward_rows_of(CNV_BINARY_MUL, j, lo, hi); break;
    case CNV_BINARY_DIV: backward_rows_of(CNV_BINARY_DIV, j, lo, hi); break;
    default: backward_rows_of(j->p->f, j, lo, hi);
    }
}

/* Whether rows of input `which`'s gradient never share an element: it is broadcast, if at all,
 * only along the row (a LayerNorm's [N, H, W, 1], a squeeze-excite's [N, C, 1, 1]), so the rows
 * can be split among the cores. */
static int rows_disjoint(const binary_plan *p, int which) {
    for (int k = 0; k < R - 1; k++)
        if (p->out[k] > 1 && p->stride[which][k] == 0) return 0;
    return 1;
}

/* Inputs of the output's shape (a residual Add: 13% of a ResNet-50 step through the cursor) take
 * a plain loop, split among the cores, with copies of their own (f constant) for Add, Sub, Mul
 * and Div that the compiler vectorizes. */
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

CNV_CPU_INLINE void same_run_f(int f, const same_job *j, size_t lo, size_t hi) {
    if (!j->g)
        same_forward(f, j, lo, hi);
    else if (j->assign)
        same_backward(f, 1, j, lo, hi);
    else
        same_backward(f, 0, j, lo, hi);
}

CNV_CPU_CLONES static void same_job_run(void *ctx, size_t lo, size_t hi) {
    const same_job *j = ctx;
    switch (j->f) {
    case CNV_BINARY_ADD: same_run_f(CNV_BINARY_ADD, j, lo, hi); break;
    case CNV_BINARY_SUB: same_run_f(CNV_BINARY_SUB, j, lo, hi); break;
    case CNV_BINARY_MUL: same_run_f(CNV_BINARY_MUL, j, lo, hi); break; /* Swish's x * sigmoid(x) */
    case CNV_BINARY_DIV: same_run_f(CNV_BINARY_DIV, j, lo, hi); break;
    default: same_run_f(j->f, j, lo, hi);
    }
}

static int same_shapes(const cnv_cpu_args *a, const binary_plan *p) {
    return cnv_shape_numel(&a->in_shape[0]) == p->total && cnv_shape_numel(&a->in_shape[1]) == p->total;
}

cnv_status cnv_cpu_binary_forward(const cnv_cpu_args *a) {
    binary_plan p;
    CNV_TRY(plan(a, &p));
    if (p.total == 0) return CNV_OK;
    const float *x = a->in[0], *y = a->in[1];
    if (same_shapes(a, &p)) {
        same_job j = {.f = p.f, .x = x, .y = y, .out = a->out};
        cnv_cpu_parallel(p.total, CNV_CPU_PARALLEL_MIN, same_job_run, &j);
        return CNV_OK;
    }
    rows_job j = {.p = &p, .x = x, .y = y, .out = a->out};
    const size_t n = (size_t)p.out[R - 1];
    cnv_cpu_parallel(p.total / n, cnv_cpu_min_items(n), forward_rows, &j);
    return CNV_OK;
}

/* Assigned gradients are written where the shapes are the same; a broadcast input's is a sum
 * over the positions broadcast from each element, so it is zeroed first. */
cnv_status cnv_cpu_binary_backward(const cnv_cpu_args *a) {
    binary_plan p;
    CNV_TRY(plan(a, &p));
    if (p.total == 0) return CNV_OK;
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
        rows_job j = {.p = &p, .which = which, .x = x, .y = y, .g = g, .out = d};
        const size_t n = (size_t)p.out[R - 1], rows = p.total / n;
        if (rows_disjoint(&p, which))
            cnv_cpu_parallel(rows, cnv_cpu_min_items(n), backward_rows, &j);
        else
            backward_rows(&j, 0, rows);
    }
    return CNV_OK;
}
