/* The map and the reduce of an atlas' top-k (vis/atlas_files.h): a rank item runs its chunk of
 * the images through the model once and keeps, for every channel of every layer, its top-k
 * (score = the channel's maximum over positions) and its statistics, written as one .npy of
 * [channels of all layers, 4k + 4] floats: k entries (score, image, y, x; image -1 when empty),
 * then the sum and the sum of squares of the channel's mean over the chunk, its maximum and how
 * many images it was active on (maximum > 0). Merging the chunks in their order gives what one
 * pass over every image gives. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/status.h"
#include "io/npy.h"
#include "io/preprocess.h"
#include "vis/atlas_files.h"

enum { STATS = 4 };

static int total_channels(const cnv_atlas *a) {
    int n = 0;
    for (int l = 0; l < a->n_layers; l++) n += a->layers[l].channels;
    return n;
}

/* Whether forward(to) computes node `of` (it is `to` or one of its ancestors). */
static int computes(const cnv_graph *g, int to, int of) {
    if (of == to) return 1;
    unsigned char *needed = calloc((size_t)g->n_nodes, 1);
    if (!needed) return 0;
    needed[to] = 1;
    for (int n = to; n >= 0; n--) {
        if (!needed[n]) continue;
        for (int j = 0; j < g->nodes[n].n_in; j++) {
            int p = g->values[g->nodes[n].in[j]].producer;
            if (p >= 0) needed[p] = 1;
        }
    }
    int yes = needed[of];
    free(needed);
    return yes;
}

typedef struct chunk {
    cnv_exec *ex;
    float *in, **out; /* the batch's input; per layer its output */
    cnv_topk *tops;   /* per layer */
    float *stats;     /* [all channels][STATS] */
    int deepest;
} chunk;

static cnv_status forward_batch(const cnv_atlas *a, cnv_atlas_work *e, chunk *c, int filled, int first_image) {
    CNV_TRY(cnv_exec_set_input(c->ex, c->in));
    CNV_TRY(cnv_exec_forward(c->ex, a->layers[c->deepest].node));
    for (int l = 0; l < a->n_layers; l++) {
        if (!computes(e->g, a->layers[c->deepest].node, a->layers[l].node))
            CNV_TRY(cnv_exec_forward(c->ex, a->layers[l].node));
        CNV_TRY(cnv_exec_read(c->ex, e->g->nodes[a->layers[l].node].out, c->out[l]));
    }
    int base = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const cnv_atlas_layer *L = &a->layers[l];
        size_t plane = (size_t)L->map_h * L->map_w;
        for (int i = 0; i < filled; i++) {
            const float *maps = c->out[l] + (size_t)i * L->all_channels * plane; /* the drawn channels come first */
            cnv_topk_add(&c->tops[l], maps, L->map_h, L->map_w, first_image + i);
            for (int ch = 0; ch < L->channels; ch++) {
                const float *m = maps + ch * plane;
                double sum = 0;
                float max = -FLT_MAX;
                for (size_t q = 0; q < plane; q++) {
                    sum += m[q];
                    if (m[q] > max) max = m[q];
                }
                float *st = c->stats + (size_t)(base + ch) * STATS, mean = (float)(sum / (double)plane);
                st[0] += mean;
                st[1] += mean * mean;
                st[2] = st[2] > max ? st[2] : max;
                st[3] += max > 0;
            }
        }
        base += L->channels;
    }
    return CNV_OK;
}

static void chunk_free(const cnv_atlas *a, chunk *c) {
    cnv_exec_free(c->ex);
    free(c->in);
    for (int l = 0; c->out && l < a->n_layers; l++) free(c->out[l]);
    free(c->out);
    for (int l = 0; c->tops && l < a->n_layers; l++) cnv_topk_free(&c->tops[l]);
    free(c->tops);
    free(c->stats);
}

