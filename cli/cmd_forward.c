/* cnnvis forward MODEL IMAGE|NPY: runs the model to a layer and summarizes the tensor there;
 * optionally saves it and, for a class vector, lists the top classes. */
#include <math.h>
#include <stdlib.h>

#include "commands.h"
#include "common.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_SAVE, OPT_TOP };

static const cli_option forward_options[] = {
    {"layer", "L", "layer to run to: node name, output-tensor name or index (see cnnvis info)", "the model output",
     OPT_LAYER},
    {"save-tensor", "FILE", "write the layer's tensor as NCHW float32 .npy", "none", OPT_SAVE},
    {"top", "K", "list the K largest entries of a class vector with their labels", "0: none", OPT_TOP},
};

typedef struct forward_args {
    const cli_ctx *ctx;
    const char *layer;
    const char *save;
    int top;
} forward_args;

static int on_option(void *state, int id, const char *arg) {
    forward_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layer = arg; break;
    case OPT_SAVE: a->save = arg; break;
    case OPT_TOP: return cli_parse_int(a->ctx, "top", arg, 1, &a->top);
    }
    return 0;
}

static const cli_verb forward_verb = {
    .name = "forward",
    .synopsis = "MODEL IMAGE|NPY [options]",
    .summary = "Run the model to a layer; print the tensor's shape and min/max/mean, optionally save it.",
    .options = forward_options,
    .n_options = sizeof forward_options / sizeof forward_options[0],
    .min_inputs = 1,
    .max_inputs = 1,
    .on_option = on_option,
};

typedef struct tensor_stats {
    double min, max, mean;
} tensor_stats;

static tensor_stats stats_of(const float *x, size_t n) {
    tensor_stats s = {INFINITY, -INFINITY, 0};
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] < s.min) s.min = x[i];
        if (x[i] > s.max) s.max = x[i];
        sum += x[i];
    }
    s.mean = sum / (double)n;
    return s;
}

static void print_text(const cli_ctx *ctx, const forward_args *a, int node, const cnv_shape *shape,
                       const tensor_stats *st, const float *y, const int *top, int k) {
    const cnv_node *nd = &ctx->g->nodes[node];
    char buf[64];
    printf("input:  %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    printf("layer:  %s (index %d, %s)\n", nd->name, node, cnv_op_name(nd->op));
    printf("shape:  %s\n", cnv_shape_str(shape, buf, sizeof buf));
    printf("min %.6g  max %.6g  mean %.6g\n", st->min, st->max, st->mean);
    if (k) printf("top %d:\n", k);
    for (int i = 0; i < k; i++)
        printf("  %d. %4d  %-30s %.6g\n", i + 1, top[i], cnv_labels_name(&ctx->labels, top[i], buf, sizeof buf),
               y[top[i]]);
    if (a->save) printf("saved:  %s\n", a->save);
}

static int print_json(const cli_ctx *ctx, const forward_args *a, int node, const cnv_shape *shape,
                      const tensor_stats *st, const float *y, const int *top, int k) {
    const cnv_node *nd = &ctx->g->nodes[node];
    json_t *root = json_pack("{s:s, s:s, s:{s:i, s:s, s:s}, s:o, s:o, s:o, s:o}", "input", ctx->inputs[0], "preset",
                             ctx->preset->name, "layer", "index", node, "name", nd->name, "op", cnv_op_name(nd->op),
                             "shape", cli_json_shape(shape), "min", cli_json_number(st->min), "max",
                             cli_json_number(st->max), "mean", cli_json_number(st->mean));
    if (root && k) {
        json_t *list = json_array();
        char buf[32];
        for (int i = 0; list && i < k; i++)
            json_array_append_new(list, json_pack("{s:i, s:s, s:o}", "class", top[i], "label",
                                                  cnv_labels_name(&ctx->labels, top[i], buf, sizeof buf), "value",
                                                  cli_json_number(y[top[i]])));
        json_object_set_new(root, "top", list);
    }
    if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
    return cli_print_json(ctx, root);
}

static int run_forward(const cli_ctx *ctx, const forward_args *a) {
    const cnv_graph *g = ctx->g;
    int node = g->values[g->output].producer;
    int code = a->layer ? cli_find_layer(ctx, a->layer, &node) : 0;
    if (code) return code;
    if (node < 0) return cli_error(ctx, CLI_EXIT_USAGE, "%s: the graph output is not computed by a layer", ctx->model_path);
    const cnv_shape *out_shape = &g->values[g->nodes[node].out].shape;
    int n_classes = cli_class_count(out_shape);
    if (a->top && !n_classes) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "--top needs a class vector, but layer %s is %s", g->nodes[node].name,
                         cnv_shape_str(out_shape, buf, sizeof buf));
    }
    cnv_exec *ex = NULL;
    float *y = NULL;
    int *top = NULL;
    cnv_shape shape;
    code = cli_exec_create(ctx, &ex);
    if (!code) code = cli_set_input(ctx, ex, ctx->inputs[0]);
    if (!code) {
        cnv_status s = cnv_exec_forward(ex, node);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) code = cli_read_output(ctx, ex, node, &y, &shape);
    if (!code && a->save) code = cli_save_tensor(ctx, a->save, y, &shape);
    int k = a->top < n_classes ? a->top : n_classes;
    if (!code && k) {
        top = malloc(sizeof *top * (size_t)k);
        if (!top) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
        else cli_top_k(y, n_classes, k, top);
    }
    if (!code) {
        tensor_stats st = stats_of(y, cnv_shape_numel(&shape));
        if (ctx->json) code = print_json(ctx, a, node, &shape, &st, y, top, k);
        else print_text(ctx, a, node, &shape, &st, y, top, k);
    }
    free(top);
    free(y);
    cnv_exec_free(ex);
    return code;
}

int cmd_forward(int argc, char **argv) {
    cli_ctx ctx;
    forward_args a = {.ctx = &ctx};
    int code = cli_parse(&ctx, &forward_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_forward(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
