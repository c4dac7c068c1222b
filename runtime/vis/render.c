#include "render.h"

#include "transform.h"
#include "vis_graph.h"
#include "core/exec.h"
#include "core/rng.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cnv_status cnv_recipe_validate(const cnv_recipe *r) {
    if (r->steps < 1) return cnv_fail(CNV_ERR_ARG, "--steps must be at least 1 (got %d)", r->steps);
    if (r->rounds < 0) return cnv_fail(CNV_ERR_ARG, "--rounds must be 0 or more (got %d)", r->rounds);
    if (!(r->lr > 0)) return cnv_fail(CNV_ERR_ARG, "--lr must be positive");
    if (r->fourier && !r->sigmoid)
        return cnv_fail(CNV_ERR_ARG, "the Fourier parameterization needs --sigmoid (its images centre on 0)");
    if (r->pad < 0 || r->jitter < 0 || r->jitter2 < 0) return cnv_fail(CNV_ERR_ARG, "--pad and --jitter must be >= 0");
    if (!(r->scale_min > 0) || r->scale_max < r->scale_min)
        return cnv_fail(CNV_ERR_ARG, "--scale must be a range of positive numbers, low first");
    if (r->rotate_deg < 0 || r->rotate_deg > 180) return cnv_fail(CNV_ERR_ARG, "--rotate must be within 0..180 degrees");
    if (r->tv < 0 || r->l1 < 0 || r->l2 < 0) return cnv_fail(CNV_ERR_ARG, "penalty weights must be >= 0");
    if (r->gradclip < 0) return cnv_fail(CNV_ERR_ARG, "--gradclip must be >= 0");
    if (r->rounds > 0 && r->fourier) return cnv_fail(CNV_ERR_ARG, "zoom rounds need the pixel parameterization");
    if (r->rounds > 0 && (!(r->zoom > 0) || r->blur_sigma < 0))
        return cnv_fail(CNV_ERR_ARG, "--zoom must be positive and --blur >= 0");
    if (r->octaves < 0 || r->octaves > 16) return cnv_fail(CNV_ERR_ARG, "--octaves must be within 0..16 (got %d)", r->octaves);
    if (r->octaves > 1 && r->fourier) return cnv_fail(CNV_ERR_ARG, "octaves need the pixel parameterization (--fourier off)");
    if (r->octaves > 1 && !(r->octave_scale > 1.0f && r->octave_scale <= 4.0f))
        return cnv_fail(CNV_ERR_ARG, "--octave-scale must be within 1..4 and above 1");
    return CNV_OK;
}

static int has_transforms(const cnv_recipe *r) {
    return r->jitter > 0 || r->jitter2 > 0 || r->scale_min != 1.0f || r->scale_max != 1.0f || r->rotate_deg > 0;
}

/* Everything a render holds on the backend. */
#define STEP_SLOTS 2

typedef struct render_state {
    const cnv_render_opts *o;
    cnv_backend *be;
    cnv_vis_graph vg;
    cnv_exec *ex;
    int node, value; /* objective node and its output in the visualization graph */
    int report_node, report_value; /* the same for the report (-1: none) */
    float *seed, *out, *affine;
    cnv_buf *m, *v, *scratch, *zoom_t;
    /* Steps alternate between STEP_SLOTS recorded programs, each reading its own per-step
     * buffers (the optimizer's hyperparameters; the transforms, slot 0's being the executor's
     * own): the host writes step s + 1's while the device may still run step s, since a
     * program's run is waited for only when the host touches a buffer it binds. */
    cnv_buf *hyper[STEP_SLOTS], *transform[STEP_SLOTS];
    cnv_program *prog[STEP_SLOTS];
    cnv_rng rng;
    size_t n_param;
    cnv_objective *objectives; /* with build_objective: one unit objective per item */
} render_state;

