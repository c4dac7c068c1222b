/* cnnvis invert MODEL IMAGE --layer L | --layers a,b,c: reconstructs an image from a layer's
 * activations (Mahendran & Vedaldi 2015): from noise, maximize -||F(x) - F(image)||^2 / ||F(image)||^2
 * (minus the squared relative error, so its scale is the same at every layer) under the recipe's
 * total-variation and L2 priors. Several layers give one reconstruction each, in a row. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
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
static int parse_layers(const cli_ctx *ctx, const char *list, cnv_vis_item **items, int **nodes, int *n) {
    char *copy = strdup(list);
    size_t cap = strlen(list) + 1;
    *items = calloc(cap, sizeof **items);
    *nodes = calloc(cap, sizeof **nodes);
    int code = (!copy || !*items || !*nodes) ? cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory") : 0;
    *n = 0;
    for (char *save = NULL, *tok = code ? NULL : strtok_r(copy, ",", &save); tok && !code; tok = strtok_r(NULL, ",", &save)) {
        code = cli_find_layer(ctx, tok, &(*nodes)[*n]);
        if (code) break;
        (*items)[*n] = (cnv_vis_item){.type = CNV_VIS_UNIT};
        snprintf((*items)[*n].caption, sizeof (*items)[*n].caption, "%s", cnv_model_layer_name(ctx->g, (*nodes)[*n]));
        (*n)++;
    }
    free(copy);
    if (!code && *n == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "--layers: no layer given");
    return code;
}

static int run(cli_ctx *ctx, invert_args *a) {
    vis_cli *v = &a->vis;
    int c, h, w;
    vis_cli_input_size(ctx, &c, &h, &w);
    if (v->size) h = w = v->size;
    cnv_vis_item *items = NULL;
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
        for (int i = 0; i < n && !code; i++) {
            double start, final;
            cnv_status s = cnv_vis_run_invert(se.run, i, nodes[i], image, h, w, all + i * item, &start, &final);
            if (s != CNV_OK) code = cli_status_error(ctx, s);
            else printf("%s: relative error of the activations %.4f (from %.4f at the start)\n", items[i].caption, final,
                        start);
        }
        if (!code) code = vis_session_finish(&se, all, n, c, h, w, "invert", a->layers, json_pack("{s:s}", "image", ctx->inputs[0]));
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
        .records_model = 1,
    };
    vis_cli_recipe_default(table, verb.n_options, "invert");
    cli_ctx ctx;
    invert_args a = {.vis = {.ctx = &ctx, .recipe_name = "invert"}};
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
