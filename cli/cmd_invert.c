/* cnnvis invert MODEL IMAGE --layer L | --layers a,b,c: reconstructs an image from a layer's
 * activations (Mahendran & Vedaldi 2015): from noise, maximize -||F(x) - F(image)||^2 / ||F(image)||^2
 * (minus the squared relative error, so its scale is the same at every layer) under the recipe's
 * total-variation and L2 priors. Several layers give one reconstruction each, in a row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vis/synth.h"
#include "vis_cli.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_LAYERS };

static const cli_option own_options[] = {
    {"layer", "L", "the layer whose activations are matched (node name, output-tensor name or index)", NULL, OPT_LAYER},
    {"layers", "a,b,c", "several layers: one reconstruction each, in a row captioned with the layer", NULL, OPT_LAYERS},
};

typedef struct invert_args {
    vis_cli vis;
    const char *layers;
} invert_args;

static int on_option(void *state, int id, const char *arg) {
    invert_args *a = state;
    if (id == OPT_LAYER || id == OPT_LAYERS) {
        a->layers = arg;
        return 0;
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* The layers of a comma-separated list as items (captioned with the name) and nodes. */
static int parse_layers(const cli_ctx *ctx, const char *list, vis_item **items, int **nodes, int *n) {
    char *copy = strdup(list);
    size_t cap = strlen(list) + 1;
    *items = calloc(cap, sizeof **items);
    *nodes = calloc(cap, sizeof **nodes);
    int code = (!copy || !*items || !*nodes) ? cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory") : 0;
    *n = 0;
    for (char *save = NULL, *tok = code ? NULL : strtok_r(copy, ",", &save); tok && !code; tok = strtok_r(NULL, ",", &save)) {
        code = cli_find_layer(ctx, tok, &(*nodes)[*n]);
        if (code) break;
        snprintf((*items)[*n].caption, sizeof (*items)[*n].caption, "%s", ctx->g->nodes[(*nodes)[*n]].name);
        (*n)++;
    }
    free(copy);
    if (!code && *n == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "--layers: no layer given");
    return code;
}

/* One reconstruction at model node `node` into dst (C*h*w floats). */
static int invert_layer(cli_ctx *ctx, vis_session *se, int i, int node, const float *image, int h, int w, float *dst) {
    float *target = NULL;
    cnv_shape ts;
    cnv_status s = cnv_synth_features(ctx->g, ctx->preset, ctx->be, image, h, w, 1, &node, NULL, &target, &ts);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    cnv_synth_term term = {.kind = CNV_SYNTH_MATCH, .node = node, .weight = 1.0f, .target = target};
    cnv_synth_objective obj = {&term, 1};
    cnv_render_opts o;
    vis_session_opts(se, i, 1, se->items[i].caption, &o);
    o.size[0] = h;
    o.size[1] = w;
    cnv_render_result res;
    s = cnv_synth_render(ctx->g, ctx->preset, ctx->be, &obj, &o, &res);
    free(target);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    memcpy(dst, res.images, cnv_shape_numel(&res.shape) * sizeof *dst);
    /* The objective is minus the squared relative error of the activations. */
    double start = sqrt(fmax(0.0, -res.start[0])), final = sqrt(fmax(0.0, -res.final[0]));
    printf("%s: relative error of the activations %.4f (from %.4f at the start)\n", se->items[i].caption, final, start);
    int code = vis_session_log(se, &res, 1,
                               json_pack("{s:s, s:o, s:o}", "layer", se->items[i].caption, "relative_error_start",
                                         cli_json_number(start), "relative_error", cli_json_number(final)));
    cnv_render_result_free(&res);
    return code;
}

static int run(cli_ctx *ctx, invert_args *a) {
    vis_cli *v = &a->vis;
    const cnv_shape *in = &ctx->g->values[ctx->g->input].shape;
    int h = v->size ? v->size : in->d[2], w = v->size ? v->size : in->d[3], c = in->d[1];
    vis_item *items = NULL;
    int *nodes = NULL, n = 0;
    float *image = NULL, *all = NULL;
    int code = parse_layers(ctx, a->layers, &items, &nodes, &n);
    if (!code) code = vis_cli_load_image(ctx, ctx->inputs[0], h, w, &image, &h, &w);
    size_t item = (size_t)c * h * w;
    if (!code && !(all = malloc((size_t)n * item * sizeof *all))) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    vis_session se;
    if (!code) code = vis_session_begin(&se, v, items, n);
    if (!code) {
        se.grid_cols = n;
        for (int i = 0; i < n && !code; i++) code = invert_layer(ctx, &se, i, nodes[i], image, h, w, all + i * item);
        cnv_shape s = cnv_shape4(n, c, h, w);
        if (!code) code = vis_session_finish(&se, all, &s, "invert", a->layers, json_pack("{s:s}", "image", ctx->inputs[0]));
        else vis_session_free(&se);
    }
    free(items);
    free(nodes);
    free(image);
    free(all);
    return code;
}

int cmd_invert(int argc, char **argv) {
    cli_option table[64];
    cli_verb verb = {
        .name = "invert",
        .synopsis = "MODEL IMAGE --layer L | --layers a,b,c -o OUT.png [options]",
        .summary = "Reconstruct an image from a layer's activations (from noise, with total-variation and L2 priors).",
        .options = table,
        .n_options = vis_cli_options(own_options, 2, table, 64),
        .min_inputs = 1,
        .max_inputs = 1,
        .on_option = on_option,
    };
    vis_cli_recipe_default(table, verb.n_options, "invert");
    cli_ctx ctx;
    invert_args a = {.vis = {.ctx = &ctx, .seed = 1, .recipe_name = "invert"}};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = !a.layers ? cli_error(&ctx, CLI_EXIT_USAGE, "give --layer L or --layers a,b,c") : 0;
        if (!code) code = cli_load(&ctx, 1);
        if (!code) code = vis_cli_prepare(&a.vis);
        if (!code) code = run(&ctx, &a);
    }
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
