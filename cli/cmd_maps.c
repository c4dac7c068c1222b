/* cnnvis maps MODEL IMAGE|NPY --layer L -o OUT.png: every channel's activation map of one input as
 * a grid, the input (as the model saw it) first, the channel index under each map. With
 * --layers all, one grid per layer with a spatial output, named OUT_<index>_<layer>.png. A .npy of
 * N items gives each item its grids, named OUT_item<i>[_<index>_<layer>].png. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_list.h"
#include "commands.h"
#include "common.h"
#include "cnnvis/picture.h"

/* Maps are scaled by a whole factor to at least this many pixels a side (crisp blocks). */
#define MIN_TILE 64

enum { OPT_LAYER = CLI_VERB_ID, OPT_LAYERS, OPT_CHANNELS, OPT_NORM, OPT_CMAP, OPT_OUTPUT, OPT_SAVE };

static const cli_option maps_options[] = {
    {"layer", "L", "layer by node name, output-tensor name or index", NULL, OPT_LAYER},
    {"layers", "all", "every layer with a spatial output: -o OUT.png writes OUT_<index>_<layer>.png each "
                      "(and --save-tensor X.npy writes X_<index>_<layer>.npy)", NULL, OPT_LAYERS},
    {"channels", "LIST|all", "which channels to show, in this order: items a or a-b, comma-separated (0-8,10-16)",
     "all", OPT_CHANNELS},
    {"norm", "MODE", "min-max scaling: channel (each map its own range) or layer (one range)", "channel", OPT_NORM},
    {"cmap", "NAME", "colormap: magma, viridis, gray", "magma", OPT_CMAP},
    {"output", "FILE", "the grid (PNG)", NULL, OPT_OUTPUT},
    {"save-tensor", "FILE", "write the layer's whole output (NCHW float32 .npy; per item as -o for a batch)", "none",
     OPT_SAVE},
};

typedef struct maps_args {
    const cli_ctx *ctx;
    const char *layer, *output, *save;
    int all_layers;
    cli_channel_list channels;
    cnv_norm_mode norm;
    cnv_colormap cmap;
} maps_args;

static int on_option(void *state, int id, const char *arg) {
    maps_args *a = state;
    switch (id) {
    case OPT_LAYER: a->layer = arg; break;
    case OPT_LAYERS:
        if (strcmp(arg, "all")) return cli_error(a->ctx, CLI_EXIT_USAGE, "--layers: only 'all' is known, not '%s'", arg);
        a->all_layers = 1;
        break;
    case OPT_CHANNELS: a->channels.spec = arg; break;
    case OPT_NORM:
        if (cnv_norm_parse(arg, &a->norm) != CNV_OK) return cli_status_error(a->ctx, CNV_ERR_ARG);
        break;
    case OPT_CMAP: return cli_parse_colormap(a->ctx, arg, &a->cmap);
    case OPT_OUTPUT: a->output = arg; break;
    case OPT_SAVE: a->save = arg; break;
    }
    return 0;
}

static const cli_verb maps_verb = {
    .name = "maps",
    .synopsis = "MODEL IMAGE|NPY (--layer L | --layers all) -o OUT.png [options]",
    .summary = "Activation maps of one input: a grid of every channel of a layer, the input first. A .npy of N "
               "inputs gives N grids, OUT_item<i>.png (and X_item<i>.npy), i = 0..N-1.",
    .options = maps_options,
    .n_options = sizeof maps_options / sizeof maps_options[0],
    .min_inputs = 1,
    .max_inputs = 1,
    .on_option = on_option,
};

