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
#include "core/status.h"
#include "cnnvis/picture.h"
#include "io/normalize.h"
#include "io/preprocess.h"
#include "vis/topk.h"

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

/* Streams the files through the model: batches of preprocessed inputs, forward to the layer, each
 * item's tracked channels into the ranking. used[] gets the file index of every item. */
typedef struct stream {
    cnv_exec *ex;
    float *batch_in, *batch_out;
    float *tracked; /* one item's tracked maps, side by side, as the ranking takes them */
    size_t in_numel, out_numel;
    int *used, n_used, n_skipped;
} stream;

static int flush(const cli_ctx *ctx, const topk_args *a, stream *s, int node, int filled, cnv_topk *t) {
    const cnv_shape *os = &s->ex->shapes[ctx->g->nodes[node].out];
    int h = os->d[2], w = os->d[3];
    size_t plane = (size_t)h * w;
    /* Slots past `filled` keep the previous batch's data; their results are ignored. */
    cnv_status st = cnv_exec_set_input(s->ex, s->batch_in);
    if (st == CNV_OK) st = cnv_exec_forward(s->ex, node);
    if (st == CNV_OK) st = cnv_exec_read(s->ex, ctx->g->nodes[node].out, s->batch_out);
    if (st != CNV_OK) return cli_status_error(ctx, st);
    for (int i = 0; i < filled; i++) {
        const float *maps = s->batch_out + i * s->out_numel;
        for (int c = 0; c < a->channels.n; c++)
            memcpy(s->tracked + c * plane, maps + a->channels.index[c] * plane, plane * sizeof *maps);
        cnv_topk_add(t, s->tracked, h, w, s->n_used - filled + i);
    }
    return 0;
}

static int rank_folder(const cli_ctx *ctx, const topk_args *a, const file_list *files, int node, cnv_topk *t,
                       stream *s) {
    const cnv_shape *in_shape = &ctx->g->values[ctx->g->input].shape;
    cnv_status st = cnv_exec_create(ctx->g, ctx->be, a->batch, &s->ex);
    if (st != CNV_OK) return cli_status_error(ctx, st);
    s->in_numel = cnv_shape_numel(in_shape);
    s->out_numel = cnv_shape_numel(&ctx->g->values[ctx->g->nodes[node].out].shape);
    s->batch_in = calloc(s->in_numel * a->batch, sizeof *s->batch_in);
    s->batch_out = malloc(sizeof *s->batch_out * s->out_numel * a->batch);
    s->used = malloc(sizeof *s->used * (size_t)files->n);
    const cnv_shape *os = &ctx->g->values[ctx->g->nodes[node].out].shape;
    s->tracked = malloc(sizeof *s->tracked * (size_t)a->channels.n * os->d[2] * os->d[3]);
    if (!s->batch_in || !s->batch_out || !s->used || !s->tracked)
        return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    int filled = 0, code = 0;
    for (int f = 0; !code && f < files->n; f++) {
        float *data;
        st = cnv_preprocess_file(files->path[f], ctx->preset, in_shape, &data);
        if (st == CNV_ERR_NOMEM) return cli_status_error(ctx, st);
        if (st != CNV_OK) {
            fprintf(stderr, "cnnvis topk: warning: skipped %s\n", cnv_last_error());
            s->n_skipped++;
            continue;
        }
        memcpy(s->batch_in + (size_t)filled * s->in_numel, data, s->in_numel * sizeof *data);
        free(data);
        s->used[s->n_used++] = f;
        if (++filled == a->batch) {
            code = flush(ctx, a, s, node, filled, t);
            filled = 0;
        }
    }
    if (!code && filled) code = flush(ctx, a, s, node, filled, t);
    if (!code && s->n_used == 0) code = cli_error(ctx, CLI_EXIT_USAGE, "%s: no readable image in the folder", a->dir);
    return code;
}

/* The patch of one entry: the receptive field's box on the picture the model saw. */
static cnv_status make_patch(const cli_ctx *ctx, const char *path, const cnv_box *b, const unsigned char bg[3],
                             cnv_image *out) {
    const cnv_shape *in_shape = &ctx->g->values[ctx->g->input].shape;
    cnv_image pic, seen;
    memset(out, 0, sizeof *out);
    CNV_TRY(cnv_input_picture(path, ctx->preset, in_shape, &pic));
    cnv_status st = cnv_image_resize(&pic, in_shape->d[3], in_shape->d[2], &seen);
    cnv_image_free(&pic);
    if (st == CNV_OK) st = cnv_topk_patch(&seen, b, bg, out);
    cnv_image_free(&seen);
    return st;
}

/* The grid: a row of k patches per channel, tiles the receptive field's shape scaled to at
 * least MIN_TILE pixels. */
static cnv_status grid_layout(const cnv_graph *g, int node, int k, cnv_grid_layout *l) {
    cnv_grid_layout_default(l);
    cnv_box field = {0};
    CNV_TRY(cnv_receptive_box(g, node, 0, 0, &field));
    int fw = field.x1 - field.x0, fh = field.y1 - field.y0, side = fw > fh ? fw : fh;
    int scale = side > 0 ? (MIN_TILE + side - 1) / side : 1;
    l->tile_w = fw * scale;
    l->tile_h = fh * scale;
    l->cols = k;
    return CNV_OK;
}

