/* cnnvis deconv MODEL IMAGE|NPY --layer L (--channel C | --top N) -o OUT.png: Zeiler & Fergus
 * projections of a layer's features back to pixel space (cnnvis/attribution.h). By default only the
 * channel's strongest activation is projected, as in the paper's figures; --all-positions
 * projects the whole map. Each projection is shown with zero at mid-gray, scaled to its own
 * largest magnitude. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "cnnvis/attribution.h"
#include "cnnvis/picture.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_CHANNEL, OPT_TOP, OPT_UNPOOL, OPT_ALL, OPT_OUTPUT, OPT_SAVE };

static const cli_option deconv_options[] = {
    {"layer", "L", "layer to project from (name, output-tensor name or index)", NULL, OPT_LAYER},
    {"channel", "C", "the channel to project", NULL, OPT_CHANNEL},
    {"top", "N", "instead of --channel: the N channels with the strongest activations, as a grid", NULL, OPT_TOP},
    {"unpool", "MODE", "max pools going down: switches (the forward's argmax) or fill (every cell of the window)",
     "switches", OPT_UNPOOL},
    {"all-positions", NULL, "project the channel's whole map, not only its strongest activation", "off", OPT_ALL},
    {"output", "FILE", "the picture (PNG): the input beside the projection, or the grid of --top", NULL, OPT_OUTPUT},
    {"save-tensor", "FILE", "write the projections (N x C x H x W float32 .npy, the model's input space)", "none",
     OPT_SAVE},
};

typedef struct deconv_args {
    const cli_ctx *ctx;
    const char *layer, *output, *save;
    int channel, top; /* -1 / 0: not given */
    cnv_deconvnet_params params;
} deconv_args;

static int on_option(void *state, int id, const char *arg) {
    deconv_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layer = arg; break;
    case OPT_CHANNEL: return cli_parse_int(a->ctx, "channel", arg, 0, &a->channel);
    case OPT_TOP: return cli_parse_int(a->ctx, "top", arg, 1, &a->top);
    case OPT_UNPOOL:
        if (strcmp(arg, "switches") && strcmp(arg, "fill"))
            return cli_error(a->ctx, CLI_EXIT_USAGE, "--unpool: '%s' is not switches or fill", arg);
        a->params.unpool_fill = strcmp(arg, "fill") == 0;
        break;
    case OPT_ALL: a->params.all_positions = 1; break;
    case OPT_OUTPUT: a->output = arg; break;
    case OPT_SAVE: a->save = arg; break;
    }
    return 0;
}

static const cli_verb deconv_verb = {
    .name = "deconv",
    .synopsis = "MODEL IMAGE|NPY --layer L (--channel C | --top N) -o OUT.png [options]",
    .summary = "Zeiler & Fergus deconvnet: a layer's features projected back to pixel space.",
    .options = deconv_options,
    .n_options = sizeof deconv_options / sizeof deconv_options[0],
    .min_inputs = 1,
    .max_inputs = 1,
    .on_option = on_option,
};

/* The channels to project, with the strongest activation of each. */
typedef struct selection {
    int n;
    int *channels;
    float *peaks;
} selection;

static int select_channels(const cli_ctx *ctx, const deconv_args *a, cnv_exec *ex, int layer, selection *sel) {
    float *act = NULL;
    cnv_shape s;
    int code = cli_read_output(ctx, ex, layer, &act, &s);
    if (code) return code;
    char buf[64];
    const char *name = cnv_model_layer_name(ctx->g, layer);
    const int channels = s.ndim >= 2 ? s.d[1] : 0;
    if (s.ndim < 2)
        code = cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: it has no channel axis", name,
                         cnv_shape_str(&s, buf, sizeof buf));
    else if (a->channel >= channels)
        code = cli_error(ctx, CLI_EXIT_USAGE, "channel %d out of range: layer %s has %d channels (0..%d)", a->channel,
                         name, channels, channels - 1);
    sel->n = a->top ? (a->top < channels ? a->top : channels) : 1;
    if (!code) {
        sel->channels = malloc(sizeof *sel->channels * (size_t)sel->n);
        sel->peaks = malloc(sizeof *sel->peaks * (size_t)sel->n);
        if (!sel->channels || !sel->peaks) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    if (!code && a->top) {
        cnv_status st = cnv_deconv_strongest_channels(act, &s, sel->n, sel->channels, sel->peaks);
        if (st != CNV_OK) code = cli_status_error(ctx, st);
    } else if (!code) {
        sel->channels[0] = a->channel;
    }
    free(act);
    return code;
}

/* Projects every selected channel; *proj gets n input-sized tensors. */
static int project_all(const cli_ctx *ctx, const deconv_args *a, cnv_exec *ex, int layer, selection *sel,
                       const cnv_shape *in, float **proj) {
    const size_t n_in = cnv_shape_numel(in);
    *proj = malloc(sizeof **proj * n_in * (size_t)sel->n);
    if (!*proj) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (int i = 0; i < sel->n; i++) {
        cnv_status s = cnv_deconv_project(ex, layer, sel->channels[i], &a->params, *proj + (size_t)i * n_in,
                                          &sel->peaks[i]);
        if (s != CNV_OK) return cli_status_error(ctx, s);
    }
    return 0;
}

