/* cnnvis forward MODEL IMAGE|NPY: runs the model to a layer and summarizes the tensor there;
 * optionally saves it and, for a class vector, lists the top classes. A .npy of N items (the
 * input shape past its first axis) runs as a batch: the tensor holds N items, each its top. */
#include <math.h>
#include <stdlib.h>

#include "commands.h"
#include "cnnvis/visualize.h"
#include "common.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_SAVE, OPT_TOP };

static const cli_option forward_options[] = {
    {"layer", "L", "layer to run to: node name, output-tensor name or index (see cnnvis info)", "the model output",
     OPT_LAYER},
    {"save-tensor", "FILE", "write the layer's tensor as NCHW float32 .npy (N items for a .npy of N)", "none",
     OPT_SAVE},
    {"top", "K", "list the K largest entries of a class vector with their labels (of each item)", "0: none", OPT_TOP},
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
    .summary = "Run the model to a layer; print the tensor's shape and min/max/mean, optionally save it. A .npy "
               "of N inputs (Nx the input shape past its first axis) runs as a batch of N.",
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

/* The top k of each of the n items of y (each `per_item` values, the first n_classes a class
 * vector): top[i * k + j]. */
static void print_text(const cli_ctx *ctx, const forward_args *a, int node, const cnv_shape *shape,
                       const tensor_stats *st, const float *y, size_t per_item, const int *top, int k) {
    char buf[64];
    printf("input:  %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    printf("layer:  %s (index %d, %s)\n", cnv_model_layer_name(ctx->g, node), node, cnv_model_layer_op(ctx->g, node));
    printf("shape:  %s\n", cnv_shape_str(shape, buf, sizeof buf));
    printf("min %.6g  max %.6g  mean %.6g\n", st->min, st->max, st->mean);
    for (int n = 0; k && n < shape->d[0]; n++) {
        if (shape->d[0] > 1) printf("item %d top %d:\n", n, k);
        else printf("top %d:\n", k);
        const int *t = top + (size_t)n * k;
        for (int i = 0; i < k; i++)
            printf("  %d. %4d  %-30s %.6g\n", i + 1, t[i], cnv_labels_name(&ctx->labels, t[i], buf, sizeof buf),
                   y[(size_t)n * per_item + t[i]]);
    }
    if (a->save) printf("saved:  %s\n", a->save);
}

static json_t *top_json(const cli_ctx *ctx, const float *y, const int *top, int k) {
    json_t *list = json_array();
    char buf[32];
    for (int i = 0; list && i < k; i++)
        json_array_append_new(list, json_pack("{s:i, s:s, s:o}", "class", top[i], "label",
                                              cnv_labels_name(&ctx->labels, top[i], buf, sizeof buf), "value",
                                              cli_json_number(y[top[i]])));
    return list;
}

/* "top" is the list of the one item, or for a batch a list of each item's list. */
static int print_json(const cli_ctx *ctx, const forward_args *a, int node, const cnv_shape *shape,
                      const tensor_stats *st, const float *y, size_t per_item, const int *top, int k) {
    json_t *root = json_pack("{s:s, s:s, s:{s:i, s:s, s:s}, s:o, s:o, s:o, s:o}", "input", ctx->inputs[0], "preset",
                             ctx->preset->name, "layer", "index", node, "name", cnv_model_layer_name(ctx->g, node),
                             "op", cnv_model_layer_op(ctx->g, node),
                             "shape", cli_json_shape(shape), "min", cli_json_number(st->min), "max",
                             cli_json_number(st->max), "mean", cli_json_number(st->mean));
    if (root && k && shape->d[0] == 1) json_object_set_new(root, "top", top_json(ctx, y, top, k));
    if (root && k && shape->d[0] > 1) {
        json_t *items = json_array();
        for (int n = 0; items && n < shape->d[0]; n++)
            json_array_append_new(items, top_json(ctx, y + (size_t)n * per_item, top + (size_t)n * k, k));
        json_object_set_new(root, "top", items);
    }
    if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
    return cli_print_json(ctx, root);
}

/* Items run in batches of at most this many: the executor's memory grows with the batch. */
#define FORWARD_BATCH 16

/* Runs the n items of input to node, FORWARD_BATCH at a time, into y (n x per_item values). */
static int run_batches(const cli_ctx *ctx, const float *input, int n, int node, float *y, size_t per_item) {
    cnv_shape in = cli_input_shape(ctx);
    size_t in_item = cnv_shape_numel(&in);
    for (int first = 0; first < n; first += FORWARD_BATCH) {
        int b = n - first < FORWARD_BATCH ? n - first : FORWARD_BATCH;
        float *out = y + (size_t)first * per_item;
        cnv_status s = cnv_forward(ctx->g, ctx->be, b, input + (size_t)first * in_item, node, out, (size_t)b * per_item);
        if (s == CNV_OK) s = cli_check_finite(ctx, node, out, (size_t)b * per_item);
        if (s != CNV_OK) return cli_status_error(ctx, s);
    }
    return 0;
}

static int run_forward(const cli_ctx *ctx, const forward_args *a) {
    int node = cnv_model_output_layer(ctx->g);
    int code = a->layer ? cli_find_layer(ctx, a->layer, &node) : 0;
    if (code) return code;
    if (node < 0) return cli_error(ctx, CLI_EXIT_USAGE, "%s: the graph output is not computed by a layer", ctx->model_path);
    cnv_shape out_shape = cli_layer_shape(ctx, node);
    int n_classes = cli_class_count(&out_shape);
    if (a->top && !n_classes) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "--top needs a class vector, but layer %s is %s",
                         cnv_model_layer_name(ctx->g, node), cnv_shape_str(&out_shape, buf, sizeof buf));
    }
    float *input = NULL, *y = NULL;
    int *top = NULL, n = 0;
    size_t per_item = cnv_shape_numel(&out_shape);
    code = cli_load_items(ctx, ctx->inputs[0], &input, &n);
    if (!code && !(y = malloc((size_t)n * per_item * sizeof *y))) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) code = run_batches(ctx, input, n, node, y, per_item);
    cnv_shape shape = out_shape;
    shape.d[0] = n;
    if (!code && a->save) code = cli_save_tensor(ctx, a->save, y, &shape);
    int k = a->top < n_classes ? a->top : n_classes;
    if (!code && k) {
        top = malloc(sizeof *top * (size_t)k * (size_t)n);
        if (!top) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
        for (int i = 0; top && i < n; i++) cli_top_k(y + (size_t)i * per_item, n_classes, k, top + (size_t)i * k);
    }
    if (!code) {
        tensor_stats st = stats_of(y, cnv_shape_numel(&shape));
        if (ctx->json) code = print_json(ctx, a, node, &shape, &st, y, per_item, top, k);
        else print_text(ctx, a, node, &shape, &st, y, per_item, top, k);
    }
    free(top);
    free(y);
    free(input);
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
