/* The atlas' plan, its manifest, the shards and the item records (cnnvis/atlas.h, vis/atlas.h). */
#include "vis/atlas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/graph.h"
#include "core/status.h"
#include "io/atomic_file.h"
#include "models/preset.h"
#include "vis/atlas_files.h"

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t cnv_atlas_seed(const char *model_sha256, const char *layer, int channel, uint64_t seed) {
    char text[512];
    snprintf(text, sizeof text, "%s/%s/%d/%llu", model_sha256, layer, channel, (unsigned long long)seed);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    return splitmix64(h);
}

void cnv_atlas_free(cnv_atlas *a) {
    if (!a) return;
    for (int i = 0; a->layers && i < a->n_layers; i++) free(a->layers[i].name);
    free(a->layers);
    free(a->items);
    free(a->dir);
    free(a->model_path);
    json_decref(a->settings);
    free(a);
}

static char *dup_text(const char *s) {
    char *d = malloc(strlen(s) + 1);
    return d ? strcpy(d, s) : NULL;
}

/* The settings text as a JSON object (an empty one for NULL). */
static cnv_status parse_settings(const char *text, json_t **out) {
    json_error_t err;
    *out = text ? json_loads(text, 0, &err) : json_object();
    if (!*out) return text ? cnv_fail(CNV_ERR_FORMAT, "atlas: the settings are not JSON: %s", err.text)
                           : cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    if (!json_is_object(*out)) {
        json_decref(*out);
        return cnv_fail(CNV_ERR_FORMAT, "atlas: the settings are not a JSON object");
    }
    return CNV_OK;
}

static cnv_status plan(cnv_atlas *a, const char *dir, const cnv_graph *g, const char *model_path, const int *nodes,
                       int n_layers, const cnv_atlas_params *p) {
    int max_channels = p->max_channels, batch = p->batch, k = p->k, rank_chunk = p->rank_chunk;
    uint64_t seed = p->seed;
    const cnv_atlas_images *images = p->images;
    a->jpeg_quality = p->jpeg_quality;
    CNV_TRY(parse_settings(p->settings, &a->settings));
    if (n_layers < 1 || batch < 1 || (images && (k < 1 || rank_chunk < 1)) || p->jpeg_quality < 0 ||
        p->jpeg_quality > 100)
        return cnv_fail(CNV_ERR_ARG, "atlas: needs a layer, batch >= 1, a JPEG quality within 0..100, and k, chunk >= 1 "
                                     "with images");
    for (int i = 0; i < n_layers; i++)
        if (nodes[i] < 0 || nodes[i] >= g->n_nodes) return cnv_fail(CNV_ERR_ARG, "atlas: no layer %d", nodes[i]);
    CNV_TRY(cnv_graph_file_sha256(g, model_path, a->model_sha256));
    a->dir = dup_text(dir);
    a->model_path = dup_text(model_path);
    a->layers = calloc((size_t)n_layers, sizeof *a->layers);
    a->batch = batch;
    a->k = k;
    a->rank_chunk = rank_chunk;
    a->images = images;
    int n_items = images ? (images->n + rank_chunk - 1) / rank_chunk : 0;
    for (int i = 0; i < n_layers; i++) {
        const cnv_shape *os = &g->values[g->nodes[nodes[i]].out].shape;
        if (os->ndim != 4)
            return cnv_fail(CNV_ERR_ARG, "layer %s has no channels of maps (shape is not NCHW)", g->nodes[nodes[i]].name);
        int drawn = max_channels > 0 && max_channels < os->d[1] ? max_channels : os->d[1];
        n_items += (drawn + batch - 1) / batch;
    }
    a->items = calloc((size_t)n_items, sizeof *a->items);
    if (!a->dir || !a->model_path || !a->layers || !a->items)
        return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory for %d items", n_items);
    for (int i = 0; i < n_layers; i++) {
        const cnv_shape *os = &g->values[g->nodes[nodes[i]].out].shape;
        cnv_atlas_layer *l = &a->layers[a->n_layers++];
        l->name = dup_text(g->nodes[nodes[i]].name);
        l->node = nodes[i];
        l->all_channels = os->d[1];
        l->channels = max_channels > 0 && max_channels < os->d[1] ? max_channels : os->d[1];
        l->map_h = os->d[2];
        l->map_w = os->d[3];
        if (!l->name) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
        for (int c = 0; c < l->channels; c += batch) {
            cnv_atlas_item *it = &a->items[a->n_items++];
            it->kind = CNV_ATLAS_RENDER;
            it->layer = i;
            it->first = c;
            it->count = l->channels - c < batch ? l->channels - c : batch;
            it->seed = cnv_atlas_seed(a->model_sha256, l->name, c, seed);
            snprintf(it->id, sizeof it->id, "L%03d-c%06d", i, c);
        }
    }
    for (int f = 0; images && f < images->n; f += rank_chunk) {
        cnv_atlas_item *it = &a->items[a->n_items++];
        it->kind = CNV_ATLAS_RANK;
        it->first = f;
        it->count = images->n - f < rank_chunk ? images->n - f : rank_chunk;
        snprintf(it->id, sizeof it->id, "I%08d", f);
    }
    return CNV_OK;
}