/* Per-item affines for this step: the random motion, scaled from image to model pixels. */
static void draw_transforms(render_state *st, int random) {
    const cnv_recipe *r = &st->o->recipe;
    const cnv_shape *in = &st->ex->shapes[st->vg.model_input];
    float to_model = (float)in->d[3] / (float)st->o->size[1];
    for (int i = 0; i < st->o->batch; i++) {
        float s = 1, a = 0, tx = 0, ty = 0;
        if (random) {
            s = r->scale_min + (r->scale_max - r->scale_min) * cnv_rng_uniform(&st->rng);
            a = r->rotate_deg * (2 * cnv_rng_uniform(&st->rng) - 1);
            for (int k = 0; k < 2; k++) {
                int j = k ? r->jitter2 : r->jitter;
                tx += (float)((int)cnv_rng_below(&st->rng, (uint32_t)(2 * j + 1)) - j);
                ty += (float)((int)cnv_rng_below(&st->rng, (uint32_t)(2 * j + 1)) - j);
            }
        }
        cnv_affine_compose(s * to_model, a, tx * to_model, ty * to_model, &st->affine[i * 6]);
    }
}

/* Into the transform buffer of step slot `slot` (0: the executor's own). */
static cnv_status set_transforms(render_state *st, int random, int slot) {
    if (st->vg.transform < 0) return CNV_OK;
    draw_transforms(st, random);
    return st->be->vt->buf_write(st->be, st->transform[slot], 0, st->affine, (size_t)st->o->batch * 6);
}

/* Objective values of the current image without transforms (start and end measurements), at
 * the objective and at the report node. */
static cnv_status measure(render_state *st, double *values, double *report) {
    CNV_TRY(set_transforms(st, 0, 0));
    CNV_TRY(cnv_exec_forward(st->ex, st->node));
    CNV_TRY(cnv_exec_read(st->ex, st->value, st->out));
    cnv_objective_values(st->seed, st->out, &st->ex->shapes[st->value], values);
    if (st->report_node < 0) return CNV_OK;
    CNV_TRY(cnv_exec_forward(st->ex, st->report_node));
    CNV_TRY(cnv_exec_read(st->ex, st->report_value, st->out));
    cnv_objective_values(st->seed, st->out, &st->ex->shapes[st->report_value], report);
    return CNV_OK;
}

static cnv_status init_param(render_state *st) {
    const cnv_recipe *r = &st->o->recipe;
    float *p = malloc(st->n_param * sizeof *p);
    if (!p) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    /* Without a sigmoid the parameter is the image: start from mid-grey, or from the given
     * images (through the sigmoid's inverse when there is one; kept off its flat ends). */
    float base = r->sigmoid || st->o->prior ? 0.0f : 0.5f; /* z = 0 is the prior's mean image */
    for (size_t i = 0; i < st->n_param; i++) {
        float x = base;
        if (st->o->init_images) {
            float v = st->o->init_images[i];
            v = v < 0.001f ? 0.001f : v > 0.999f ? 0.999f : v;
            x = r->sigmoid ? logf(v / (1.0f - v)) : v;
        }
        p[i] = x + r->init_sd * cnv_rng_normal(&st->rng);
    }
    cnv_status s = cnv_exec_set_input(st->ex, p);
    free(p);
    return s;
}

/* The step of slot `slot`, its transforms read from that slot's buffer (swapped into the
 * executor while recording). */
static cnv_status record_step(render_state *st, int slot) {
    const cnv_backend_vtable *vt = st->be->vt;
    int param = st->vg.param;
    if (st->vg.transform >= 0) st->ex->vals[st->vg.transform] = st->transform[slot];
    cnv_status s = vt->program_begin(st->be);
    if (s != CNV_OK) goto out;
    s = cnv_exec_forward(st->ex, st->node);
    if (s == CNV_OK) s = cnv_exec_backward(st->ex, st->value, st->seed, 0);
    if (s == CNV_OK) {
        cnv_optim_io io = {st->o->recipe.optimizer, st->ex->vals[param], st->ex->grads[param], st->m, st->v,
                           st->hyper[slot], st->n_param};
        s = vt->optim_step(st->be, &io);
    }
    cnv_program *prog = NULL;
    cnv_status e = vt->program_end(st->be, &prog);
    st->prog[slot] = prog;
    if (s == CNV_OK) s = e;
out:
    if (st->vg.transform >= 0) st->ex->vals[st->vg.transform] = st->transform[0];
    return s;
}

