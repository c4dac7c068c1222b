/* cnnvis neuron MODEL --layer L --channel C [--position y,x]: an image that maximizes one unit
 * of a channel (by default the centre one), and a zoomed crop of that unit's receptive field,
 * computed exactly from the graph (cnv_vis_unit_field): OUT.png and OUT_crop.png. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "cnnvis/picture.h"
#include "vis_cli.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_CHANNEL, OPT_POSITION };

static const cli_option own_options[] = {
    {"layer", "L", "layer by node name, output-tensor name or index", NULL, OPT_LAYER},
    {"channel", "C", "the channel", NULL, OPT_CHANNEL},
    {"position", "Y,X", "the unit's position in the layer's map", "the centre", OPT_POSITION},
};

typedef struct neuron_args {
    vis_cli vis;
    const char *layer, *position;
    int channel;
} neuron_args;

static int on_option(void *state, int id, const char *arg) {
    neuron_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layer = arg; return 0;
    case OPT_CHANNEL: return cli_parse_int(a->vis.ctx, "channel", arg, 0, &a->channel);
    case OPT_POSITION: a->position = arg; return 0;
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* Cuts the field out of the image and enlarges it (nearest neighbour) to at least 128 pixels. */
static int write_crop(const cli_ctx *ctx, const char *out, const float *chw, int c, int h, int w, const int box[4]) {
    cnv_image full, crop = {0}, big = {0};
    int code = vis_cli_to_image(ctx, chw, c, h, w, &full);
    if (code) return code;
    crop.w = box[3] - box[1] + 1;
    crop.h = box[2] - box[0] + 1;
    crop.c = full.c;
    crop.px = malloc((size_t)crop.w * crop.h * crop.c);
    if (!crop.px) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (int y = 0; !code && y < crop.h; y++)
        memcpy(crop.px + (size_t)y * crop.w * crop.c, full.px + ((size_t)(box[0] + y) * full.w + box[1]) * full.c,
               (size_t)crop.w * crop.c);
    int zoom = 1;
    while ((crop.w > crop.h ? crop.w : crop.h) * zoom < 128) zoom++;
    if (!code && cnv_image_scale(&crop, crop.w * zoom, crop.h * zoom, CNV_SCALE_NEAREST, &big) != CNV_OK)
        code = cli_status_error(ctx, CNV_ERR_NOMEM);
    char path[4096];
    cli_derived_path(out, "_crop", ".png", path, sizeof path);
    if (!code && cnv_image_save_png(path, &big) != CNV_OK) code = cli_status_error(ctx, CNV_ERR_IO);
    if (!code) printf("wrote %s (receptive field rows %d-%d, columns %d-%d, zoomed %dx)\n", path, box[0], box[2], box[1], box[3], zoom);
    free(full.px);
    free(crop.px);
    free(big.px);
    return code;
}

static int run(cli_ctx *ctx, neuron_args *a) {
    int node, code = cli_find_layer(ctx, a->layer, &node);
    if (code) return code;
    int d[CNV_MAX_RANK];
    if (cnv_model_layer_shape(ctx->g, node, d) != 4)
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s has no spatial map (shape is not NCHW)", a->layer);
    int y = d[2] / 2, x = d[3] / 2;
    if (a->position && sscanf(a->position, "%d,%d", &y, &x) != 2)
        return cli_error(ctx, CLI_EXIT_USAGE, "--position: '%s' is not Y,X", a->position);
    cnv_vis_item item = {.type = CNV_VIS_NEURON, .index = a->channel, .y = y, .x = x};
    snprintf(item.caption, sizeof item.caption, "%d (%d,%d)", a->channel, y, x);
    if (cnv_vis_check_items(ctx->g, node, &item, 1) != CNV_OK)
        return cli_error(ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    int box[4], h, w, c, in_h, in_w;
    cnv_status st = cnv_vis_unit_field(ctx->g, a->vis.settings, node, y, x, box);
    if (st != CNV_OK) return cli_status_error(ctx, st);
    float *images = NULL;
    if ((code = vis_cli_run(&a->vis, node, &item, 1, "neuron", &images, &h, &w))) return code;
    vis_cli_input_size(ctx, &c, &in_h, &in_w);
    code = write_crop(ctx, a->vis.output, images, c, h, w, box);
    free(images);
    return code;
}

int cmd_neuron(int argc, char **argv) {
    cli_option table[64];
    cli_verb verb = {
        .name = "neuron",
        .synopsis = "MODEL --layer L --channel C [--position Y,X] -o OUT.png [options]",
        .summary = "Synthesize an image that maximizes one unit; also writes OUT_crop.png, its receptive field.",
        .options = table,
        .n_options = vis_cli_options(own_options, 3, table, 64),
        .on_option = on_option,
        .records_model = 1,
    };
    cli_ctx ctx;
    neuron_args a = {.vis = {.ctx = &ctx}, .channel = -1};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = (!a.layer || a.channel < 0) ? cli_error(&ctx, CLI_EXIT_USAGE, "give --layer L and --channel C") : 0;
        if (!code) code = cli_load(&ctx, 1);
        if (!code) code = vis_cli_prepare(&a.vis);
        if (!code) code = run(&ctx, &a);
    }
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
