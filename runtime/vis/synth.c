#include "synth.h"

#include "core/check.h"
#include "core/exec.h"
#include "core/name_list.h"
#include "core/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pixels without a sigmoid: the parameter is the image, so a start image is used as it is and the
 * priors act on pixels directly. */
static const cnv_recipe synth_recipes[] = {
    {
        .name = "invert",
        .source = "Mahendran & Vedaldi, Understanding Deep Image Representations by Inverting Them, CVPR 2015: "
                  "from noise, Adam on pixels, total variation with beta 2 and an L2 prior; steps, rate (cosine "
                  "decay) and weights tuned for SqueezeNet 1.1's fire9 (docs/BENCHMARKS.md, Synthesis)",
        .init_sd = 0.01f,
        .optimizer = CNV_OPTIM_ADAM,
        .lr = 0.03f,
        .lr_cosine = 1,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .steps = 1600,
        .scale_min = 1.0f,
        .scale_max = 1.0f,
        .tv = 1e-5f,
        .l2 = 1e-6f,
        .octave_scale = 1.4f,
    },
    {
        .name = "dream",
        .source = "Mordvintsev, Olah, Tyka, Inceptionism (Google Research blog, 2015) and the deepdream "
                  "notebook: 4 octaves x 1.4, 10 gradient-ascent steps per octave divided by mean |g|, jitter 32; "
                  "zoom frames 1.05 (as the notebook's zoom loop)",
        .optimizer = CNV_OPTIM_SGD,
        .lr = 0.006f, /* the notebook's step of 1.5 on 0..255 pixels */
        .steps = 10,
        .jitter = 32,
        .zoom = 1.05f,
        .scale_min = 1.0f,
        .scale_max = 1.0f,
        .gradnorm = 1,
        .octaves = 4,
        .octave_scale = 1.4f,
    },
    {
        .name = "style",
        .source = "Gatys, Ecker, Bethge, Image Style Transfer Using Convolutional Neural Networks, CVPR 2016: "
                  "Gram matrices of several layers and one content layer, Adam on pixels from the content image",
        .init_sd = 0.1f,
        .optimizer = CNV_OPTIM_ADAM,
        .lr = 0.02f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .steps = 200,
        .scale_min = 1.0f,
        .scale_max = 1.0f,
        .tv = 1e-5f,
        .octave_scale = 1.4f,
    },
};

const cnv_recipe *cnv_synth_recipe(const char *verb) {
    for (size_t i = 0; i < sizeof synth_recipes / sizeof synth_recipes[0]; i++)
        if (strcmp(synth_recipes[i].name, verb) == 0) return &synth_recipes[i];
    return NULL;
}

void cnv_synth_recipe_list(char *buf, size_t size) {
    for (size_t i = 0; i < sizeof synth_recipes / sizeof synth_recipes[0]; i++)
        cnv_name_list_append(buf, size, synth_recipes[i].name);
}

/* ---- the model at the image's size ---- */

