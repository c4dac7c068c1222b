/* The public visualization runs (vis_run.h): items rendered in batches on a layer's leaky twin,
 * progress and frames through the caller's callbacks, and the record of every render that the
 * CLI writes beside its picture (OUT.json). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "api/vis_run.h"
#include "core/graph.h"
#include "core/status.h"

cnv_status cnv_vis_run_create(cnv_graph *g, const cnv_preset *preset, cnv_backend *be, const cnv_vis_settings *s,
                              const cnv_vis_item *items, int n, const cnv_vis_callbacks *cb, cnv_vis_run **out) {
    *out = NULL;
    if (n < 0 || (n > 0 && !items)) return cnv_fail(CNV_ERR_ARG, "a run of %d items", n);
    if (s->prepared_for != g)
        return cnv_fail(CNV_ERR_ARG, "%s: the settings are not prepared for this model (cnv_vis_settings_prepare)",
                        g->source);
    cnv_vis_run *run = calloc(1, sizeof *run);
    if (run) run->items = malloc((size_t)(n ? n : 1) * sizeof *run->items);
    if (run) run->runs = json_array();
    if (!run || !run->items || !run->runs) {
        cnv_vis_run_free(run);
        return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    if (n) memcpy(run->items, items, (size_t)n * sizeof *items);
    for (int i = 0; i < n; i++) run->items[i].caption[sizeof run->items[i].caption - 1] = '\0';
    run->g = g;
    run->preset = preset ? preset : cnv_model_default_preset(g);
    run->be = be;
    run->s = s;
    run->n_items = n;
    run->objective_layer = -1;
    if (cb) run->cb = *cb;
    if (!run->cb.frame_every) run->cb.frame_every = 16;
    clock_gettime(CLOCK_MONOTONIC, &run->t0);
    *out = run;
    return CNV_OK;
}

void cnv_vis_run_free(cnv_vis_run *run) {
    if (!run) return;
    json_decref(run->runs);
    free(run->items);
    free(run);
}

void cnv_vis_run_image_size(const cnv_vis_run *run, int *c, int *h, int *w) {
    const cnv_shape *in = &run->g->values[run->g->input].shape;
    int size = run->s->size;
    *c = in->d[1];
    *h = size ? size : in->d[2];
    *w = size ? size : in->d[3];
}

/* ---- callbacks ---- */

static void progress(void *user, int step, int steps, const double *values, int n) {
    cnv_vis_run *run = user;
    if (!run->cb.progress) return;
    cnv_vis_progress p = {.stage = run->stage, .first = run->first_item, .count = n, .n_items = run->n_items,
                          .step = step, .steps = steps, .values = values};
    run->cb.progress(run->cb.user, &p);
}

void cnv_vis_run_frame(cnv_vis_run *run, int step, const float *images, int n, int c, int h, int w) {
    run->cb.frame(run->cb.user, run->first_item, step, images, n, c, h, w);
}

static void frame(void *user, int step, const float *images, const cnv_shape *s) {
    cnv_vis_run_frame(user, step, images, s->d[0], s->d[1], s->d[2], s->d[3]);
}

void cnv_vis_run_opts(cnv_vis_run *run, int first, int count, const char *stage, cnv_render_opts *o) {
    run->first_item = first;
    run->stage = stage;
    cnv_vis_settings_render_opts(run->s, run->g, count, o);
    o->progress = progress;
    o->frame = run->cb.frame ? frame : NULL;
    o->frame_every = run->cb.frame_every;
    o->user = run;
}

/* ---- the record ---- */

json_t *cnv_vis_json_number(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *json_numbers(const double *values, int n) {
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) json_array_append_new(a, cnv_vis_json_number(values[i]));
    return a;
}

/* The items of a render whose objective could not move, said through the warning callback (a
 * grey picture otherwise looks like a result), as the list of their indices. */
