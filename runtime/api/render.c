/* The public render calls (visualize.h): one image per call, with the recipe (render_setup.h)
 * and the leaky twin (cnv_render_at_layer) set up as the CLI's optimization verbs set them, so
 * the same seed gives the CLI's image. */
#include <stdlib.h>
#include <string.h>

#include "cnnvis/visualize.h"
#include "core/status.h"
#include "api/model.h"
#include "api/render_opts.h"
#include "vis/render_setup.h"

void cnv_render_params_default(cnv_render_params *p) {
    *p = (cnv_render_params){.recipe = "lucid", .seed = 1, .relu_slope = CNV_LEAKY_TWIN_SLOPE};
}

cnv_status cnv_render_shape(const cnv_graph *g, const cnv_render_params *p, int *c, int *h, int *w) {
    const cnv_shape *in = &g->values[g->input].shape;
    if (in->ndim != 4 || (in->d[1] != 1 && in->d[1] != 3))
        return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: the model's input is not an image (1 or 3 channels)", g->source);
    if (p->size && in->d[2] != in->d[3])
        return cnv_fail(CNV_ERR_ARG, "%s: a size needs a model with a square input", g->source);
    if (p->size && p->size < in->d[2])
        return cnv_fail(CNV_ERR_ARG, "size %d is smaller than the model's input %dx%d", p->size, in->d[2], in->d[3]);
    *c = in->d[1];
    *h = p->size ? p->size : in->d[2];
    *w = p->size ? p->size : in->d[3];
    return CNV_OK;
}

/* render.h's progress of a batch of one, as the public callback. */
static void forward_progress(void *user, int step, int steps, const double *values, int n) {
    const cnv_render_params *p = user;
    p->progress(p->user, step, steps, values[0]);
}

cnv_status cnv_api_render_opts(const cnv_render_params *p, const char *default_recipe, int h, int w,
                               cnv_render_opts *o) {
    if (p->steps < 0) return cnv_fail(CNV_ERR_ARG, "steps %d is negative", p->steps);
    *o = (cnv_render_opts){.batch = 1, .size = {h, w}, .seed = p->seed, .log_every = 1,
                           .progress = p->progress ? forward_progress : NULL, .user = (void *)p};
    CNV_TRY(cnv_recipe_resolve(p->recipe ? p->recipe : default_recipe, &o->recipe));
    if (p->steps) o->recipe.steps = p->steps;
    return cnv_recipe_validate(&o->recipe);
}

static cnv_status render_one(cnv_graph *g, cnv_backend *be, int layer, const cnv_objective *obj,
                             const cnv_render_params *p, float *image) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    if (p->relu_slope < 0.0f || p->relu_slope > 1.0f)
        return cnv_fail(CNV_ERR_ARG, "relu slope %g is not in 0..1", (double)p->relu_slope);
    int c, h, w;
    CNV_TRY(cnv_render_shape(g, p, &c, &h, &w));
    cnv_render_opts o;
    CNV_TRY(cnv_api_render_opts(p, "lucid", h, w, &o));
    CNV_TRY(cnv_objective_check(obj, 1, &g->values[g->nodes[layer].out].shape, g->nodes[layer].name));
    cnv_render_result res;
    CNV_TRY(cnv_render_at_layer(g, cnv_model_default_preset(g), be, &o, layer, p->relu_slope, obj, 1, &res, NULL));
    memcpy(image, res.images, (size_t)c * h * w * sizeof *image);
    cnv_render_result_free(&res);
    return CNV_OK;
}

cnv_status cnv_render_filter(cnv_graph *g, cnv_backend *be, int layer, int channel, const cnv_render_params *p,
                             float *image) {
    cnv_objective obj = {.kind = CNV_OBJ_CHANNEL, .channel = channel};
    return render_one(g, be, layer, &obj, p, image);
}

cnv_status cnv_render_class(cnv_graph *g, cnv_backend *be, int cls, const cnv_render_params *p, float *image) {
    int layer;
    CNV_TRY(cnv_model_logits_layer(g, &layer));
    cnv_objective obj = {.kind = CNV_OBJ_UNIT, .channel = cls};
    return render_one(g, be, layer, &obj, p, image);
}
