#include "vis_cli.h"

#include "core/sha256.h"
#include "io/atomic_file.h"
#include "io/dataset.h"
#include "cnnvis/picture.h"
#include "io/normalize.h"
#include "io/npy.h"
#include "vis/render_setup.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    V_RECIPE = VIS_OPT_FIRST, V_STEPS, V_LR, V_LR_DECAY, V_SIZE, V_SEED, V_BATCH, V_OPTIMIZER, V_FOURIER, V_DECAY,
    V_DECORRELATE, V_SIGMOID, V_INIT_SD, V_PAD, V_JITTER, V_JITTER2, V_SCALE, V_ROTATE, V_TV, V_L1, V_L2, V_TOWARDS, V_GRADCLIP,
    V_GRADNORM, V_ROUNDS, V_ZOOM, V_BLUR, V_OCTAVES, V_OCTAVE_SCALE, V_RELU_SLOPE, V_PRIOR, V_PRIOR_K, V_PRIOR_W, V_OUTPUT, V_FRAMES, V_FRAME_EVERY, V_GIF, V_SAVE, V_END
};

static const cli_option vis_options[] = {
    {"recipe", "NAME", "named defaults: lucid, sainburg, plain, invert, dream, style (every knob below overrides)",
     "lucid", V_RECIPE},
    {"steps", "N", "optimization steps (per round with --rounds)", "the recipe's (lucid 512)", V_STEPS},
    {"lr", "LR", "learning rate", "the recipe's (lucid 0.05)", V_LR},
    {"lr-decay", "none|cosine", "anneal the learning rate to 0 along a half cosine over the steps", "the recipe's",
     V_LR_DECAY},
    {"size", "S", "image size in pixels (square): the model runs at SxS where its input size is free (ONNX "
     "symbolic height/width, a VGG trunk without its classifier); a fixed model renders a larger canvas "
     "resampled to its input and refuses a smaller one",
     "the model's input size", V_SIZE},
    {"seed", "S", "random seed: the same seed gives the same image on the same device", "1", V_SEED},
    {"batch", "B", "images optimized together", "16", V_BATCH},
    {"optimizer", "NAME", "adam or sgd", "the recipe's", V_OPTIMIZER},
    {"fourier", "on|off", "spectral (Fourier) parameterization", "the recipe's", V_FOURIER},
    {"decay", "D", "Fourier amplitude decay power", "the recipe's (1)", V_DECAY},
    {"decorrelate", "on|off", "ImageNet colour decorrelation", "the recipe's", V_DECORRELATE},
    {"sigmoid", "on|off", "squash the image to 0..1 with a sigmoid", "the recipe's", V_SIGMOID},
    {"init-sd", "SD", "standard deviation of the random start", "the recipe's (0.01)", V_INIT_SD},
    {"pad", "P", "pad the image by P pixels of grey before the transforms", "the recipe's (lucid 12)", V_PAD},
    {"jitter", "J", "random translation of up to J pixels each step", "the recipe's (lucid 8)", V_JITTER},
    {"jitter2", "J", "a second random translation, added (Lucid jitters twice)", "the recipe's (lucid 4)", V_JITTER2},
    {"scale", "A-B", "random scale in [A, B] each step", "the recipe's (lucid 0.9-1.1)", V_SCALE},
    {"rotate", "DEG", "random rotation in [-DEG, DEG] each step", "the recipe's (lucid 10)", V_ROTATE},
    {"tv", "W", "total-variation penalty weight", "the recipe's (0)", V_TV},
    {"l1", "W", "L1 penalty weight (towards grey)", "the recipe's (0)", V_L1},
    {"l2", "W", "L2 penalty weight", "the recipe's", V_L2},
    {"penalties-towards", "grey|black", "the value the L1/L2 penalties pull the image to (black suits models "
     "trained on light objects on black, such as MNIST)", "grey", V_TOWARDS},
    {"gradnorm", "on|off", "divide the gradient by its mean |g| (per image)", "the recipe's (off)", V_GRADNORM},
    {"gradclip", "C", "clip every gradient element to [-C, C] (after --gradnorm); 0: off", "the recipe's (0)",
     V_GRADCLIP},
    {"rounds", "R", "Sainburg schedule: R rounds of --steps, zoom and blur between rounds", "the recipe's", V_ROUNDS},
    {"zoom", "Z", "zoom factor between rounds", "the recipe's (sainburg 1.01)", V_ZOOM},
    {"blur", "SIGMA", "Gaussian blur between rounds", "the recipe's (sainburg 1)", V_BLUR},
    {"octaves", "N", "coarse to fine: N sizes, each --octave-scale times the previous, ending at the image's size, "
     "--steps at each (pixel parameterization)", "the recipe's (dream 4, others off)", V_OCTAVES},
    {"octave-scale", "S", "size ratio between octaves", "1.4", V_OCTAVE_SCALE},
    {"relu-slope", "S", "when the layer ends in a ReLU (or a Concat of ReLUs), the objective sees a leaky ReLU of "
     "slope S below zero in its place, so units off on the start still get a gradient (0: the layer itself, 1: the "
     "values before the ReLU); the layer itself is measured too", "0.01", V_RELU_SLOPE},
    {"image-prior", "DIR", "optimize in a Gaussian image prior fitted to the training images of a data set (IDX or "
     "image folders, as `train --data`; pixels without a sigmoid at the model's input size)", "none", V_PRIOR},
    {"prior-components", "K", "principal components of the image prior", "64", V_PRIOR_K},
    {"prior-weight", "W", "weight of the prior's penalty W/2 |z|^2 on the coefficients", "0.2", V_PRIOR_W},
    {"output", "FILE", "the picture (PNG; a grid with captions for several images); FILE.json gets the run's record",
     NULL, V_OUTPUT},
    {"frames", "DIR", "write a PNG of the images every --frame-every steps into DIR", "none", V_FRAMES},
    {"frame-every", "K", "steps between frames (and GIF frames)", "16", V_FRAME_EVERY},
    {"gif", "FILE", "an animated GIF of the optimization", "none", V_GIF},
    {"save-tensor", "FILE", "the raw images as NCHW float32 .npy, values 0..1", "none", V_SAVE},
};
#define N_VIS_OPTIONS ((int)(sizeof vis_options / sizeof vis_options[0]))

