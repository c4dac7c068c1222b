/* cnnvis atlas MODEL -o DIR [--layers L,...|all] [--images DIR] [--shard I/N|auto]: every channel
 * of the chosen layers as `filter` draws it (the same recipe knobs and batching), and with
 * --images each channel's top-k images and statistics, browsable in DIR/index.html. The work
 * is split into items that any number of processes share (--shard) and that survive a kill:
 * the plan, the seeds, the shards, the records and the index are the library's (cnnvis/atlas.h);
 * this verb parses, reports progress and says what it did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cnnvis/atlas.h"
#include "commands.h"
#include "vis_cli.h"

enum { OPT_LAYERS = CLI_VERB_ID, OPT_MAX_CHANNELS, OPT_FORMAT, OPT_IMAGES, OPT_IMAGES_LIMIT, OPT_K, OPT_CHUNK, OPT_SHARD };

static const cli_option own_options[] = {
    {"layers", "L,...|all", "layers by node name, output-tensor name or index; all: every Conv and Concat",
     "the preset's layers worth visualizing, else all", OPT_LAYERS},
    {"max-channels", "N", "draw only the first N channels of each layer", "all", OPT_MAX_CHANNELS},
    {"format", "png|jpg", "the pictures' format (jpg: quality 90, a fraction of the size for atlases of thousands "
     "of channels)", "png", OPT_FORMAT},
    {"images", "DIR", "rank these images for each channel's top-k: a folder of pictures, or a data set as `train "
     "--data` takes (its test split)", "none", OPT_IMAGES},
    {"images-limit", "N", "rank at most the first N images", "all", OPT_IMAGES_LIMIT},
    {"k", "K", "top images per channel", "9", OPT_K},
    {"rank-chunk", "N", "images per ranking item (the unit of work of the top-k's map)", "256", OPT_CHUNK},
    {"shard", "I/N|auto", "render only items i with i % N == I, and leave the index to a run without --shard; auto: "
     "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, JOB_COMPLETION_INDEX/JOB_COMPLETIONS, else 0/1",
     "all items, then the index", OPT_SHARD},
};
#define N_OWN ((int)(sizeof own_options / sizeof own_options[0]))

/* filter's outputs that an atlas makes its own way. */
static const char *const not_for_atlas[] = {"frames", "frame-every", "gif", "save-tensor"};

typedef struct atlas_args {
    vis_cli vis;
    const char *layers, *images, *shard_spec;
    int max_channels, jpeg_quality, images_limit, k, chunk;
    cnv_atlas_shard shard;
    /* progress */
    int tty;
    struct timespec t0;
    int done, total, rendered;
    double rendered_seconds;
    const cnv_atlas *atlas;
} atlas_args;

static int on_option(void *state, int id, const char *arg) {
    atlas_args *a = state;
    const cli_ctx *ctx = a->vis.ctx;
    switch (id) {
    case OPT_LAYERS: a->layers = arg; return 0;
    case OPT_IMAGES: a->images = arg; return 0;
    case OPT_MAX_CHANNELS: return cli_parse_int(ctx, "max-channels", arg, 1, &a->max_channels);
    case OPT_FORMAT:
        if (strcmp(arg, "png") && strcmp(arg, "jpg")) return cli_error(ctx, CLI_EXIT_USAGE, "--format: '%s' is not png or jpg", arg);
        a->jpeg_quality = strcmp(arg, "jpg") == 0 ? 90 : 0;
        return 0;
    case OPT_IMAGES_LIMIT: return cli_parse_int(ctx, "images-limit", arg, 1, &a->images_limit);
    case OPT_K: return cli_parse_int(ctx, "k", arg, 1, &a->k);
    case OPT_CHUNK: return cli_parse_int(ctx, "rank-chunk", arg, 1, &a->chunk);
    case OPT_SHARD: {
        a->shard_spec = arg;
        cnv_status s = cnv_atlas_shard_parse(arg, &a->shard);
        return s == CNV_OK ? 0 : cli_status_error(ctx, s);
    }
    }
    return vis_cli_on_option(&a->vis, id, arg);
}

/* The option table: ours, then filter's less its picture outputs, -o described as the folder. */
static int atlas_options(cli_option *table, int cap) {
    cli_option all[96];
    int n = vis_cli_options(own_options, N_OWN, all, 96), kept = 0;
    for (int i = 0; i < n && kept < cap; i++) {
        int drop = 0;
        for (size_t j = 0; j < sizeof not_for_atlas / sizeof *not_for_atlas; j++) drop |= !strcmp(all[i].name, not_for_atlas[j]);
        if (drop) continue;
        table[kept] = all[i];
        if (!strcmp(all[i].name, "output")) {
            table[kept].arg = "DIR";
            table[kept].help = "the atlas folder: DIR/index.html, index.json, layers/, items/ (new, empty, or this atlas)";
        }
        kept++;
    }
    return kept;
}

static double since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* Seconds left: the mean time of the items rendered so far times the items left (less the part
 * of the current item already done). -1 before the first item finishes. */
