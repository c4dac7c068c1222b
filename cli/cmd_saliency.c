/* cnnvis saliency MODEL IMAGE|NPY --method grad|guided|smoothgrad|gradxinput -o OUT.png: which
 * pixels the class logit is most sensitive to (cnnvis/attribution.h). The picture shows the input
 * (captioned with the class), the attribution in colour (zero at mid-gray, in pixel space) and its map: the largest
 * absolute value over the channels, scaled to its 99th percentile as Smilkov et al. show maps
 * (a few extreme pixels would otherwise leave the rest black). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "cnnvis/attribution.h"
#include "cnnvis/picture.h"

enum { OPT_CLASS = CLI_VERB_ID, OPT_METHOD, OPT_SAMPLES, OPT_NOISE, OPT_SEED, OPT_OUTPUT, OPT_SAVE };

static const cli_option saliency_options[] = {
    {"class", "K", "class to explain (index or label name)", "the top-1 prediction", OPT_CLASS},
    {"method", "M", "grad, guided (guided backprop), smoothgrad or gradxinput (gradient x input)", "grad", OPT_METHOD},
    {"samples", "N", "smoothgrad: noisy copies averaged (Smilkov et al.)", "50", OPT_SAMPLES},
    {"noise", "S", "smoothgrad: noise sd as a fraction of the input's max - min", "0.15", OPT_NOISE},
    {"seed", "S", "smoothgrad: seed of the noise", "0", OPT_SEED},
    {"output", "FILE", "the picture (PNG): input, attribution, map", NULL, OPT_OUTPUT},
    {"save-tensor", "FILE", "write the attribution (1xCxHxW float32 .npy, the model's input space)", "none", OPT_SAVE},
};

typedef struct saliency_args {
    const cli_ctx *ctx;
    const char *class_spec, *output, *save;
    cnv_saliency_params opts;
} saliency_args;

static int on_option(void *state, int id, const char *arg) {
    saliency_args *a = state;
    char *end;
    switch (id) {
    case OPT_CLASS: a->class_spec = arg; break;
    case OPT_METHOD:
        if (cnv_saliency_parse(arg, &a->opts.method) != CNV_OK) return cli_status_error(a->ctx, CNV_ERR_ARG);
        break;
    case OPT_SAMPLES: return cli_parse_int(a->ctx, "samples", arg, 1, &a->opts.samples);
    case OPT_NOISE:
        a->opts.noise = strtof(arg, &end);
        if (end == arg || *end || !(a->opts.noise >= 0 && isfinite(a->opts.noise)))
            return cli_error(a->ctx, CLI_EXIT_USAGE, "--noise: '%s' is not a number >= 0", arg);
        break;
    case OPT_SEED: {
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        if (end == arg || *end || errno || arg[0] == '-')
            return cli_error(a->ctx, CLI_EXIT_USAGE, "--seed: '%s' is not a whole number >= 0", arg);
        a->opts.seed = v;
        break;
    }
    case OPT_OUTPUT: a->output = arg; break;
    case OPT_SAVE: a->save = arg; break;
    }
    return 0;
}

static const cli_verb saliency_verb = {
    .name = "saliency",
    .synopsis = "MODEL IMAGE|NPY [--method M] -o OUT.png [options]",
    .summary = "Saliency of a class: vanilla gradient, guided backprop, SmoothGrad, gradient x input.",
    .options = saliency_options,
    .n_options = sizeof saliency_options / sizeof saliency_options[0],
    .min_inputs = 1,
    .max_inputs = 1,
    .on_option = on_option,
};

static int write_picture(const cli_ctx *ctx, const saliency_args *a, const cnv_shape *in, const float *attribution,
                         const float *map, const char *label) {
    cnv_image tiles[3] = {{0}}, grid = {0};
    cnv_status s = cnv_input_picture(ctx->inputs[0], ctx->preset, in, &tiles[0]);
    if (s == CNV_OK) s = cnv_signal_picture(attribution, in, ctx->preset, &tiles[1]);
    if (s == CNV_OK) s = cnv_saliency_map_picture(map, in->d[2], in->d[3], &tiles[2]);
    if (s == CNV_OK) {
        const char *captions[3] = {label, cnv_saliency_name(a->opts.method), "map (max abs)"};
        cnv_grid_layout l;
        cnv_grid_layout_default(&l);
        l.tile_w = in->d[3];
        l.tile_h = in->d[2];
        l.cols = 3;
        l.scale = CNV_SCALE_BILINEAR;
        l.font_scale = in->d[3] >= 200 ? 2 : 1;
        s = cnv_grid_compose(tiles, captions, 3, &l, &grid);
    }
    if (s == CNV_OK) s = cnv_image_save_png(a->output, &grid);
    for (int i = 0; i < 3; i++) cnv_image_free(&tiles[i]);
    cnv_image_free(&grid);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

/* The class: given, or the top-1 prediction; *logit gets its score (the logit, or a map's mean). */
static int choose_class(const cli_ctx *ctx, const saliency_args *a, cnv_exec *ex, int logits, int *cls,
                        float *logit) {
    float *scores;
    int n_classes;
    cnv_status st = cnv_exec_forward(ex, logits);
    if (st != CNV_OK) return cli_status_error(ctx, st);
    int code = cli_read_class_scores(ctx, ex, logits, &scores, &n_classes);
    if (code) return code;
    if (a->class_spec)
        code = cli_find_class(ctx, a->class_spec, n_classes, cls);
    else
        cli_top_k(scores, n_classes, 1, cls);
    if (!code) *logit = scores[*cls];
    free(scores);
    return code;
}