static int write_picture(const cli_ctx *ctx, const deconv_args *a, int layer, const selection *sel,
                         const cnv_shape *in, const float *proj) {
    const size_t n_in = cnv_shape_numel(in);
    const int with_input = a->top == 0, n_tiles = sel->n + with_input;
    cnv_image *tiles = calloc((size_t)n_tiles, sizeof *tiles);
    char(*captions)[64] = calloc((size_t)n_tiles, sizeof *captions);
    const char **caption_ptrs = calloc((size_t)n_tiles, sizeof *caption_ptrs);
    cnv_image grid = {0};
    if (!tiles || !captions || !caption_ptrs) {
        free(tiles), free(captions), free(caption_ptrs);
        return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    cnv_status s = CNV_OK;
    if (with_input) {
        s = cnv_input_picture(ctx->inputs[0], ctx->preset, in, &tiles[0]);
        snprintf(captions[0], sizeof captions[0], "input");
    }
    for (int i = 0; s == CNV_OK && i < sel->n; i++) {
        s = cnv_signal_picture(proj + (size_t)i * n_in, in, ctx->preset, &tiles[with_input + i]);
        if (a->top)
            snprintf(captions[with_input + i], sizeof captions[0], "ch %d", sel->channels[i]);
        else
            snprintf(captions[with_input + i], sizeof captions[0], "%s ch %d", cnv_model_layer_name(ctx->g, layer),
                     sel->channels[i]);
    }
    if (s == CNV_OK) {
        for (int i = 0; i < n_tiles; i++) caption_ptrs[i] = captions[i];
        cnv_grid_layout l;
        cnv_grid_layout_default(&l);
        l.tile_w = in->d[3];
        l.tile_h = in->d[2];
        l.scale = CNV_SCALE_BILINEAR;
        l.font_scale = in->d[3] >= 200 ? 2 : 1;
        s = cnv_grid_compose(tiles, caption_ptrs, n_tiles, &l, &grid);
    }
    if (s == CNV_OK) s = cnv_image_save_png(a->output, &grid);
    for (int i = 0; i < n_tiles; i++) cnv_image_free(&tiles[i]);
    cnv_image_free(&grid);
    free(tiles);
    free(captions);
    free(caption_ptrs);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

static int report(const cli_ctx *ctx, const deconv_args *a, int layer, const selection *sel) {
    const char *unpool = a->params.unpool_fill ? "fill" : "switches";
    const char *seed = a->params.all_positions ? "whole map" : "strongest activation";
    const char *name = cnv_model_layer_name(ctx->g, layer);
    if (ctx->json) {
        json_t *chans = json_array();
        for (int i = 0; chans && i < sel->n; i++)
            json_array_append_new(chans, json_pack("{s:i, s:o}", "channel", sel->channels[i], "peak",
                                                   cli_json_number(sel->peaks[i])));
        json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "input", ctx->inputs[0], "preset",
                                 ctx->preset->name, "layer", name, "unpool", unpool, "seed", seed,
                                 "channels", chans, "output", a->output);
        if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
        return cli_print_json(ctx, root);
    }
    printf("input:    %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    printf("layer:    %s, %s, unpooling by %s\n", name, seed, unpool);
    for (int i = 0; i < sel->n; i++)
        printf("  channel %4d  peak activation %.6g%s\n", sel->channels[i], sel->peaks[i],
               sel->peaks[i] > 0 ? "" : " (silent on this image: nothing to project)");
    printf("wrote:    %s\n", a->output);
    if (a->save) printf("saved:    %s\n", a->save);
    return 0;
}

static int run_deconv(const cli_ctx *ctx, const deconv_args *a) {
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "needs -o OUT.png");
    if (!a->layer) return cli_error(ctx, CLI_EXIT_USAGE, "needs --layer L");
    if ((a->channel >= 0) == (a->top > 0))
        return cli_error(ctx, CLI_EXIT_USAGE, "give either --channel C or --top N");
    cnv_exec *ex = NULL;
    selection sel = {0};
    float *proj = NULL;
    cnv_shape in;
    in.ndim = cnv_model_input_shape(ctx->g, in.d);
    int layer;
    int code = cli_find_layer(ctx, a->layer, &layer);
    if (!code) code = cli_exec_create(ctx, &ex);
    if (!code) code = cli_set_input(ctx, ex, ctx->inputs[0]);
    if (!code) {
        cnv_status s = cnv_exec_forward(ex, layer);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) code = select_channels(ctx, a, ex, layer, &sel);
    if (!code) code = project_all(ctx, a, ex, layer, &sel, &in, &proj);
    if (!code && a->save) {
        cnv_shape s = in;
        s.d[0] = sel.n;
        code = cli_save_tensor(ctx, a->save, proj, &s);
    }
    if (!code) code = write_picture(ctx, a, layer, &sel, &in, proj);
    if (!code) code = report(ctx, a, layer, &sel);
    free(proj);
    free(sel.channels);
    free(sel.peaks);
    cnv_exec_free(ex);
    return code;
}

int cmd_deconv(int argc, char **argv) {
    cli_ctx ctx;
    deconv_args a = {.ctx = &ctx, .channel = -1};
    int code = cli_parse(&ctx, &deconv_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_deconv(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