cnv_status cnv_atlas_plan(const char *dir, const cnv_graph *g, const char *model_path, const int *layers,
                          int n_layers, const cnv_atlas_params *p, cnv_atlas **out) {
    *out = NULL;
    cnv_atlas *a = calloc(1, sizeof *a);
    if (!a) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    cnv_status s = plan(a, dir, g, model_path, layers, n_layers, p);
    if (s != CNV_OK) cnv_atlas_free(a);
    else *out = a;
    return s;
}

const char *cnv_atlas_dir(const cnv_atlas *a) { return a->dir; }
int cnv_atlas_layer_count(const cnv_atlas *a) { return a->n_layers; }
int cnv_atlas_item_count(const cnv_atlas *a) { return a->n_items; }
const char *cnv_atlas_item_id(const cnv_atlas *a, int item) {
    return item >= 0 && item < a->n_items ? a->items[item].id : NULL;
}
cnv_atlas_kind cnv_atlas_item_kind(const cnv_atlas *a, int item) {
    return item >= 0 && item < a->n_items ? a->items[item].kind : CNV_ATLAS_RENDER;
}

/* ---- the manifest ---- */

static json_t *manifest(const cnv_atlas *a) {
    json_t *layers = json_array();
    for (int i = 0; layers && i < a->n_layers; i++) json_array_append_new(layers, json_string(a->layers[i].name));
    return json_pack("{s:s, s:s, s:o, s:O}", "format", "cnnvis atlas 1", "model_sha256", a->model_sha256, "layers",
                     layers, "settings", a->settings);
}

/* What differs between two manifests of the same model, for the message. */
static const char *difference(json_t *had, json_t *want) {
    if (!json_equal(json_object_get(had, "layers"), json_object_get(want, "layers"))) return "other layers";
    json_t *hs = json_object_get(had, "settings"), *ws = json_object_get(want, "settings");
    const char *key;
    json_t *value;
    static char what[160];
    json_object_foreach(ws, key, value) {
        if (!json_equal(json_object_get(hs, key), value)) {
            snprintf(what, sizeof what, "another %s", key);
            return what;
        }
    }
    return "other settings";
}

/* Empty, or holding only the manifest another shard is writing at this moment. */
static int folder_is_empty(const char *dir) {
    int empty = 1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    for (struct dirent *e; empty && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strncmp(e->d_name, "atlas.json.tmp-", 15) != 0)
            empty = 0;
    closedir(d);
    return empty;
}

