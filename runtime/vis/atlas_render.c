/* A render item of an atlas: one batch of a layer's channels, each maximized by the recipe, each
 * picture written as DIR/layers/L<i>/c<channel>.png or .jpg (vis/atlas_files.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "cnnvis/picture.h"
#include "vis/atlas_files.h"

static json_t *numbers(const double *v, int n) {
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) json_array_append_new(a, isfinite(v[i]) ? json_real(v[i]) : json_null());
    return a;
}

/* Image i of a render [N, C, H, W] in 0..1 as 8-bit pixels. */
static cnv_status to_pixels(const cnv_render_result *r, int i, cnv_image *img) {
    int c = r->shape.d[1], h = r->shape.d[2], w = r->shape.d[3];
    return cnv_image_from_planes(r->images + (size_t)i * c * h * w, c, h, w, img);
}

cnv_status cnv_atlas_render_item(const cnv_atlas *a, cnv_atlas_work *e, const cnv_atlas_item *it, json_t *record) {
    const cnv_atlas_layer *l = &a->layers[it->layer];
    cnv_objective *objs = calloc((size_t)it->count, sizeof *objs);
    if (!objs) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    for (int i = 0; i < it->count; i++) objs[i] = (cnv_objective){.kind = CNV_OBJ_CHANNEL, .channel = it->first + i};
    /* As `filter` renders a batch: on the layer's leaky twin, the layer itself measured too. */
    cnv_render_opts o = e->render;
    o.seed = it->seed;
    cnv_render_result res;
    int target;
    cnv_status s = cnv_render_at_layer(e->g, e->preset, e->be, &o, l->node, e->relu_slope, objs, it->count, &res,
                                       &target);
    free(objs);
    if (s != CNV_OK) return s;
    for (int i = 0; s == CNV_OK && i < it->count; i++) {
        char path[4096];
        cnv_image img;
        s = to_pixels(&res, i, &img);
        cnv_atlas_channel_path(a, it->layer, it->first + i, path, sizeof path);
        if (s == CNV_OK) s = cnv_atlas_save_picture(a, path, &img);
        cnv_image_free(&img);
    }
    json_object_set_new(record, "kind", json_string("render"));
    json_object_set_new(record, "layer", json_string(l->name));
    json_object_set_new(record, "objective_layer", json_string(e->g->nodes[target].name));
    json_object_set_new(record, "channels", json_pack("[i, i]", it->first, it->count));
    char seed[24];
    snprintf(seed, sizeof seed, "%016llx", (unsigned long long)it->seed);
    json_object_set_new(record, "seed", json_string(seed));
    json_object_set_new(record, "device", json_string(cnv_backend_device(e->be)));
    json_object_set_new(record, "objective_start", numbers(res.start, it->count));
    json_object_set_new(record, "objective_final", numbers(res.final, it->count));
    if (target != l->node) {
        json_object_set_new(record, "layer_start", numbers(res.report_start, it->count));
        json_object_set_new(record, "layer_final", numbers(res.report_final, it->count));
    }
    cnv_render_result_free(&res);
    return s;
}
