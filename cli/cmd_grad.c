/* cnnvis grad MODEL IMAGE|NPY: the gradient of an objective with respect to the input tensor.
 * Objectives: --class K, the logit K of the preset's logits layer; or --layer L --channel C,
 * the mean of channel C of layer L over its positions. */
#include <math.h>
#include <stdlib.h>

#include "commands.h"
#include "common.h"

enum { OPT_CLASS = CLI_VERB_ID, OPT_LAYER, OPT_CHANNEL, OPT_SAVE };

static const cli_option grad_options[] = {
    {"class", "K", "objective: logit K (index or label name) of the preset's logits layer", NULL, OPT_CLASS},
    {"layer", "L", "objective with --channel: layer by node name, output-tensor name or index", NULL, OPT_LAYER},
    {"channel", "C", "objective with --layer: the mean of channel C of that layer", NULL, OPT_CHANNEL},
    {"save-tensor", "FILE", "write the input gradient as NCHW float32 .npy", "none", OPT_SAVE},
};

typedef struct grad_args {
    const cli_ctx *ctx;
    const char *class_spec, *layer, *save;
    int channel; /* -1: not given */
} grad_args;

static int on_option(void *state, int id, const char *arg) {
    grad_args *a = state;
    switch (id) {
    case OPT_CLASS: a->class_spec = arg; break;
    case OPT_LAYER: a->layer = arg; break;
    case OPT_CHANNEL: return cli_parse_int(a->ctx, "channel", arg, 0, &a->channel);
    case OPT_SAVE: a->save = arg; break;
    }
    return 0;
}

static const cli_verb grad_verb = {
    .name = "grad",
    .synopsis = "MODEL IMAGE|NPY (--class K | --layer L --channel C) [options]",
    .summary = "Gradient of an objective w.r.t. the input; prints the objective, the gradient's norm and max.",
    .options = grad_options,
    .n_options = sizeof grad_options / sizeof grad_options[0],
    .min_inputs = 1,
    .max_inputs = 1,
    .on_option = on_option,
};

/* The objective as a node and the seed gradient on its output (d objective / d output). */
typedef struct objective {
    int node;
    char what[160];
    float *seed;
} objective;

static int objective_class(const cli_ctx *ctx, const grad_args *a, objective *o) {
    int code = cli_logits_layer(ctx, &o->node);
    if (code) return code;
    const cnv_shape *s = &ctx->g->values[ctx->g->nodes[o->node].out].shape;
    int n_classes = cli_class_count(s);
    if (!n_classes) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "the logits layer %s is %s, not a class vector",
                         ctx->g->nodes[o->node].name, cnv_shape_str(s, buf, sizeof buf));
    }
    int k;
    code = cli_find_class(ctx, a->class_spec, n_classes, &k);
    if (code) return code;
    o->seed = calloc((size_t)n_classes, sizeof *o->seed);
    if (!o->seed) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    o->seed[k] = 1.0f;
    char buf[64];
    snprintf(o->what, sizeof o->what, "logit %d (%s) of %s", k, cnv_labels_name(&ctx->labels, k, buf, sizeof buf),
             ctx->g->nodes[o->node].name);
    return 0;
}

static int objective_channel(const cli_ctx *ctx, const grad_args *a, objective *o) {
    int code = cli_find_layer(ctx, a->layer, &o->node);
    if (code) return code;
    const cnv_shape *s = &ctx->g->values[ctx->g->nodes[o->node].out].shape;
    if (s->ndim < 2) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: it has no channel axis", ctx->g->nodes[o->node].name,
                         cnv_shape_str(s, buf, sizeof buf));
    }
    if (a->channel >= s->d[1])
        return cli_error(ctx, CLI_EXIT_USAGE, "channel %d out of range: layer %s has %d channels (0..%d)", a->channel,
                         ctx->g->nodes[o->node].name, s->d[1], s->d[1] - 1);
    size_t n = cnv_shape_numel(s), per_channel = n / (size_t)s->d[1];
    o->seed = calloc(n, sizeof *o->seed);
    if (!o->seed) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; i < per_channel; i++) o->seed[(size_t)a->channel * per_channel + i] = 1.0f / (float)per_channel;
    snprintf(o->what, sizeof o->what, "mean of channel %d of %s", a->channel, ctx->g->nodes[o->node].name);
    return 0;
}

static int choose_objective(const cli_ctx *ctx, const grad_args *a, objective *o) {
    if (a->class_spec && (a->layer || a->channel >= 0))
        return cli_error(ctx, CLI_EXIT_USAGE, "give either --class or --layer with --channel, not both");
    if (a->class_spec) return objective_class(ctx, a, o);
    if (!a->layer || a->channel < 0)
        return cli_error(ctx, CLI_EXIT_USAGE, "needs an objective: --class K, or --layer L with --channel C");
    return objective_channel(ctx, a, o);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static int report(const cli_ctx *ctx, const grad_args *a, const objective *o, double value, const float *grad,
                  const cnv_shape *shape) {
    size_t n = cnv_shape_numel(shape);
    double norm = sqrt(dot(grad, grad, n)), max_abs = 0;
    for (size_t i = 0; i < n; i++) max_abs = fmax(max_abs, fabs(grad[i]));
    if (ctx->json) {
        json_t *root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "input", ctx->inputs[0], "preset",
                                 ctx->preset->name, "objective", o->what, "value", cli_json_number(value),
                                 "grad_shape", cli_json_shape(shape), "grad_norm", cli_json_number(norm),
                                 "grad_max_abs", cli_json_number(max_abs));
        if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
        return cli_print_json(ctx, root);
    }
    char buf[64];
    printf("input:      %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    printf("objective:  %s = %.6g\n", o->what, value);
    printf("gradient:   %s, L2 norm %.6g, max |g| %.6g\n", cnv_shape_str(shape, buf, sizeof buf), norm, max_abs);
    if (a->save) printf("saved:      %s\n", a->save);
    return 0;
}

static int run_grad(const cli_ctx *ctx, const grad_args *a) {
    objective o = {0};
    cnv_exec *ex = NULL;
    float *y = NULL, *grad = NULL;
    cnv_shape y_shape;
    const cnv_shape *in_shape = &ctx->g->values[ctx->g->input].shape;
    int code = choose_objective(ctx, a, &o);
    if (!code) code = cli_exec_create(ctx, &ex);
    if (!code) code = cli_set_input(ctx, ex, ctx->inputs[0]);
    if (!code) {
        cnv_status s = cnv_exec_forward(ex, o.node);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) code = cli_read_output(ctx, ex, o.node, &y, &y_shape);
    if (!code && !(grad = malloc(cnv_shape_numel(in_shape) * sizeof *grad)))
        code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) {
        cnv_status s = cnv_exec_backward(ex, ctx->g->nodes[o.node].out, o.seed, 0);
        if (s == CNV_OK) s = cnv_exec_read_grad(ex, ctx->g->input, grad);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code && a->save) code = cli_save_tensor(ctx, a->save, grad, in_shape);
    /* The objective is linear in the output, so its value is the seed's dot product with it. */
    if (!code) code = report(ctx, a, &o, dot(o.seed, y, cnv_shape_numel(&y_shape)), grad, in_shape);
    free(grad);
    free(y);
    free(o.seed);
    cnv_exec_free(ex);
    return code;
}

int cmd_grad(int argc, char **argv) {
    cli_ctx ctx;
    grad_args a = {.ctx = &ctx, .channel = -1};
    int code = cli_parse(&ctx, &grad_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_grad(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