cnv_status cnv_atlas_open(const cnv_atlas *a) {
    char path[4096];
    json_t *want = manifest(a);
    if (!want) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    struct stat st;
    cnv_status s = CNV_OK;
    cnv_atlas_path(a, path, sizeof path, "atlas.json");
    if (stat(a->dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
        s = cnv_fail(CNV_ERR_ARG, "%s: is a file, not a folder for the atlas", a->dir);
    } else if (stat(path, &st) == 0) {
        json_error_t err;
        json_t *had = json_load_file(path, 0, &err);
        const char *sha = json_string_value(json_object_get(had, "model_sha256"));
        if (!had || !sha)
            s = cnv_fail(CNV_ERR_ARG, "%s: not an atlas manifest (%s): give another folder", path, err.text);
        else if (strcmp(sha, a->model_sha256) != 0)
            s = cnv_fail(CNV_ERR_ARG, "%s holds the atlas of another model (sha256 %.12s..., this one %.12s...): give another "
                         "folder", a->dir, sha, a->model_sha256);
        else if (!json_equal(had, want))
            s = cnv_fail(CNV_ERR_ARG, "%s holds an atlas of this model with %s: give the same options or another folder",
                         a->dir, difference(had, want));
        json_decref(had);
        json_decref(want);
        return s == CNV_OK ? cnv_atlas_make_folders(a) : s;
    } else if (errno == ENOENT && stat(a->dir, &st) == 0 && !folder_is_empty(a->dir)) {
        s = cnv_fail(CNV_ERR_ARG, "%s: the folder holds other files and no atlas: give a new or empty folder", a->dir);
    }
    if (s == CNV_OK && mkdir(a->dir, 0777) != 0 && errno != EEXIST)
        s = cnv_fail(CNV_ERR_IO, "%s: cannot create the folder: %s", a->dir, strerror(errno));
    char *text = s == CNV_OK ? json_dumps(want, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(want);
    if (s == CNV_OK && !text) s = cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    /* Shards starting together write the same text: whichever rename lands last, it is the same.
     * The manifest comes before any other file, so a shard never finds files without it. */
    if (s == CNV_OK) s = cnv_write_text_file(path, text);
    /* An atlas is many commits, not one: inside the CLI's transaction (io/atomic_file.h) the
     * manifest and each finished item are published at once, so other shards see them and a
     * killed run keeps every item it finished. */
    if (s == CNV_OK) s = cnv_atomic_publish();
    free(text);
    return s == CNV_OK ? cnv_atlas_make_folders(a) : s;
}

/* ---- shards ---- */

/* A whole number >= 0 from all of text; -1 when it is not one. */
static long whole_number(const char *text) {
    if (!text || !*text) return -1;
    long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000) return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

static cnv_status env_number(const char *name, long fallback, long *out) {
    const char *text = getenv(name);
    *out = text ? whole_number(text) : fallback;
    if (*out < 0) return cnv_fail(CNV_ERR_ARG, "--shard auto: %s='%s' is not a whole number", name, text);
    return CNV_OK;
}

cnv_status cnv_atlas_shard_parse(const char *spec, cnv_atlas_shard *out) {
    long index = 0, count = 1;
    const char *from = spec;
    if (strcmp(spec, "auto") == 0) {
        if (getenv("SLURM_ARRAY_TASK_ID")) {
            long id, min, step;
            CNV_TRY(env_number("SLURM_ARRAY_TASK_ID", 0, &id));
            CNV_TRY(env_number("SLURM_ARRAY_TASK_MIN", 0, &min));
            CNV_TRY(env_number("SLURM_ARRAY_TASK_STEP", 1, &step));
            CNV_TRY(env_number("SLURM_ARRAY_TASK_COUNT", -1, &count));
            if (step < 1 || id < min || (id - min) % step)
                return cnv_fail(CNV_ERR_ARG, "--shard auto: task %ld is not on the array's %ld, %ld+%ld, ...", id, min,
                                min, step);
            index = (id - min) / step;
            from = "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT";
        } else if (getenv("JOB_COMPLETION_INDEX")) {
            CNV_TRY(env_number("JOB_COMPLETION_INDEX", 0, &index));
            if (!getenv("JOB_COMPLETIONS"))
                return cnv_fail(CNV_ERR_ARG, "--shard auto: JOB_COMPLETION_INDEX is set but JOB_COMPLETIONS (the Job's "
                                             "completions) is not");
            CNV_TRY(env_number("JOB_COMPLETIONS", -1, &count));
            from = "JOB_COMPLETION_INDEX/JOB_COMPLETIONS";
        }
    } else {
        const char *slash = strchr(spec, '/');
        char head[24];
        size_t n = slash ? (size_t)(slash - spec) : 0;
        if (!slash || n >= sizeof head)
            return cnv_fail(CNV_ERR_ARG, "--shard: '%s' is not I/N (such as 2/8) or auto", spec);
        memcpy(head, spec, n);
        head[n] = '\0';
        index = whole_number(head);
        count = whole_number(slash + 1);
        if (index < 0 || count < 0) return cnv_fail(CNV_ERR_ARG, "--shard: '%s' is not I/N (such as 2/8) or auto", spec);
    }
    if (count < 1 || index >= count)
        return cnv_fail(CNV_ERR_ARG, "--shard %s: shard %ld of %ld does not exist (0 <= I < N)", from, index, count);
    out->index = (int)index;
    out->count = (int)count;
    return CNV_OK;
}

/* ---- item records and the work log ---- */

int cnv_atlas_item_recorded(const cnv_atlas *a, const cnv_atlas_item *it) {
    char path[4096];
    cnv_atlas_item_record_path(a, it, path, sizeof path);
    return access(path, F_OK) == 0;
}

int cnv_atlas_item_done(const cnv_atlas *a, int item) {
    return item >= 0 && item < a->n_items && cnv_atlas_item_recorded(a, &a->items[item]);
}

static void utc_now(char buf[32]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One line per event, appended with one write(2) so that lines of concurrent shards never mix. */
static void work_log(const cnv_atlas *a, const char *event, const cnv_atlas_item *it, cnv_atlas_shard shard) {
    char path[4096], host[256] = "?", when[32], line[768];
    cnv_atlas_path(a, path, sizeof path, "work.log");
    gethostname(host, sizeof host - 1);
    utc_now(when);
    int n = snprintf(line, sizeof line, "%s %s %s shard %d/%d host %s pid %ld\n", when, event, it->id, shard.index,
                     shard.count, host, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) return;
    if (write(fd, line, (size_t)n) != n) { /* the log is a record, not the commit: the item stands without it */
    }
    close(fd);
}

static cnv_status commit(const cnv_atlas *a, const cnv_atlas_item *it, cnv_atlas_shard shard, json_t *record,
                         double seconds) {
    char path[4096], host[256] = "?", when[32];
    gethostname(host, sizeof host - 1);
    utc_now(when);
    json_object_set_new(record, "item", json_string(it->id));
    json_object_set_new(record, "shard", json_pack("[i, i]", shard.index, shard.count));
    json_object_set_new(record, "host", json_string(host));
    json_object_set_new(record, "pid", json_integer((json_int_t)getpid()));
    json_object_set_new(record, "finished", json_string(when));
    json_object_set_new(record, "seconds", json_real(seconds));
    char *text = json_dumps(record, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    if (!text) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
    cnv_atlas_item_record_path(a, it, path, sizeof path);
    cnv_status s = cnv_write_text_file(path, text);
    free(text);
    /* The item's pictures were committed before its record: publishing renames them first. */
    if (s == CNV_OK) s = cnv_atomic_publish();
    if (s == CNV_OK) work_log(a, "done", it, shard);
    return s;
}

/* The render's per-step callback: the engine's, with the item being rendered. */
static void step_progress(void *user, int step, int steps, const double *values, int n) {
    const cnv_atlas_work *w = user;
    if (w->engine->progress) w->engine->progress(w->engine->user, w->item, step, steps);
}

cnv_status cnv_atlas_work_init(const cnv_atlas_engine *e, const cnv_render_opts *render, float relu_slope,
                               cnv_atlas_work *w) {
    memset(w, 0, sizeof *w);
    if (!e->g || !e->be || !render || e->forward_batch < 1)
        return cnv_fail(CNV_ERR_ARG,
                        "atlas: the engine needs a model, a backend, render settings and forward_batch >= 1");
    w->preset = e->preset ? cnv_preset_find(e->preset) : cnv_preset_detect(e->g);
    if (!e->preset && !w->preset) w->preset = cnv_preset_find("generic");
    if (!w->preset) return cnv_fail(CNV_ERR_NOT_FOUND, "atlas: no preset '%s'", e->preset);
    w->g = e->g;
    w->be = e->be;
    w->render = *render;
    w->render.progress = step_progress;
    w->render.user = w;
    w->render.frame = NULL;
    w->relu_slope = relu_slope;
    w->forward_batch = e->forward_batch;
    w->engine = e;
    w->item = -1;
    return CNV_OK;
}

cnv_status cnv_atlas_work_run_shard(const cnv_atlas *a, cnv_atlas_work *e, cnv_atlas_shard shard,
                                    cnv_atlas_item_fn on_item, void *user) {
    if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
        return cnv_fail(CNV_ERR_ARG, "atlas: shard %d of %d does not exist (0 <= I < N)", shard.index, shard.count);
    int mine = 0, done = 0;
    for (int i = shard.index; i < a->n_items; i += shard.count) mine++;
    for (int i = shard.index; i < a->n_items; i += shard.count)
        if (cnv_atlas_item_recorded(a, &a->items[i])) {
            done++;
            if (on_item) on_item(user, a, i, 1, done, mine, 0);
        }
    for (int i = shard.index; i < a->n_items; i += shard.count) {
        const cnv_atlas_item *it = &a->items[i];
        if (cnv_atlas_item_recorded(a, it)) continue;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cnv_atlas_remove_temporaries(a, it);
        work_log(a, "start", it, shard);
        json_t *record = json_object();
        if (!record) return cnv_fail(CNV_ERR_NOMEM, "atlas: out of memory");
        e->item = i;
        cnv_status s = it->kind == CNV_ATLAS_RENDER ? cnv_atlas_render_item(a, e, it, record)
                                                    : cnv_atlas_rank_item(a, e, it, record);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (s == CNV_OK) s = commit(a, it, shard, record, seconds);
        json_decref(record);
        if (s != CNV_OK) return s;
        done++;
        if (on_item) on_item(user, a, i, 0, done, mine, seconds);
    }
    return CNV_OK;
}
