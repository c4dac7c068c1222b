/* cnnvis grad MODEL IMAGE|NPY: the gradient of an objective with respect to the input tensor.
 * Objectives: --class K, the logit K of the preset's logits layer; or --layer L --channel C,
 * the mean of channel C of layer L over its positions. A .npy of N items gives N gradients, the
 * objective taken on each item alone. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "commands.h"
#include "common.h"

enum { OPT_CLASS = CLI_VERB_ID, OPT_LAYER, OPT_CHANNEL, OPT_SAVE };

static const cli_option grad_options[] = {
    {"class", "K", "objective: logit K (index or label name) of the preset's logits layer; of a segmentation output "
                   "(1xCxHxW), the mean of its channel K", NULL, OPT_CLASS},
    {"layer", "L", "objective with --channel: layer by node name, output-tensor name or index", NULL, OPT_LAYER},
    {"channel", "C", "objective with --layer: the mean of channel C of that layer", NULL, OPT_CHANNEL},
    {"save-tensor", "FILE", "write the input gradient as NCHW float32 .npy (N items for a .npy of N)", "none",
     OPT_SAVE},
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
    .summary = "Gradient of an objective w.r.t. the input; prints the objective, the gradient's norm and max. A "
               ".npy of N inputs gives N gradients (JSON: value, grad_norm, grad_max_abs become lists of N).",
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
    cnv_shape s = cli_layer_shape(ctx, o->node);
    int n_classes, k;
    code = cli_class_scores_count(ctx, o->node, &s, &n_classes);
    if (!code) code = cli_find_class(ctx, a->class_spec, n_classes, &k);
    if (code) return code;
    o->seed = malloc(cnv_shape_numel(&s) * sizeof *o->seed);
    if (!o->seed) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    cnv_class_score_seed(&s, k, o->seed);
    char buf[64];
    snprintf(o->what, sizeof o->what, "%s %d (%s) of %s", cli_class_score_kind(&s), k,
             cnv_labels_name(&ctx->labels, k, buf, sizeof buf), cnv_model_layer_name(ctx->g, o->node));
    return 0;
}

static int objective_channel(const cli_ctx *ctx, const grad_args *a, objective *o) {
    int code = cli_find_layer(ctx, a->layer, &o->node);
    if (code) return code;
    cnv_shape s = cli_layer_shape(ctx, o->node);
    const char *name = cnv_model_layer_name(ctx->g, o->node);
    if (s.ndim < 2) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: it has no channel axis", name,
                         cnv_shape_str(&s, buf, sizeof buf));
    }
    if (a->channel >= s.d[1])
        return cli_error(ctx, CLI_EXIT_USAGE, "channel %d out of range: layer %s has %d channels (0..%d)", a->channel,
                         name, s.d[1], s.d[1] - 1);
    size_t n = cnv_shape_numel(&s), per_channel = n / (size_t)s.d[1];
    o->seed = calloc(n, sizeof *o->seed);
    if (!o->seed) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (size_t i = 0; i < per_channel; i++) o->seed[(size_t)a->channel * per_channel + i] = 1.0f / (float)per_channel;
    snprintf(o->what, sizeof o->what, "mean of channel %d of %s", a->channel, name);
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

/* The objective's value and the gradient's L2 norm and largest magnitude, of one item. */
typedef struct item_stats {
    double value, norm, max_abs;
} item_stats;

static item_stats stats_of(double value, const float *grad, size_t n) {
    item_stats st = {value, sqrt(dot(grad, grad, n)), 0};
    for (size_t i = 0; i < n; i++) st.max_abs = fmax(st.max_abs, fabs(grad[i]));
    return st;
}

/* One field of every item: a number for one item, a list for a batch. */
static json_t *field_json(const item_stats *st, int n, size_t offset) {
    if (n == 1) return cli_json_number(*(const double *)((const char *)st + offset));
    json_t *list = json_array();
    for (int i = 0; list && i < n; i++)
        json_array_append_new(list, cli_json_number(*(const double *)((const char *)&st[i] + offset)));
    return list;
}

static int report(const cli_ctx *ctx, const grad_args *a, const objective *o, const item_stats *st,
                  const cnv_shape *shape) {
    int n = shape->d[0];
    if (ctx->json) {
        json_t *root = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "input", ctx->inputs[0], "preset",
                                 ctx->preset->name, "objective", o->what, "value",
                                 field_json(st, n, offsetof(item_stats, value)), "grad_shape", cli_json_shape(shape),
                                 "grad_norm", field_json(st, n, offsetof(item_stats, norm)), "grad_max_abs",
                                 field_json(st, n, offsetof(item_stats, max_abs)));
        if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
        return cli_print_json(ctx, root);
    }
    char buf[64];
    printf("input:      %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    if (n == 1) {
        printf("objective:  %s = %.6g\n", o->what, st->value);
        printf("gradient:   %s, L2 norm %.6g, max |g| %.6g\n", cnv_shape_str(shape, buf, sizeof buf), st->norm,
               st->max_abs);
    } else {
        printf("objective:  %s\n", o->what);
        printf("gradient:   %s\n", cnv_shape_str(shape, buf, sizeof buf));
        for (int i = 0; i < n; i++)
            printf("  item %d: objective %.6g, L2 norm %.6g, max |g| %.6g\n", i, st[i].value, st[i].norm,
                   st[i].max_abs);
    }
    if (a->save) printf("saved:      %s\n", a->save);
    return 0;
}

/* The objective's value and the input gradient of item `item` of input into grad. */
static int grad_item(const cli_ctx *ctx, cnv_exec *ex, const objective *o, const float *input, int item, float *grad,
                     double *value) {
    float *y = NULL;
    cnv_shape y_shape;
    int code = cli_set_item(ctx, ex, input, item);
    if (!code) {
        cnv_status s = cnv_exec_forward(ex, o->node);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) code = cli_read_output(ctx, ex, o->node, &y, &y_shape);
    if (!code) {
        /* The objective is linear in the output, so its value is the seed's dot product with it. */
        *value = dot(o->seed, y, cnv_shape_numel(&y_shape));
        cnv_status s = cnv_exec_backward(ex, cnv_model_layer_value(ctx->g, o->node), o->seed, 0);
        if (s == CNV_OK) s = cnv_exec_read_grad(ex, cnv_model_input_value(ctx->g), grad);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    free(y);
    return code;
}

static int run_grad(const cli_ctx *ctx, const grad_args *a) {
    objective o = {0};
    cnv_exec *ex = NULL;
    float *input = NULL, *grad = NULL;
    item_stats *st = NULL;
    int n = 0;
    cnv_shape in_shape = cli_input_shape(ctx);
    size_t per_item = cnv_shape_numel(&in_shape);
    int code = choose_objective(ctx, a, &o);
    if (!code) code = cli_load_items(ctx, ctx->inputs[0], &input, &n);
    if (!code) code = cli_exec_create(ctx, &ex);
    if (!code && (!(grad = malloc((size_t)n * per_item * sizeof *grad)) || !(st = calloc((size_t)n, sizeof *st))))
        code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (int i = 0; !code && i < n; i++) {
        double value = 0;
        code = grad_item(ctx, ex, &o, input, i, grad + (size_t)i * per_item, &value);
        if (!code) st[i] = stats_of(value, grad + (size_t)i * per_item, per_item);
    }
    cnv_shape shape = in_shape;
    shape.d[0] = n;
    if (!code && a->save) code = cli_save_tensor(ctx, a->save, grad, &shape);
    if (!code) code = report(ctx, a, &o, st, &shape);
    free(st);
    free(grad);
    free(input);
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
