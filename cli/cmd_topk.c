/* cnnvis topk MODEL --images DIR --layer L -o OUT.png: the images of a folder that most activate
 * each channel of a layer (activation = the channel's maximum over positions), each shown as the
 * patch of input pixels that the maximum's position sees; one row per channel, best first. The
 * folder is streamed through the model in batches, so its size does not matter. Files that
 * cannot be read are skipped with a warning each. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "channel_list.h"
#include "commands.h"
#include "common.h"
#include "cnnvis/attribution.h"
#include "cnnvis/picture.h"

/* Patches are scaled by a whole factor to at least this many pixels a side. */
#define MIN_TILE 64

enum { OPT_IMAGES = CLI_VERB_ID, OPT_LAYER, OPT_CHANNELS, OPT_K, OPT_BATCH, OPT_OUTPUT };

static const cli_option topk_options[] = {
    {"images", "DIR", "folder of images (PNG, JPEG, BMP) or preprocessed .npy tensors", NULL, OPT_IMAGES},
    {"layer", "L", "layer by node name, output-tensor name or index", NULL, OPT_LAYER},
    {"channels", "LIST|all", "which channels, one row each in this order: items a or a-b, comma-separated "
     "(0-8,10-16)", "all", OPT_CHANNELS},
    {"k", "K", "images per channel", "9", OPT_K},
    {"batch", "B", "images per forward pass", "16", OPT_BATCH},
    {"output", "FILE", "the grid (PNG): a row per channel, patches captioned with their activation", NULL,
     OPT_OUTPUT},
};

typedef struct topk_args {
    const cli_ctx *ctx;
    const char *dir, *layer, *output;
    cli_channel_list channels;
    int k, batch;
} topk_args;

static int on_option(void *state, int id, const char *arg) {
    topk_args *a = state;
    switch (id) {
    case OPT_IMAGES: a->dir = arg; break;
    case OPT_LAYER: a->layer = arg; break;
    case OPT_CHANNELS: a->channels.spec = arg; break;
    case OPT_K: return cli_parse_int(a->ctx, "k", arg, 1, &a->k);
    case OPT_BATCH: return cli_parse_int(a->ctx, "batch", arg, 1, &a->batch);
    case OPT_OUTPUT: a->output = arg; break;
    }
    return 0;
}

static const cli_verb topk_verb = {
    .name = "topk",
    .synopsis = "MODEL --images DIR --layer L -o OUT.png [options]",
    .summary = "The images of a folder that most activate each channel, as receptive-field patches.",
    .options = topk_options,
    .n_options = sizeof topk_options / sizeof topk_options[0],
    .min_inputs = 0,
    .max_inputs = 0,
    .on_option = on_option,
};

/* The folder's files ("DIR/name"), sorted by name so that runs (and ties) are reproducible. */
typedef struct file_list {
    char **path;
    int n;
} file_list;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void file_list_free(file_list *l) {
    for (int i = 0; i < l->n; i++) free(l->path[i]);
    free(l->path);
}

static int list_folder(const cli_ctx *ctx, const char *dir, file_list *l) {
    memset(l, 0, sizeof *l);
    DIR *d = opendir(dir);
    if (!d) return cli_error(ctx, CLI_EXIT_USAGE, "%s: cannot open the folder", dir);
    int cap = 0, code = 0;
    for (struct dirent *e; !code && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
            break;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(p);
            continue;
        }
        if (l->n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(l->path, sizeof *grown * (size_t)cap);
            if (!grown) {
                free(p);
                code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
                break;
            }
            l->path = grown;
        }
        l->path[l->n++] = p;
    }
    closedir(d);
    if (!code && l->n == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "%s: no files in the folder", dir);
    if (!code) qsort(l->path, (size_t)l->n, sizeof *l->path, by_name);
    return code;
}

/* The ranking of the folder's files (cnv_topk_files): per channel k entries, best first. */
typedef struct ranking {
    cnv_topk_entry *best;
    int *count;
    int k, n_used, n_skipped;
} ranking;

