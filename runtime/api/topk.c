/* The public top-k calls (attribution.h): a list of files streamed through the model in batches
 * into vis/topk.h's running lists, and the receptive-field patch of a file, as `cnnvis topk`
 * ranks and draws them. */
#include <stdlib.h>
#include <string.h>

#include "cnnvis/attribution.h"
#include "core/exec.h"
#include "core/status.h"
#include "io/normalize.h"
#include "io/preprocess.h"
#include "api/model.h"
#include "vis/topk.h"

static const cnv_preset *preset_or_default(const cnv_graph *g, const cnv_preset *p) {
    return p ? p : cnv_model_default_preset(g);
}

cnv_status cnv_receptive_patch(const cnv_graph *g, const cnv_preset *p, const char *path, int layer, int y, int x,
                               const unsigned char bg[3], cnv_image *out) {
    const cnv_shape *in = &g->values[g->input].shape;
    memset(out, 0, sizeof *out);
    cnv_box b;
    CNV_TRY(cnv_receptive_box(g, layer, y, x, &b));
    cnv_image pic, seen;
    CNV_TRY(cnv_input_picture(path, preset_or_default(g, p), in, &pic));
    cnv_status st = cnv_image_resize(&pic, in->d[3], in->d[2], &seen);
    cnv_image_free(&pic);
    if (st == CNV_OK) st = cnv_topk_patch(&seen, &b, bg, out);
    cnv_image_free(&seen);
    return st;
}

/* The state of one ranking: a batch of preprocessed inputs, the layer's output for it, and one
 * item's tracked maps side by side, as the running lists take them. */
typedef struct ranking {
    cnv_exec *ex;
    int layer, h, w, n_channels;
    const int *channels;
    float *in, *out, *tracked;
    size_t in_numel, out_numel;
    int *item; /* per batch slot: the index of its file */
} ranking;

static cnv_status flush(ranking *r, int filled, cnv_topk *t) {
    const size_t plane = (size_t)r->h * r->w;
    /* Slots past `filled` keep the previous batch's data; their results are ignored. */
    CNV_TRY(cnv_exec_set_input(r->ex, r->in));
    CNV_TRY(cnv_exec_forward(r->ex, r->layer));
    CNV_TRY(cnv_exec_read(r->ex, r->ex->g->nodes[r->layer].out, r->out));
    for (int i = 0; i < filled; i++) {
        const float *maps = r->out + (size_t)i * r->out_numel;
        for (int c = 0; c < r->n_channels; c++)
            memcpy(r->tracked + c * plane, maps + r->channels[c] * plane, plane * sizeof *maps);
        cnv_topk_add(t, r->tracked, r->h, r->w, r->item[i]);
    }
    return CNV_OK;
}

static cnv_status check_args(const cnv_graph *g, int n_paths, int layer, const int *channels, int n_channels, int k,
                             int batch) {
    if (layer < 0 || layer >= g->n_nodes)
        return cnv_fail(CNV_ERR_NOT_FOUND, "%s: no layer %d (the model has %d)", g->source, layer, g->n_nodes);
    const cnv_shape *os = &g->values[g->nodes[layer].out].shape;
    char buf[64];
    if (os->ndim != 4)
        return cnv_fail(CNV_ERR_SHAPE, "layer %s is %s: top-k needs an NxCxHxW output", g->nodes[layer].name,
                        cnv_shape_str(os, buf, sizeof buf));
    if (n_paths < 0 || n_channels < 1 || k < 1 || batch < 1)
        return cnv_fail(CNV_ERR_ARG, "top-k: needs files, channels, k and batch (got %d, %d, %d, %d)", n_paths,
                        n_channels, k, batch);
    for (int c = 0; c < n_channels; c++)
        if (channels[c] < 0 || channels[c] >= os->d[1])
            return cnv_fail(CNV_ERR_ARG, "channel %d out of range: layer %s has %d channels", channels[c],
                            g->nodes[layer].name, os->d[1]);
    return CNV_OK;
}

/* Reads every file into the batch, skipping those that cannot be read, flushing full batches. */
static cnv_status rank(const cnv_graph *g, const cnv_preset *p, const char *const *paths, int n_paths, int batch,
                       cnv_skip_fn skipped, void *user, ranking *r, cnv_topk *t, int *n_ranked) {
    const cnv_shape *in_shape = &g->values[g->input].shape;
    int filled = 0;
    for (int f = 0; f < n_paths; f++) {
        float *data;
        cnv_status st = cnv_preprocess_file(paths[f], p, in_shape, &data);
        if (st == CNV_ERR_NOMEM) return st;
        if (st != CNV_OK) {
            if (skipped) skipped(user, paths[f], cnv_last_error());
            continue;
        }
        memcpy(r->in + (size_t)filled * r->in_numel, data, r->in_numel * sizeof *data);
        free(data);
        r->item[filled] = f;
        (*n_ranked)++;
        if (++filled == batch) {
            CNV_TRY(flush(r, filled, t));
            filled = 0;
        }
    }
    return filled ? flush(r, filled, t) : CNV_OK;
}

cnv_status cnv_topk_files(cnv_graph *g, cnv_backend *be, const cnv_preset *p, const char *const *paths, int n_paths,
                          int layer, const int *channels, int n_channels, int k, int batch, cnv_skip_fn skipped,
                          void *user, cnv_topk_entry *best, int *count, int *n_ranked) {
    *n_ranked = 0;
    CNV_TRY(check_args(g, n_paths, layer, channels, n_channels, k, batch));
    const cnv_shape *os = &g->values[g->nodes[layer].out].shape;
    ranking r = {.layer = layer, .h = os->d[2], .w = os->d[3], .n_channels = n_channels, .channels = channels,
                 .in_numel = cnv_shape_numel(&g->values[g->input].shape), .out_numel = cnv_shape_numel(os)};
    cnv_topk t = {0};
    cnv_status st = cnv_topk_init(&t, n_channels, k);
    if (st == CNV_OK) st = cnv_exec_create(g, be, batch, &r.ex);
    if (st == CNV_OK) {
        r.in = calloc(r.in_numel * (size_t)batch, sizeof *r.in);
        r.out = malloc(sizeof *r.out * r.out_numel * (size_t)batch);
        r.item = malloc(sizeof *r.item * (size_t)batch);
        r.tracked = malloc(sizeof *r.tracked * (size_t)n_channels * r.h * r.w);
        if (!r.in || !r.out || !r.item || !r.tracked) st = cnv_fail(CNV_ERR_NOMEM, "out of memory");
    }
    if (st == CNV_OK) st = rank(g, preset_or_default(g, p), paths, n_paths, batch, skipped, user, &r, &t, n_ranked);
    if (st == CNV_OK) {
        memcpy(count, t.count, sizeof *count * (size_t)n_channels);
        memcpy(best, t.best, sizeof *best * (size_t)n_channels * k);
    }
    cnv_exec_free(r.ex);
    free(r.in);
    free(r.out);
    free(r.item);
    free(r.tracked);
    cnv_topk_free(&t);
    return st;
}