/* "out.png" + (7, "fire2/concat") -> "out_7_fire2_concat.png": the extension stays last. */
static void per_layer_path(const char *path, int index, const char *layer, char *buf, size_t size) {
    char insert[160];
    snprintf(insert, sizeof insert, "_%d_%.120s", index, layer);
    for (char *c = insert; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-') *c = '_';
    cli_derived_path(path, insert, NULL, buf, size);
}

/* The grid of one layer: the input picture, then the listed channels. */
static int write_grid(const cli_ctx *ctx, const maps_args *a, const cnv_image *input, const float *y,
                      const cnv_shape *s, const char *path, cnv_grid_layout *l, int *n_tiles) {
    enum { LABEL = 16 };
    int c = s->d[1], h = s->d[2], w = s->d[3], n = a->channels.n;
    size_t plane = (size_t)h * w;
    unsigned char *bytes = malloc(plane * c);
    cnv_image *tiles = calloc((size_t)n + 1, sizeof *tiles);
    char *labels = calloc((size_t)n + 1, LABEL);
    const char **captions = calloc((size_t)n + 1, sizeof *captions);
    cnv_image grid = {0};
    cnv_status st = CNV_OK;
    int code = bytes && tiles && labels && captions ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) {
        cnv_maps_to_u8(y, c, h, w, a->norm, bytes);
        tiles[0] = *input;
        captions[0] = "input";
        for (int i = 0; st == CNV_OK && i < n; i++) {
            int ch = a->channels.index[i];
            st = cnv_colormap_apply(a->cmap, bytes + (size_t)ch * plane, w, h, &tiles[i + 1]);
            snprintf(labels + LABEL * (i + 1), LABEL, "%d", ch);
            captions[i + 1] = labels + LABEL * (i + 1);
        }
        /* Each map pixel becomes a k x k block: crisp, and every tile the same size. */
        int side = h > w ? h : w, k = (MIN_TILE + side - 1) / side;
        cnv_grid_layout_default(l);
        l->tile_w = w * k;
        l->tile_h = h * k;
        if (st == CNV_OK) st = cnv_grid_compose(tiles, captions, n + 1, l, &grid);
        if (st == CNV_OK) st = cnv_image_save_png(path, &grid);
        if (st != CNV_OK) code = cli_status_error(ctx, st);
        *n_tiles = n + 1;
    }
    for (int i = 1; tiles && i <= n; i++) cnv_image_free(&tiles[i]);
    cnv_image_free(&grid);
    free(bytes);
    free(tiles);
    free(labels);
    free(captions);
    return code;
}

/* The tiles' channels, in grid order (NULL when out of memory: json_pack then fails). */
static json_t *channels_json(const cli_channel_list *l) {
    json_t *list = json_array();
    for (int i = 0; list && i < l->n; i++)
        if (json_array_append_new(list, json_integer(l->index[i]))) {
            json_decref(list);
            return NULL;
        }
    return list;
}

/* One layer: forward, optional tensor, grid; adds its record to `records` (JSON) or prints it. */
static int one_layer(const cli_ctx *ctx, maps_args *a, cnv_exec *ex, const cnv_image *input, int node, int item,
                     int n_items, json_t *records) {
    const char *name = cnv_model_layer_name(ctx->g, node);
    char path[4096], tensor_path[4096], buf[64], all[24], out[4096], save[4096];
    cli_item_path(a->output, item, n_items, out, sizeof out);
    if (a->save) cli_item_path(a->save, item, n_items, save, sizeof save);
    float *y = NULL;
    cnv_shape s;
    cnv_status st = cnv_exec_forward(ex, node);
    if (st != CNV_OK) return cli_status_error(ctx, st);
    int code = cli_read_output(ctx, ex, node, &y, &s);
    if (!code && !cnv_shape_is_map(&s))
        code = cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: maps need an NxCxHxW output with H*W > 1", name,
                         cnv_shape_str(&s, buf, sizeof buf));
    if (!code) code = cli_channel_list_resolve(ctx, &a->channels, s.d[1], name);
    if (!code) {
        if (a->all_layers) {
            per_layer_path(out, node, name, path, sizeof path);
            if (a->save) per_layer_path(save, node, name, tensor_path, sizeof tensor_path);
        } else {
            snprintf(path, sizeof path, "%s", out);
            if (a->save) snprintf(tensor_path, sizeof tensor_path, "%s", save);
        }
        if (a->save) code = cli_save_tensor(ctx, tensor_path, y, &s);
    }
    cnv_grid_layout l;
    int n_tiles = 0;
    if (!code) code = write_grid(ctx, a, input, y, &s, path, &l, &n_tiles);
    free(y);
    if (code) return code;
    int cols, rows, w, h;
    cnv_grid_size(&l, n_tiles, &cols, &rows, &w, &h);
    if (records) {
        json_t *r = json_pack("{s:i, s:s, s:o, s:o, s:[i,i], s:i, s:i, s:[i,i], s:s}", "index", node, "layer",
                              name, "shape", cli_json_shape(&s), "channels", channels_json(&a->channels), "tile",
                              l.tile_w, l.tile_h, "cols", cols, "rows", rows, "size", w, h, "output", path);
        if (r && a->save) json_object_set_new(r, "saved", json_string(tensor_path));
        if (r && n_items > 1) json_object_set_new(r, "item", json_integer(item));
        return json_array_append_new(records, r) == 0 ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    printf("%-4d %-24s %-16s channels %s, %dx%d tiles, %dx%d grid -> %s\n", node, name,
           cnv_shape_str(&s, buf, sizeof buf), cli_channel_list_text(&a->channels, all), l.tile_w, l.tile_h, w, h,
           path);
    if (a->save) printf("     saved %s\n", tensor_path);
    return 0;
}