static json_t *stalled_items(const cnv_vis_run *run, const cnv_render_result *res, int count) {
    json_t *list = json_array();
    const cnv_recipe *r = &run->s->recipe;
    for (int i = 0; list && i < count; i++) {
        if (!cnv_render_stalled(res, r, i)) continue;
        int item = run->first_item + i;
        if (run->cb.warning) {
            char msg[512];
            snprintf(msg, sizeof msg, "warning: item %d (%s): the objective's gradient is %.2g at the start, below "
                     "the optimizer's eps %.2g: the objective cannot rise and the picture shows no feature, only the "
                     "start and the penalties (objective %.6g; dead or saturated units, e.g. random weights)", item,
                     item < run->n_items ? run->items[item].caption : "", res->grad_max[i], (double)r->eps,
                     res->final[i]);
            run->cb.warning(run->cb.user, msg);
        }
        json_array_append_new(list, json_integer(item));
    }
    return list;
}

cnv_status cnv_vis_run_log(cnv_vis_run *run, const cnv_render_result *res, int count, json_t *extra) {
    json_t *steps = json_array(), *values = json_array();
    for (int k = 0; k < res->n_log; k++) {
        json_array_append_new(steps, json_integer(res->log_steps[k]));
        json_array_append_new(values, json_numbers(res->log + (size_t)k * count, count));
    }
    json_t *entry = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o}", "first_item", run->first_item, "items", count,
                              "start", json_numbers(res->start, count), "final", json_numbers(res->final, count),
                              "logged_steps", steps, "objective", values);
    if (entry && run->stage) json_object_set_new(entry, "stage", json_string(run->stage));
    if (entry && res->grad_max) json_object_set_new(entry, "grad_max_abs", json_numbers(res->grad_max, count));
    if (entry && res->grad_max) json_object_set_new(entry, "no_gradient", stalled_items(run, res, count));
    if (entry && extra) json_object_update(entry, extra);
    json_decref(extra);
    if (!entry || json_array_append_new(run->runs, entry) != 0) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    return CNV_OK;
}

double cnv_vis_run_stop(cnv_vis_run *run) {
    if (!run->stopped) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        run->seconds = (double)(t1.tv_sec - run->t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - run->t0.tv_nsec);
        run->stopped = 1;
    }
    return run->seconds;
}

static const char *kind_name(cnv_vis_objective t) {
    return t == CNV_VIS_UNIT ? "unit" : t == CNV_VIS_CHANNEL ? "channel_mean" : "neuron";
}

cnv_status cnv_vis_run_record(cnv_vis_run *run, const char *verb, const char *model_path, const char *layer,
                              const char *extra_json, char **json) {
    *json = NULL;
    json_t *extra = NULL;
    if (extra_json) {
        json_error_t err;
        extra = json_loads(extra_json, 0, &err);
        if (!json_is_object(extra)) {
            json_decref(extra);
            return cnv_fail(CNV_ERR_ARG, "the record's extra members are not a JSON object: %s", err.text);
        }
    }
    const cnv_vis_settings *s = run->s;
    double seconds = cnv_vis_run_stop(run);
    char hash[65] = "";
    /* The digest the model's load took, when it took one of this file: no second read. */
    if (cnv_graph_file_sha256(run->g, model_path, hash) != CNV_OK) snprintf(hash, sizeof hash, "unknown");
    json_t *objs = json_array();
    for (int i = 0; objs && i < run->n_items; i++) {
        const cnv_vis_item *it = &run->items[i];
        json_t *j = json_pack("{s:s, s:i, s:s}", "kind", kind_name(it->type), "channel", it->index, "caption",
                              it->caption);
        if (j && it->type == CNV_VIS_NEURON) json_object_set_new(j, "position", json_pack("[i, i]", it->y, it->x));
        json_array_append_new(objs, j);
    }
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:o, s:f, s:s?, s:o, s:O, s:f}", "verb",
                             verb, "model", model_path, "model_sha256", hash, "preset", run->preset->name, "device",
                             cnv_backend_device(run->be), "backend", cnv_backend_name(run->be), "seed",
                             (json_int_t)s->seed, "size", s->size, "batch", s->batch, "recipe",
                             cnv_vis_recipe_json(&s->recipe), "relu_slope", (double)s->relu_slope, "layer", layer,
                             "objectives", objs, "runs", run->runs, "seconds", seconds);
    if (root && s->prior.k)
        json_object_set_new(root, "image_prior", json_pack("{s:s, s:i, s:i, s:f}", "data", s->prior_data, "images",
                                                           s->prior_images, "components", s->prior.k, "weight",
                                                           s->recipe.prior_weight));
    if (root && extra) json_object_update(root, extra);
    json_decref(extra);
    if (root && run->objective_layer >= 0)
        json_object_set_new(root, "objective_layer", json_string(run->g->nodes[run->objective_layer].name));
    *json = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(8)) : NULL;
    json_decref(root);
    return *json ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory building the record");
}