int vis_cli_options(const cli_option *own, int n_own, cli_option *table, int cap) {
    int n = 0;
    for (int i = 0; i < n_own && n < cap; i++) table[n++] = own[i];
    for (int i = 0; i < N_VIS_OPTIONS && n < cap; i++) table[n++] = vis_options[i];
    return n;
}

void vis_cli_recipe_default(cli_option *table, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (table[i].id == V_RECIPE) table[i].def = name;
}

int vis_cli_on_option(vis_cli *v, int id, const char *arg) {
    switch (id) {
    case V_RECIPE: v->recipe_name = arg; return 0;
    case V_OUTPUT: v->output = arg; return 0;
    case V_FRAMES: v->frames_dir = arg; return 0;
    case V_GIF: v->gif = arg; return 0;
    case V_SAVE: v->save_tensor = arg; return 0;
    case V_SIZE: {
        int code = cli_parse_int(v->ctx, "size", arg, 1, &v->size);
        v->ctx->size = v->size; /* the model runs at that size where it can (cli_load) */
        return code;
    }
    case V_BATCH: return cli_parse_int(v->ctx, "batch", arg, 1, &v->batch);
    case V_FRAME_EVERY: return cli_parse_int(v->ctx, "frame-every", arg, 1, &v->frame_every);
    case V_SEED: {
        char *end;
        errno = 0;
        v->seed = strtoull(arg, &end, 10);
        if (end == arg || *end || errno || arg[0] == '-')
            return cli_error(v->ctx, CLI_EXIT_USAGE, "--seed: '%s' is not a whole number >= 0", arg);
        return 0;
    }
    default:
        if (id < VIS_OPT_FIRST || id >= V_END) return cli_error(v->ctx, CLI_EXIT_RUNTIME, "internal: option %d", id);
        v->overrides[id - VIS_OPT_FIRST] = arg;
        return 0;
    }
}

static const char *option_name(int id) {
    for (int i = 0; i < N_VIS_OPTIONS; i++)
        if (vis_options[i].id == id) return vis_options[i].name;
    return "?";
}

static int parse_float(const vis_cli *v, int id, const char *arg, float *out) {
    char *end;
    double d = strtod(arg, &end);
    if (end == arg || *end || !isfinite(d))
        return cli_error(v->ctx, CLI_EXIT_USAGE, "--%s: '%s' is not a number", option_name(id), arg);
    *out = (float)d;
    return 0;
}

