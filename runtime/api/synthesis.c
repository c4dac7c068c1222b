/* The public synthesis calls (synthesis.h) over vis/synth.h, with the picture loading the CLI's
 * dream and invert start from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnvis/synthesis.h"
#include "core/status.h"
#include "cnnvis/picture.h"
#include "io/normalize.h"
#include "api/model.h"
#include "api/render_opts.h"
#include "vis/synth.h"

static cnv_status load_picture(const cnv_graph *g, const char *path, cnv_image *pic) {
    return cnv_input_picture(path, cnv_model_default_preset(g), &g->values[g->input].shape, pic);
}

cnv_status cnv_model_picture_size(const cnv_graph *g, const char *path, int *height, int *width) {
    cnv_image pic = {0};
    CNV_TRY(load_picture(g, path, &pic));
    *height = pic.h;
    *width = pic.w;
    cnv_image_free(&pic);
    return CNV_OK;
}

cnv_status cnv_model_load_picture(const cnv_graph *g, const char *path, int height, int width, float *image) {
    cnv_image pic = {0}, sized = {0};
    CNV_TRY(load_picture(g, path, &pic));
    if (height <= 0 || width <= 0) {
        height = pic.h;
        width = pic.w;
    }
    cnv_status s = (height == pic.h && width == pic.w) ? CNV_OK : cnv_image_resize(&pic, width, height, &sized);
    const cnv_image *img = sized.px ? &sized : &pic;
    if (s == CNV_OK && img->c != g->values[g->input].shape.d[1])
        s = cnv_fail(CNV_ERR_INTERNAL, "%s: read with %d channels for a model of %d", path, img->c,
                     g->values[g->input].shape.d[1]);
    const size_t plane = (size_t)height * width;
    for (int k = 0; s == CNV_OK && k < img->c; k++)
        for (size_t i = 0; i < plane; i++) image[k * plane + i] = img->px[i * img->c + k] / 255.0f;
    cnv_image_free(&pic);
    cnv_image_free(&sized);
    return s;
}

static cnv_status check_picture(const cnv_graph *g, const float *image, int height, int width) {
    if (!image || height < 1 || width < 1)
        return cnv_fail(CNV_ERR_ARG, "%s: a picture of %d x %d", g->source, height, width);
    return CNV_OK;
}

static cnv_status check_layer(const cnv_graph *g, int layer) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    return CNV_OK;
}

cnv_status cnv_deepdream(cnv_graph *g, cnv_backend *be, const float *image, int height, int width, const int *layers,
                         int n_layers, int channel, const cnv_render_params *p, float *out) {
    CNV_TRY(check_picture(g, image, height, width));
    if (n_layers < 1) return cnv_fail(CNV_ERR_ARG, "%s: DeepDream needs a layer", g->source);
    for (int i = 0; i < n_layers; i++) CNV_TRY(check_layer(g, layers[i]));
    const cnv_render_params defaults = {.seed = 1};
    cnv_render_opts o;
    CNV_TRY(cnv_api_render_opts(p ? p : &defaults, "dream", height, width, &o));
    cnv_synth_term *terms = calloc((size_t)n_layers, sizeof *terms);
    if (!terms) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n_layers; i++)
        terms[i] = (cnv_synth_term){.kind = channel >= 0 ? CNV_SYNTH_CHANNEL_MEAN : CNV_SYNTH_ENERGY,
                                    .node = layers[i], .weight = 1.0f, .channel = channel};
    cnv_synth_objective obj = {terms, n_layers};
    cnv_dream_opts d = {0};
    cnv_status s = cnv_dream(g, cnv_model_default_preset(g), be, &obj, &o, &d, image, height, width, out);
    free(terms);
    return s;
}

cnv_status cnv_invert(cnv_graph *g, cnv_backend *be, const float *image, int height, int width, int layer,
                      const cnv_render_params *p, float *out, double *relative_error) {
    CNV_TRY(check_picture(g, image, height, width));
    CNV_TRY(check_layer(g, layer));
    const cnv_render_params defaults = {.seed = 1};
    cnv_render_opts o;
    CNV_TRY(cnv_api_render_opts(p ? p : &defaults, "invert", height, width, &o));
    float *target = NULL;
    cnv_shape ts;
    const cnv_preset *preset = cnv_model_default_preset(g);
    CNV_TRY(cnv_synth_features(g, preset, be, image, height, width, 1, &layer, NULL, &target, &ts));
    cnv_synth_term term = {.kind = CNV_SYNTH_MATCH, .node = layer, .weight = 1.0f, .target = target};
    cnv_synth_objective obj = {&term, 1};
    cnv_render_result res;
    cnv_status s = cnv_synth_render(g, preset, be, &obj, &o, &res);
    free(target);
    if (s != CNV_OK) return s;
    memcpy(out, res.images, cnv_shape_numel(&res.shape) * sizeof *out);
    /* The objective is minus the squared relative error of the activations. */
    if (relative_error) *relative_error = sqrt(fmax(0.0, -res.final[0]));
    cnv_render_result_free(&res);
    return CNV_OK;
}