static cnv_status chunk_init(const cnv_atlas *a, cnv_atlas_work *e, int batch, chunk *c) {
    memset(c, 0, sizeof *c);
    const cnv_shape *in = &e->g->values[e->g->input].shape;
    CNV_TRY(cnv_exec_create(e->g, e->be, batch, &c->ex));
    c->in = calloc(cnv_shape_numel(in) * batch, sizeof *c->in);
    c->out = calloc((size_t)a->n_layers, sizeof *c->out);
    c->tops = calloc((size_t)a->n_layers, sizeof *c->tops);
    c->stats = calloc((size_t)total_channels(a) * STATS, sizeof *c->stats);
    if (!c->in || !c->out || !c->tops || !c->stats) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    for (int l = 0; l < a->n_layers; l++) {
        const cnv_atlas_layer *L = &a->layers[l];
        if (L->node > a->layers[c->deepest].node) c->deepest = l;
        c->out[l] = malloc(sizeof **c->out * (size_t)batch * L->all_channels * L->map_h * L->map_w);
        if (!c->out[l]) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
        CNV_TRY(cnv_topk_init(&c->tops[l], L->channels, a->k));
    }
    for (int i = 0; i < total_channels(a); i++) c->stats[(size_t)i * STATS + 2] = -FLT_MAX;
    return CNV_OK;
}

/* The chunk's lists and statistics as the partial's rows. */
static cnv_status write_partial(const cnv_atlas *a, const cnv_atlas_item *it, const chunk *c) {
    int width = 4 * a->k + STATS, rows = total_channels(a);
    float *data = malloc(sizeof *data * (size_t)rows * width);
    if (!data) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    int row = 0;
    for (int l = 0; l < a->n_layers; l++)
        for (int ch = 0; ch < a->layers[l].channels; ch++, row++) {
            float *r = data + (size_t)row * width;
            const cnv_topk *t = &c->tops[l];
            for (int j = 0; j < a->k; j++) {
                const cnv_topk_entry *en = &t->best[(size_t)ch * t->k + j];
                int has = j < t->count[ch];
                r[4 * j] = has ? en->score : 0;
                r[4 * j + 1] = has ? (float)en->item : -1;
                r[4 * j + 2] = has ? (float)en->y : 0;
                r[4 * j + 3] = has ? (float)en->x : 0;
            }
            memcpy(r + 4 * a->k, c->stats + (size_t)row * STATS, sizeof *r * STATS);
        }
    char path[4096];
    cnv_atlas_rank_path(a, it, path, sizeof path);
    cnv_shape s = {.ndim = 2, .d = {rows, width}};
    cnv_status st = cnv_npy_write(path, data, &s);
    free(data);
    return st;
}

cnv_status cnv_atlas_rank_item(const cnv_atlas *a, cnv_atlas_work *e, const cnv_atlas_item *it, json_t *record) {
    const cnv_shape *in = &e->g->values[e->g->input].shape;
    size_t numel = cnv_shape_numel(in);
    int batch = e->forward_batch < it->count ? e->forward_batch : it->count;
    chunk c;
    cnv_status s = chunk_init(a, e, batch, &c);
    json_t *skipped = json_array();
    int filled = 0, first = it->first;
    for (int i = it->first; s == CNV_OK && i < it->first + it->count; i++) {
        cnv_image pic;
        s = cnv_atlas_images_picture(a->images, i, e->preset, &pic);
        if (s != CNV_OK && s != CNV_ERR_NOMEM) { /* an unreadable picture: skipped, and said so in the record */
            char name[256];
            json_array_append_new(skipped, json_pack("{s:s, s:s}", "image", cnv_atlas_images_name(a->images, i, name,
                                                     sizeof name), "why", cnv_last_error()));
            s = CNV_OK;
            /* The batch holds consecutive images: send what it has before the gap. */
            if (filled) s = forward_batch(a, e, &c, filled, first);
            filled = 0;
            first = i + 1;
            continue;
        }
        if (s != CNV_OK) break;
        cnv_preprocess_pixels(&pic, e->preset, c.in + (size_t)filled * numel);
        cnv_image_free(&pic);
        if (++filled == batch) {
            s = forward_batch(a, e, &c, filled, first);
            filled = 0;
            first = i + 1;
        }
    }
    if (s == CNV_OK && filled) s = forward_batch(a, e, &c, filled, first);
    if (s == CNV_OK) s = write_partial(a, it, &c);
    chunk_free(a, &c);
    json_object_set_new(record, "kind", json_string("rank"));
    json_object_set_new(record, "images", json_pack("[i, i]", it->first, it->count));
    json_object_set_new(record, "skipped", skipped);
    json_object_set_new(record, "device", json_string(cnv_backend_device(e->be)));
    return s;
}