static int parse_switch(const vis_cli *v, int id, const char *arg, int *out) {
    if (strcmp(arg, "on") == 0) *out = 1;
    else if (strcmp(arg, "off") == 0) *out = 0;
    else return cli_error(v->ctx, CLI_EXIT_USAGE, "--%s: '%s' must be on or off", option_name(id), arg);
    return 0;
}

static int parse_int_option(const vis_cli *v, int id, const char *arg, int min, int *out) {
    return cli_parse_int(v->ctx, option_name(id), arg, min, out);
}

static int apply_override(vis_cli *v, int id, const char *arg) {
    cnv_recipe *r = &v->recipe;
    switch (id) {
    case V_STEPS: return parse_int_option(v, id, arg, 1, &r->steps);
    case V_LR: return parse_float(v, id, arg, &r->lr);
    case V_LR_DECAY:
        if (strcmp(arg, "none") == 0) r->lr_cosine = 0;
        else if (strcmp(arg, "cosine") == 0) r->lr_cosine = 1;
        else return cli_error(v->ctx, CLI_EXIT_USAGE, "--lr-decay: '%s' is not none or cosine", arg);
        return 0;
    case V_OPTIMIZER:
        if (strcmp(arg, "adam") == 0) r->optimizer = CNV_OPTIM_ADAM;
        else if (strcmp(arg, "sgd") == 0) r->optimizer = CNV_OPTIM_SGD;
        else return cli_error(v->ctx, CLI_EXIT_USAGE, "--optimizer: '%s' is not adam or sgd", arg);
        return 0;
    case V_FOURIER: return parse_switch(v, id, arg, &r->fourier);
    case V_DECAY: return parse_float(v, id, arg, &r->decay);
    case V_DECORRELATE: return parse_switch(v, id, arg, &r->decorrelate);
    case V_SIGMOID: return parse_switch(v, id, arg, &r->sigmoid);
    case V_INIT_SD: return parse_float(v, id, arg, &r->init_sd);
    case V_PAD: return parse_int_option(v, id, arg, 0, &r->pad);
    case V_JITTER: return parse_int_option(v, id, arg, 0, &r->jitter);
    case V_JITTER2: return parse_int_option(v, id, arg, 0, &r->jitter2);
    case V_SCALE: {
        char *end;
        double a = strtod(arg, &end), b = a;
        if (end != arg && *end == '-') b = strtod(end + 1, &end);
        if (end == arg || *end || !(a > 0) || !(b >= a))
            return cli_error(v->ctx, CLI_EXIT_USAGE, "--scale: '%s' is not a range A-B of positive numbers", arg);
        r->scale_min = (float)a;
        r->scale_max = (float)b;
        return 0;
    }
    case V_ROTATE: return parse_float(v, id, arg, &r->rotate_deg);
    case V_TV: return parse_float(v, id, arg, &r->tv);
    case V_L1: return parse_float(v, id, arg, &r->l1);
    case V_L2: return parse_float(v, id, arg, &r->l2);
    case V_TOWARDS:
        if (strcmp(arg, "grey") == 0) r->penalties_to_black = 0;
        else if (strcmp(arg, "black") == 0) r->penalties_to_black = 1;
        else return cli_error(v->ctx, CLI_EXIT_USAGE, "--penalties-towards: '%s' is not grey or black", arg);
        return 0;
    case V_GRADNORM: return parse_switch(v, id, arg, &r->gradnorm);
    case V_GRADCLIP: return parse_float(v, id, arg, &r->gradclip);
    case V_ROUNDS: return parse_int_option(v, id, arg, 0, &r->rounds);
    case V_ZOOM: return parse_float(v, id, arg, &r->zoom);
    case V_BLUR: return parse_float(v, id, arg, &r->blur_sigma);
    case V_OCTAVES: return parse_int_option(v, id, arg, 0, &r->octaves);
    case V_OCTAVE_SCALE: return parse_float(v, id, arg, &r->octave_scale);
    case V_RELU_SLOPE: {
        int code = parse_float(v, id, arg, &v->relu_slope);
        if (code) return code;
        if (v->relu_slope < 0.0f || v->relu_slope > 1.0f)
            return cli_error(v->ctx, CLI_EXIT_USAGE, "--relu-slope: %s is not in 0..1", arg);
        return 0;
    }
    case V_PRIOR: v->prior_data = arg; return 0;
    case V_PRIOR_K: return parse_int_option(v, id, arg, 1, &r->prior_components);
    case V_PRIOR_W: return parse_float(v, id, arg, &r->prior_weight);
    }
    return 0;
}

