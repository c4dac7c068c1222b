#include "vis_cli.h"


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The outputs, after the library's knobs. */
enum { V_OUTPUT = VIS_OPT_FIRST + VIS_MAX_KNOBS, V_FRAMES, V_FRAME_EVERY, V_GIF, V_SAVE };

static const cli_option output_options[] = {
    {"output", "FILE", "the picture (PNG; a grid with captions for several images); FILE.json gets the run's record",
     NULL, V_OUTPUT},
    {"frames", "DIR", "write a PNG of the images every --frame-every steps into DIR", "none", V_FRAMES},
    {"frame-every", "K", "steps between frames (and GIF frames)", "16", V_FRAME_EVERY},
    {"gif", "FILE", "an animated GIF of the optimization", "none", V_GIF},
    {"save-tensor", "FILE", "the raw images as NCHW float32 .npy, values 0..1", "none", V_SAVE},
};
#define N_OUTPUTS ((int)(sizeof output_options / sizeof output_options[0]))

static int knob_count(void) {
    int n = cnv_vis_knob_count();
    return n < VIS_MAX_KNOBS ? n : VIS_MAX_KNOBS;
}

int vis_cli_options(const cli_option *own, int n_own, cli_option *table, int cap) {
    int n = 0;
    for (int i = 0; i < n_own && n < cap; i++) table[n++] = own[i];
    for (int i = 0; i < knob_count() && n < cap; i++) {
        const cnv_vis_knob *k = cnv_vis_knob_at(i);
        table[n++] = (cli_option){k->name, k->arg, k->help, k->def, VIS_OPT_FIRST + i};
    }
    for (int i = 0; i < N_OUTPUTS && n < cap; i++) table[n++] = output_options[i];
    return n;
}

void vis_cli_recipe_default(cli_option *table, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (table[i].id >= VIS_OPT_FIRST && table[i].id < V_OUTPUT && strcmp(table[i].name, "recipe") == 0)
            table[i].def = name;
}

static int make_settings(vis_cli *v) {
    if (v->settings) return 0;
    cnv_status s = cnv_vis_settings_create(NULL, &v->settings);
    return s == CNV_OK ? 0 : cli_status_error(v->ctx, s);
}

/* Size, seed and batch are checked as they are given; the recipe's knobs once the recipe is
 * known (vis_cli_prepare), in the order of the table. */
static int immediate(const char *knob) { return !strcmp(knob, "size") || !strcmp(knob, "seed") || !strcmp(knob, "batch"); }