cnv_status cnv_atlas_merge_ranks(const cnv_atlas *a, cnv_topk *tops, float **stats) {
    int width = 4 * a->k + STATS, rows = total_channels(a);
    memset(tops, 0, sizeof *tops * (size_t)a->n_layers);
    memset(stats, 0, sizeof *stats * (size_t)a->n_layers);
    double *sums = calloc((size_t)rows * STATS, sizeof *sums);
    if (!sums) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    for (int i = 0; i < rows; i++) sums[(size_t)i * STATS + 2] = -FLT_MAX;
    cnv_status s = CNV_OK;
    for (int l = 0; s == CNV_OK && l < a->n_layers; l++) s = cnv_topk_init(&tops[l], a->layers[l].channels, a->k);
    for (int i = 0; s == CNV_OK && i < a->n_items; i++) {
        const cnv_atlas_item *it = &a->items[i];
        if (it->kind != CNV_ATLAS_RANK) continue;
        char path[4096];
        float *data = NULL;
        cnv_shape sh;
        cnv_atlas_rank_path(a, it, path, sizeof path);
        s = cnv_npy_read(path, &data, &sh);
        if (s == CNV_OK && (sh.ndim != 2 || sh.d[0] != rows || sh.d[1] != width))
            s = cnv_fail(CNV_ERR_FORMAT, "%s: a partial top-k of another shape than [%d, %d]", path, rows, width);
        int row = 0;
        for (int l = 0; s == CNV_OK && l < a->n_layers; l++)
            for (int ch = 0; ch < a->layers[l].channels; ch++, row++) {
                const float *r = data + (size_t)row * width;
                for (int j = 0; j < a->k && r[4 * j + 1] >= 0; j++)
                    cnv_topk_offer(&tops[l], ch, (cnv_topk_entry){r[4 * j], (int)r[4 * j + 1], (int)r[4 * j + 2],
                                                                  (int)r[4 * j + 3]});
                double *sm = sums + (size_t)row * STATS;
                const float *rs = r + 4 * a->k;
                sm[0] += rs[0];
                sm[1] += rs[1];
                sm[2] = sm[2] > rs[2] ? sm[2] : rs[2];
                sm[3] += rs[3];
            }
        free(data);
    }
    int row = 0, n = a->images ? a->images->n : 0;
    for (int l = 0; s == CNV_OK && l < a->n_layers; l++) {
        stats[l] = malloc(sizeof **stats * (size_t)a->layers[l].channels * STATS);
        if (!stats[l]) s = cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
        for (int ch = 0; s == CNV_OK && ch < a->layers[l].channels; ch++, row++) {
            const double *sm = sums + (size_t)row * STATS;
            double mean = n ? sm[0] / n : 0, var = n ? sm[1] / n - mean * mean : 0;
            float *out = stats[l] + (size_t)ch * STATS;
            out[0] = (float)mean;
            out[1] = (float)sqrt(var > 0 ? var : 0);
            out[2] = (float)sm[2];
            out[3] = n ? (float)(sm[3] / n) : 0;
        }
    }
    free(sums);
    return s;
}
