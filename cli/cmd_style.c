/* cnnvis style MODEL --content IMAGE --style IMAGE: style transfer (Gatys et al. 2016). Maximizes
 * -(sum_k w_s/K ||G(F_k) - G_k||^2 / ||G_k||^2 + w_c ||F_c - C||^2 / ||C||^2): Gram matrices of
 * the style image at K style layers, activations of the content image at one layer, each
 * distance relative to its target so the weights read the same at any layer. Starts from the
 * content image (or noise) at the content's aspect, short side --size or the model's input. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vis_cli.h"

#define DEFAULT_STYLE_LAYERS "conv1,fire2/concat,fire3/concat,fire5/concat,fire7/concat"
#define DEFAULT_CONTENT_LAYER "fire5/concat"

enum { OPT_CONTENT = CLI_VERB_ID, OPT_STYLE, OPT_STYLE_LAYERS, OPT_CONTENT_LAYER, OPT_STYLE_WEIGHT, OPT_CONTENT_WEIGHT,
       OPT_FROM };

static const cli_option own_options[] = {
    {"content", "IMAGE", "the content image", NULL, OPT_CONTENT},
    {"style", "IMAGE", "the style image", NULL, OPT_STYLE},
    {"style-layers", "a,b,c", "layers whose Gram matrices are matched", DEFAULT_STYLE_LAYERS " (SqueezeNet)",
     OPT_STYLE_LAYERS},
    {"content-layer", "L", "layer whose activations keep the content", DEFAULT_CONTENT_LAYER " (SqueezeNet)",
     OPT_CONTENT_LAYER},
    {"style-weight", "W", "weight of the style terms (shared by the layers)", "10", OPT_STYLE_WEIGHT},
    {"content-weight", "W", "weight of the content term", "1", OPT_CONTENT_WEIGHT},
    {"from", "content|noise", "starting image (--init-sd sets the noise)", "content", OPT_FROM},
};
#define N_OWN ((int)(sizeof own_options / sizeof own_options[0]))

typedef struct style_args {
    vis_cli vis;
    const char *content, *style, *style_layers, *content_layer, *from;
    float style_weight, content_weight;
} style_args;

static int parse_weight(const cli_ctx *ctx, const char *name, const char *arg, float *out) {
    char *end;
    *out = strtof(arg, &end);
    if (end == arg || *end || !(*out >= 0))
        return cli_error(ctx, CLI_EXIT_USAGE, "--%s: '%s' is not a number >= 0", name, arg);
    return 0;
}

static int on_option(void *state, int id, const char *arg) {
    style_args *a = state;
    switch (id) {
    case OPT_CONTENT: a->content = arg; return 0;
    case OPT_STYLE: a->style = arg; return 0;
    case OPT_STYLE_LAYERS: a->style_layers = arg; return 0;
    case OPT_CONTENT_LAYER: a->content_layer = arg; return 0;
    case OPT_STYLE_WEIGHT: return parse_weight(a->vis.ctx, "style-weight", arg, &a->style_weight);
    case OPT_CONTENT_WEIGHT: return parse_weight(a->vis.ctx, "content-weight", arg, &a->content_weight);
    case OPT_FROM:
        if (strcmp(arg, "content") && strcmp(arg, "noise"))
            return cli_error(a->vis.ctx, CLI_EXIT_USAGE, "--from: '%s' is not content or noise", arg);
        a->from = arg;
        return 0;
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* An image with its short side `side` (aspect kept), as floats [C, h, w] in 0..1. */
static int load_sized(const cli_ctx *ctx, const char *path, int side, float **chw, int *h, int *w) {
    float *own;
    int oh, ow, code = vis_cli_load_image(ctx, path, 0, 0, &own, &oh, &ow);
    if (code) return code;
    *h = oh <= ow ? side : (int)((long)side * oh / ow);
    *w = ow <= oh ? side : (int)((long)side * ow / oh);
    int c, ih, iw;
    vis_cli_input_size(ctx, &c, &ih, &iw);
    *chw = malloc((size_t)c * *h * *w * sizeof **chw);
    if (*chw) cnv_resample_planes(own, c, oh, ow, *chw, *h, *w, 1.0f);
    free(own);
    return *chw ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
}