cnv_status cnv_synth_cut_model(const cnv_graph *model, int last, int h, int w, cnv_graph **out) {
    *out = NULL;
    if (last < 0 || last >= model->n_nodes) return cnv_fail(CNV_ERR_ARG, "%s: no layer %d", model->source, last);
    const cnv_shape *ms = &model->values[model->input].shape;
    if (ms->ndim != 4) return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: synthesis needs an NCHW image input", model->source);
    cnv_graph *g = cnv_graph_new(model->source);
    int *map = malloc((size_t)model->n_values * sizeof *map);
    cnv_shape *shapes = NULL;
    cnv_status s = (g && map) ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int i = 0; map && i < model->n_values; i++) map[i] = -1;
    if (s == CNV_OK) {
        g->opset = model->opset;
        cnv_shape in = cnv_shape4(1, ms->d[1], h, w);
        g->input = map[model->input] = cnv_graph_add_value(g, model->values[model->input].name, &in, NULL);
        if (g->input < 0) s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    for (int n = 0; n <= last && s == CNV_OK; n++) {
        const cnv_node *mn = &model->nodes[n];
        int in[CNV_MAX_INPUTS];
        for (int j = 0; j < mn->n_in && s == CNV_OK; j++) {
            const cnv_value *mv = &model->values[mn->in[j]];
            if (map[mn->in[j]] < 0) map[mn->in[j]] = cnv_graph_add_borrowed_value(g, mv);
            in[j] = map[mn->in[j]];
            if (in[j] < 0) s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
        }
        const cnv_value *ov = &model->values[mn->out];
        if (s == CNV_OK) map[mn->out] = cnv_graph_add_value(g, ov->name, &ov->shape, NULL);
        if (s == CNV_OK && (map[mn->out] < 0 || cnv_graph_add_node(g, mn->name, mn->op, &mn->attrs, mn->n_in, in,
                                                                   map[mn->out]) < 0))
            s = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    if (s == CNV_OK) {
        g->output = map[model->nodes[last].out];
        shapes = malloc((size_t)g->n_values * sizeof *shapes);
        s = shapes ? cnv_graph_infer_shapes(g, &g->values[g->input].shape, shapes)
                   : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    /* Keep the shapes at this size (at batch 1), as a loaded model has them. */
    for (int v = 0; s == CNV_OK && v < g->n_values; v++) g->values[v].shape = shapes[v];
    free(shapes);
    free(map);
    if (s != CNV_OK) {
        cnv_graph_free(g);
        return s;
    }
    *out = g;
    return CNV_OK;
}

/* ---- objective nodes ---- */

/* Appends a node with a fresh output value. Returns the value or -1. */
static int add_node(cnv_graph *g, const char *name, cnv_op_type op, const cnv_attrs *a, int n_in, const int *in,
                    const cnv_shape *shape) {
    int v = cnv_graph_add_value(g, name, shape, NULL);
    if (v < 0 || cnv_graph_add_node(g, name, op, a, n_in, in, v) < 0) return -1;
    return v;
}

/* A constant holding `item` (one batch item's numel floats, or zeros when NULL) for each item. */
static int add_target(cnv_graph *g, const char *name, const cnv_shape *shape, const float *item) {
    size_t n = cnv_shape_numel(shape), per = n / (size_t)shape->d[0];
    float *data = calloc(n, sizeof *data);
    if (!data) return -1;
    for (int i = 0; item && i < shape->d[0]; i++) memcpy(data + (size_t)i * per, item, per * sizeof *data);
    int v = cnv_graph_add_value(g, name, shape, data);
    free(data);
    return v;
}

static int add_gram(cnv_graph *g, const char *name, int x, const cnv_shape *xs) {
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_GRAM, &a);
    cnv_shape gs = cnv_shape4(xs->d[0], 1, xs->d[1], xs->d[1]);
    return add_node(g, name, CNV_OP_GRAM, &a, 1, &x, &gs);
}

#define NOMEM() cnv_fail(CNV_ERR_NOMEM, "out of memory")

/* Mean of one channel (times the weight) as [N, 1]: a 1x1 convolution picks the channel, then
 * the mean over positions. */
static cnv_status add_channel_mean(cnv_graph *g, int k, const cnv_synth_term *t, int x, const cnv_shape *xs, int *out) {
    char name[64];
    if (xs->ndim != 4 || t->channel < 0 || t->channel >= xs->d[1])
        return cnv_fail(CNV_ERR_ARG, "term %d: no channel %d in a layer of %d channels", k, t->channel,
                        xs->ndim == 4 ? xs->d[1] : 0);
    cnv_shape ws = cnv_shape4(1, xs->d[1], 1, 1), ps = cnv_shape4(xs->d[0], 1, xs->d[2], xs->d[3]),
              gs = cnv_shape4(xs->d[0], 1, 1, 1), one = {2, {xs->d[0], 1}};
    float *wdata = calloc((size_t)xs->d[1], sizeof *wdata);
    if (!wdata) return NOMEM();
    wdata[t->channel] = t->weight;
    snprintf(name, sizeof name, "synth/pick%d.weight", k);
    int wv = cnv_graph_add_value(g, name, &ws, wdata);
    free(wdata);
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_CONV, &a);
    a.kernel[0] = a.kernel[1] = 1;
    snprintf(name, sizeof name, "synth/pick%d", k);
    int v = wv >= 0 ? add_node(g, name, CNV_OP_CONV, &a, 2, (int[]){x, wv}, &ps) : -1;
    cnv_attrs_default(CNV_OP_GLOBALAVGPOOL, &a);
    snprintf(name, sizeof name, "synth/mean%d", k);
    if (v >= 0) v = add_node(g, name, CNV_OP_GLOBALAVGPOOL, &a, 1, &v, &gs);
    cnv_attrs_default(CNV_OP_FLATTEN, &a);
    a.axis = 1;
    snprintf(name, sizeof name, "synth/term%d", k);
    if (v >= 0) v = add_node(g, name, CNV_OP_FLATTEN, &a, 1, &v, &one);
    *out = v;
    return v >= 0 ? CNV_OK : NOMEM();
}

