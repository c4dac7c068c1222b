/* cnnvis gradcam MODEL IMAGE|NPY -o OUT.png: where in the image the evidence for a class lies.
 * Grad-CAM (any layer with a spatial output; by default the last one before the logits) or CAM
 * (models ending in GlobalAveragePool [+ one linear layer]); the map is resized to the picture,
 * coloured and blended over it, next to the picture itself. Prints the top predictions. A .npy of
 * N items gives each item its picture (OUT_item<i>.png) and its class, the maps in one tensor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "cnnvis/attribution.h"
#include "cnnvis/picture.h"

enum { OPT_CLASS = CLI_VERB_ID, OPT_LAYER, OPT_METHOD, OPT_TOP, OPT_ALPHA, OPT_CMAP, OPT_OUTPUT, OPT_SAVE };

static const cli_option gradcam_options[] = {
    {"class", "K", "class to explain (index or label name)", "the top-1 prediction (of each item)", OPT_CLASS},
    {"layer", "L", "Grad-CAM layer (name or index); must have an NxCxHxW output", "the last such layer before the logits",
     OPT_LAYER},
    {"method", "M", "gradcam (Selvaraju et al.) or cam (Zhou et al.; GlobalAveragePool [+ linear] heads only)", "gradcam",
     OPT_METHOD},
    {"top", "K", "how many predictions to list", "5", OPT_TOP},
    {"alpha", "A", "heatmap opacity over the image, 0..1", "0.5", OPT_ALPHA},
    {"cmap", "NAME", "heatmap colormap: magma, viridis, gray", "magma", OPT_CMAP},
    {"output", "FILE", "the picture (PNG): the input beside the heatmap over it (OUT_item<i>.png for a batch)", NULL,
     OPT_OUTPUT},
    {"save-tensor", "FILE", "write the map (Nx1xHxW float32 .npy, the layer's resolution)", "none", OPT_SAVE},
};

typedef struct gradcam_args {
    const cli_ctx *ctx;
    const char *class_spec, *layer, *output, *save;
    int use_cam, top;
    float alpha;
    cnv_colormap cmap;
} gradcam_args;

static int on_option(void *state, int id, const char *arg) {
    gradcam_args *a = state;
    char *end;
    switch (id) {
    case OPT_CLASS: a->class_spec = arg; break;
    case OPT_LAYER: a->layer = arg; break;
    case OPT_METHOD:
        if (strcmp(arg, "gradcam") && strcmp(arg, "cam"))
            return cli_error(a->ctx, CLI_EXIT_USAGE, "--method: '%s' is not gradcam or cam", arg);
        a->use_cam = strcmp(arg, "cam") == 0;
        break;
    case OPT_TOP: return cli_parse_int(a->ctx, "top", arg, 1, &a->top);
    case OPT_ALPHA:
        a->alpha = strtof(arg, &end);
        if (end == arg || *end || !(a->alpha >= 0 && a->alpha <= 1))
            return cli_error(a->ctx, CLI_EXIT_USAGE, "--alpha: '%s' is not a number in [0, 1]", arg);
        break;
    case OPT_CMAP: return cli_parse_colormap(a->ctx, arg, &a->cmap);
    case OPT_OUTPUT: a->output = arg; break;
    case OPT_SAVE: a->save = arg; break;
    }
    return 0;
}

static const cli_verb gradcam_verb = {
    .name = "gradcam",
    .synopsis = "MODEL IMAGE|NPY -o OUT.png [options]",
    .summary = "Grad-CAM / CAM heatmap of a class over the image, with the top predictions. A .npy of N inputs "
               "gives N pictures OUT_item<i>.png (JSON: an \"items\" list of class, label, output, top).",
    .options = gradcam_options,
    .n_options = sizeof gradcam_options / sizeof gradcam_options[0],
    .min_inputs = 1,
    .max_inputs = 1,
    .on_option = on_option,
};

/* Forward result: class probabilities (softmax of the logits unless they already are) and ranks;
 * for a map of classes (a segmentation output) each class's mean logit, which a softmax over
 * one mask would turn into a meaningless 1. */
typedef struct predictions {
    int n_classes, k;
    int is_map; /* the scores are a map's mean logits, not probabilities */
    float *prob;
    int *top;
} predictions;