static int write_grid(const cli_ctx *ctx, const topk_args *a, const file_list *files, const stream *s, int node,
                      const cnv_topk *t) {
    enum { LABEL = 24 };
    int n = t->n_channels * t->k;
    cnv_grid_layout l;
    cnv_image *tiles = calloc((size_t)n, sizeof *tiles), grid = {0};
    char *labels = calloc((size_t)n, LABEL);
    const char **captions = calloc((size_t)n, sizeof *captions);
    if (!tiles || !labels || !captions) {
        free(tiles), free(labels), free(captions);
        return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    }
    cnv_status st = CNV_OK;
    for (int c = 0; st == CNV_OK && c < t->n_channels; c++)
        for (int r = 0; st == CNV_OK && r < t->count[c]; r++) {
            const cnv_topk_entry *e = &t->best[(size_t)c * t->k + r];
            cnv_box b;
            int i = c * t->k + r;
            st = cnv_receptive_box(ctx->g, node, e->y, e->x, &b);
            if (st == CNV_OK) st = make_patch(ctx, files->path[s->used[e->item]], &b, l.background, &tiles[i]);
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

static int report(const cli_ctx *ctx, const topk_args *a, const file_list *files, const stream *s, int node,
                  const cnv_topk *t) {
    json_t *channels = ctx->json ? json_array() : NULL;
    char all[24];
    if (!ctx->json)
        printf("%s: %d images ranked, %d skipped; layer %s, channels %s -> %s\n", a->dir, s->n_used, s->n_skipped,
               ctx->g->nodes[node].name, cli_channel_list_text(&a->channels, all), a->output);
    for (int c = 0; c < t->n_channels; c++) {
        json_t *top = channels ? json_array() : NULL;
        if (!ctx->json) printf("  channel %d:", a->channels.index[c]);
        for (int r = 0; r < t->count[c]; r++) {
            const cnv_topk_entry *e = &t->best[(size_t)c * t->k + r];
            const char *path = files->path[s->used[e->item]];
            cnv_box b;
            cnv_status st = cnv_receptive_box(ctx->g, node, e->y, e->x, &b);
            if (st != CNV_OK) {
                json_decref(channels);
                return cli_status_error(ctx, st);
            }
            const cnv_shape *in = &ctx->g->values[ctx->g->input].shape;
            b = cnv_box_clamp(b, in->d[2], in->d[3]);
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
                             "layer", ctx->g->nodes[node].name, "k", a->k, "ranked", s->n_used, "skipped",
                             s->n_skipped, "output", a->output, "channels", channels);
    return cli_print_json(ctx, root);
}

static int run_topk(const cli_ctx *ctx, topk_args *a) {
    if (!a->output) return cli_error(ctx, CLI_EXIT_USAGE, "needs -o OUT.png");
    if (!a->dir) return cli_error(ctx, CLI_EXIT_USAGE, "needs --images DIR");
    if (!a->layer) return cli_error(ctx, CLI_EXIT_USAGE, "needs --layer L");
    int node;
    int code = cli_find_layer(ctx, a->layer, &node);
    if (code) return code;
    const cnv_shape *os = &ctx->g->values[ctx->g->nodes[node].out].shape;
    if (os->ndim != 4) {
        char buf[64];
        return cli_error(ctx, CLI_EXIT_USAGE, "layer %s is %s: topk needs an NxCxHxW output", ctx->g->nodes[node].name,
                         cnv_shape_str(os, buf, sizeof buf));
    }
    code = cli_channel_list_resolve(ctx, &a->channels, os->d[1], ctx->g->nodes[node].name);
    if (code) return code;
    file_list files;
    code = list_folder(ctx, a->dir, &files);
    if (code) return code;
    /* The picture's size is known now: refuse an oversized grid before ranking anything. */
    cnv_grid_layout l;
    cnv_status st = grid_layout(ctx->g, node, a->k, &l);
    if (st == CNV_OK && (size_t)a->channels.n * (size_t)a->k > INT_MAX)
        st = cnv_fail(CNV_ERR_LIMIT, "--k %d for %d channels: too many tiles", a->k, a->channels.n);
    if (st == CNV_OK) st = cnv_grid_check(&l, a->channels.n * a->k);
    if (st != CNV_OK) {
        file_list_free(&files);
        return cli_status_error(ctx, st);
    }
    cnv_topk t = {0};
    stream s = {0};
    st = cnv_topk_init(&t, a->channels.n, a->k);
    code = st == CNV_OK ? rank_folder(ctx, a, &files, node, &t, &s) : cli_status_error(ctx, st);
    if (!code) code = write_grid(ctx, a, &files, &s, node, &t);
    if (!code) code = report(ctx, a, &files, &s, node, &t);
    cnv_exec_free(s.ex);
    free(s.batch_in);
    free(s.batch_out);
    free(s.tracked);
    free(s.used);
    cnv_topk_free(&t);
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