/* The term's value [N, 1] after F = value x of shape xs, into *out. */
static cnv_status add_term(cnv_graph *g, int k, const cnv_synth_term *t, int x, const cnv_shape *xs, int *out) {
    if (t->kind == CNV_SYNTH_CHANNEL_MEAN) return add_channel_mean(g, k, t, x, xs, out);
    char name[64];
    cnv_shape fs = *xs, one = {2, {xs->d[0], 1}};
    size_t per = cnv_shape_numel(xs) / (size_t)xs->d[0];
    if (t->kind == CNV_SYNTH_GRAM_MATCH) {
        if (xs->ndim != 4) return cnv_fail(CNV_ERR_ARG, "term %d: a Gram matrix needs an NCHW layer", k);
        snprintf(name, sizeof name, "synth/gram%d", k);
        if ((x = add_gram(g, name, x, xs)) < 0) return NOMEM();
        fs = cnv_shape4(xs->d[0], 1, xs->d[1], xs->d[1]);
        per = (size_t)xs->d[1] * (size_t)xs->d[1];
    }
    cnv_attrs a;
    cnv_attrs_default(CNV_OP_SQDIST, &a);
    if (t->kind == CNV_SYNTH_ENERGY) {
        a.alpha = t->weight; /* weight/2 * ||F - 0||^2 */
    } else {
        if (!t->target) return cnv_fail(CNV_ERR_ARG, "term %d: no target", k);
        double norm = 0;
        for (size_t i = 0; i < per; i++) norm += (double)t->target[i] * t->target[i];
        if (!(norm > 0)) return cnv_fail(CNV_ERR_ARG, "term %d: the target is all zeros (nothing to match)", k);
        a.alpha = (float)(-2.0 * t->weight / norm); /* -weight * ||F - T||^2 / ||T||^2 */
    }
    snprintf(name, sizeof name, "synth/target%d", k);
    int tv = add_target(g, name, &fs, t->kind == CNV_SYNTH_ENERGY ? NULL : t->target);
    snprintf(name, sizeof name, "synth/term%d", k);
    *out = tv >= 0 ? add_node(g, name, CNV_OP_SQDIST, &a, 2, (int[]){x, tv}, &one) : -1;
    return *out >= 0 ? CNV_OK : NOMEM();
}

static cnv_status value_shapes(cnv_graph *g, cnv_shape **shapes) {
    *shapes = malloc((size_t)g->n_values * sizeof **shapes);
    if (!*shapes) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status s = cnv_graph_infer_shapes(g, &g->values[g->input].shape, *shapes);
    if (s != CNV_OK) {
        free(*shapes);
        *shapes = NULL;
    }
    return s;
}

cnv_status cnv_synth_build(void *user, cnv_vis_graph *vg, int *node) {
    const cnv_synth_objective *obj = user;
    cnv_graph *g = vg->g;
    if (obj->n_terms < 1) return cnv_fail(CNV_ERR_ARG, "the synthesis objective has no terms");
    cnv_shape *shapes;
    CNV_TRY(value_shapes(g, &shapes));
    int sum = -1;
    cnv_status s = CNV_OK;
    for (int k = 0; k < obj->n_terms && s == CNV_OK; k++) {
        const cnv_synth_term *t = &obj->terms[k];
        int mnode = vg->node_offset + t->node;
        if (t->node < 0 || mnode >= g->n_nodes) {
            s = cnv_fail(CNV_ERR_ARG, "term %d: no layer %d", k, t->node);
            break;
        }
        int x = g->nodes[mnode].out;
        int v = -1;
        if ((s = add_term(g, k, t, x, &shapes[x], &v)) != CNV_OK) break;
        if (sum >= 0) {
            char name[64];
            cnv_attrs a;
            cnv_attrs_default(CNV_OP_ADD, &a);
            snprintf(name, sizeof name, "synth/sum%d", k);
            cnv_shape one = {2, {shapes[x].d[0], 1}};
            v = add_node(g, name, CNV_OP_ADD, &a, 2, (int[]){sum, v}, &one);
            if (v < 0) s = NOMEM();
        }
        sum = v;
    }
    free(shapes);
    if (s == CNV_OK) *node = g->n_nodes - 1;
    return s;
}

