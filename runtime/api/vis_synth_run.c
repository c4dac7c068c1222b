/* The synthesis calls of a visualization run (vis_run.h) over vis/synth.h: inversion, DeepDream
 * with its infinite-zoom frames, and style transfer, each recorded as the CLI's verbs record them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnvis/picture.h"
#include "api/vis_run.h"
#include "core/graph.h"
#include "core/status.h"
#include "vis/synth.h"

static cnv_status check_item(const cnv_vis_run *run, int item) {
    if (item < 0 || item >= run->n_items)
        return cnv_fail(CNV_ERR_ARG, "no item %d: the run has %d", item, run->n_items);
    return CNV_OK;
}

static cnv_status check_layer(const cnv_graph *g, int layer) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    return CNV_OK;
}

static cnv_status check_picture(const cnv_graph *g, const float *image, int h, int w) {
    if (!image || h < 1 || w < 1) return cnv_fail(CNV_ERR_ARG, "%s: a picture of %d x %d", g->source, h, w);
    return CNV_OK;
}

/* ---- inversion ---- */

cnv_status cnv_vis_run_invert(cnv_vis_run *run, int item, int layer, const float *image, int h, int w, float *out,
                              double *error_start, double *error) {
    CNV_TRY(check_item(run, item));
    CNV_TRY(check_layer(run->g, layer));
    CNV_TRY(check_picture(run->g, image, h, w));
    float *target = NULL;
    cnv_shape ts;
    CNV_TRY(cnv_synth_features(run->g, run->preset, run->be, image, h, w, 1, &layer, NULL, &target, &ts));
    cnv_synth_term term = {.kind = CNV_SYNTH_MATCH, .node = layer, .weight = 1.0f, .target = target};
    cnv_synth_objective obj = {&term, 1};
    cnv_render_opts o;
    cnv_vis_run_opts(run, item, 1, run->items[item].caption, &o);
    o.size[0] = h;
    o.size[1] = w;
    cnv_render_result res;
    cnv_status s = cnv_synth_render(run->g, run->preset, run->be, &obj, &o, &res);
    free(target);
    if (s != CNV_OK) return s;
    memcpy(out, res.images, cnv_shape_numel(&res.shape) * sizeof *out);
    /* The objective is minus the squared relative error of the activations. */
    double start = sqrt(fmax(0.0, -res.start[0])), final = sqrt(fmax(0.0, -res.final[0]));
    if (error_start) *error_start = start;
    if (error) *error = final;
    s = cnv_vis_run_log(run, &res, 1,
                        json_pack("{s:s, s:o, s:o}", "layer", run->items[item].caption, "relative_error_start",
                                  cnv_vis_json_number(start), "relative_error", cnv_vis_json_number(final)));
    cnv_render_result_free(&res);
    return s;
}

/* ---- DeepDream ---- */

typedef struct dream_state {
    cnv_vis_run *run;
    int c, h, w;
    float *frame; /* a picture at the output size */
    int n_frames;
    cnv_status status;
} dream_state;

static void octave_done(void *user, int octave, int h, int w, const cnv_render_result *res) {
    dream_state *d = user;
    if (d->status == CNV_OK)
        d->status = cnv_vis_run_log(d->run, res, 1, json_pack("{s:i, s:[i, i]}", "octave", octave + 1, "size", h, w));
    if (!d->run->cb.frame) return;
    /* Octaves differ in size: each frame is a whole octave at the picture's size. */
    cnv_resample_planes(res->images, d->c, h, w, d->frame, d->h, d->w, 1.0f);
    cnv_vis_run_frame(d->run, d->n_frames++, d->frame, 1, d->c, d->h, d->w);
}

cnv_status cnv_vis_run_dream(cnv_vis_run *run, int item, const int *layers, int n_layers, int channel,
                             const float *image, int h, int w, int zoom_frames, int zoom_steps, float *out) {
    CNV_TRY(check_item(run, item));
    CNV_TRY(check_picture(run->g, image, h, w));
    if (n_layers < 1) return cnv_fail(CNV_ERR_ARG, "--layer: no layer given");
    for (int i = 0; i < n_layers; i++) CNV_TRY(check_layer(run->g, layers[i]));
    if (zoom_frames < 0 || (zoom_frames > 0 && zoom_steps < 1))
        return cnv_fail(CNV_ERR_ARG, "%d zoom frames of %d steps", zoom_frames, zoom_steps);
    if (zoom_frames > 0 && !(run->s->recipe.zoom > 0))
        return cnv_fail(CNV_ERR_ARG, "--zoom must be positive for --zoom-frames");
    int c = run->g->values[run->g->input].shape.d[1];
    size_t n = (size_t)c * h * w;
    cnv_synth_term *terms = calloc((size_t)n_layers, sizeof *terms);
    float *zoomed = malloc(n * sizeof *zoomed), *next = malloc(n * sizeof *next);
    dream_state d = {.run = run, .c = c, .h = h, .w = w, .frame = malloc(n * sizeof *d.frame)};
    cnv_status s = (terms && zoomed && next && d.frame) ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int i = 0; s == CNV_OK && i < n_layers; i++)
        terms[i] = (cnv_synth_term){.kind = channel >= 0 ? CNV_SYNTH_CHANNEL_MEAN : CNV_SYNTH_ENERGY,
                                    .node = layers[i], .weight = 1.0f, .channel = channel};
    cnv_synth_objective obj = {terms, n_layers};
    cnv_render_opts o;
    cnv_vis_run_opts(run, item, 1, "dream", &o);
    o.frame = NULL; /* octaves differ in size: frames are whole octaves (and zoom frames) */
    cnv_dream_opts dopts = {.octave_done = octave_done, .user = &d};
    if (s == CNV_OK) s = cnv_dream(run->g, run->preset, run->be, &obj, &o, &dopts, image, h, w, out);
    /* The infinite zoom: one octave at full size per frame, from the previous frame zoomed. */
    o.recipe.octaves = 1;
    o.recipe.steps = zoom_steps;
    const float *prev = out;
    for (int f = 0; f < zoom_frames && s == CNV_OK && d.status == CNV_OK; f++) {
        cnv_resample_planes(prev, c, h, w, zoomed, h, w, run->s->recipe.zoom);
        run->stage = "zoom";
        o.seed = run->s->seed + 1000u + (uint64_t)f;
        s = cnv_dream(run->g, run->preset, run->be, &obj, &o, &dopts, zoomed, h, w, next);
        prev = next;
    }
    if (s == CNV_OK) s = d.status;
    free(terms);
    free(zoomed);
    free(next);
    free(d.frame);
    return s;
}

