/* The op check, generic over backends (it only uses the vtable).
 *
 * Gradients are compared with central finite differences of L(x) = Σ g · oracle(x) computed in
 * float64, at the very float32 inputs the backend saw. Every op checked here is linear or
 * piecewise linear in each input between kinks, so in float64 the differences are exact up to
 * rounding, as long as no step crosses a kink: for MaxPool the data input is filled with
 * distinct values on a grid much coarser than the step (no ties, no argmax change).
 * Regularize differentiates L(x) = Σ g · x - penalty(x) (tu_oracle_loss_term): its L1 kink at
 * l_center is kept clear of the inputs, and its smooth TV power (sharply curved where
 * neighbours nearly agree when tv_beta < 2) gets a smaller step, which float64 affords.
 * Constant inputs (the last n_const) take the case's values and are never differentiated.
 * GradNorm's backward, which is no gradient, is compared with tu_oracle_gradnorm_grad instead.
 *
 * The gradient buffers are filled with random values before the backward, not zeroed, and the
 * prefill is subtracted afterwards: that also proves the backward accumulates (+=), which the
 * executor relies on for fan-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "opcheck.h"
#include "oracle.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything one case holds on the host. */
typedef struct opcheck_ctx {
    const tu_opcase *c;
    cnv_node node;
    cnv_shape out_shape;
    size_t in_n[CNV_MAX_INPUTS], out_n;
    float *x[CNV_MAX_INPUTS]; /* the inputs the backend sees */
    double *xd[CNV_MAX_INPUTS]; /* the same values in float64, perturbed by the finite differences */
    double *g;                /* the random output gradient */
    double *y;                /* oracle output scratch */
    double step[CNV_MAX_INPUTS]; /* finite difference step per input */
} opcheck_ctx;

static void expect_ok(cnv_status s, const char *what, const char *label) {
    if (s != CNV_OK) fail_msg("%s: %s failed: %s (%s)", label, what, cnv_status_str(s), cnv_last_error());
}

/* Distinct values on a grid in [lo, hi), randomly permuted: ties (and kinks of max) stay at
 * least (hi - lo) / n apart. */
static void fill_distinct(cnv_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * ((float)i + 0.5f) / (float)n;
    for (size_t i = n; i > 1; i--) {
        size_t j = cnv_rng_below(r, (uint32_t)i);
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* Moves values within `margin` of `center` to center ± margin: no finite difference step
 * crosses the kink of |x - center|. */
static void keep_off_center(float *x, size_t n, float center, float margin) {
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i] - center) < margin) x[i] = x[i] < center ? center - margin : center + margin;
}

static void setup_inputs(opcheck_ctx *k, uint64_t seed) {
    const tu_opcase *c = k->c;
    float lo = c->lo, hi = c->hi;
    if (lo == 0.0f && hi == 0.0f) lo = -1.0f, hi = 1.0f;
    double scale = fmax(fabs(lo), fabs(hi));
    cnv_rng r;
    cnv_rng_seed(&r, seed);
    for (int i = 0; i < c->n_in; i++) {
        k->in_n[i] = cnv_shape_numel(&c->in_shape[i]);
        k->x[i] = tu_calloc(k->in_n[i], sizeof(float));
        k->xd[i] = tu_calloc(k->in_n[i], sizeof(double));
        k->step[i] = 1e-4 * scale;
        if (i >= c->n_in - c->n_const) {
            if (!c->const_data[i]) fail_msg("%s: constant input %d has no values", c->label, i);
            memcpy(k->x[i], c->const_data[i], k->in_n[i] * sizeof(float));
        } else if (c->op == CNV_OP_MAXPOOL && i == 0) {
            fill_distinct(&r, k->x[i], k->in_n[i], lo, hi);
            k->step[i] = fmin(k->step[i], 0.25 * (hi - lo) / (double)k->in_n[i]);
        } else {
            tu_fill_uniform(&r, k->x[i], k->in_n[i], lo, hi);
        }
        if (c->op == CNV_OP_REGULARIZE && i == 0) {
            keep_off_center(k->x[i], k->in_n[i], c->attrs.l_center, (float)(100.0 * k->step[i]));
            k->step[i] *= 1e-2;
        }
        for (size_t j = 0; j < k->in_n[i]; j++) k->xd[i][j] = k->x[i][j];
    }
    k->g = tu_calloc(k->out_n, sizeof(double));
    k->y = tu_calloc(k->out_n, sizeof(double));
    for (size_t j = 0; j < k->out_n; j++) k->g[j] = 2.0 * cnv_rng_uniform(&r) - 1.0;
}