static void on_skip(void *user, const char *path, const char *message) {
    (void)path; /* the message names it */
    fprintf(stderr, "cnnvis topk: warning: skipped %s\n", message);
    ((ranking *)user)->n_skipped++;
}

/* The grid: a row of k patches per channel, tiles the receptive field's shape scaled to at
 * least MIN_TILE pixels. */
static cnv_status grid_layout(const cnv_graph *g, int node, int k, cnv_grid_layout *l) {
    cnv_grid_layout_default(l);
    cnv_box field = {0};
    cnv_status st = cnv_receptive_box(g, node, 0, 0, &field);
    if (st != CNV_OK) return st;
    int fw = field.x1 - field.x0, fh = field.y1 - field.y0, side = fw > fh ? fw : fh;
    int scale = side > 0 ? (MIN_TILE + side - 1) / side : 1;
    l->tile_w = fw * scale;
    l->tile_h = fh * scale;
    l->cols = k;
    return CNV_OK;
}

static int write_grid(const cli_ctx *ctx, const topk_args *a, const file_list *files, int node, const ranking *t) {
    enum { LABEL = 24 };
    int n = a->channels.n * t->k;
    cnv_grid_layout l;
    cnv_image *tiles = calloc((size_t)n, sizeof *tiles), grid = {0};
    char *labels = calloc((size_t)n, LABEL);
    const char **captions = calloc((size_t)n, sizeof *captions);
    if (!tiles || !labels || !captions) {
        free(tiles), free(labels), free(captions);
        return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    cnv_grid_layout_default(&l); /* its background colours the patches' outside */
    cnv_status st = CNV_OK;
    for (int c = 0; st == CNV_OK && c < a->channels.n; c++)
        for (int r = 0; st == CNV_OK && r < t->count[c]; r++) {
            const cnv_topk_entry *e = &t->best[(size_t)c * t->k + r];
            int i = c * t->k + r;
            st = cnv_receptive_patch(ctx->g, ctx->preset, files->path[e->item], node, e->y, e->x, l.background,
                                     &tiles[i]);
            /* The row's first caption names the channel. */
            if (r == 0)
                snprintf(labels + LABEL * i, LABEL, "%d: %.4g", a->channels.index[c], e->score);
            else
                snprintf(labels + LABEL * i, LABEL, "%.4g", e->score);
            captions[i] = labels + LABEL * i;
        }
    if (st == CNV_OK) st = grid_layout(ctx->g, node, t->k, &l);
    if (st == CNV_OK) st = cnv_grid_compose(tiles, captions, n, &l, &grid);
    if (st == CNV_OK) st = cnv_image_save_png(a->output, &grid);
    for (int i = 0; i < n; i++) cnv_image_free(&tiles[i]);
    cnv_image_free(&grid);
    free(tiles);
    free(labels);
    free(captions);
    return st == CNV_OK ? 0 : cli_status_error(ctx, st);
}

static int report(const cli_ctx *ctx, const topk_args *a, const file_list *files, int node, const ranking *t) {
    json_t *channels = ctx->json ? json_array() : NULL;
    char all[24];
    const char *layer = cnv_model_layer_name(ctx->g, node);
    if (!ctx->json)
        printf("%s: %d images ranked, %d skipped; layer %s, channels %s -> %s\n", a->dir, t->n_used, t->n_skipped,
               layer, cli_channel_list_text(&a->channels, all), a->output);
    int in[CNV_MAX_RANK];
    cnv_model_input_shape(ctx->g, in);
    for (int c = 0; c < a->channels.n; c++) {
        json_t *top = channels ? json_array() : NULL;
        if (!ctx->json) printf("  channel %d:", a->channels.index[c]);
        for (int r = 0; r < t->count[c]; r++) {
            const cnv_topk_entry *e = &t->best[(size_t)c * t->k + r];
            const char *path = files->path[e->item];
            cnv_box b;
            cnv_status st = cnv_receptive_box(ctx->g, node, e->y, e->x, &b);
            if (st != CNV_OK) {
                json_decref(channels);
                return cli_status_error(ctx, st);
            }
            b = cnv_box_clamp(b, in[2], in[3]);
            if (top)
                json_array_append_new(top, json_pack("{s:s, s:o, s:[i,i], s:[i,i,i,i]}", "file", path, "score",
                                                     cli_json_number(e->score), "position", e->y, e->x, "box", b.y0,
                                                     b.x0, b.y1, b.x1));
            else
                printf(" %s (%.4g)", strrchr(path, '/') + 1, e->score);
        }
        if (channels) json_array_append_new(channels, json_pack("{s:i, s:o}", "channel", a->channels.index[c], "top", top));
        else putchar('\n');
    }
    if (!ctx->json) return 0;
    json_t *root = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:o}", "images", a->dir, "preset", ctx->preset->name,
                             "layer", layer, "k", a->k, "ranked", t->n_used, "skipped", t->n_skipped, "output",
                             a->output, "channels", channels);
    return cli_print_json(ctx, root);
}

