/* cnnvis dream MODEL IMAGE --layer L[,L...] [--channel C]: DeepDream (Mordvintsev et al. 2015).
 * Gradient ascent on the image of 0.5 ||F||^2 of each layer (or of channel C's mean), summed;
 * each step divided by the mean |gradient| (the recipe's gradnorm) with a random translation
 * (jitter); over octaves from the smallest, carrying the detail up. --zoom-frames N continues
 * with the infinite zoom: each frame zooms the previous one about its centre and dreams again. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vis_cli.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_CHANNEL, OPT_ZOOM_FRAMES, OPT_ZOOM_STEPS };

static const cli_option own_options[] = {
    {"layer", "L[,L...]", "layers whose energy 0.5 ||F||^2 is maximized (summed)", NULL, OPT_LAYER},
    {"channel", "C", "maximize the mean of channel C of each layer instead", "the whole layer", OPT_CHANNEL},
    {"zoom-frames", "N", "then N frames of infinite zoom (each: zoom by --zoom, dream --zoom-steps at full size), "
                          "written with --frames and --gif", "0", OPT_ZOOM_FRAMES},
    {"zoom-steps", "K", "steps dreamt on each zoom frame", "5", OPT_ZOOM_STEPS},
};
#define N_OWN ((int)(sizeof own_options / sizeof own_options[0]))

typedef struct dream_args {
    vis_cli vis;
    const char *layers;
    int channel, zoom_frames, zoom_steps;
} dream_args;

static int on_option(void *state, int id, const char *arg) {
    dream_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layers = arg; return 0;
    case OPT_CHANNEL: return cli_parse_int(a->vis.ctx, "channel", arg, 0, &a->channel);
    case OPT_ZOOM_FRAMES: return cli_parse_int(a->vis.ctx, "zoom-frames", arg, 0, &a->zoom_frames);
    case OPT_ZOOM_STEPS: return cli_parse_int(a->vis.ctx, "zoom-steps", arg, 1, &a->zoom_steps);
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* The layers of the list. */
static int parse_layers(const cli_ctx *ctx, const dream_args *a, int **nodes, int *n) {
    char *copy = strdup(a->layers);
    *nodes = calloc(strlen(a->layers) + 1, sizeof **nodes);
    int code = (!copy || !*nodes) ? cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory") : 0;
    *n = 0;
    for (char *save = NULL, *tok = code ? NULL : strtok_r(copy, ",", &save); tok && !code; tok = strtok_r(NULL, ",", &save))
        if (!(code = cli_find_layer(ctx, tok, &(*nodes)[*n]))) (*n)++;
    free(copy);
    if (!code && *n == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "--layer: no layer given");
    return code;
}

static int run(cli_ctx *ctx, dream_args *a) {
    vis_cli *v = &a->vis;
    int c, h = 0, w = 0, n_layers = 0, *layers = NULL;
    vis_cli_input_size(ctx, &c, &h, &w);
    float *image = NULL, *out = NULL;
    cnv_vis_item item = {.type = CNV_VIS_UNIT, .caption = "dream"};
    int code = parse_layers(ctx, a, &layers, &n_layers);
    if (!code) code = vis_cli_load_image(ctx, ctx->inputs[0], v->size, v->size, &image, &h, &w);
    if (!code && !(out = malloc((size_t)c * h * w * sizeof *out))) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    vis_session se;
    if (!code) code = vis_session_begin(&se, v, &item, 1);
    if (!code) {
        cnv_status s = cnv_vis_run_dream(se.run, 0, layers, n_layers, a->channel, image, h, w, a->zoom_frames,
                                         a->zoom_steps, out);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
        if (!code)
            code = vis_session_finish(&se, out, 1, c, h, w, "dream", a->layers,
                                      json_pack("{s:s, s:i, s:i, s:i}", "image", ctx->inputs[0], "channel", a->channel,
                                                "zoom_frames", a->zoom_frames, "zoom_steps", a->zoom_steps));
        else
            vis_session_free(&se);
    }
    free(layers);
    free(image);
    free(out);
    return code;
}

int cmd_dream(int argc, char **argv) {
    cli_option table[64];
    cli_verb verb = {
        .name = "dream",
        .synopsis = "MODEL IMAGE --layer L[,L...] [--channel C] -o OUT.png [options]",
        .summary = "DeepDream: amplify what layers see in an image, over octaves; optional infinite-zoom frames.",
        .options = table,
        .n_options = vis_cli_options(own_options, N_OWN, table, 64),
        .min_inputs = 1,
        .max_inputs = 1,
        .on_option = on_option,
        .records_model = 1,
    };
    vis_cli_recipe_default(table, verb.n_options, "dream");
    cli_ctx ctx;
    dream_args a = {.vis = {.ctx = &ctx, .recipe_name = "dream"}, .channel = -1, .zoom_steps = 5};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = !a.layers ? cli_error(&ctx, CLI_EXIT_USAGE, "give --layer L") : 0;
        if (!code) code = cli_load(&ctx, 1);
        if (!code) code = vis_cli_prepare(&a.vis);
        if (!code) code = run(&ctx, &a);
    }
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