static void oracle(opcheck_ctx *k) {
    tu_oracle_forward(k->c->op, &k->node.attrs, k->c->n_in, (const double *const *)k->xd, k->c->in_shape, k->y,
                      &k->out_shape);
}

static double loss(opcheck_ctx *k) {
    oracle(k);
    double s = tu_oracle_loss_term(k->c->op, &k->node.attrs, k->c->n_in, (const double *const *)k->xd,
                                   k->c->in_shape);
    for (size_t j = 0; j < k->out_n; j++) s += k->g[j] * k->y[j];
    return s;
}

/* Backend buffers of one case: inputs, output, switches, output gradient. */
typedef struct opcheck_bufs {
    cnv_op_io io;
    cnv_buf *bufs[2 * CNV_MAX_INPUTS + 3];
    int n_bufs;
} opcheck_bufs;

static cnv_buf *buf_new(cnv_backend *be, opcheck_bufs *b, size_t n, const char *label) {
    cnv_buf *buf = NULL;
    expect_ok(be->vt->buf_alloc(be, n, &buf), "buf_alloc", label);
    b->bufs[b->n_bufs++] = buf;
    return buf;
}

static void write_floats(cnv_backend *be, cnv_buf *buf, const float *src, size_t n, const char *label) {
    expect_ok(be->vt->buf_write(be, buf, 0, src, n), "buf_write", label);
}

static void read_floats(cnv_backend *be, cnv_buf *buf, float *dst, size_t n, const char *label) {
    expect_ok(be->vt->sync(be), "sync", label);
    expect_ok(be->vt->buf_read(be, buf, 0, dst, n), "buf_read", label);
}

/* Conv with its Relu fused (cnv_op_io's relu_out, the executor's Conv + Relu): the output again,
 * which must agree with the oracle as the plain forward's does (fwd_err takes the worse), and
 * max(output, 0) in a buffer filled with NaN first, which must hold exactly that everywhere. The
 * plain forward's output stays in b->io.out for the backward. */
static void check_fused_relu(opcheck_ctx *k, cnv_backend *be, opcheck_bufs *b, double *fwd_err) {
    const char *label = k->c->label;
    float *fused = tu_calloc(k->out_n, sizeof(float)), *relu = tu_calloc(k->out_n, sizeof(float));
    double *fd = tu_calloc(k->out_n, sizeof(double));
    cnv_op_io io = b->io;
    io.out = buf_new(be, b, k->out_n, label);
    io.relu_out = buf_new(be, b, k->out_n, label);
    expect_ok(be->vt->buf_fill(be, io.relu_out, NAN, k->out_n), "buf_fill", label);
    expect_ok(be->vt->forward(be, &io), "forward with the Relu fused", label);
    read_floats(be, io.out, fused, k->out_n, label);
    read_floats(be, io.relu_out, relu, k->out_n, label);
    size_t positive = 0;
    for (size_t j = 0; j < k->out_n; j++) {
        const float want = fused[j] > 0.0f ? fused[j] : 0.0f;
        if (relu[j] != want)
            fail_msg("%s: fused Relu element %zu is %g, max(%g, 0) expected", label, j, relu[j], fused[j]);
        positive += fused[j] > 0.0f;
        fd[j] = fused[j];
    }
    if (!positive || positive == k->out_n) fail_msg("%s: the fused Relu check needs outputs of both signs", label);
    const double e = tu_rel_error_d(fd, k->y, k->out_n);
    if (!(e <= *fwd_err)) *fwd_err = e;
    /* The Relu alone (no out: the executor keeps no pre-activation nothing reads): the same values. */
    io.out = NULL;
    io.relu_out = buf_new(be, b, k->out_n, label);
    expect_ok(be->vt->buf_fill(be, io.relu_out, NAN, k->out_n), "buf_fill", label);
    expect_ok(be->vt->forward(be, &io), "forward of the Relu alone", label);
    read_floats(be, io.relu_out, fused, k->out_n, label);
    for (size_t j = 0; j < k->out_n; j++)
        if (!(fused[j] == relu[j])) fail_msg("%s: the Relu alone gave %g at %zu, fused %g", label, fused[j], j, relu[j]);
    free(fused), free(relu), free(fd);
}