static int run_topk(const cli_ctx *ctx, topk_args *a) {
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "needs -o OUT.png");
    if (!a->dir) return cli_error(ctx, CLI_EXIT_USAGE, "needs --images DIR");
    if (!a->layer) return cli_error(ctx, CLI_EXIT_USAGE, "needs --layer L");
    int node;
    int code = cli_find_layer(ctx, a->layer, &node);
    if (code) return code;
    cnv_shape os;
    os.ndim = cnv_model_layer_shape(ctx->g, node, os.d);
    if (os.ndim != 4) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: topk needs an NxCxHxW output",
                         cnv_model_layer_name(ctx->g, node), cnv_shape_str(&os, buf, sizeof buf));
    }
    code = cli_channel_list_resolve(ctx, &a->channels, os.d[1], cnv_model_layer_name(ctx->g, node));
    if (code) return code;
    file_list files;
    code = list_folder(ctx, a->dir, &files);
    if (code) return code;
    /* The picture's size is known now: refuse an oversized grid before ranking anything. */
    cnv_grid_layout l;
    cnv_status st = grid_layout(ctx->g, node, a->k, &l);
    if (st == CNV_OK && (size_t)a->channels.n * (size_t)a->k > INT_MAX)
        code = cli_error(ctx, CLI_EXIT_USAGE, "--k %d for %d channels: too many tiles", a->k, a->channels.n);
    else if (st == CNV_OK) st = cnv_grid_check(&l, a->channels.n * a->k);
    if (!code && st != CNV_OK) code = cli_status_error(ctx, st);
    ranking t = {.k = a->k};
    if (!code) {
        t.best = malloc(sizeof *t.best * (size_t)a->channels.n * a->k);
        t.count = malloc(sizeof *t.count * (size_t)a->channels.n);
        if (!t.best || !t.count) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    if (!code) {
        st = cnv_topk_files(ctx->g, ctx->be, ctx->preset, (const char *const *)files.path, files.n, node,
                            a->channels.index, a->channels.n, a->k, a->batch, on_skip, &t, t.best, t.count, &t.n_used);
        if (st != CNV_OK) code = cli_status_error(ctx, st);
    }
    if (!code && t.n_used == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "%s: no readable image in the folder", a->dir);
    if (!code) code = write_grid(ctx, a, &files, node, &t);
    if (!code) code = report(ctx, a, &files, node, &t);
    free(t.best);
    free(t.count);
    file_list_free(&files);
    return code;
}

int cmd_topk(int argc, char **argv) {
    cli_ctx ctx;
    topk_args a = {.ctx = &ctx, .k = 9, .batch = 16};
    int code = cli_parse(&ctx, &topk_verb, argc, argv, &a);
    if (code < 0) {
        code = cli_load(&ctx, 1);
        if (!code) code = run_topk(&ctx, &a);
    }
    cli_channel_list_free(&a.channels);
    cli_free(&ctx);
    return code;
}
