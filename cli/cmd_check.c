/* cnnvis check MODEL [IMAGE|NPY]: the chosen GPU against the CPU reference on a whole model —
 * every layer's output, and the gradient of a channel objective at every layer back to the
 * input. Exits 1 when any relative error exceeds the tolerance. What a user runs on a new
 * vendor's GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "core/check.h"
#include "core/rng.h"
#include "io/preprocess.h"

enum { OPT_LAYER = CLI_VERB_ID, OPT_CHANNEL, OPT_TOL, OPT_SEED };

static const cli_option check_options[] = {
    {"layer", "L", "objective layer for the backward check (name, output-tensor name or index)",
     "the deepest layer with a spatial output", OPT_LAYER},
    {"channel", "C", "objective: the mean of this channel of the layer", "0", OPT_CHANNEL},
    {"tol", "T", "largest relative error ‖gpu−cpu‖/‖cpu‖ allowed per layer", "1e-4", OPT_TOL},
    {"seed", "S", "seed of the random input used when no IMAGE|NPY is given", "1", OPT_SEED},
};

typedef struct check_args {
    const cli_ctx *ctx;
    const char *layer;
    int channel, seed;
    double tol;
} check_args;

static int on_option(void *state, int id, const char *arg) {
    check_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layer = arg; break;
    case OPT_CHANNEL: return cli_parse_int(a->ctx, "channel", arg, 0, &a->channel);
    case OPT_SEED: return cli_parse_int(a->ctx, "seed", arg, 0, &a->seed);
    case OPT_TOL: {
        char *end;
        a->tol = strtod(arg, &end);
        if (end == arg || *end || !(a->tol > 0) || !isfinite(a->tol))
            return cli_error(a->ctx, CLI_EXIT_USAGE, "--tol: '%s' is not a positive number", arg);
        break;
    }
    }
    return 0;
}

static const cli_verb check_verb = {
    .name = "check",
    .synopsis = "MODEL [IMAGE|NPY] [--device D] [options]",
    .summary = "Check a GPU against the CPU backend on a model: forward and backward, layer by layer.",
    .options = check_options,
    .n_options = sizeof check_options / sizeof check_options[0],
    .min_inputs = 0,
    .max_inputs = 1,
    .on_option = on_option,
};

/* A random 8-bit image through the preset's preprocessing, so values are in the model's range. */
static int random_input(const cli_ctx *ctx, int seed, float *dst) {
    const cnv_shape *s = &ctx->g->values[ctx->g->input].shape;
    if (s->ndim != 4 || (s->d[1] != 1 && s->d[1] != 3)) {
        cnv_rng r;
        cnv_rng_seed(&r, (uint64_t)seed);
        for (size_t i = 0; i < cnv_shape_numel(s); i++) dst[i] = cnv_rng_normal(&r);
        return 0;
    }
    cnv_image img = {.w = s->d[3], .h = s->d[2], .c = s->d[1]};
    img.px = malloc((size_t)img.w * img.h * img.c);
    if (!img.px) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    cnv_rng r;
    cnv_rng_seed(&r, (uint64_t)seed);
    for (size_t i = 0; i < (size_t)img.w * img.h * img.c; i++) img.px[i] = (unsigned char)cnv_rng_below(&r, 256);
    cnv_preprocess_pixels(&img, ctx->preset, dst);
    free(img.px);
    return 0;
}

static void print_report(const cli_ctx *ctx, const check_args *a, const cnv_check_report *rep, int node) {
    const cnv_graph *g = ctx->g;
    printf("%-5s %-32s %-20s %12s %12s\n", "index", "layer", "op", "forward", "backward");
    for (int n = 0; n < g->n_nodes; n++) {
        const cnv_check_layer *l = &rep->layers[n];
        char bwd[32];
        if (l->bwd_err < 0)
            snprintf(bwd, sizeof bwd, "-");
        else
            snprintf(bwd, sizeof bwd, "%.2e%s", l->bwd_err, l->bwd_err > a->tol ? " !" : "");
        printf("%-5d %-32s %-20s %10.2e%s %12s\n", n, g->nodes[n].name, cnv_op_name(g->nodes[n].op), l->fwd_err,
               l->fwd_err > a->tol ? " !" : "  ", bwd);
    }
    printf("input gradient of mean(%s channel %d): %.2e\n", g->nodes[node].name, a->channel, rep->input_grad_err);
}