/* Runs the backward with grad slots set for inputs [first, last) only, into `analytic`: once
 * adding onto random values already there (the result less them), once with those slots marked
 * as holding no gradient yet (grad_assign) and filled with NaN, which must all be overwritten. */
static void run_backward(opcheck_ctx *k, cnv_backend *be, opcheck_bufs *b, int first, int last, int assign,
                         cnv_rng *r, double *analytic) {
    const char *label = k->c->label;
    float *prefill[CNV_MAX_INPUTS] = {0};
    for (int i = 0; i < k->c->n_in; i++) b->io.grad_in[i] = NULL;
    b->io.grad_assign = 0;
    for (int i = first; i < last; i++) {
        prefill[i] = tu_calloc(k->in_n[i], sizeof(float));
        if (assign) {
            for (size_t j = 0; j < k->in_n[i]; j++) prefill[i][j] = NAN;
            b->io.grad_assign |= (uint64_t)1 << i;
        } else {
            tu_fill_uniform(r, prefill[i], k->in_n[i], -1.0f, 1.0f);
        }
        b->io.grad_in[i] = buf_new(be, b, k->in_n[i], label);
        write_floats(be, b->io.grad_in[i], prefill[i], k->in_n[i], label);
    }
    expect_ok(be->vt->backward(be, &b->io), "backward", label);
    size_t at = 0;
    for (int i = first; i < last; i++) {
        float *got = tu_calloc(k->in_n[i], sizeof(float));
        read_floats(be, b->io.grad_in[i], got, k->in_n[i], label);
        for (size_t j = 0; j < k->in_n[i]; j++, at++)
            analytic[at] = assign ? (double)got[j] : (double)got[j] - (double)prefill[i][j];
        free(got);
        free(prefill[i]);
        b->io.grad_in[i] = NULL;
    }
    b->io.grad_assign = 0;
}

/* The backward to inputs [first, last), added and written (run_backward): the larger of the two
 * ‖backend − finite differences‖ / ‖finite differences‖ over all of them (NaN where an element
 * was not written). */
static double check_backward(opcheck_ctx *k, cnv_backend *be, opcheck_bufs *b, int first, int last, cnv_rng *r) {
    size_t total = 0;
    for (int i = first; i < last; i++) total += k->in_n[i];
    if (total == 0) return 0.0;
    double *added = tu_calloc(total, sizeof(double)), *written = tu_calloc(total, sizeof(double));
    double *numeric = tu_calloc(total, sizeof(double));
    run_backward(k, be, b, first, last, 0, r, added);
    run_backward(k, be, b, first, last, 1, r, written);
    size_t at = 0;
    for (int i = first; i < last; i++) {
        /* GradNorm's backward is not the gradient of anything: its oracle gives dx directly. */
        if (k->c->op == CNV_OP_GRADNORM) {
            tu_oracle_gradnorm_grad(&k->node.attrs, &k->c->in_shape[i], k->g, numeric + at);
            at += k->in_n[i];
            continue;
        }
        for (size_t j = 0; j < k->in_n[i]; j++, at++) {
            double x0 = k->xd[i][j], h = k->step[i];
            k->xd[i][j] = x0 + h;
            double up = loss(k);
            k->xd[i][j] = x0 - h;
            double down = loss(k);
            k->xd[i][j] = x0;
            numeric[at] = (up - down) / (2.0 * h);
        }
    }
    const double e_added = tu_rel_error_d(added, numeric, total), e_written = tu_rel_error_d(written, numeric, total);
    free(added);
    free(written);
    free(numeric);
    return isnan(e_written) || e_written > e_added ? e_written : e_added;
}