/* ---- style transfer ---- */

/* The terms: the style layers' Gram matrices of the style image, then the content layer's
 * activations of the content image; targets[k] (malloc'ed) is term k's. */
static cnv_status style_terms(const cnv_vis_run *run, const cnv_vis_style *st, const float *content, int h, int w,
                              const float *style, int sh, int sw, cnv_synth_term *terms, float **targets) {
    int k = st->n_style_layers;
    int *gram = malloc((size_t)k * sizeof *gram);
    cnv_shape *shapes = malloc((size_t)k * sizeof *shapes);
    cnv_status s = (gram && shapes) ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int i = 0; s == CNV_OK && i < k; i++) {
        gram[i] = 1;
        terms[i] = (cnv_synth_term){.kind = CNV_SYNTH_GRAM_MATCH, .node = st->style_layers[i],
                                    .weight = st->style_weight / (float)k};
    }
    terms[k] = (cnv_synth_term){.kind = CNV_SYNTH_MATCH, .node = st->content_layer, .weight = st->content_weight};
    if (s == CNV_OK)
        s = cnv_synth_features(run->g, run->preset, run->be, style, sh, sw, k, st->style_layers, gram, targets, shapes);
    if (s == CNV_OK)
        s = cnv_synth_features(run->g, run->preset, run->be, content, h, w, 1, &st->content_layer, NULL, &targets[k],
                               shapes);
    for (int i = 0; i <= k; i++) terms[i].target = targets[i];
    free(gram);
    free(shapes);
    return s;
}

/* The style loss (mean over the style layers of the squared relative Gram error) and the content
 * loss (squared relative error at the content layer) of an image. */
static cnv_status losses(const cnv_vis_run *run, const cnv_synth_objective *obj, const float *image, int h, int w,
                         double *style, double *content) {
    double *v = malloc((size_t)obj->n_terms * sizeof *v);
    if (!v) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    cnv_status s = cnv_synth_term_values(run->g, run->preset, run->be, obj, image, h, w, v);
    if (s == CNV_OK) {
        *style = 0;
        for (int k = 0; k < obj->n_terms - 1; k++) *style += v[k] / (obj->n_terms - 1);
        *content = v[obj->n_terms - 1];
    }
    free(v);
    return s;
}

cnv_status cnv_vis_run_style(cnv_vis_run *run, int item, const cnv_vis_style *st, const float *content, int h, int w,
                             const float *style, int sh, int sw, float *out, double losses_out[4]) {
    CNV_TRY(check_item(run, item));
    CNV_TRY(check_picture(run->g, content, h, w));
    CNV_TRY(check_picture(run->g, style, sh, sw));
    if (st->n_style_layers < 1) return cnv_fail(CNV_ERR_ARG, "--style-layers: no layer given");
    for (int i = 0; i < st->n_style_layers; i++) CNV_TRY(check_layer(run->g, st->style_layers[i]));
    CNV_TRY(check_layer(run->g, st->content_layer));
    int n_terms = st->n_style_layers + 1;
    cnv_synth_term *terms = calloc((size_t)n_terms, sizeof *terms);
    float **targets = calloc((size_t)n_terms, sizeof *targets);
    cnv_status s = (terms && targets) ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
    if (s == CNV_OK) s = style_terms(run, st, content, h, w, style, sh, sw, terms, targets);
    cnv_synth_objective obj = {terms, n_terms};
    cnv_render_opts o;
    cnv_vis_run_opts(run, item, 1, NULL, &o);
    o.size[0] = h;
    o.size[1] = w;
    if (!st->from_noise) {
        o.init_images = content;
        o.recipe.init_sd = 0;
    }
    cnv_render_result res;
    int rendered = 0;
    if (s == CNV_OK) rendered = (s = cnv_synth_render(run->g, run->preset, run->be, &obj, &o, &res)) == CNV_OK;
    double l[4] = {0};
    if (s == CNV_OK) s = losses(run, &obj, res.start_images, h, w, &l[0], &l[2]);
    if (s == CNV_OK) s = losses(run, &obj, res.images, h, w, &l[1], &l[3]);
    if (s == CNV_OK) {
        memcpy(out, res.images, cnv_shape_numel(&res.shape) * sizeof *out);
        if (losses_out) memcpy(losses_out, l, sizeof l);
        s = cnv_vis_run_log(run, &res, 1,
                            json_pack("{s:o, s:o, s:o, s:o}", "style_loss_start", cnv_vis_json_number(l[0]),
                                      "style_loss", cnv_vis_json_number(l[1]), "content_loss_start",
                                      cnv_vis_json_number(l[2]), "content_loss", cnv_vis_json_number(l[3])));
    }
    if (rendered) cnv_render_result_free(&res);
    for (int k = 0; targets && k < n_terms; k++) free(targets[k]);
    free(targets);
    free(terms);
    return s;
}