/* The image prior from the training split of --image-prior at the model's input size. */
static int fit_prior(vis_cli *v, const cnv_shape *in) {
    if (v->recipe.fourier || v->recipe.sigmoid)
        return cli_error(v->ctx, CLI_EXIT_USAGE, "--image-prior needs --fourier off --sigmoid off (the prior makes the image)");
    if (v->size && (v->size != in->d[2] || v->size != in->d[3]))
        return cli_error(v->ctx, CLI_EXIT_USAGE, "--image-prior renders at the model's input size %dx%d, not --size %d",
                         in->d[2], in->d[3], v->size);
    cnv_dataset d;
    if (cnv_dataset_load(v->prior_data, CNV_SPLIT_TRAIN, in->d[1], in->d[2], in->d[3], 0, &d) != CNV_OK)
        return cli_error(v->ctx, CLI_EXIT_USAGE, "--image-prior: %s", cnv_last_error());
    cnv_status s = cnv_image_prior_fit(d.images, d.n, d.c, d.h, d.w, v->recipe.prior_components, &v->prior);
    v->prior_images = d.n;
    cnv_dataset_free(&d);
    return s == CNV_OK ? 0 : cli_error(v->ctx, CLI_EXIT_USAGE, "--image-prior %s: %s", v->prior_data, cnv_last_error());
}

int vis_cli_prepare(vis_cli *v) {
    if (cnv_recipe_resolve(v->recipe_name ? v->recipe_name : "lucid", &v->recipe) != CNV_OK)
        return cli_error(v->ctx, CLI_EXIT_USAGE, "--recipe: %s", cnv_last_error());
    v->relu_slope = CNV_LEAKY_TWIN_SLOPE;
    for (int id = VIS_OPT_FIRST; id < V_END; id++) {
        const char *arg = v->overrides[id - VIS_OPT_FIRST];
        int code = arg ? apply_override(v, id, arg) : 0;
        if (code) return code;
    }
    if (cnv_recipe_validate(&v->recipe) != CNV_OK) return cli_error(v->ctx, CLI_EXIT_USAGE, "%s", cnv_last_error());
    if (!v->output) return cli_error(v->ctx, CLI_EXIT_USAGE, "no output: give -o OUT.png");
    const cnv_shape *in = &v->ctx->g->values[v->ctx->g->input].shape;
    if (in->ndim != 4 || (in->d[1] != 1 && in->d[1] != 3))
        return cli_error(v->ctx, CLI_EXIT_USAGE, "the model's input is not an image (1 or 3 channels)");
    if (!v->batch) v->batch = 16;
    if (!v->frame_every) v->frame_every = 16;
    return v->prior_data ? fit_prior(v, in) : 0;
}

void vis_cli_free(vis_cli *v) { cnv_image_prior_free(&v->prior); }