void tu_opcheck(const tu_opcase *c, cnv_backend *be, uint64_t seed, double tol, tu_opcheck_result *res) {
    opcheck_ctx k = {.c = c};
    k.node = (cnv_node){.name = (char *)c->label, .op = c->op, .attrs = c->attrs, .n_in = c->n_in};
    expect_ok(cnv_op_infer_shape(c->op, &k.node.attrs, c->n_in, c->in_shape, &k.out_shape, c->label),
              "shape inference", c->label);
    k.out_n = cnv_shape_numel(&k.out_shape);
    setup_inputs(&k, seed);

    opcheck_bufs b = {.io = {.node = &k.node, .n_in = c->n_in, .out_shape = k.out_shape}};
    const int first_weight = c->n_in - c->n_weights - c->n_const;
    for (int i = 0; i < c->n_in; i++) {
        b.io.in_shape[i] = c->in_shape[i];
        if (c->wrap_weights && be->vt->buf_wrap && i >= first_weight && i < first_weight + c->n_weights) {
            expect_ok(be->vt->buf_wrap(be, k.x[i], k.in_n[i], &b.io.in[i]), "buf_wrap", c->label);
            b.bufs[b.n_bufs++] = b.io.in[i];
            continue;
        }
        b.io.in[i] = buf_new(be, &b, k.in_n[i], c->label);
        write_floats(be, b.io.in[i], k.x[i], k.in_n[i], c->label);
    }
    b.io.out = buf_new(be, &b, k.out_n, c->label);
    size_t aux_n = cnv_op_aux_numel(&k.node, &c->in_shape[0], &k.out_shape);
    if (aux_n) b.io.aux = buf_new(be, &b, aux_n, c->label);

    /* Forward against the oracle. */
    expect_ok(be->vt->forward(be, &b.io), "forward", c->label);
    float *yf = tu_calloc(k.out_n, sizeof(float));
    double *yb = tu_calloc(k.out_n, sizeof(double));
    read_floats(be, b.io.out, yf, k.out_n, c->label);
    for (size_t j = 0; j < k.out_n; j++) yb[j] = yf[j];
    oracle(&k);
    res->fwd_err = tu_rel_error_d(yb, k.y, k.out_n);
    if (c->op == CNV_OP_CONV) check_fused_relu(&k, be, &b, &res->fwd_err);

    /* Backward to the data inputs, then to the weights, each on its own. */
    float *gf = tu_calloc(k.out_n, sizeof(float));
    for (size_t j = 0; j < k.out_n; j++) gf[j] = (float)k.g[j];
    b.io.grad_out = buf_new(be, &b, k.out_n, c->label);
    write_floats(be, b.io.grad_out, gf, k.out_n, c->label);
    cnv_rng r;
    cnv_rng_seed(&r, seed ^ 0x5eedULL);
    const int n_data = c->n_in - c->n_weights - c->n_const;
    res->bwd_data_err = check_backward(&k, be, &b, 0, n_data, &r);
    res->bwd_weights_err = check_backward(&k, be, &b, n_data, c->n_in - c->n_const, &r);

    for (int i = 0; i < b.n_bufs; i++) be->vt->buf_free(be, b.bufs[i]);
    for (int i = 0; i < c->n_in; i++) free(k.x[i]), free(k.xd[i]);
    free(k.g), free(k.y), free(yf), free(yb), free(gf);

    if (!(res->fwd_err < tol)) fail_msg("%s: forward error %.3g >= %.3g", c->label, res->fwd_err, tol);
    if (!(res->bwd_data_err < tol)) fail_msg("%s: backward-to-data error %.3g >= %.3g", c->label, res->bwd_data_err, tol);
    if (!(res->bwd_weights_err < tol))
        fail_msg("%s: backward-to-weights error %.3g >= %.3g", c->label, res->bwd_weights_err, tol);
}

void tu_opcheck_table(cnv_backend *be, const char *title, const tu_opcase *cases, size_t n, uint64_t seed,
                      double tol) {
    int any_weights = 0;
    for (size_t i = 0; i < n; i++) any_weights |= cases[i].n_weights > 0;
    printf("\n%-50s %11s %11s%s\n", title, "forward", "bwd data", any_weights ? "  bwd weights" : "");
    for (size_t i = 0; i < n; i++) {
        tu_opcheck_result r;
        tu_opcheck(&cases[i], be, seed + (uint64_t)i, tol, &r);
        printf("  %-48s %11.2e %11.2e", cases[i].label, r.fwd_err, r.bwd_data_err);
        if (any_weights) printf("  %11.2e", r.bwd_weights_err);
        printf("\n");
    }
    fflush(stdout);
}
