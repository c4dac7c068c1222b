/* cnnvis classify MODEL IMAGE...: class probabilities (softmax of the logits, unless the graph
 * already ends in a Softmax) and the top K classes with their labels, for each input. All
 * inputs are run before anything is printed, so a bad one leaves no partial listing. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"

enum { OPT_TOP = CLI_VERB_ID };

static const cli_option classify_options[] = {
    {"top", "K", "how many classes to list per input", "5", OPT_TOP},
};

typedef struct classify_args {
    const cli_ctx *ctx;
    int top;
} classify_args;

static int on_option(void *state, int id, const char *arg) {
    classify_args *a = state;
    return id == OPT_TOP ? cli_parse_int(a->ctx, "top", arg, 1, &a->top) : 0;
}

static const cli_verb classify_verb = {
    .name = "classify",
    .synopsis = "MODEL IMAGE|NPY... [options]",
    .summary = "Top-K predictions with labels and probabilities for each input.",
    .options = classify_options,
    .n_options = sizeof classify_options / sizeof classify_options[0],
    .min_inputs = 1,
    .max_inputs = -1,
    .on_option = on_option,
};

/* Per input: the k best classes and their probabilities. */
typedef struct prediction {
    int *cls;
    float *prob;
} prediction;

static int predict(const cli_ctx *ctx, cnv_exec *ex, int node, const char *path, int k, prediction *p) {
    float *y;
    cnv_shape shape;
    int code = cli_set_input(ctx, ex, path);
    if (!code) {
        cnv_status s = cnv_exec_forward(ex, node);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) code = cli_read_output(ctx, ex, node, &y, &shape);
    if (code) return code;
    int n = cli_class_count(&shape);
    if (strcmp(cnv_model_layer_op(ctx->g, node), "Softmax") != 0) cnv_softmax(y, n);
    cli_top_k(y, n, k, p->cls);
    for (int i = 0; i < k; i++) p->prob[i] = y[p->cls[i]];
    free(y);
    return 0;
}

static int print_results(const cli_ctx *ctx, const prediction *preds, int k) {
    char buf[32];
    if (ctx->json) {
        json_t *root = json_array();
        for (int i = 0; root && i < ctx->n_inputs; i++) {
            json_t *top = json_array();
            for (int j = 0; top && j < k; j++)
                json_array_append_new(top, json_pack("{s:i, s:s, s:o}", "class", preds[i].cls[j], "label",
                                                     cnv_labels_name(&ctx->labels, preds[i].cls[j], buf, sizeof buf),
                                                     "probability", cli_json_number(preds[i].prob[j])));
            json_array_append_new(root, json_pack("{s:s, s:s, s:o}", "input", ctx->inputs[i], "preset",
                                                  ctx->preset->name, "top", top));
        }
        return cli_print_json(ctx, root);
    }
    for (int i = 0; i < ctx->n_inputs; i++) {
        printf("%s\n", ctx->inputs[i]);
        for (int j = 0; j < k; j++)
            printf("  %d. %4d  %-30s %.4f\n", j + 1, preds[i].cls[j],
                   cnv_labels_name(&ctx->labels, preds[i].cls[j], buf, sizeof buf), preds[i].prob[j]);
    }
    return 0;
}

static int run_classify(const cli_ctx *ctx, const classify_args *a) {
    int node = cnv_model_output_layer(ctx->g);
    if (node < 0) return cli_error(ctx, CLI_EXIT_USAGE, "%s: the graph output is not computed by a layer", ctx->model_path);
    cnv_shape out = cli_layer_shape(ctx, node);
    int n_classes = cli_class_count(&out);
    if (!n_classes) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "%s: the output %s is not a class vector", ctx->model_path,
                         cnv_shape_str(&out, buf, sizeof buf));
    }
    int k = a->top < n_classes ? a->top : n_classes;
    prediction *preds = calloc((size_t)ctx->n_inputs, sizeof *preds);
    int *cls = malloc(sizeof *cls * (size_t)k * (size_t)ctx->n_inputs);
    float *prob = malloc(sizeof *prob * (size_t)k * (size_t)ctx->n_inputs);
    cnv_exec *ex = NULL;
    int code = preds && cls && prob ? cli_exec_create(ctx, &ex) : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (int i = 0; !code && i < ctx->n_inputs; i++) {
        preds[i].cls = cls + (size_t)i * k;
        preds[i].prob = prob + (size_t)i * k;
        code = predict(ctx, ex, node, ctx->inputs[i], k, &preds[i]);
    }
    if (!code) code = print_results(ctx, preds, k);
    cnv_exec_free(ex);
    free(preds);
    free(cls);
    free(prob);
    return code;
}

int cmd_classify(int argc, char **argv) {
    cli_ctx ctx;
    classify_args a = {.ctx = &ctx, .top = 5};
    int code = cli_parse(&ctx, &classify_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_classify(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