int vis_cli_to_image(const cli_ctx *ctx, const float *chw, int c, int h, int w, cnv_image *img) {
    cnv_status s = cnv_image_from_planes(chw, c, h, w, img);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int vis_cli_load_image(const cli_ctx *ctx, const char *path, int h, int w, float **chw, int *out_h, int *out_w) {
    cnv_image pic = {0}, sized = {0};
    const cnv_shape *in = &ctx->g->values[ctx->g->input].shape;
    cnv_status s = cnv_input_picture(path, ctx->preset, in, &pic);
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

static void progress(void *user, int step, int steps, const double *values, int n) {
    vis_session *se = user;
    if (!se->tty) return;
    double mean = 0;
    for (int i = 0; i < n; i++) mean += values[i];
    mean /= n;
    int width = 30, filled = (int)((long)width * step / steps);
    fprintf(stderr, "\r[%.*s%.*s] %s%simages %d-%d of %d, step %d/%d, objective %.4g ", filled,
            "##############################", width - filled, "..............................",
            se->stage ? se->stage : "", se->stage ? ", " : "", se->first_item + 1, se->first_item + n, se->n_items,
            step, steps, mean);
    if (step == steps) fputc('\n', stderr);
    fflush(stderr);
}

/* The picture of a batch: the single image, or a grid with a caption under each tile. */
static int compose(const vis_cli *v, int cols, const float *images, const cnv_shape *s, const vis_item *items, int n,
                   cnv_image *out) {
    const cli_ctx *ctx = v->ctx;
    int c = s->d[1], h = s->d[2], w = s->d[3];
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

void vis_session_frame(void *user, int step, const float *images, const cnv_shape *s) {
    vis_session *se = user;
    vis_cli *v = se->v;
    cnv_image img;
    if (se->frame_failed || compose(v, se->grid_cols, images, s, se->items + se->first_item, s->d[0], &img)) {
        se->frame_failed = 1;
        return;
    }
    if (v->frames_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/frame_%03d_%05d.png", v->frames_dir, se->first_item, step);
        if (cnv_image_save_png(path, &img) != CNV_OK) se->frame_failed = 1;
    }
    if (v->gif && se->first_item == 0) {
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

static json_t *recipe_json(const cnv_recipe *r) {
    return json_pack("{s:s, s:s, s:b, s:f, s:b, s:b, s:f, s:s, s:f, s:s, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:f, s:f, "
                     "s:f, s:f, s:f, s:f, s:s, s:b, s:f, s:i, s:f, s:f, s:i, s:f}",
                     "name", r->name, "source", r->source, "fourier", r->fourier, "decay", r->decay, "decorrelate",
                     r->decorrelate, "sigmoid", r->sigmoid, "init_sd", r->init_sd, "optimizer",
                     r->optimizer == CNV_OPTIM_ADAM ? "adam" : "sgd", "lr", r->lr, "lr_decay", r->lr_cosine ? "cosine" : "none", "beta1", r->beta1, "beta2", r->beta2,
                     "eps", r->eps, "steps", r->steps, "pad", r->pad, "jitter", r->jitter, "jitter2", r->jitter2,
                     "scale_min", r->scale_min, "scale_max", r->scale_max, "rotate_deg", r->rotate_deg, "tv", r->tv,
                     "l1", r->l1, "l2", r->l2, "penalties_towards", r->penalties_to_black ? "black" : "grey",
                     "gradnorm", r->gradnorm, "gradclip", r->gradclip, "rounds", r->rounds, "zoom", r->zoom,
                     "blur_sigma", r->blur_sigma, "octaves", r->octaves, "octave_scale", r->octave_scale);
}

json_t *vis_cli_settings(const vis_cli *v) {
    json_t *j = json_pack("{s:o, s:i, s:I, s:i, s:f}", "recipe", recipe_json(&v->recipe), "size", v->size, "seed",
                          (json_int_t)v->seed, "batch", v->batch, "relu_slope", (double)v->relu_slope);
    if (j && v->prior.k)
        json_object_set_new(j, "image_prior", json_pack("{s:s, s:i, s:f}", "data", v->prior_data, "components",
                                                        v->prior.k, "weight", v->recipe.prior_weight));
    return j;
}

/* The sidecar: OUT.png -> OUT.json with everything needed to reproduce and judge the run. */
static int write_sidecar(vis_session *se, const char *what, const char *layer, json_t *extra, double seconds) {
    vis_cli *v = se->v;
    const cli_ctx *ctx = v->ctx;
    char hash[65] = "";
    if (cnv_sha256_file(ctx->model_path, hash) != CNV_OK) snprintf(hash, sizeof hash, "unknown");
    json_t *objs = json_array();
    for (int i = 0; i < se->n_items; i++) {
        const vis_item *it = &se->items[i];
        const cnv_objective *o = &it->objective;
        json_t *j = json_pack("{s:s, s:i, s:s}", "kind",
                              o->kind == CNV_OBJ_UNIT ? "unit" : o->kind == CNV_OBJ_CHANNEL ? "channel_mean" : "neuron",
                              "channel", o->channel, "caption", it->caption);
        if (o->kind == CNV_OBJ_NEURON) json_object_set_new(j, "position", json_pack("[i, i]", o->y, o->x));
        json_array_append_new(objs, j);
    }
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:o, s:f, s:s, s:o, s:O, s:f}", "verb", what,
                             "model", ctx->model_path, "model_sha256", hash, "preset", ctx->preset->name, "device",
                             cnv_backend_device(ctx->be), "backend", cnv_backend_name(ctx->be), "seed",
                             (json_int_t)v->seed, "size", v->size, "batch", v->batch, "recipe", recipe_json(&v->recipe),
                             "relu_slope", (double)v->relu_slope, "layer", layer, "objectives", objs, "runs", se->runs, "seconds", seconds);
    if (root && v->prior.k)
        json_object_set_new(root, "image_prior", json_pack("{s:s, s:i, s:i, s:f}", "data", v->prior_data, "images",
                                                           v->prior_images, "components", v->prior.k, "weight",
                                                           v->recipe.prior_weight));
    if (root && extra) json_object_update(root, extra);
    char path[4096];
    cli_derived_path(v->output, "", ".json", path, sizeof path);
    char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(8)) : NULL;
    json_decref(root);
    if (!text) return cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory building %s", path);
    cnv_status s = cnv_write_text_file(path, text);
    free(text);
    return s == CNV_OK ? 0 : cli_status_error(ctx, s);
}

int vis_session_begin(vis_session *se, vis_cli *v, const vis_item *items, int n) {
    memset(se, 0, sizeof *se);
    se->v = v;
    se->items = items;
    se->n_items = n;
    se->tty = isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &se->t0);
    if (v->frames_dir) {
        if (mkdir(v->frames_dir, 0777) == 0) cnv_atomic_note_dir(v->frames_dir);
        else if (errno != EEXIST)
            return cli_error(v->ctx, CLI_EXIT_USAGE, "%s: cannot create the frames folder: %s", v->frames_dir,
                             strerror(errno));
    }
    se->runs = json_array();
    return se->runs ? 0 : cli_error(v->ctx, CLI_EXIT_RUNTIME, "out of memory");
}

void vis_session_opts(vis_session *se, int first, int count, const char *stage, cnv_render_opts *o) {
    const vis_cli *v = se->v;
    const cnv_shape *in = &v->ctx->g->values[v->ctx->g->input].shape;
    se->first_item = first;
    se->stage = stage;
    *o = (cnv_render_opts){.recipe = v->recipe, .batch = count, .size = {v->size ? v->size : in->d[2],
                                                                         v->size ? v->size : in->d[3]},
                           .seed = v->seed, .log_every = 1, .progress = progress, .user = se,
                           .frame = (v->frames_dir || v->gif) ? vis_session_frame : NULL,
                           .frame_every = v->frame_every, .prior = v->prior.k ? &v->prior : NULL};
}

/* values[0..n-1] as a JSON array of numbers. */
static json_t *json_numbers(const double *values, int n) {
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) json_array_append_new(a, cli_json_number(values[i]));
    return a;
}