/* The style layers of the list, then the content layer, into nodes (n_style + 1 entries). */
static int parse_layers(const cli_ctx *ctx, const style_args *a, int **nodes, int *n_style) {
    char *copy = strdup(a->style_layers);
    *nodes = calloc(strlen(a->style_layers) + 2, sizeof **nodes);
    int code = (!copy || !*nodes) ? cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory") : 0;
    int k = 0;
    for (char *save = NULL, *tok = code ? NULL : strtok_r(copy, ",", &save); tok && !code; tok = strtok_r(NULL, ",", &save))
        if (!(code = cli_find_layer(ctx, tok, &(*nodes)[k]))) k++;
    free(copy);
    if (!code && k == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "--style-layers: no layer given");
    if (!code) code = cli_find_layer(ctx, a->content_layer, &(*nodes)[k]);
    *n_style = k;
    return code;
}

static int run(cli_ctx *ctx, style_args *a) {
    vis_cli *v = &a->vis;
    int c, ih, iw, ch, cw, sh, sw, n_style = 0, *nodes = NULL;
    vis_cli_input_size(ctx, &c, &ih, &iw);
    int side = v->size ? v->size : ih;
    float *content = NULL, *style = NULL, *out = NULL;
    cnv_vis_item item = {.type = CNV_VIS_UNIT, .caption = "style"};
    int code = load_sized(ctx, a->content, side, &content, &ch, &cw);
    if (!code) code = load_sized(ctx, a->style, side, &style, &sh, &sw);
    if (!code) code = parse_layers(ctx, a, &nodes, &n_style);
    if (!code && !(out = malloc((size_t)c * ch * cw * sizeof *out))) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    vis_session se;
    if (!code) code = vis_session_begin(&se, v, &item, 1);
    if (!code) {
        cnv_vis_style st = {.style_layers = nodes, .n_style_layers = n_style, .content_layer = nodes[n_style],
                            .style_weight = a->style_weight, .content_weight = a->content_weight,
                            .from_noise = strcmp(a->from, "noise") == 0};
        double l[4];
        cnv_status s = cnv_vis_run_style(se.run, 0, &st, content, ch, cw, style, sh, sw, out, l);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
        else printf("style loss %.4g -> %.4g (%.1fx lower), content loss %.4g -> %.4g\n", l[0], l[1],
                    l[1] > 0 ? l[0] / l[1] : 0.0, l[2], l[3]);
        if (!code)
            code = vis_session_finish(&se, out, 1, c, ch, cw, "style", a->style_layers,
                                      json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s}", "content", a->content, "style",
                                                a->style, "style_layers", a->style_layers, "content_layer",
                                                a->content_layer, "style_weight", a->style_weight, "content_weight",
                                                a->content_weight, "from", a->from));
        else
            vis_session_free(&se);
    }
    free(nodes);
    free(content);
    free(style);
    free(out);
    return code;
}

int cmd_style(int argc, char **argv) {
    cli_option table[64];
    cli_verb verb = {
        .name = "style",
        .synopsis = "MODEL --content IMAGE --style IMAGE -o OUT.png [options]",
        .summary = "Style transfer: match the style image's Gram matrices and the content image's activations.",
        .options = table,
        .n_options = vis_cli_options(own_options, N_OWN, table, 64),
        .on_option = on_option,
        .records_model = 1,
    };
    vis_cli_recipe_default(table, verb.n_options, "style");
    cli_ctx ctx;
    style_args a = {.vis = {.ctx = &ctx, .recipe_name = "style"}, .style_layers = DEFAULT_STYLE_LAYERS,
                    .content_layer = DEFAULT_CONTENT_LAYER, .from = "content", .style_weight = 10.0f,
                    .content_weight = 1.0f};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = (!a.content || !a.style) ? cli_error(&ctx, CLI_EXIT_USAGE, "give --content IMAGE and --style IMAGE") : 0;
        if (!code) code = cli_load(&ctx, 1);
        if (!code) code = vis_cli_prepare(&a.vis);
        if (!code) code = run(&ctx, &a);
    }
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