/* Every grid of one item: the input picture as the model saw it, then each layer. */
static int one_item(const cli_ctx *ctx, maps_args *a, cnv_exec *ex, const float *input, int item, int n_items,
                    int node, json_t *records) {
    int in[CNV_MAX_RANK];
    cnv_model_input_shape(ctx->g, in);
    cnv_image pic = {0}, seen = {0};
    int code = cli_set_item(ctx, ex, input, item);
    if (!code) code = cli_item_picture(ctx, ctx->inputs[0], input, item, &pic);
    if (!code) {
        /* The first tile is the input as the model saw it: at the model's input size. */
        cnv_status st = cnv_image_resize(&pic, in[3], in[2], &seen);
        if (st != CNV_OK) code = cli_status_error(ctx, st);
    }
    if (!code && a->layer) code = one_layer(ctx, a, ex, &seen, node, item, n_items, records);
    for (int n = 0; !code && a->all_layers && n < cnv_model_layer_count(ctx->g); n++) {
        cnv_shape s;
        s.ndim = cnv_model_layer_shape(ctx->g, n, s.d);
        if (cnv_shape_is_map(&s)) code = one_layer(ctx, a, ex, &seen, n, item, n_items, records);
    }
    cnv_image_free(&pic);
    cnv_image_free(&seen);
    return code;
}

static int run_maps(const cli_ctx *ctx, maps_args *a) {
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "needs -o OUT.png");
    if (!a->layer == !a->all_layers) return cli_error(ctx, CLI_EXIT_USAGE, "give one of --layer L or --layers all");
    cnv_exec *ex = NULL;
    float *input = NULL;
    json_t *records = ctx->json ? json_array() : NULL;
    int node = -1, n_items = 0;
    int code = a->layer ? cli_find_layer(ctx, a->layer, &node) : 0;
    if (!code && ctx->json && !records) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!code) code = cli_load_items(ctx, ctx->inputs[0], &input, &n_items);
    if (!code) code = cli_exec_create(ctx, &ex);
    for (int i = 0; !code && i < n_items; i++) code = one_item(ctx, a, ex, input, i, n_items, node, records);
    if (!code && records) {
        json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:O}", "input", ctx->inputs[0], "preset", ctx->preset->name,
                                 "norm", a->norm == CNV_NORM_LAYER ? "layer" : "channel", "cmap",
                                 cnv_colormap_name(a->cmap), "layers", records);
        code = cli_print_json(ctx, root);
    }
    json_decref(records);
    free(input);
    cnv_exec_free(ex);
    return code;
}

int cmd_maps(int argc, char **argv) {
    cli_ctx ctx;
    maps_args a = {.ctx = &ctx, .norm = CNV_NORM_CHANNEL, .cmap = CNV_CMAP_MAGMA};
    int code = cli_parse(&ctx, &maps_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_maps(&ctx, &a);
    }
    cli_channel_list_free(&a.channels);
    cli_free(&ctx);
    return code;
}