/* Sainburg's step between rounds: zoom the pixel parameter about its centre, then blur it. */
static cnv_status zoom_and_blur(render_state *st) {
    const cnv_recipe *r = &st->o->recipe;
    const cnv_backend_vtable *vt = st->be->vt;
    cnv_buf *param = st->ex->vals[st->vg.param];
    cnv_shape ps = st->ex->shapes[st->vg.param];
    for (int i = 0; i < st->o->batch; i++) cnv_affine_compose(r->zoom, 0, 0, 0, &st->affine[i * 6]);
    CNV_TRY(vt->buf_write(st->be, st->zoom_t, 0, st->affine, (size_t)st->o->batch * 6));
    cnv_node zoom = {.name = "cnnvis/zoom", .op = CNV_OP_RESAMPLE, .n_in = 2}, blur = {.name = "cnnvis/blur", .op = CNV_OP_BLUR, .n_in = 1};
    cnv_attrs_default(CNV_OP_RESAMPLE, &zoom.attrs);
    zoom.attrs.out_hw[0] = ps.d[2];
    zoom.attrs.out_hw[1] = ps.d[3];
    cnv_attrs_default(CNV_OP_BLUR, &blur.attrs);
    blur.attrs.sigma = r->blur_sigma;
    cnv_op_io io = {.node = &zoom, .n_in = 2, .in = {param, st->zoom_t}, .in_shape = {ps, {2, {st->o->batch, 6}}},
                    .out = st->scratch, .out_shape = ps};
    CNV_TRY(vt->forward(st->be, &io));
    cnv_op_io io2 = {.node = &blur, .n_in = 1, .in = {st->scratch}, .in_shape = {ps}, .out = param, .out_shape = ps};
    CNV_TRY(vt->forward(st->be, &io2));
    return vt->sync(st->be);
}

/* A NaN or infinite objective means the optimization diverged (a learning rate far too high, or
 * an overflow in the model): stop there instead of drawing a picture of saturated pixels. */
static cnv_status check_values(const render_state *st, const double *values, int step, const char *what) {
    for (int i = 0; i < st->o->batch; i++)
        if (!isfinite(values[i]))
            return cnv_fail(CNV_ERR_NUMERIC, "step %d: the %s of item %d is %s: the optimization diverged (try a lower "
                            "--lr than %g)", step, what, i, isnan(values[i]) ? "NaN" : "infinite", st->o->recipe.lr);
    return CNV_OK;
}

/* The parameter after a step: an infinite gradient leaves it infinite even where the sigmoid
 * turns it into finite pixels (checked at every logged step, and after the last). */
static cnv_status check_param(render_state *st, int step) {
    float *p = malloc(st->n_param * sizeof *p);
    if (!p) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status s = cnv_exec_read(st->ex, st->vg.param, p);
    for (size_t i = 0; s == CNV_OK && i < st->n_param; i++)
        if (!isfinite(p[i]))
            s = cnv_fail(CNV_ERR_NUMERIC, "step %d: the image's parameters hold %s (a non-finite gradient): the "
                         "optimization diverged (try a lower --lr than %g)", step, isnan(p[i]) ? "NaN" : "infinities",
                         st->o->recipe.lr);
    free(p);
    return s;
}

static cnv_status log_step(render_state *st, cnv_render_result *res, int step, int steps) {
    double *values = res->log + (size_t)res->n_log * (size_t)st->o->batch;
    CNV_TRY(cnv_exec_read(st->ex, st->value, st->out));
    cnv_objective_values(st->seed, st->out, &st->ex->shapes[st->value], values);
    CNV_TRY(check_values(st, values, step, "objective"));
    CNV_TRY(check_param(st, step));
    res->log_steps[res->n_log++] = step;
    if (st->o->progress) st->o->progress(st->o->user, step, steps, values, st->o->batch);
    return CNV_OK;
}

/* The largest |gradient| of the objective with respect to each item's model input (the batch is
 * its first axis): the parameters' own gradient also holds the penalties' (L2, TV), which move
 * the image even where the objective cannot. */
static cnv_status measure_grad(render_state *st, double *grad_max) {
    size_t n = cnv_shape_numel(&st->ex->shapes[st->vg.model_input]);
    float *g = malloc(n * sizeof *g);
    if (!g) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status s = cnv_exec_read_grad(st->ex, st->vg.model_input, g);
    size_t per_item = n / (size_t)st->o->batch;
    for (int i = 0; s == CNV_OK && i < st->o->batch; i++) {
        double m = 0;
        for (size_t k = 0; k < per_item; k++) m = fmax(m, fabs(g[(size_t)i * per_item + k]));
        grad_max[i] = m;
    }
    free(g);
    return s;
}

