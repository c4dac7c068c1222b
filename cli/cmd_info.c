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

static void print_text(const cli_ctx *ctx, const cnv_receptive_field *rf, size_t total_params) {
    const cnv_graph *g = ctx->g;
    const cnv_value *in = &g->values[g->input];
    char shape[64], a[32], b[32];
    printf("model:  %s\n", ctx->model_path);
    printf("preset: %s (%s): %s\n", ctx->preset->name, ctx->preset_origin, ctx->preset->description);
    printf("input:  %s %s%s\n", in->name, cnv_shape_str(&in->shape, shape, sizeof shape),
           (g->input_symbolic & 12u) ? " (height and width symbolic in the file: a .npy input of another size "
                                       "loads the model at its size)"
                                     : "");
    if (ctx->labels.n) printf("labels: %s (%d classes)\n", ctx->labels_origin, ctx->labels.n);
    if (ctx->preset->default_layers) printf("layers worth visualizing: %s\n", ctx->preset->default_layers);
    int name_w = 4;
    for (int i = 0; i < g->n_nodes; i++) {
        int n = (int)strlen(g->nodes[i].name);
        if (n > name_w) name_w = n;
    }
    printf("\n%5s  %-*s  %-18s %-16s %10s %9s %7s\n", "index", name_w, "name", "op", "output shape", "params",
           "RF", "stride");
    for (int i = 0; i < g->n_nodes; i++) {
        const cnv_node *nd = &g->nodes[i];
        printf("%5d  %-*s  %-18s %-16s %10zu %9s %7s\n", i, name_w, nd->name, cnv_op_name(nd->op),
               cnv_shape_str(&g->values[nd->out].shape, shape, sizeof shape), cnv_node_param_count(g, i),
               pair_str(rf[i].size, a, sizeof a), pair_str(rf[i].stride, b, sizeof b));
    }
    printf("\n%d layers, %zu parameters\n", g->n_nodes, total_params);
}

static json_t *pair_json(const int v[2]) { return json_pack("[ii]", v[0], v[1]); }

static int print_json(const cli_ctx *ctx, const cnv_receptive_field *rf, size_t total_params) {
    const cnv_graph *g = ctx->g;
    json_t *layers = json_array();
    for (int i = 0; layers && i < g->n_nodes; i++) {
        const cnv_node *nd = &g->nodes[i];
        json_array_append_new(layers, json_pack("{s:i, s:s, s:s, s:s, s:o, s:I, s:o, s:o}", "index", i, "name",
                                                nd->name, "op", cnv_op_name(nd->op), "output",
                                                g->values[nd->out].name, "shape",
                                                cli_json_shape(&g->values[nd->out].shape), "params",
                                                (json_int_t)cnv_node_param_count(g, i), "receptive_field",
                                                pair_json(rf[i].size), "stride", pair_json(rf[i].stride)));
    }
    const cnv_value *in = &g->values[g->input];
    json_t *root = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s, s:o}, s:i, s:o, s:I}", "model", ctx->model_path,
                             "preset", "name", ctx->preset->name, "origin", ctx->preset_origin, "description",
                             ctx->preset->description, "input", "name", in->name, "shape", cli_json_shape(&in->shape),
                             "n_layers", g->n_nodes, "layers", layers, "total_params", (json_int_t)total_params);
    if (root && ctx->labels.n)
        json_object_set_new(root, "labels", json_pack("{s:s, s:i}", "source", ctx->labels_origin, "classes", ctx->labels.n));
    return cli_print_json(ctx, root);
}

static int run_info(const cli_ctx *ctx) {
    const cnv_graph *g = ctx->g;
    cnv_receptive_field *rf = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *rf);
    if (!rf) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    cnv_graph_receptive_fields(g, rf);
    size_t total = 0;
    for (int i = 0; i < g->n_nodes; i++) total += cnv_node_param_count(g, i);
    int code = 0;
    if (ctx->json) code = print_json(ctx, rf, total);
    else print_text(ctx, rf, total);
    free(rf);
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