static json_t *report_json(const cli_ctx *ctx, const check_args *a, const cnv_check_report *rep, int node,
                           const char *device, int passed) {
    const cnv_graph *g = ctx->g;
    json_t *layers = json_array();
    for (int n = 0; n < g->n_nodes; n++) {
        const cnv_check_layer *l = &rep->layers[n];
        json_array_append_new(layers, json_pack("{s:i, s:s, s:s, s:o, s:o}", "index", n, "name", g->nodes[n].name, "op",
                                                cnv_op_name(g->nodes[n].op), "forward", cli_json_number(l->fwd_err),
                                                "backward", l->bwd_err < 0 ? json_null() : cli_json_number(l->bwd_err)));
    }
    return json_pack("{s:s, s:s, s:f, s:s, s:i, s:o, s:o, s:o, s:b}", "model", ctx->model_path, "device", device, "tol",
                     a->tol, "objective_layer", g->nodes[node].name, "objective_channel", a->channel,
                     "input_gradient", cli_json_number(rep->input_grad_err), "max_forward",
                     cli_json_number(rep->max_fwd_err), "layers", layers, "passed", passed);
}

static int run_check(cli_ctx *ctx, check_args *a) {
    /* ctx->be is the device under test (cli_load opened it from --device). */
    if (strcmp(cnv_backend_name(ctx->be), "cpu") == 0)
        return cli_error(ctx, CLI_EXIT_USAGE,
                         "no GPU to check: name a Vulkan device with --device (cnnvis devices lists them)");
    /* Default objective: the deepest map layer (the last node when the model has none). */
    int node = cnv_graph_last_map_node(ctx->g, ctx->g->n_nodes), code;
    if (node < 0) node = ctx->g->n_nodes - 1;
    if (a->layer && (code = cli_find_layer(ctx, a->layer, &node))) return code;
    const cnv_shape *os = &ctx->g->values[ctx->g->nodes[node].out].shape;
    if (os->ndim < 2 || a->channel >= os->d[1])
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s has %d channels: no channel %d", ctx->g->nodes[node].name,
                         os->ndim < 2 ? 1 : os->d[1], a->channel);

    float *input = NULL;
    if (ctx->n_inputs) {
        cnv_status s = cnv_preprocess_file(ctx->inputs[0], ctx->preset, &ctx->g->values[ctx->g->input].shape, &input);
        if (s != CNV_OK) return cli_status_error(ctx, s);
    } else {
        input = malloc(cnv_shape_numel(&ctx->g->values[ctx->g->input].shape) * sizeof *input);
        if (!input) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
        if ((code = random_input(ctx, a->seed, input))) {
            free(input);
            return code;
        }
    }
    cnv_backend *cpu = NULL;
    cnv_check_report rep;
    cnv_status s = cnv_backend_cpu_create(&cpu);
    if (s == CNV_OK) s = cnv_check_backends(ctx->g, ctx->be, cpu, input, node, a->channel, &rep);
    cnv_backend_free(cpu);
    free(input);
    if (s != CNV_OK) return cli_status_error(ctx, s);

    int passed = rep.max_fwd_err <= a->tol && rep.max_bwd_err <= a->tol && rep.input_grad_err <= a->tol;
    const char *device = cnv_backend_device(ctx->be);
    if (ctx->json)
        cli_print_json(ctx, report_json(ctx, a, &rep, node, device, passed));
    else {
        printf("device: %s\n", device);
        print_report(ctx, a, &rep, node);
        printf("%s: largest forward error %.2e (%s), largest backward error %.2e (%s), tolerance %.0e\n",
               passed ? "check passed" : "CHECK FAILED", rep.max_fwd_err, ctx->g->nodes[rep.worst_fwd_layer].name,
               rep.max_bwd_err, rep.worst_bwd_layer >= 0 ? ctx->g->nodes[rep.worst_bwd_layer].name : "-", a->tol);
    }
    cnv_check_report_free(&rep);
    return passed ? CLI_EXIT_OK : CLI_EXIT_RUNTIME;
}

int cmd_check(int argc, char **argv) {
    cli_ctx ctx;
    check_args a = {.ctx = &ctx, .tol = 1e-4, .seed = 1};
    int code = cli_parse(&ctx, &check_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_check(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