static double eta(const atlas_args *a, double current_fraction) {
    if (a->rendered == 0) return -1;
    double per_item = a->rendered_seconds / a->rendered;
    return per_item * ((a->total - a->done) - current_fraction);
}

static void draw_bar(const atlas_args *a, double fraction, const char *what) {
    int width = 30, filled = a->total ? (int)(width * (a->done + fraction) / a->total) : width;
    double left = eta(a, fraction);
    char when[32] = "ETA --";
    if (left >= 0) snprintf(when, sizeof when, "ETA %dm%02ds", (int)(left / 60), (int)left % 60);
    fprintf(stderr, "\r[%.*s%.*s] %d/%d items %s, %s   ", filled, "##############################", width - filled,
            "..............................", a->done, a->total, what, when);
    fflush(stderr);
}

/* The engine's per-step callback: the bar moves within an item too. */
static void step_progress(void *user, int item, int step, int steps) {
    atlas_args *a = user;
    if (!a->tty) return;
    char what[96];
    snprintf(what, sizeof what, "(%s, step %d/%d)", cnv_atlas_item_id(a->atlas, item), step, steps);
    draw_bar(a, (double)step / steps, what);
}

/* One JSON object as one line on stdout (a scheduler reads them as they come). Takes line. */
static void print_line(json_t *line) {
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text) printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(line);
}

static void on_item(void *user, const cnv_atlas *atlas, int item, int skipped, int done, int total, double seconds) {
    atlas_args *a = user;
    a->done = done;
    a->total = total;
    if (!skipped) {
        a->rendered++;
        a->rendered_seconds += seconds;
    }
    if (a->vis.ctx->json) {
        double left = eta(a, 0);
        const char *kind = cnv_atlas_item_kind(atlas, item) == CNV_ATLAS_RENDER ? "render" : "rank";
        json_t *line = json_pack("{s:s, s:s, s:s, s:b, s:i, s:i, s:f, s:o, s:[i,i]}", "event", "item", "item",
                                 cnv_atlas_item_id(atlas, item), "kind", kind, "skipped", skipped, "done", done,
                                 "total", total, "seconds", seconds,
                                 "eta_seconds", left >= 0 ? json_real(left) : json_null(), "shard", a->shard.index,
                                 a->shard.count);
        print_line(line);
    }
    if (a->tty) {
        draw_bar(a, 0, skipped ? "(skipping what is done)" : "");
        if (done == total) fputc('\n', stderr);
    }
}

/* A layer whose output is NCHW maps. */
static int is_nchw(const cnv_graph *g, int layer) {
    int d[CNV_MAX_RANK];
    return cnv_model_layer_shape(g, layer, d) == 4;
}

/* --layers as model nodes (every Conv and Concat for "all"). */
static int pick_layers(const cli_ctx *ctx, const char *spec, int **nodes, int *n) {
    const cnv_graph *g = ctx->g;
    int n_layers = cnv_model_layer_count(g);
    *nodes = malloc(sizeof **nodes * (size_t)(n_layers + 1));
    *n = 0;
    if (!*nodes) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    if (!spec) spec = ctx->preset->default_layers ? ctx->preset->default_layers : "all";
    if (strcmp(spec, "all") == 0) {
        for (int i = 0; i < n_layers; i++) {
            const char *op = cnv_model_layer_op(g, i);
            if ((strcmp(op, "Conv") == 0 || strcmp(op, "Concat") == 0) && is_nchw(g, i)) (*nodes)[(*n)++] = i;
        }
        return *n ? 0 : cli_error(ctx, CLI_EXIT_USAGE, "%s: no Conv or Concat layer to draw", ctx->model_path);
    }
    char name[1024];
    for (const char *p = spec, *end; *p; p = *end ? end + 1 : end) {
        end = p + strcspn(p, ",");
        if ((size_t)(end - p) >= sizeof name || end == p)
            return cli_error(ctx, CLI_EXIT_USAGE, "--layers: '%s' is not a list of layers", spec);
        memcpy(name, p, (size_t)(end - p));
        name[end - p] = '\0';
        int node, code = cli_find_layer(ctx, name, &node);
        if (code) return code;
        if (!is_nchw(g, node))
            return cli_error(ctx, CLI_EXIT_USAGE, "layer %s has no channels of maps (shape is not NCHW)", name);
        for (int i = 0; i < *n; i++)
            if ((*nodes)[i] == node) return cli_error(ctx, CLI_EXIT_USAGE, "--layers: %s is given twice", name);
        if (*n == n_layers) break;
        (*nodes)[(*n)++] = node;
    }
    return *n ? 0 : cli_error(ctx, CLI_EXIT_USAGE, "--layers: no layer given");
}

/* What shapes the pictures and the ranking, as JSON text (malloc'ed; NULL when out of memory):
 * checked against DIR/atlas.json by every process. */