int cnv_render_stalled(const cnv_render_result *res, const cnv_recipe *r, int i) {
    return res->grad_max && res->grad_max[i] < r->eps;
}

static cnv_status read_images(render_state *st, float *dst) { return cnv_exec_read(st->ex, st->vg.image, dst); }

/* The learning rate of step 1..steps: constant, or annealed along a half cosine (late steps
 * refine instead of bouncing around the optimum the constant rate cannot settle into). */
static float step_lr(const cnv_recipe *r, int step, int steps) {
    if (!r->lr_cosine) return r->lr;
    return r->lr * 0.5f * (1.0f + cosf(3.14159265f * (float)(step - 1) / (float)steps));
}

static cnv_status run(render_state *st, cnv_render_result *res) {
    const cnv_render_opts *o = st->o;
    const cnv_recipe *r = &o->recipe;
    const cnv_backend_vtable *vt = st->be->vt;
    /* One render is one octave (render_octaves sets octaves to 0 for each). */
    int rounds = r->rounds > 0 ? r->rounds : 1, steps = cnv_recipe_total_steps(r);
    res->total_steps = steps;
    CNV_TRY(init_param(st));
    CNV_TRY(measure(st, res->start, res->report_start));
    CNV_TRY(read_images(st, res->start_images));
    CNV_TRY(vt->buf_fill(st->be, st->m, 0.0f, st->n_param));
    CNV_TRY(vt->buf_fill(st->be, st->v, 0.0f, st->n_param));
    for (int slot = 0; slot < STEP_SLOTS; slot++) CNV_TRY(record_step(st, slot));
    int random = has_transforms(r), step = 0;
    for (int round = 0; round < rounds; round++) {
        if (round > 0) CNV_TRY(zoom_and_blur(st));
        for (int k = 0; k < r->steps; k++) {
            step++;
            float h[CNV_HYPER_COUNT];
            cnv_optim_hyper(step_lr(r, step, steps), r->beta1, r->beta2, r->eps, step, h);
            /* The prior's penalty on z: ascent follows g - w z. */
            if (o->prior) h[CNV_HYPER_WD] = -r->prior_weight;
            const int slot = step % STEP_SLOTS;
            CNV_TRY(vt->buf_write(st->be, st->hyper[slot], 0, h, CNV_HYPER_COUNT));
            CNV_TRY(set_transforms(st, random, slot));
            CNV_TRY(vt->program_run(st->be, st->prog[slot]));
            if (step == 1) CNV_TRY(measure_grad(st, res->grad_max));
            if (o->log_every > 0 && (step % o->log_every == 0 || step == 1 || step == steps))
                CNV_TRY(log_step(st, res, step, steps));
            if (o->frame && o->frame_every > 0 && step % o->frame_every == 0) {
                CNV_TRY(read_images(st, res->images));
                o->frame(o->user, step, res->images, &res->shape);
            }
        }
    }
    CNV_TRY(check_param(st, step));
    CNV_TRY(measure(st, res->final, res->report_final));
    CNV_TRY(check_values(st, res->final, step, "final objective"));
    return read_images(st, res->images);
}

static cnv_status alloc_result(render_state *st, cnv_render_result *res) {
    const cnv_render_opts *o = st->o;
    size_t max_log = (size_t)cnv_recipe_total_steps(&o->recipe) + 2;
    res->shape = st->ex->shapes[st->vg.image];
    res->images = malloc(cnv_shape_numel(&res->shape) * sizeof *res->images);
    res->start_images = malloc(cnv_shape_numel(&res->shape) * sizeof *res->start_images);
    res->start = calloc((size_t)o->batch, sizeof *res->start);
    res->final = calloc((size_t)o->batch, sizeof *res->final);
    res->report_start = calloc((size_t)o->batch, sizeof *res->report_start);
    res->report_final = calloc((size_t)o->batch, sizeof *res->report_final);
    res->log_steps = calloc(max_log, sizeof *res->log_steps);
    res->log = calloc(max_log * (size_t)o->batch, sizeof *res->log);
    res->grad_max = calloc((size_t)o->batch, sizeof *res->grad_max);
    if (!res->images || !res->start_images || !res->start || !res->final || !res->report_start || !res->report_final ||
        !res->log_steps || !res->log || !res->grad_max)
        return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    return CNV_OK;
}