static int last_node(const int *nodes, int n) {
    int last = -1;
    for (int i = 0; i < n; i++)
        if (nodes[i] > last) last = nodes[i];
    return last;
}

cnv_status cnv_synth_features(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be, const float *image,
                              int h, int w, int n, const int *nodes, const int *gram, float **out, cnv_shape *shapes) {
    for (int i = 0; i < n; i++) out[i] = NULL;
    cnv_graph *cut;
    CNV_TRY(cnv_synth_cut_model(model, last_node(nodes, n), h, w, &cut));
    /* The bare head: the parameter is the image, preprocessed as in every render. */
    cnv_vis_head head = {.batch = 1, .size = {h, w}};
    cnv_vis_graph vg;
    cnv_exec *ex = NULL;
    int *vals = malloc((size_t)n * sizeof *vals);
    cnv_status s = vals ? cnv_vis_graph_build(cut, preset, &head, &vg) : NOMEM();
    cnv_graph_free(cut);
    if (s != CNV_OK) {
        free(vals);
        return s;
    }
    for (int i = 0; i < n && s == CNV_OK; i++) {
        vals[i] = vg.g->nodes[vg.node_offset + nodes[i]].out;
        if (gram && gram[i]) {
            char name[64];
            snprintf(name, sizeof name, "synth/gram%d", i);
            if (vg.g->values[vals[i]].shape.ndim != 4)
                s = cnv_fail(CNV_ERR_ARG, "%s: a Gram matrix needs an NCHW layer", vg.g->nodes[vg.node_offset + nodes[i]].name);
            else if ((vals[i] = add_gram(vg.g, name, vals[i], &vg.g->values[vals[i]].shape)) < 0)
                s = NOMEM();
        }
    }
    if (s == CNV_OK) s = cnv_exec_create(vg.g, be, 1, &ex);
    if (s == CNV_OK) s = cnv_exec_set_input(ex, image);
    for (int i = 0; i < n && s == CNV_OK; i++) {
        /* The executor runs only a node's ancestors: one forward per output (targets are cheap). */
        s = cnv_exec_forward(ex, vg.g->values[vals[i]].producer);
        if (s != CNV_OK) break;
        shapes[i] = ex->shapes[vals[i]];
        out[i] = malloc(cnv_shape_numel(&shapes[i]) * sizeof *out[i]);
        s = out[i] ? cnv_exec_read(ex, vals[i], out[i]) : NOMEM();
    }
    if (s != CNV_OK)
        for (int i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    cnv_exec_free(ex);
    cnv_vis_graph_free(&vg);
    free(vals);
    return s;
}

cnv_status cnv_synth_render(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be,
                            const cnv_synth_objective *obj, const cnv_render_opts *o, cnv_render_result *res) {
    memset(res, 0, sizeof *res);
    int last = -1;
    for (int k = 0; k < obj->n_terms; k++)
        if (obj->terms[k].node > last) last = obj->terms[k].node;
    cnv_graph *cut;
    CNV_TRY(cnv_synth_cut_model(model, last, o->size[0], o->size[1], &cut));
    cnv_render_opts ro = *o;
    ro.build_objective = cnv_synth_build;
    ro.objective_user = (void *)obj;
    cnv_status s = cnv_render(cut, preset, be, &ro, res);
    cnv_graph_free(cut);
    return s;
}

cnv_status cnv_dream(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be, const cnv_synth_objective *obj,
                     const cnv_render_opts *o, const cnv_dream_opts *d, const float *image, int h, int w, float *out) {
    CNV_TRY(cnv_recipe_validate(&o->recipe));
    const int octaves = o->recipe.octaves > 1 ? o->recipe.octaves : 1;
    const int c = model->values[model->input].shape.d[1];
    size_t full = (size_t)c * h * w;
    /* Every octave is at most the full size: one buffer each for the base, the start and the detail. */
    float *base = malloc(full * sizeof *base), *start = malloc(full * sizeof *start),
          *detail = malloc(full * sizeof *detail);
    cnv_status s = (base && start && detail) ? CNV_OK : NOMEM();
    int ph = 0, pw = 0; /* the previous octave's size (0: none yet) */
    for (int k = 0; k < octaves && s == CNV_OK; k++) {
        int hk, wk;
        cnv_recipe_octave_size(&o->recipe, k, h, w, &hk, &wk);
        if (hk < 1 || wk < 1) {
            s = cnv_fail(CNV_ERR_ARG, "dream: octave %d would be %dx%d pixels", k + 1, hk, wk);
            break;
        }
        size_t nk = (size_t)c * hk * wk;
        cnv_resample_planes(image, c, h, w, base, hk, wk, 1.0f);
        if (ph) cnv_resample_planes(detail, c, ph, pw, start, hk, wk, 1.0f);
        for (size_t i = 0; i < nk; i++) start[i] = base[i] + (ph ? start[i] : 0.0f);
        cnv_render_opts ro = *o;
        ro.recipe.octaves = 0; /* this loop is the octaves: each render is one */
        ro.batch = 1;
        ro.size[0] = hk;
        ro.size[1] = wk;
        ro.init_images = start;
        ro.seed = o->seed + (uint64_t)k;
        cnv_render_result res;
        s = cnv_synth_render(model, preset, be, obj, &ro, &res);
        if (s != CNV_OK) break;
        if (d->octave_done) d->octave_done(d->user, k, hk, wk, &res);
        for (size_t i = 0; i < nk; i++) detail[i] = res.images[i] - base[i];
        if (k == octaves - 1) memcpy(out, res.images, nk * sizeof *out);
        cnv_render_result_free(&res);
        ph = hk;
        pw = wk;
    }
    free(base);
    free(start);
    free(detail);
    return s;
}

cnv_status cnv_synth_term_values(const cnv_graph *model, const cnv_preset *preset, cnv_backend *be,
                                 const cnv_synth_objective *obj, const float *image, int h, int w, double *values) {
    int n = obj->n_terms;
    if (n < 1) return cnv_fail(CNV_ERR_ARG, "the synthesis objective has no terms");
    int *nodes = malloc((size_t)n * sizeof *nodes), *gram = malloc((size_t)n * sizeof *gram);
    float **out = calloc((size_t)n, sizeof *out);
    cnv_shape *shapes = malloc((size_t)n * sizeof *shapes);
    cnv_status s = (nodes && gram && out && shapes) ? CNV_OK : NOMEM();
    for (int k = 0; k < n && s == CNV_OK; k++) {
        nodes[k] = obj->terms[k].node;
        gram[k] = obj->terms[k].kind == CNV_SYNTH_GRAM_MATCH;
    }
    if (s == CNV_OK) s = cnv_synth_features(model, preset, be, image, h, w, n, nodes, gram, out, shapes);
    for (int k = 0; k < n && s == CNV_OK; k++) {
        const cnv_synth_term *t = &obj->terms[k];
        const cnv_shape *fs = &shapes[k];
        size_t numel = cnv_shape_numel(fs);
        double v = 0;
        if (t->kind == CNV_SYNTH_ENERGY) {
            for (size_t i = 0; i < numel; i++) v += 0.5 * (double)out[k][i] * out[k][i];
        } else if (t->kind == CNV_SYNTH_CHANNEL_MEAN) {
            if (fs->ndim != 4 || t->channel < 0 || t->channel >= fs->d[1]) {
                s = cnv_fail(CNV_ERR_ARG, "term %d: no channel %d", k, t->channel);
                break;
            }
            size_t plane = (size_t)fs->d[2] * fs->d[3];
            for (size_t i = 0; i < plane; i++) v += out[k][t->channel * plane + i];
            v /= (double)plane;
        } else {
            double e = cnv_rel_error(out[k], t->target, numel);
            v = e * e;
        }
        values[k] = v;
    }
    for (int k = 0; out && k < n; k++) free(out[k]);
    free(out);
    free(shapes);
    free(nodes);
    free(gram);
    return s;
}