int vis_cli_on_option(vis_cli *v, int id, const char *arg) {
    switch (id) {
    case V_OUTPUT: v->output = arg; return 0;
    case V_FRAMES: v->frames_dir = arg; return 0;
    case V_GIF: v->gif = arg; return 0;
    case V_SAVE: v->save_tensor = arg; return 0;
    case V_FRAME_EVERY: return cli_parse_int(v->ctx, "frame-every", arg, 1, &v->frame_every);
    }
    const cnv_vis_knob *k = id >= VIS_OPT_FIRST && id < VIS_OPT_FIRST + knob_count() ? cnv_vis_knob_at(id - VIS_OPT_FIRST) : NULL;
    if (!k) return cli_error(v->ctx, CLI_EXIT_RUNTIME, "internal: option %d", id);
    if (!strcmp(k->name, "recipe")) {
        v->recipe_name = arg;
        return 0;
    }
    if (!immediate(k->name)) {
        v->overrides[id - VIS_OPT_FIRST] = arg;
        return 0;
    }
    int code = make_settings(v);
    if (!code && cnv_vis_settings_set(v->settings, k->name, arg) != CNV_OK)
        code = cli_error(v->ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    v->size = v->settings ? cnv_vis_settings_size(v->settings) : 0;
    v->ctx->size = v->size; /* the model runs at that size where it can (cli_load) */
    return code;
}

int vis_cli_prepare(vis_cli *v) {
    int code = make_settings(v);
    if (code) return code;
    cnv_vis_settings *s = v->settings;
    if (cnv_vis_settings_set(s, "recipe", v->recipe_name ? v->recipe_name : "lucid") != CNV_OK)
        return cli_error(v->ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    for (int i = 0; i < knob_count(); i++)
        if (v->overrides[i] && cnv_vis_settings_set(s, cnv_vis_knob_at(i)->name, v->overrides[i]) != CNV_OK)
            return cli_error(v->ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    if (cnv_vis_settings_check(s) != CNV_OK) return cli_error(v->ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    if (!v->output) return cli_error(v->ctx, CLI_EXIT_USAGE, "no output: give -o OUT.png");
    if (cnv_vis_settings_prepare(s, v->ctx->g) != CNV_OK) return cli_error(v->ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    v->size = cnv_vis_settings_size(s);
    v->batch = cnv_vis_settings_batch(s);
    v->seed = cnv_vis_settings_seed(s);
    v->relu_slope = cnv_vis_settings_relu_slope(s);
    if (!v->frame_every) v->frame_every = 16;
    return 0;
}

json_t *vis_cli_settings(const vis_cli *v) {
    char *text = NULL;
    if (cnv_vis_settings_json(v->settings, &text) != CNV_OK) return NULL;
    json_t *j = json_loads(text, 0, NULL);
    cnv_free(text);
    return j;
}

void vis_cli_free(vis_cli *v) {
    cnv_vis_settings_free(v->settings);
    v->settings = NULL;
}

void vis_cli_input_size(const cli_ctx *ctx, int *c, int *h, int *w) {
    int d[CNV_MAX_RANK] = {0};
    cnv_model_input_shape(ctx->g, d);
    *c = d[1];
    *h = d[2];
    *w = d[3];
}

int vis_cli_to_image(const cli_ctx *ctx, const float *chw, int c, int h, int w, cnv_image *img) {
    cnv_status s = cnv_image_from_planes(chw, c, h, w, img);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int vis_cli_load_image(const cli_ctx *ctx, const char *path, int h, int w, float **chw, int *out_h, int *out_w) {
    cnv_image pic = {0}, sized = {0};
    cnv_shape in = {0};
    in.ndim = cnv_model_input_shape(ctx->g, in.d);
    cnv_status s = cnv_input_picture(path, ctx->preset, &in, &pic);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    if (h <= 0 || w <= 0) {
        h = pic.h;
        w = pic.w;
    }
    s = (h == pic.h && w == pic.w) ? CNV_OK : cnv_image_resize(&pic, w, h, &sized);
    const cnv_image *img = sized.px ? &sized : &pic;
    *chw = s == CNV_OK ? malloc((size_t)img->c * h * w * sizeof **chw) : NULL;
    if (*chw) {
        for (int k = 0; k < img->c; k++)
            for (int i = 0; i < h * w; i++) (*chw)[(size_t)k * h * w + i] = img->px[(size_t)i * img->c + k] / 255.0f;
        *out_h = h;
        *out_w = w;
    }
    cnv_image_free(&pic);
    cnv_image_free(&sized);
    if (s != CNV_OK) return cli_status_error(ctx, s);
    return *chw ? 0 : cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
}

/* ---- running ---- */

static void progress(void *user, const cnv_vis_progress *p) {
    vis_session *se = user;
    if (!se->tty) return;
    double mean = 0;
    for (int i = 0; i < p->count; i++) mean += p->values[i];
    mean /= p->count;
    int width = 30, filled = (int)((long)width * p->step / p->steps);
    fprintf(stderr, "\r[%.*s%.*s] %s%simages %d-%d of %d, step %d/%d, objective %.4g ", filled,
            "##############################", width - filled, "..............................",
            p->stage ? p->stage : "", p->stage ? ", " : "", p->first + 1, p->first + p->count, p->n_items, p->step,
            p->steps, mean);
    if (p->step == p->steps) fputc('\n', stderr);
    fflush(stderr);
}

static void warning(void *user, const char *message) {
    const vis_session *se = user;
    fprintf(stderr, "cnnvis %s: %s\n", se->v->ctx->verb->name, message);
}

/* The picture of a batch: the single image, or a grid with a caption under each tile. */
static int compose(const vis_cli *v, int cols, const float *images, int n, int c, int h, int w,
                   const cnv_vis_item *items, cnv_image *out) {
    const cli_ctx *ctx = v->ctx;
    size_t item = (size_t)c * h * w;
    if (n == 1) return vis_cli_to_image(ctx, images, c, h, w, out);
    cnv_image *tiles = calloc((size_t)n, sizeof *tiles);
    const char **captions = calloc((size_t)n, sizeof *captions);
    int code = (!tiles || !captions) ? cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory") : 0;
    for (int i = 0; i < n && !code; i++) {
        code = vis_cli_to_image(ctx, images + i * item, c, h, w, &tiles[i]);
        captions[i] = items[i].caption;
    }
    if (!code) {
        cnv_grid_layout l;
        cnv_grid_layout_default(&l);
        /* Small images (28x28 models) are enlarged by a whole factor, pixels kept sharp, so that
         * they can be seen and their captions fit under them. */
        int f = w < 96 ? (96 + w - 1) / w : 1;
        l.tile_w = w * f;
        l.tile_h = h * f;
        l.cols = cols;
        l.scale = f > 1 ? CNV_SCALE_NEAREST : CNV_SCALE_BILINEAR;
        l.font_scale = w >= 128 ? 2 : 1;
        if (cnv_grid_compose(tiles, captions, n, &l, out) != CNV_OK) code = cli_status_error(ctx, CNV_ERR_NOMEM);
    }
    for (int i = 0; tiles && i < n; i++) free(tiles[i].px);
    free(tiles);
    free(captions);
    return code;
}

/* A frame of the items from `first` (frames folder, GIF). */
static void frame(void *user, int first, int step, const float *images, int n, int c, int h, int w) {
    vis_session *se = user;
    vis_cli *v = se->v;
    cnv_image img;
    if (se->frame_failed || compose(v, se->grid_cols, images, n, c, h, w, se->items + first, &img)) {
        se->frame_failed = 1;
        return;
    }
    if (v->frames_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/frame_%03d_%05d.png", v->frames_dir, first, step);
        if (cnv_image_save_png(path, &img) != CNV_OK) se->frame_failed = 1;
    }
    if (v->gif && first == 0) {
        if (se->n_gif == se->cap_gif) {
            int cap = se->cap_gif ? 2 * se->cap_gif : 32;
            cnv_image *grown = realloc(se->gif_frames, (size_t)cap * sizeof *grown);
            if (!grown) {
                se->frame_failed = 1;
                free(img.px);
                return;
            }
            se->gif_frames = grown;
            se->cap_gif = cap;
        }
        se->gif_frames[se->n_gif++] = img;
        return;
    }
    free(img.px);
}

int vis_session_begin(vis_session *se, vis_cli *v, const cnv_vis_item *items, int n) {
    memset(se, 0, sizeof *se);
    se->v = v;
    se->items = items;
    se->n_items = n;
    se->tty = isatty(2);
    if (v->frames_dir) {
        if (mkdir(v->frames_dir, 0777) == 0) cnv_atomic_note_dir(v->frames_dir);
        else if (errno != EEXIST)
            return cli_error(v->ctx, CLI_EXIT_USAGE, "%s: cannot create the frames folder: %s", v->frames_dir,
                             strerror(errno));
    }
    cnv_vis_callbacks cb = {.progress = progress, .frame = (v->frames_dir || v->gif) ? frame : NULL,
                            .frame_every = v->frame_every, .warning = warning, .user = se};
    cnv_status s = cnv_vis_run_create(v->ctx->g, v->ctx->preset, v->ctx->be, v->settings, items, n, &cb, &se->run);
    return s == CNV_OK ? 0 : cli_status_error(v->ctx, s);
}

void vis_session_free(vis_session *se) {
    for (int i = 0; i < se->n_gif; i++) free(se->gif_frames[i].px);
    free(se->gif_frames);
    cnv_vis_run_free(se->run);
    memset(se, 0, sizeof *se);
}

/* The record: OUT.png -> OUT.json with everything needed to reproduce and judge the run. */
static int write_record(vis_session *se, const char *what, const char *layer, json_t *extra) {
    const cli_ctx *ctx = se->v->ctx;
    char path[4096];
    cli_derived_path(se->v->output, "", ".json", path, sizeof path);
    /* Full precision: the library reads the numbers back unchanged. */
    char *members = extra ? json_dumps(extra, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    if (extra && !members) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory building %s", path);
    char *text = NULL;
    cnv_status s = cnv_vis_run_record(se->run, what, ctx->model_path, layer, members, &text);
    free(members);
    if (s != CNV_OK) return cli_error(ctx, CLI_EXIT_RUNTIME, "%s: %s", path, cnv_last_error());
    s = cnv_write_text_file(path, text);
    cnv_free(text);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int vis_session_finish(vis_session *se, const float *images, int n, int c, int h, int w, const char *what,
                       const char *layer, json_t *extra) {
    vis_cli *v = se->v;
    const cli_ctx *ctx = v->ctx;
    double seconds = cnv_vis_run_stop(se->run);
    int code = se->frame_failed ? cli_error(ctx, CLI_EXIT_RUNTIME, "writing the frames failed") : 0;
    cnv_image picture = {0};
    if (!code) code = compose(v, se->grid_cols, images, n, c, h, w, se->items, &picture);
    if (!code && cnv_image_save_png(v->output, &picture) != CNV_OK) code = cli_status_error(ctx, CNV_ERR_IO);
    free(picture.px);
    cnv_shape shape = cnv_shape4(n, c, h, w);
    if (!code && v->save_tensor) code = cli_save_tensor(ctx, v->save_tensor, images, &shape);
    if (!code && v->gif && se->n_gif > 0 && cnv_gif_write(v->gif, se->gif_frames, se->n_gif, 8) != CNV_OK)
        code = cli_status_error(ctx, CNV_ERR_IO);
    if (!code) code = write_record(se, what, layer, extra);
    json_decref(extra);
    if (!code)
        printf("wrote %s (%d image%s, %s, %d steps, %.1f s on %s)\n", v->output, n, n == 1 ? "" : "s",
               cnv_vis_settings_recipe(v->settings), cnv_vis_settings_total_steps(v->settings), seconds,
               cnv_backend_device(ctx->be));
    vis_session_free(se);
    return code;
}

int vis_cli_run(vis_cli *v, int node, const cnv_vis_item *items, int n, const char *what, float **images_out,
                int *out_h, int *out_w) {
    const cli_ctx *ctx = v->ctx;
    vis_session se;
    int code = vis_session_begin(&se, v, items, n);
    if (code) return code;
    int c, h, w;
    cnv_vis_run_image_size(se.run, &c, &h, &w);
    float *all = malloc((size_t)n * c * h * w * sizeof *all);
    cnv_status s = all ? cnv_vis_run_render(se.run, node, all) : CNV_ERR_NOMEM;
    if (!all) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    else if (s != CNV_OK) code = cli_status_error(ctx, s);
    if (!code) code = vis_session_finish(&se, all, n, c, h, w, what, cnv_model_layer_name(ctx->g, node), NULL);
    else vis_session_free(&se);
    if (!code && images_out) {
        *images_out = all;
        *out_h = h;
        *out_w = w;
    } else {
        free(all);
    }
    return code;
}