static cnv_status setup(render_state *st, const cnv_graph *model, const cnv_preset *preset) {
    const cnv_render_opts *o = st->o;
    const cnv_recipe *r = &o->recipe;
    cnv_vis_head head = {
        .batch = o->batch,
        .size = {o->size[0], o->size[1]},
        .fourier = r->fourier,
        .decay = r->decay,
        .decorrelate = r->decorrelate,
        .sigmoid = r->sigmoid,
        .pad = r->pad,
        .transforms = has_transforms(r),
        .tv = r->tv,
        .l1 = r->l1,
        .l2 = r->l2,
        .l_center = r->penalties_to_black ? 0.0f : 0.5f,
        .gradnorm = r->gradnorm,
        .gradclip = r->gradclip,
        .prior = o->prior,
    };
    if (!o->build_objective && (o->objective_node < 0 || o->objective_node >= model->n_nodes))
        return cnv_fail(CNV_ERR_ARG, "%s: no layer %d", model->source, o->objective_node);
    CNV_TRY(cnv_vis_graph_build(model, preset, &head, &st->vg));
    const cnv_objective *objectives = o->objectives;
    if (o->build_objective) {
        CNV_TRY(o->build_objective(o->objective_user, &st->vg, &st->node));
        /* Each item maximizes its own entry of the [N, 1] output. */
        st->objectives = calloc((size_t)o->batch, sizeof *st->objectives);
        if (!st->objectives) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
        for (int i = 0; i < o->batch; i++) st->objectives[i] = (cnv_objective){.kind = CNV_OBJ_UNIT};
        objectives = st->objectives;
    } else {
        st->node = st->vg.node_offset + o->objective_node;
    }
    CNV_TRY(cnv_exec_create(st->vg.g, st->be, o->batch, &st->ex));
    cnv_exec_drop_pre_activations(st->ex); /* the loop reads its objective, images and gradients */
    st->value = st->vg.g->nodes[st->node].out;
    const cnv_shape *os = &st->ex->shapes[st->value];
    CNV_TRY(cnv_objective_check(objectives, o->batch, os, st->vg.g->nodes[st->node].name));
    st->report_node = -1;
    if (o->has_report) {
        if (o->build_objective || o->report_node < 0 || o->report_node >= model->n_nodes)
            return cnv_fail(CNV_ERR_ARG, "%s: no layer %d to report on", model->source, o->report_node);
        st->report_node = st->vg.node_offset + o->report_node;
        st->report_value = st->vg.g->nodes[st->report_node].out;
        if (!cnv_shape_equal(&st->ex->shapes[st->report_value], os))
            return cnv_fail(CNV_ERR_ARG, "%s: the reported layer's shape differs from the objective's",
                            st->vg.g->nodes[st->report_node].name);
    }
    size_t n_out = cnv_shape_numel(os);
    st->seed = malloc(n_out * sizeof *st->seed);
    st->out = malloc(n_out * sizeof *st->out);
    st->affine = malloc((size_t)o->batch * 6 * sizeof *st->affine);
    if (!st->seed || !st->out || !st->affine) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_objective_seed(objectives, os, st->seed);
    st->n_param = cnv_shape_numel(&st->ex->shapes[st->vg.param]);
    const cnv_backend_vtable *vt = st->be->vt;
    CNV_TRY(vt->buf_alloc(st->be, st->n_param, &st->m));
    CNV_TRY(vt->buf_alloc(st->be, st->n_param, &st->v));
    for (int slot = 0; slot < STEP_SLOTS; slot++) {
        CNV_TRY(vt->buf_alloc(st->be, CNV_HYPER_COUNT, &st->hyper[slot]));
        if (st->vg.transform < 0) continue;
        if (slot == 0)
            st->transform[0] = st->ex->vals[st->vg.transform];
        else
            CNV_TRY(vt->buf_alloc(st->be, (size_t)o->batch * 6, &st->transform[slot]));
    }
    if (r->rounds > 0) {
        CNV_TRY(vt->buf_alloc(st->be, st->n_param, &st->scratch));
        CNV_TRY(vt->buf_alloc(st->be, (size_t)o->batch * 6, &st->zoom_t));
    }
    cnv_rng_seed(&st->rng, o->seed);
    return CNV_OK;
}

