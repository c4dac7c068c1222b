/* cnnvis dream MODEL IMAGE --layer L[,L...] [--channel C]: DeepDream (Mordvintsev et al. 2015).
 * Gradient ascent on the image of 0.5 ||F||^2 of each layer (or of channel C's mean), summed;
 * each step divided by the mean |gradient| (the recipe's gradnorm) with a random translation
 * (jitter); over octaves from the smallest, carrying the detail up. --zoom-frames N continues
 * with the infinite zoom: each frame zooms the previous one about its centre and dreams again. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vis/synth.h"
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

/* One term per layer of the list. */
static int parse_terms(const cli_ctx *ctx, const dream_args *a, cnv_synth_term **terms, int *n) {
    char *copy = strdup(a->layers);
    *terms = calloc(strlen(a->layers) + 1, sizeof **terms);
    int code = (!copy || !*terms) ? cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory") : 0;
    *n = 0;
    for (char *save = NULL, *tok = code ? NULL : strtok_r(copy, ",", &save); tok && !code; tok = strtok_r(NULL, ",", &save)) {
        cnv_synth_term *t = &(*terms)[*n];
        if ((code = cli_find_layer(ctx, tok, &t->node))) break;
        t->kind = a->channel >= 0 ? CNV_SYNTH_CHANNEL_MEAN : CNV_SYNTH_ENERGY;
        t->channel = a->channel;
        t->weight = 1.0f;
        (*n)++;
    }
    free(copy);
    if (!code && *n == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "--layer: no layer given");
    return code;
}

typedef struct dream_run {
    vis_session *se;
    int c, h, w;
    float *frame; /* a picture at the output size */
    int n_frames, code;
} dream_run;

static void add_frame(dream_run *dr, const float *images, int h, int w) {
    cnv_resample_planes(images, dr->c, h, w, dr->frame, dr->h, dr->w, 1.0f);
    cnv_shape s = cnv_shape4(1, dr->c, dr->h, dr->w);
    vis_session_frame(dr->se, dr->n_frames++, dr->frame, &s);
}

static void octave_done(void *user, int octave, int h, int w, const cnv_render_result *res) {
    dream_run *dr = user;
    if (!dr->code)
        dr->code = vis_session_log(dr->se, res, 1, json_pack("{s:i, s:[i, i]}", "octave", octave + 1, "size", h, w));
    if (dr->se->v->frames_dir || dr->se->v->gif) add_frame(dr, res->images, h, w);
}

static int run(cli_ctx *ctx, dream_args *a) {
    vis_cli *v = &a->vis;
    int c = ctx->g->values[ctx->g->input].shape.d[1], h = 0, w = 0, n_terms = 0;
    cnv_synth_term *terms = NULL;
    float *image = NULL, *out = NULL, *zoomed = NULL, *next = NULL;
    vis_item item = {.objective = {.kind = CNV_OBJ_UNIT}};
    snprintf(item.caption, sizeof item.caption, "dream");
    int code = parse_terms(ctx, a, &terms, &n_terms);
    if (!code && a->zoom_frames > 0 && !(v->recipe.zoom > 0))
        code = cli_error(ctx, CLI_EXIT_USAGE, "--zoom must be positive for --zoom-frames");
    if (!code) code = vis_cli_load_image(ctx, ctx->inputs[0], v->size, v->size, &image, &h, &w);
    size_t n = (size_t)c * h * w;
    dream_run dr = {.c = c, .h = h, .w = w};
    if (!code && (!(out = malloc(n * sizeof *out)) || !(zoomed = malloc(n * sizeof *zoomed)) ||
                  !(next = malloc(n * sizeof *next)) ||
                  !(dr.frame = malloc(n * sizeof *dr.frame))))
        code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    vis_session se;
    if (!code) code = vis_session_begin(&se, v, &item, 1);
    if (code) goto done;
    dr.se = &se;
    cnv_synth_objective obj = {terms, n_terms};
    cnv_render_opts o;
    vis_session_opts(&se, 0, 1, "dream", &o);
    o.frame = NULL; /* octaves differ in size: frames are whole octaves (and zoom frames) */
    cnv_dream_opts d = {.octave_done = octave_done, .user = &dr};
    cnv_status s = cnv_dream(ctx->g, ctx->preset, ctx->be, &obj, &o, &d, image, h, w, out);
    if (s != CNV_OK) code = cli_status_error(ctx, s);
    /* The infinite zoom: one octave at full size per frame, from the previous frame zoomed. */
    o.recipe.octaves = 1;
    o.recipe.steps = a->zoom_steps;
    const float *prev = out;
    for (int f = 0; f < a->zoom_frames && !code && !dr.code; f++) {
        cnv_resample_planes(prev, c, h, w, zoomed, h, w, v->recipe.zoom);
        se.stage = "zoom";
        o.seed = v->seed + 1000u + (uint64_t)f;
        s = cnv_dream(ctx->g, ctx->preset, ctx->be, &obj, &o, &d, zoomed, h, w, next);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
        prev = next;
    }
    if (!code) code = dr.code;
    cnv_shape shape = cnv_shape4(1, c, h, w);
    if (!code)
        code = vis_session_finish(&se, out, &shape, "dream", a->layers,
                                  json_pack("{s:s, s:i, s:i, s:i}", "image", ctx->inputs[0], "channel", a->channel,
                                            "zoom_frames", a->zoom_frames, "zoom_steps", a->zoom_steps));
    else
        vis_session_free(&se);
done:
    free(terms);
    free(image);
    free(out);
    free(zoomed);
    free(next);
    free(dr.frame);
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
    };
    vis_cli_recipe_default(table, verb.n_options, "dream");
    cli_ctx ctx;
    dream_args a = {.vis = {.ctx = &ctx, .seed = 1, .recipe_name = "dream"}, .channel = -1, .zoom_steps = 5};
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