static int predict(const cli_ctx *ctx, cnv_exec *ex, int logits_node, int k, predictions *p) {
    cnv_status s = cnv_exec_forward(ex, logits_node);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    int code = cli_read_class_scores(ctx, ex, logits_node, &p->prob, &p->n_classes);
    if (code) return code;
    cnv_shape shape = cli_layer_shape(ctx, logits_node);
    p->is_map = !cli_class_count(&shape);
    if (!p->is_map && strcmp(cnv_model_layer_op(ctx->g, logits_node), "Softmax") != 0) {
        double m = p->prob[0], sum = 0;
        for (int i = 1; i < p->n_classes; i++) m = fmax(m, p->prob[i]);
        for (int i = 0; i < p->n_classes; i++) sum += exp(p->prob[i] - m);
        for (int i = 0; i < p->n_classes; i++) p->prob[i] = (float)(exp(p->prob[i] - m) / sum);
    }
    p->k = k < p->n_classes ? k : p->n_classes;
    p->top = malloc(sizeof *p->top * (size_t)p->k);
    if (!p->top) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    cli_top_k(p->prob, p->n_classes, p->k, p->top);
    return 0;
}

/* The map: computes it into a malloc'ed buffer of the layer's H x W; *layer gets the node. */
static int compute_map(const cli_ctx *ctx, const gradcam_args *a, cnv_exec *ex, int logits_node, int cls,
                       int *layer, float **map, int *h, int *w) {
    cnv_cam_head head;
    cnv_status s;
    if (a->use_cam) {
        if (a->layer) return cli_error(ctx, CLI_EXIT_USAGE, "--layer is for --method gradcam; CAM uses the pooled map");
        s = cnv_cam_head_find(ctx->g, logits_node, &head);
        if (s != CNV_OK) return cli_status_error(ctx, s);
        *layer = head.layer;
    } else if (a->layer) {
        int code = cli_find_layer(ctx, a->layer, layer);
        if (code) return code;
    } else if ((*layer = cnv_graph_last_map_node(ctx->g, logits_node)) < 0) {
        return cli_error(ctx, CLI_EXIT_USAGE, "%s: no layer with a spatial output before the logits", ctx->model_path);
    }
    cnv_shape as;
    as.ndim = cnv_model_layer_shape(ctx->g, *layer, as.d);
    if (as.ndim != 4) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: Grad-CAM needs an NxCxHxW output",
                         cnv_model_layer_name(ctx->g, *layer), cnv_shape_str(&as, buf, sizeof buf));
    }
    *h = as.d[2];
    *w = as.d[3];
    *map = malloc(sizeof **map * (size_t)(*h) * (*w));
    if (!*map) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    s = a->use_cam ? cnv_cam(ex, &head, cls, *map) : cnv_gradcam(ex, *layer, logits_node, cls, *map);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

/* [picture | heatmap over it], captioned "input" and with the class name, into path. */
static int write_picture(const cli_ctx *ctx, const gradcam_args *a, const float *input, int item, const float *map,
                         int h, int w, const char *label, const char *path) {
    cnv_image pic, tiles[2] = {{0}}, grid = {0};
    int code = cli_item_picture(ctx, ctx->inputs[0], input, item, &pic);
    if (code) return code;
    cnv_status s = cnv_overlay_map(&pic, map, w, h, a->cmap, a->alpha, &tiles[1]);
    if (s == CNV_OK) {
        tiles[0] = pic;
        cnv_grid_layout l;
        cnv_grid_layout_default(&l);
        l.tile_w = pic.w;
        l.tile_h = pic.h;
        l.cols = 2;
        l.font_scale = pic.w >= 200 ? 2 : 1;
        const char *captions[2] = {"input", label};
        s = cnv_grid_compose(tiles, captions, 2, &l, &grid);
    }
    if (s == CNV_OK) s = cnv_image_save_png(path, &grid);
    cnv_image_free(&pic);
    cnv_image_free(&tiles[1]);
    cnv_image_free(&grid);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

/* One item's class, picture and predictions, as JSON or as text. */
static json_t *item_json(const cli_ctx *ctx, const predictions *p, int cls, const char *path) {
    char buf[64];
    json_t *top = json_array();
    for (int j = 0; top && j < p->k; j++)
        json_array_append_new(top, json_pack("{s:i, s:s, s:o}", "class", p->top[j], "label",
                                             cnv_labels_name(&ctx->labels, p->top[j], buf, sizeof buf),
                                             p->is_map ? "mean_logit" : "probability",
                                             cli_json_number(p->prob[p->top[j]])));
    return json_pack("{s:i, s:s, s:s, s:o}", "class", cls, "label", cnv_labels_name(&ctx->labels, cls, buf, sizeof buf),
                     "output", path, "top", top);
}

static void print_item(const cli_ctx *ctx, const gradcam_args *a, const predictions *p, int cls, int layer, int h,
                       int w, int item, int n, const char *path) {
    char buf[64];
    const char *method = a->use_cam ? "cam" : "gradcam";
    if (n > 1) printf("item %d:\n", item);
    for (int j = 0; j < p->k; j++)
        printf("  %d. %4d  %-30s %.4f%s\n", j + 1, p->top[j], cnv_labels_name(&ctx->labels, p->top[j], buf, sizeof buf),
               p->prob[p->top[j]], p->is_map ? " (mean logit)" : "");
    printf("%s:  class %d (%s) at %s, %dx%d map\n", method, cls, cnv_labels_name(&ctx->labels, cls, buf, sizeof buf),
           cnv_model_layer_name(ctx->g, layer), h, w);
    printf("wrote:   %s\n", path);
}

/* The sidecar-free summary: one item's fields at the top level, a batch's in "items". */
static int print_json(const cli_ctx *ctx, const gradcam_args *a, json_t *items, int layer, int h, int w) {
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:[i,i]}", "input", ctx->inputs[0], "preset", ctx->preset->name,
                             "method", a->use_cam ? "cam" : "gradcam", "layer", cnv_model_layer_name(ctx->g, layer),
                             "map_hw", h, w);
    if (root && json_array_size(items) == 1) json_object_update(root, json_array_get(items, 0));
    else if (root) json_object_set(root, "items", items);
    if (root && a->save) json_object_set_new(root, "saved", json_string(a->save));
    return cli_print_json(ctx, root);
}