static void teardown(render_state *st) {
    const cnv_backend_vtable *vt = st->be->vt;
    for (int slot = 0; slot < STEP_SLOTS; slot++) {
        if (st->prog[slot]) vt->program_free(st->be, st->prog[slot]);
        vt->buf_free(st->be, st->hyper[slot]);
        if (slot > 0) vt->buf_free(st->be, st->transform[slot]); /* slot 0's is the executor's */
    }
    vt->buf_free(st->be, st->m);
    vt->buf_free(st->be, st->v);
    vt->buf_free(st->be, st->scratch);
    vt->buf_free(st->be, st->zoom_t);
    cnv_exec_free(st->ex);
    cnv_vis_graph_free(&st->vg);
    free(st->seed);
    free(st->objectives);
    free(st->out);
    free(st->affine);
}

/* One render at o->size (no octaves). */
static cnv_status render_once(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be,
                              const cnv_render_opts *o, cnv_render_result *res) {
    memset(res, 0, sizeof *res);
    render_state st = {.o = o, .be = be};
    cnv_status s = setup(&st, model, preset);
    if (s == CNV_OK) s = alloc_result(&st, res);
    if (s == CNV_OK) s = run(&st, res);
    teardown(&st);
    if (s != CNV_OK) cnv_render_result_free(res);
    return s;
}

/* Passes an octave's progress and frames on with the steps counted from the first octave and
 * the frames at the full size (a GIF needs one size). */
typedef struct octave_relay {
    const cnv_render_opts *o;
    int offset, total;
    float *frame; /* full-size scratch */
} octave_relay;

static void relay_progress(void *user, int step, int steps, const double *values, int n) {
    (void)steps;
    const octave_relay *r = user;
    r->o->progress(r->o->user, r->offset + step, r->total, values, n);
}

static void relay_frame(void *user, int step, const float *images, const cnv_shape *shape) {
    const octave_relay *r = user;
    cnv_shape full = cnv_shape4(shape->d[0], shape->d[1], r->o->size[0], r->o->size[1]);
    cnv_resample_planes(images, shape->d[0] * shape->d[1], shape->d[2], shape->d[3], r->frame, full.d[2], full.d[3], 1.0f);
    r->o->frame(r->o->user, r->offset + step, r->frame, &full);
}

/* Appends an octave's log to the whole run's, its steps moved by `offset`. */
static cnv_status append_log(cnv_render_result *all, const cnv_render_result *part, int batch, int offset) {
    int n = all->n_log + part->n_log;
    int *steps = realloc(all->log_steps, (size_t)(n ? n : 1) * sizeof *steps);
    if (steps) all->log_steps = steps;
    double *log = realloc(all->log, (size_t)(n ? n : 1) * (size_t)batch * sizeof *log);
    if (log) all->log = log;
    if (!steps || !log) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int k = 0; k < part->n_log; k++) all->log_steps[all->n_log + k] = offset + part->log_steps[k];
    memcpy(all->log + (size_t)all->n_log * batch, part->log, (size_t)part->n_log * batch * sizeof *log);
    all->n_log = n;
    return CNV_OK;
}

/* Moves the buffers of src that the whole run keeps into dst (the rest of src is freed later). */
#define TAKE(dst, src, field)                                                                                          \
    do {                                                                                                               \
        free((dst)->field);                                                                                            \
        (dst)->field = (src)->field;                                                                                   \
        (src)->field = NULL;                                                                                           \
    } while (0)

/* Coarse to fine: each octave renders at its size from the previous octave's images upscaled;
 * the result has the first octave's start and the last's images, the logs of all. */