static int report(const cli_ctx *ctx, const saliency_args *a, int logits, int cls, float logit, const float *map,
                  int h, int w) {
    char buf[64];
    const char *method = cnv_saliency_name(a->opts.method);
    int peak = 0;
    for (int i = 1; i < h * w; i++)
        if (map[i] > map[peak]) peak = i;
    const int smooth = a->opts.method == CNV_SALIENCY_SMOOTHGRAD;
    if (ctx->json) {
        json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:[i,i], s:s}", "input", ctx->inputs[0], "preset",
                                 ctx->preset->name, "method", method, "logits_layer",
                                 cnv_model_layer_name(ctx->g, logits), "class", cls, "label", cnv_labels_name(&ctx->labels, cls, buf, sizeof buf), "logit",
                                 cli_json_number(logit), "map_peak_yx", peak / w, peak % w, "output", a->output);
        if (root && smooth) {
            json_object_set_new(root, "samples", json_integer(a->opts.samples));
            json_object_set_new(root, "noise", cli_json_number(a->opts.noise));
            json_object_set_new(root, "seed", json_integer((json_int_t)a->opts.seed));
        }
        if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
        return cli_print_json(ctx, root);
    }
    printf("input:    %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    cnv_shape s = cli_layer_shape(ctx, logits);
    printf("class:    %d (%s), %s %.6g at %s\n", cls, cnv_labels_name(&ctx->labels, cls, buf, sizeof buf),
           cli_class_score_kind(&s), logit, cnv_model_layer_name(ctx->g, logits));
    printf("method:   %s", method);
    if (smooth)
        printf(", %d samples, noise %g of the input's range, seed %llu", a->opts.samples, a->opts.noise,
               (unsigned long long)a->opts.seed);
    printf("\nmap peak: (y %d, x %d) of %dx%d\n", peak / w, peak % w, h, w);
    printf("wrote:    %s\n", a->output);
    if (a->save) printf("saved:    %s\n", a->save);
    return 0;
}

static int run_saliency(const cli_ctx *ctx, const saliency_args *a) {
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "needs -o OUT.png");
    cnv_shape input_shape;
    input_shape.ndim = cnv_model_input_shape(ctx->g, input_shape.d);
    const cnv_shape *in = &input_shape;
    char buf[64];
    if (in->ndim != 4 || (in->d[1] != 1 && in->d[1] != 3))
        return cli_error(ctx, CLI_EXIT_USAGE, "%s: the model input %s is not an image", ctx->model_path,
                         cnv_shape_str(in, buf, sizeof buf));
    const size_t n = cnv_shape_numel(in);
    cnv_exec *ex = NULL;
    float *x = NULL, *attribution = malloc(n * sizeof *attribution), *map = malloc(sizeof *map * in->d[2] * in->d[3]);
    int logits, cls = 0;
    float logit = 0;
    int code = attribution && map ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) code = cli_logits_layer(ctx, &logits);
    if (!code) code = cli_exec_create(ctx, &ex);
    if (!code) {
        cnv_status s = cnv_preprocess_file(ctx->inputs[0], ctx->preset, in, &x);
        if (s == CNV_OK) s = cnv_exec_set_input(ex, x);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) code = choose_class(ctx, a, ex, logits, &cls, &logit);
    if (!code) {
        cnv_status s = cnv_saliency_compute(ex, logits, cls, x, &a->opts, attribution);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) {
        cnv_saliency_map(attribution, in, map);
        if (a->save) code = cli_save_tensor(ctx, a->save, attribution, in);
    }
    if (!code) code = write_picture(ctx, a, in, attribution, map, cnv_labels_name(&ctx->labels, cls, buf, sizeof buf));
    if (!code) code = report(ctx, a, logits, cls, logit, map, in->d[2], in->d[3]);
    free(x);
    free(attribution);
    free(map);
    cnv_exec_free(ex);
    return code;
}

int cmd_saliency(int argc, char **argv) {
    cli_ctx ctx;
    saliency_args a = {.ctx = &ctx};
    cnv_saliency_params_default(&a.opts);
    int code = cli_parse(&ctx, &saliency_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_saliency(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