/* Predictions, class, map and picture of one item; its map goes to maps + item * h * w (the
 * buffer is made at the first item, when the map's size is known). */
static int one_item(const cli_ctx *ctx, const gradcam_args *a, cnv_exec *ex, const float *input, int item, int n,
                    int logits_node, int *layer, float **maps, int *h, int *w, json_t *items) {
    predictions p = {0};
    float *map = NULL;
    int cls = 0;
    char label[64], path[4096];
    cli_item_path(a->output, item, n, path, sizeof path);
    int code = cli_set_item(ctx, ex, input, item);
    if (!code) code = predict(ctx, ex, logits_node, a->top, &p);
    if (!code) code = a->class_spec ? cli_find_class(ctx, a->class_spec, p.n_classes, &cls) : (cls = p.top[0], 0);
    if (!code) code = compute_map(ctx, a, ex, logits_node, cls, layer, &map, h, w);
    size_t plane = (size_t)*h * *w;
    if (!code && !*maps && !(*maps = malloc((size_t)n * plane * sizeof **maps)))
        code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) memcpy(*maps + (size_t)item * plane, map, plane * sizeof *map);
    if (!code)
        code = write_picture(ctx, a, input, item, map, *h, *w, cnv_labels_name(&ctx->labels, cls, label, sizeof label),
                             path);
    if (!code && items && json_array_append_new(items, item_json(ctx, &p, cls, path)))
        code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code && !items) print_item(ctx, a, &p, cls, *layer, *h, *w, item, n, path);
    free(map);
    free(p.prob);
    free(p.top);
    return code;
}

static int run_gradcam(const cli_ctx *ctx, const gradcam_args *a) {
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "needs -o OUT.png");
    cnv_exec *ex = NULL;
    float *input = NULL, *maps = NULL;
    json_t *items = ctx->json ? json_array() : NULL;
    int logits_node, layer = -1, h = 0, w = 0, n = 0;
    int code = cli_logits_layer(ctx, &logits_node);
    if (!code && ctx->json && !items) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) code = cli_load_items(ctx, ctx->inputs[0], &input, &n);
    if (!code) code = cli_exec_create(ctx, &ex);
    if (!code && !ctx->json) printf("input:   %s (preset %s)\n", ctx->inputs[0], ctx->preset->name);
    for (int i = 0; !code && i < n; i++) code = one_item(ctx, a, ex, input, i, n, logits_node, &layer, &maps, &h, &w, items);
    if (!code && a->save) {
        cnv_shape s = cnv_shape4(n, 1, h, w);
        code = cli_save_tensor(ctx, a->save, maps, &s);
    }
    if (!code && ctx->json) code = print_json(ctx, a, items, layer, h, w);
    else if (!code && a->save) printf("saved:   %s\n", a->save);
    json_decref(items);
    free(maps);
    free(input);
    cnv_exec_free(ex);
    return code;
}

int cmd_gradcam(int argc, char **argv) {
    cli_ctx ctx;
    gradcam_args a = {.ctx = &ctx, .top = 5, .alpha = 0.5f, .cmap = CNV_CMAP_MAGMA};
    int code = cli_parse(&ctx, &gradcam_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_gradcam(&ctx, &a);
    }
    cli_free(&ctx);
    return code;
}