/* The items of a render whose objective could not move, warned about on stderr, as the list of
 * their indices (a grey picture otherwise looks like a result). */
static json_t *stalled_items(const vis_session *se, const cnv_render_result *res, int count) {
    json_t *list = json_array();
    const cnv_recipe *r = &se->v->recipe;
    for (int i = 0; list && i < count; i++) {
        if (!cnv_render_stalled(res, r, i)) continue;
        int item = se->first_item + i;
        fprintf(stderr, "cnnvis %s: warning: item %d (%s): the objective's gradient is %.2g at the start, below the "
                "optimizer's eps %.2g: the objective cannot rise and the picture shows no feature, only the start and "
                "the penalties (objective %.6g; dead or saturated units, e.g. random weights)\n", se->v->ctx->verb->name, item, se->items ? se->items[item].caption : "", res->grad_max[i],
                (double)r->eps, res->final[i]);
        json_array_append_new(list, json_integer(item));
    }
    return list;
}

int vis_session_log(vis_session *se, const cnv_render_result *res, int count, json_t *extra) {
    json_t *steps = json_array(), *values = json_array();
    for (int k = 0; k < res->n_log; k++) {
        json_array_append_new(steps, json_integer(res->log_steps[k]));
        json_array_append_new(values, json_numbers(res->log + (size_t)k * count, count));
    }
    json_t *run = json_pack("{s:i, s:i, s:o, s:o, s:o, s:o}", "first_item", se->first_item, "items", count, "start",
                            json_numbers(res->start, count), "final", json_numbers(res->final, count), "logged_steps",
                            steps, "objective", values);
    if (run && se->stage) json_object_set_new(run, "stage", json_string(se->stage));
    if (run && res->grad_max) json_object_set_new(run, "grad_max_abs", json_numbers(res->grad_max, count));
    if (run && res->grad_max) json_object_set_new(run, "no_gradient", stalled_items(se, res, count));
    if (run && extra) json_object_update(run, extra);
    json_decref(extra);
    if (!run || json_array_append_new(se->runs, run) != 0) return cli_error(se->v->ctx, CLI_EXIT_RUNTIME, "out of memory");
    return 0;
}