static cnv_status render_octaves(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be,
                                 const cnv_render_opts *o, cnv_render_result *res) {
    memset(res, 0, sizeof *res);
    const cnv_recipe *r = &o->recipe;
    const int K = r->octaves, H = o->size[0], W = o->size[1], planes = o->batch * model->values[model->input].shape.d[1];
    size_t full = (size_t)planes * H * W;
    float *start = malloc(full * sizeof *start), *frame = malloc(full * sizeof *frame);
    octave_relay relay = {.o = o, .total = cnv_recipe_total_steps(r), .frame = frame};
    cnv_render_result prev = {0};
    int ph = 0, pw = 0;
    cnv_status s = start && frame ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int k = 0; k < K && s == CNV_OK; k++) {
        int hk, wk;
        cnv_recipe_octave_size(r, k, H, W, &hk, &wk);
        if (hk < 8 || wk < 8) {
            s = cnv_fail(CNV_ERR_ARG, "octave %d of %d would be %dx%d pixels: use fewer octaves or a smaller scale", k + 1,
                         K, hk, wk);
            break;
        }
        cnv_render_opts ro = *o;
        ro.recipe.octaves = 0;
        ro.size[0] = hk;
        ro.size[1] = wk;
        ro.seed = o->seed + (uint64_t)k;
        ro.progress = o->progress ? relay_progress : NULL;
        ro.frame = o->frame ? relay_frame : NULL;
        ro.user = &relay;
        if (k > 0) {
            ro.recipe.init_sd = 0; /* the noise belongs to the first start only */
            cnv_resample_planes(prev.images, planes, ph, pw, start, hk, wk, 1.0f);
            ro.init_images = start;
        } else if (o->init_images) {
            cnv_resample_planes(o->init_images, planes, H, W, start, hk, wk, 1.0f);
            ro.init_images = start;
        }
        cnv_render_result cur;
        s = render_once(model, preset, be, &ro, &cur);
        if (s == CNV_OK && k == 0) {
            TAKE(res, &cur, start);
            TAKE(res, &cur, report_start);
            TAKE(res, &cur, grad_max);
            res->start_images = malloc(full * sizeof *res->start_images);
            if (res->start_images) cnv_resample_planes(cur.start_images, planes, hk, wk, res->start_images, H, W, 1.0f);
            else s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
        }
        if (s == CNV_OK) s = append_log(res, &cur, o->batch, relay.offset);
        relay.offset += cur.total_steps;
        cnv_render_result_free(&prev);
        prev = cur;
        ph = hk;
        pw = wk;
    }
    if (s == CNV_OK) {
        TAKE(res, &prev, images);
        TAKE(res, &prev, final);
        TAKE(res, &prev, report_final);
        res->shape = prev.shape;
        res->total_steps = relay.offset;
    }
    cnv_render_result_free(&prev);
    free(start);
    free(frame);
    if (s != CNV_OK) cnv_render_result_free(res);
    return s;
}

cnv_status cnv_render(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be, const cnv_render_opts *o,
                      cnv_render_result *res) {
    memset(res, 0, sizeof *res);
    CNV_TRY(cnv_recipe_validate(&o->recipe));
    if (o->batch < 1) return cnv_fail(CNV_ERR_ARG, "batch must be at least 1");
    if (o->init_images && o->recipe.fourier)
        return cnv_fail(CNV_ERR_ARG, "starting from an image needs the pixel parameterization (--fourier off)");
    if (o->prior && (o->init_images || o->recipe.octaves > 1 || o->recipe.rounds > 0))
        return cnv_fail(CNV_ERR_ARG, "the image prior works at one size from its mean: no start image, octaves or rounds");
    if (o->prior && o->recipe.prior_weight < 0) return cnv_fail(CNV_ERR_ARG, "--prior-weight must be >= 0");
    return o->recipe.octaves > 1 ? render_octaves(model, preset, be, o, res) : render_once(model, preset, be, o, res);
}

void cnv_render_result_free(cnv_render_result *res) {
    free(res->images);
    free(res->start_images);
    free(res->start);
    free(res->final);
    free(res->report_start);
    free(res->report_final);
    free(res->log_steps);
    free(res->log);
    free(res->grad_max);
    memset(res, 0, sizeof *res);
}

cnv_status cnv_render_at_layer(cnv_graph *g, const cnv_preset *preset, cnv_backend *be, const cnv_render_opts *base,
                               int node, float relu_slope, const cnv_objective *objectives, int n,
                               cnv_render_result *res, int *target) {
    int twin = cnv_graph_leaky_twin(g, node, relu_slope);
    if (twin < 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory for the leaky twin of %s", g->nodes[node].name);
    if (target) *target = twin;
    cnv_render_opts o = *base;
    o.batch = n;
    o.objective_node = twin;
    o.objectives = objectives;
    o.has_report = twin != node;
    o.report_node = node;
    return cnv_render(g, preset, be, &o, res);
}