static char *settings(const atlas_args *a, const cnv_atlas_images *images) {
    json_t *s = vis_cli_settings(&a->vis);
    if (s) json_object_set_new(s, "max_channels", json_integer(a->max_channels));
    if (s) json_object_set_new(s, "format", json_string(a->jpeg_quality ? "jpg" : "png"));
    if (s && images)
        json_object_set_new(s, "images", json_pack("{s:s, s:i, s:i, s:i}", "source", cnv_atlas_images_source(images),
                                                   "count", cnv_atlas_images_count(images), "k", a->k, "chunk",
                                                   a->chunk));
    char *text = s ? json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(s);
    return text;
}

static int run(cli_ctx *ctx, atlas_args *a) {
    int *nodes = NULL, n = 0, code = pick_layers(ctx, a->layers, &nodes, &n);
    int in[CNV_MAX_RANK];
    cnv_model_input_shape(ctx->g, in);
    cnv_atlas_images *images = NULL;
    cnv_atlas *atlas = NULL;
    cnv_status s = CNV_OK;
    if (!code && a->images) {
        s = cnv_atlas_images_open(a->images, in[1], in[2], in[3], a->images_limit, &images);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    if (!code) {
        char *text = settings(a, images);
        cnv_atlas_params p = {.max_channels = a->max_channels, .batch = a->vis.batch, .seed = (uint64_t)a->vis.seed,
                              .images = images, .k = a->k, .rank_chunk = a->chunk, .jpeg_quality = a->jpeg_quality,
                              .settings = text};
        if (!text) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
        else s = cnv_atlas_plan(a->vis.output, ctx->g, ctx->model_path, nodes, n, &p, &atlas);
        free(text);
        if (!code && s == CNV_OK) s = cnv_atlas_open(atlas);
        if (!code && s != CNV_OK) code = cli_status_error(ctx, s);
    }
    cnv_atlas_engine e = {.g = ctx->g, .be = ctx->be, .preset = ctx->preset->name, .settings = a->vis.settings,
                          .forward_batch = 16, .progress = step_progress, .user = a};
    if (!code) {
        a->tty = isatty(2);
        a->atlas = atlas;
        clock_gettime(CLOCK_MONOTONIC, &a->t0);
        for (int i = a->shard.index; i < cnv_atlas_item_count(atlas); i += a->shard.count) a->total++;
        s = cnv_atlas_run_shard(atlas, &e, a->shard, on_item, a);
        if (s != CNV_OK) code = cli_status_error(ctx, s);
    }
    int index = !code && a->shard.count == 1;
    if (index && (s = cnv_atlas_write_index(atlas, &e)) != CNV_OK) code = cli_status_error(ctx, s);
    if (!code && !ctx->json) {
        if (index)
            printf("wrote %s/index.html (%d layers, %d items, %d rendered now, %.1f s on %s)\n", cnv_atlas_dir(atlas),
                   cnv_atlas_layer_count(atlas), cnv_atlas_item_count(atlas), a->rendered, since(&a->t0),
                   cnv_backend_device(ctx->be));
        else
            printf("shard %d/%d of %s: %d items, %d rendered now, %.1f s on %s; the index comes from a run without "
                   "--shard\n", a->shard.index, a->shard.count, cnv_atlas_dir(atlas), a->total, a->rendered,
                   since(&a->t0), cnv_backend_device(ctx->be));
    } else if (!code) {
        json_t *line = json_pack("{s:s, s:s, s:i, s:i, s:i, s:b, s:f}", "event", "done", "atlas", cnv_atlas_dir(atlas),
                                 "items", cnv_atlas_item_count(atlas), "shard_items", a->total, "rendered", a->rendered,
                                 "index", index, "seconds", since(&a->t0));
        print_line(line);
    }
    cnv_atlas_free(atlas);
    cnv_atlas_images_free(images);
    free(nodes);
    return code;
}

int cmd_atlas(int argc, char **argv) {
    cli_option table[96];
    cli_verb verb = {
        .name = "atlas",
        .synopsis = "MODEL -o DIR [--layers L,...|all] [--images DIR] [--shard I/N|auto] [options]",
        .summary = "Every channel of the chosen layers drawn (and its top images), split into resumable items that "
                   "any number of processes share; DIR/index.html shows them.",
        .options = table,
        .n_options = atlas_options(table, 96),
        .on_option = on_option,
        .records_model = 1,
    };
    cli_ctx ctx;
    atlas_args a = {.vis = {.ctx = &ctx, .seed = 1}, .k = 9, .chunk = 256, .shard = {0, 1}};
    int code = cli_parse(&ctx, &verb, argc, argv, &a);
    if (code < 0) {
        code = a.vis.output ? cli_load(&ctx, 1) : cli_error(&ctx, CLI_EXIT_USAGE, "give -o DIR (the atlas folder)");
        if (!code) code = vis_cli_prepare(&a.vis);
        if (!code) code = run(&ctx, &a);
    }
    vis_cli_free(&a.vis);
    cli_free(&ctx);
    return code;
}
