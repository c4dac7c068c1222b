/* cnnvis class MODEL --class K[,K...]: images that maximize a class's logit (or, with
 * --softmax, its probability), one per class, as a grid when there are several. The class of a
 * segmentation output (1xCxHxW) is its channel K, its logits averaged over the positions. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vis_cli.h"

enum { OPT_CLASS = CLI_VERB_ID, OPT_SOFTMAX };

static const cli_option own_options[] = {
    {"class", "K[,K...]", "classes by index or label name, comma-separated", NULL, OPT_CLASS},
    {"softmax", NULL, "maximize the probability (the Softmax or Sigmoid output) instead of the logit", "off",
     OPT_SOFTMAX},
};

typedef struct class_args {
    vis_cli vis;
    const char *classes;
    int softmax;
} class_args;

static int on_option(void *state, int id, const char *arg) {
    class_args *a = state;
    switch (id) {
    case OPT_CLASS: a->classes = arg; return 0;
    case OPT_SOFTMAX: a->softmax = 1; return 0;
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* The node the objective reads: the logits, or the Softmax or Sigmoid that follows them. */
static int objective_node(const cli_ctx *ctx, int softmax, int *node) {
    int code = cli_logits_layer(ctx, node);
    if (code || !softmax) return code;
    for (int n = *node + 1; n < cnv_model_layer_count(ctx->g); n++) {
        const char *op = cnv_model_layer_op(ctx->g, n);
        if (strcmp(op, "Softmax") == 0 || strcmp(op, "Sigmoid") == 0) {
            *node = n;
            return 0;
        }
    }
    return cli_error(ctx, CLI_EXIT_USAGE, "--softmax: %s has no Softmax or Sigmoid after its logits layer %s",
                     ctx->model_path, cnv_model_layer_name(ctx->g, *node));
}

static int build_items(const cli_ctx *ctx, const class_args *a, int node, cnv_vis_item **items, int *n) {
    cnv_shape out = {0};
    out.ndim = cnv_model_layer_shape(ctx->g, node, out.d);
    int n_classes;
    int code = cli_class_scores_count(ctx, node, &out, &n_classes);
    if (code) return code;
    char *list = strdup(a->classes);
    *items = calloc(strlen(a->classes) + 1, sizeof **items);
    if (!list || !*items) {
        free(list);
        return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !code; tok = strtok_r(NULL, ",", &save)) {
        int k;
        code = cli_find_class(ctx, tok, n_classes, &k);
        if (code) break;
        cnv_vis_item *it = &(*items)[(*n)++];
        *it = (cnv_vis_item){.type = CNV_VIS_UNIT, .index = k};
        char name[64];
        snprintf(it->caption, sizeof it->caption, "%.*s", 20, cnv_labels_name(&ctx->labels, k, name, sizeof name));
    }
    free(list);
    if (!code && *n == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "--class: no class given");
    return code;
}

int cmd_class(int argc, char **argv) {
    cli_option table[64];
    cli_verb verb = {
        .name = "class",
        .synopsis = "MODEL --class K[,K...] -o OUT.png [options]",
        .summary = "Synthesize images that maximize a class (activation maximization of a logit).",
        .options = table,
        .n_options = vis_cli_options(own_options, 2, table, 64),
        .on_option = on_option,
        .records_model = 1,
    };
    cli_ctx ctx;
    class_args a = {.vis = {.ctx = &ctx}};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = !a.classes ? cli_error(&ctx, CLI_EXIT_USAGE, "give --class K (index or label name)") : 0;
        if (!code) code = cli_load(&ctx, 1);
        if (!code) code = vis_cli_prepare(&a.vis);
        int node = 0, n = 0;
        cnv_vis_item *items = NULL;
        if (!code) code = objective_node(&ctx, a.softmax, &node);
        if (!code) code = build_items(&ctx, &a, node, &items, &n);
        if (!code) code = vis_cli_run(&a.vis, node, items, n, a.softmax ? "class (probability)" : "class (logit)", NULL, NULL,
                                    NULL);
        free(items);
    }
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
