/* cnnvis info MODEL: the preset in use, the input, then every layer with its output shape,
 * parameter count and receptive field (size and stride in input pixels), and totals. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"

static const cli_verb info_verb = {
    .name = "info",
    .synopsis = "MODEL [options]",
    .summary = "List every layer: index, name, op, output shape, parameters, receptive field and stride.",
    .min_inputs = 0,
    .max_inputs = 0,
};

/* "3" for a square field, "3x5" (H x W) otherwise. */
static const char *pair_str(const int v[2], char *buf, size_t size) {
    if (v[0] == v[1]) snprintf(buf, size, "%d", v[0]);
    else snprintf(buf, size, "%dx%d", v[0], v[1]);
    return buf;
}

/* Every layer's receptive field (cnv_model_receptive_fields): H and W of layer i at 2i, 2i+1. */
typedef struct fields {
    int *size, *stride;
} fields;

static void print_text(const cli_ctx *ctx, const fields *rf, size_t total_params) {
    const cnv_graph *g = ctx->g;
    cnv_shape in = cli_input_shape(ctx);
    int n_layers = cnv_model_layer_count(g);
    char shape[64], a[32], b[32];
    printf("model:  %s\n", ctx->model_path);
    printf("preset: %s (%s): %s\n", ctx->preset->name, ctx->preset_origin, ctx->preset->description);
    printf("input:  %s %s%s\n", cnv_model_input_name(g), cnv_shape_str(&in, shape, sizeof shape),
           (cnv_model_input_symbolic(g) & 12u) ? " (height and width symbolic in the file: a .npy input of another "
                                                 "size loads the model at its size)"
                                               : "");
    if (ctx->labels.n) printf("labels: %s (%d classes)\n", ctx->labels_origin, ctx->labels.n);
    if (ctx->preset->default_layers) printf("layers worth visualizing: %s\n", ctx->preset->default_layers);
    int name_w = 4;
    for (int i = 0; i < n_layers; i++) {
        int n = (int)strlen(cnv_model_layer_name(g, i));
        if (n > name_w) name_w = n;
    }
    printf("\n%5s  %-*s  %-18s %-16s %10s %9s %7s\n", "index", name_w, "name", "op", "output shape", "params",
           "RF", "stride");
    for (int i = 0; i < n_layers; i++) {
        cnv_shape out = cli_layer_shape(ctx, i);
        printf("%5d  %-*s  %-18s %-16s %10zu %9s %7s\n", i, name_w, cnv_model_layer_name(g, i), cnv_model_layer_op(g, i),
               cnv_shape_str(&out, shape, sizeof shape), cnv_model_layer_params(g, i),
               pair_str(rf->size + 2 * i, a, sizeof a), pair_str(rf->stride + 2 * i, b, sizeof b));
    }
    printf("\n%d layers, %zu parameters\n", n_layers, total_params);
}

static json_t *pair_json(const int v[2]) { return json_pack("[ii]", v[0], v[1]); }

static int print_json(const cli_ctx *ctx, const fields *rf, size_t total_params) {
    const cnv_graph *g = ctx->g;
    int n_layers = cnv_model_layer_count(g);
    json_t *layers = json_array();
    for (int i = 0; layers && i < n_layers; i++) {
        cnv_shape out = cli_layer_shape(ctx, i);
        json_array_append_new(layers, json_pack("{s:i, s:s, s:s, s:s, s:o, s:I, s:o, s:o}", "index", i, "name",
                                                cnv_model_layer_name(g, i), "op", cnv_model_layer_op(g, i), "output",
                                                cnv_model_layer_output_name(g, i), "shape", cli_json_shape(&out),
                                                "params", (json_int_t)cnv_model_layer_params(g, i), "receptive_field",
                                                pair_json(rf->size + 2 * i), "stride", pair_json(rf->stride + 2 * i)));
    }
    cnv_shape in = cli_input_shape(ctx);
    json_t *root = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:o}, s:i, s:o, s:I}", "model", ctx->model_path,
                             "preset", "name", ctx->preset->name, "origin", ctx->preset_origin, "description",
                             ctx->preset->description, "input", "name", cnv_model_input_name(g), "shape",
                             cli_json_shape(&in), "n_layers", n_layers, "layers", layers, "total_params",
                             (json_int_t)total_params);
    if (root && ctx->labels.n)
        json_object_set_new(root, "labels", json_pack("{s:s, s:i}", "source", ctx->labels_origin, "classes", ctx->labels.n));
    return cli_print_json(ctx, root);
}

static int run_info(const cli_ctx *ctx) {
    const cnv_graph *g = ctx->g;
    int n_layers = cnv_model_layer_count(g);
    size_t n = 2 * (size_t)(n_layers ? n_layers : 1);
    fields rf = {calloc(n, sizeof *rf.size), calloc(n, sizeof *rf.stride)};
    int code = rf.size && rf.stride ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) {
        cnv_status s = cnv_model_receptive_fields(g, rf.size, rf.stride);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    size_t total = 0;
    for (int i = 0; i < n_layers; i++) total += cnv_model_layer_params(g, i);
    if (!code && ctx->json) code = print_json(ctx, &rf, total);
    else if (!code) print_text(ctx, &rf, total);
    free(rf.size);
    free(rf.stride);
    return code;
}

int cmd_info(int argc, char **argv) {
    cli_ctx ctx;
    int code = cli_parse(&ctx, &info_verb, argc, argv, NULL);
    if (code < 0) {
        code = cli_load(&ctx, 0);
        if (!code) code = run_info(&ctx);
    }
    cli_free(&ctx);
    return code;
}