void vis_session_free(vis_session *se) {
    for (int i = 0; i < se->n_gif; i++) free(se->gif_frames[i].px);
    free(se->gif_frames);
    json_decref(se->runs);
    memset(se, 0, sizeof *se);
}

int vis_session_finish(vis_session *se, const float *images, const cnv_shape *s, const char *what, const char *layer,
                       json_t *extra) {
    vis_cli *v = se->v;
    const cli_ctx *ctx = v->ctx;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - se->t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - se->t0.tv_nsec);
    int code = se->frame_failed ? cli_error(ctx, CLI_EXIT_RUNTIME, "writing the frames failed") : 0;
    cnv_image picture = {0};
    if (!code) code = compose(v, se->grid_cols, images, s, se->items, s->d[0], &picture);
    if (!code && cnv_image_save_png(v->output, &picture) != CNV_OK) code = cli_status_error(ctx, CNV_ERR_IO);
    free(picture.px);
    if (!code && v->save_tensor) code = cli_save_tensor(ctx, v->save_tensor, images, s);
    if (!code && v->gif && se->n_gif > 0 && cnv_gif_write(v->gif, se->gif_frames, se->n_gif, 8) != CNV_OK)
        code = cli_status_error(ctx, CNV_ERR_IO);
    if (!code) code = write_sidecar(se, what, layer, extra, seconds);
    json_decref(extra);
    if (!code)
        printf("wrote %s (%d image%s, %s, %d steps, %.1f s on %s)\n", v->output, s->d[0], s->d[0] == 1 ? "" : "s",
               v->recipe.name, cnv_recipe_total_steps(&v->recipe), seconds,
               cnv_backend_device(ctx->be));
    vis_session_free(se);
    return code;
}

int vis_cli_run(vis_cli *v, int node, const vis_item *items, int n, const char *what, float **images_out,
                cnv_shape *item_shape) {
    const cli_ctx *ctx = v->ctx;
    vis_session se;
    int code = vis_session_begin(&se, v, items, n);
    cnv_render_opts o;
    vis_session_opts(&se, 0, 1, NULL, &o);
    size_t item = (size_t)ctx->g->values[ctx->g->input].shape.d[1] * o.size[0] * o.size[1];
    cnv_shape s = cnv_shape4(n, ctx->g->values[ctx->g->input].shape.d[1], o.size[0], o.size[1]);
    float *all = malloc((size_t)n * item * sizeof *all);
    cnv_objective *objs = malloc((size_t)n * sizeof *objs);
    if (!code && (!all || !objs)) code = cli_error(ctx, CLI_EXIT_RUNTIME, "out of memory");
    for (int i = 0; i < n && !code; i++) objs[i] = items[i].objective;
    /* The objective acts on the layer's leaky twin; the layer itself is measured too. */
    int target = node;
    for (int first = 0; first < n && !code; first += v->batch) {
        int count = n - first < v->batch ? n - first : v->batch;
        vis_session_opts(&se, first, count, NULL, &o);
        cnv_render_result res;
        cnv_status st = cnv_render_at_layer(ctx->g, ctx->preset, ctx->be, &o, node, v->relu_slope, objs + first, count,
                                            &res, &target);
        if (st != CNV_OK) {
            code = cli_status_error(ctx, st);
            break;
        }
        memcpy(all + (size_t)first * item, res.images, (size_t)count * item * sizeof *all);
        json_t *layer = target != node ? json_pack("{s:o, s:o}", "layer_start", json_numbers(res.report_start, count),
                                                 "layer_final", json_numbers(res.report_final, count))
                                     : NULL;
        code = vis_session_log(&se, &res, count, layer);
        cnv_render_result_free(&res);
    }
    free(objs);
    json_t *extra = code ? NULL : json_pack("{s:s}", "objective_layer", ctx->g->nodes[target].name);
    if (!code) code = vis_session_finish(&se, all, &s, what, ctx->g->nodes[node].name, extra);
    else vis_session_free(&se);
    if (!code && item_shape) *item_shape = cnv_shape4(1, s.d[1], s.d[2], s.d[3]);
    if (!code && images_out)
        *images_out = all;
    else
        free(all);
    return code;
}
