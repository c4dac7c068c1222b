/* cnnvis check MODEL [IMAGE|NPY]: the chosen GPU against the CPU reference on a whole model —
 * every layer's output, and the gradient of a channel objective at every layer back to the
 * input. Exits 1 when any relative error exceeds the tolerance. What a user runs on a new
 * vendor's GPU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"

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

static void print_report(const cli_ctx *ctx, const check_args *a, const cnv_check_layer *layers,
                         const cnv_check_report *rep, int node) {
    const cnv_graph *g = ctx->g;
    printf("%-5s %-32s %-20s %12s %12s %12s\n", "index", "layer", "op", "forward", "backward", "chained");
    for (int n = 0; n < cnv_model_layer_count(g); n++) {
        const cnv_check_layer *l = &layers[n];
        char bwd[32], chain[32];
        if (l->bwd_err < 0)
            snprintf(bwd, sizeof bwd, "-");
        else
            snprintf(bwd, sizeof bwd, "%.2e%s", l->bwd_err, l->bwd_err > a->tol ? " !" : "");
        snprintf(chain, sizeof chain, l->chain_err < 0 ? "-" : "%.2e", l->chain_err);
        printf("%-5d %-32s %-20s %10.2e%s %12s %12s\n", n, cnv_model_layer_name(g, n), cnv_model_layer_op(g, n),
               l->fwd_err, l->fwd_err > a->tol ? " !" : "  ", bwd, chain);
    }
    printf("chained input gradient of mean(%s channel %d): %.2e\n", cnv_model_layer_name(g, node), a->channel,
           rep->input_grad_err);
}

/* Where the chained gradient first exceeds the tolerance, walking back from the objective: the
 * deepest layer on the path above it; -1 when it never does. */
static int chain_grows_at(const cnv_check_layer *layers, int node, double tol) {
    for (int n = node; n >= 0; n--)
        if (layers[n].chain_err > tol) return n;
    return -1;
}

static json_t *report_json(const cli_ctx *ctx, const check_args *a, const cnv_check_layer *layers,
                           const cnv_check_report *rep, int node, const char *device, int passed) {
    const cnv_graph *g = ctx->g;
    json_t *list = json_array();
    for (int n = 0; n < cnv_model_layer_count(g); n++) {
        const cnv_check_layer *l = &layers[n];
        json_array_append_new(list, json_pack("{s:i, s:s, s:s, s:o, s:o, s:o}", "index", n, "name",
                                              cnv_model_layer_name(g, n), "op", cnv_model_layer_op(g, n), "forward",
                                              cli_json_number(l->fwd_err), "backward",
                                              l->bwd_err < 0 ? json_null() : cli_json_number(l->bwd_err), "chained",
                                              l->chain_err < 0 ? json_null() : cli_json_number(l->chain_err)));
    }
    return json_pack("{s:s, s:s, s:f, s:s, s:i, s:o, s:o, s:o, s:b}", "model", ctx->model_path, "device", device, "tol",
                     a->tol, "objective_layer", cnv_model_layer_name(g, node), "objective_channel", a->channel,
                     "input_gradient", cli_json_number(rep->input_grad_err), "max_forward",
                     cli_json_number(rep->max_fwd_err), "layers", list, "passed", passed);
}

static int run_check(cli_ctx *ctx, check_args *a) {
    /* ctx->be is the device under test (cli_load opened it from --device). */
    if (strcmp(cnv_backend_name(ctx->be), "cpu") == 0)
        return cli_error(ctx, CLI_EXIT_USAGE,
                         "no GPU to check: name a Vulkan device with --device (cnnvis devices lists them)");
    int node = cnv_check_default_layer(ctx->g), code;
    if (a->layer && (code = cli_find_layer(ctx, a->layer, &node))) return code;
    int os[CNV_MAX_RANK], rank = cnv_model_layer_shape(ctx->g, node, os);
    if (rank < 2 || a->channel >= os[1])
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s has %d channels: no channel %d",
                         cnv_model_layer_name(ctx->g, node), rank < 2 ? 1 : os[1], a->channel);

    int in[CNV_MAX_RANK], in_rank = cnv_model_input_shape(ctx->g, in);
    cnv_shape in_shape = {.ndim = in_rank};
    for (int i = 0; i < in_rank; i++) in_shape.d[i] = in[i];
    float *input = NULL;
    cnv_status s = CNV_OK;
    if (ctx->n_inputs) {
        s = cnv_preprocess_file(ctx->inputs[0], ctx->preset, &in_shape, &input);
    } else {
        input = malloc(cnv_shape_numel(&in_shape) * sizeof *input);
        if (!input) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
        s = cnv_check_random_input(ctx->g, ctx->preset->name, (uint64_t)a->seed, input);
    }
    if (s != CNV_OK) {
        free(input);
        return cli_status_error(ctx, s);
    }
    cnv_check_layer *layers = malloc((size_t)cnv_model_layer_count(ctx->g) * sizeof *layers);
    if (!layers) {
        free(input);
        return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    cnv_check_report rep;
    s = cnv_check_backends(ctx->g, ctx->be, NULL, input, node, a->channel, layers, &rep);
    free(input);
    if (s != CNV_OK) {
        free(layers);
        return cli_status_error(ctx, s);
    }

    /* Kernels are judged by each layer's forward and own backward; the chained gradient is shown
     * beside them, since a kink flipped by rounding moves it without any kernel being wrong
     * (cnv_check_layer). */
    int passed = rep.max_fwd_err <= a->tol && rep.max_bwd_err <= a->tol;
    const char *device = cnv_backend_device(ctx->be);
    if (ctx->json)
        cli_print_json(ctx, report_json(ctx, a, layers, &rep, node, device, passed));
    else {
        printf("device: %s\n", device);
        print_report(ctx, a, layers, &rep, node);
        printf("%s: largest forward error %.2e (%s), largest backward error %.2e (%s), tolerance %.0e\n",
               passed ? "check passed" : "CHECK FAILED", rep.max_fwd_err,
               cnv_model_layer_name(ctx->g, rep.worst_fwd_layer),
               rep.max_bwd_err, rep.worst_bwd_layer >= 0 ? cnv_model_layer_name(ctx->g, rep.worst_bwd_layer) : "-",
               a->tol);
        const int grows = chain_grows_at(layers, node, a->tol);
        if (passed && grows >= 0)
            printf("note: the chained gradient differs by up to %.2e, from %s down, although every layer's own "
                   "backward agrees: a rounding difference of the forward most likely flips a kink there (a ReLU "
                   "input at 0, a max-pool near-tie)\n",
                   rep.max_chain_err, cnv_model_layer_name(ctx->g, grows));
    }
    free(layers);
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