/* ---- renders at a layer ---- */

static cnv_objective objective_of(const cnv_vis_item *it) {
    cnv_objective_kind k = it->type == CNV_VIS_UNIT      ? CNV_OBJ_UNIT
                           : it->type == CNV_VIS_CHANNEL ? CNV_OBJ_CHANNEL
                                                               : CNV_OBJ_NEURON;
    return (cnv_objective){.kind = k, .channel = it->index, .y = it->y, .x = it->x};
}

static cnv_status check_layer(const cnv_graph *g, int layer) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    return CNV_OK;
}

cnv_status cnv_vis_check_items(const cnv_graph *g, int layer, const cnv_vis_item *items, int n) {
    CNV_TRY(check_layer(g, layer));
    const cnv_node *node = &g->nodes[layer];
    for (int i = 0; i < n; i++) {
        if (items[i].type < CNV_VIS_UNIT || items[i].type > CNV_VIS_NEURON)
            return cnv_fail(CNV_ERR_ARG, "item %d: no objective type %d", i, (int)items[i].type);
        cnv_objective o = objective_of(&items[i]);
        CNV_TRY(cnv_objective_check(&o, 1, &g->values[node->out].shape, node->name));
    }
    return CNV_OK;
}

cnv_status cnv_vis_unit_field(const cnv_graph *g, const cnv_vis_settings *s, int layer, int y, int x, int box[4]) {
    CNV_TRY(check_layer(g, layer));
    int field[4];
    CNV_TRY(cnv_graph_unit_field(g, layer, y, x, field));
    /* The field is in model-input pixels; the picture may be larger. */
    const cnv_shape *in = &g->values[g->input].shape;
    double fy = s->size ? (double)s->size / in->d[2] : 1.0, fx = s->size ? (double)s->size / in->d[3] : 1.0;
    box[0] = (int)(field[0] * fy);
    box[1] = (int)(field[1] * fx);
    box[2] = (int)((field[2] + 1) * fy) - 1;
    box[3] = (int)((field[3] + 1) * fx) - 1;
    return CNV_OK;
}

cnv_status cnv_vis_run_render(cnv_vis_run *run, int layer, float *images) {
    CNV_TRY(cnv_vis_check_items(run->g, layer, run->items, run->n_items));
    int c, h, w;
    cnv_vis_run_image_size(run, &c, &h, &w);
    size_t item = (size_t)c * h * w;
    int n = run->n_items, batch = run->s->batch;
    cnv_objective *objs = malloc((size_t)(n ? n : 1) * sizeof *objs);
    if (!objs) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) objs[i] = objective_of(&run->items[i]);
    /* The objectives act on the layer's leaky twin; the layer itself is measured too. */
    int target = layer;
    cnv_status st = CNV_OK;
    for (int first = 0; first < n && st == CNV_OK; first += batch) {
        int count = n - first < batch ? n - first : batch;
        cnv_render_opts o;
        cnv_vis_run_opts(run, first, count, NULL, &o);
        cnv_render_result res;
        st = cnv_render_at_layer(run->g, run->preset, run->be, &o, layer, run->s->relu_slope, objs + first, count,
                                 &res, &target);
        if (st != CNV_OK) break;
        memcpy(images + (size_t)first * item, res.images, (size_t)count * item * sizeof *images);
        json_t *measured = target != layer ? json_pack("{s:o, s:o}", "layer_start", json_numbers(res.report_start, count),
                                                       "layer_final", json_numbers(res.report_final, count))
                                           : NULL;
        st = cnv_vis_run_log(run, &res, count, measured);
        cnv_render_result_free(&res);
    }
    free(objs);
    if (st == CNV_OK) run->objective_layer = target;
    return st;
}
