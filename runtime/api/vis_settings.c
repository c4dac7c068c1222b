/* The public visualization settings (vis_run.h): every knob of a recipe by name, checked as it
 * is set, the run-level values, and the image prior fitted to a data set. The knobs are what the
 * CLI's optimization verbs list as options, with the same words. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/vis_settings.h"
#include "core/graph.h"
#include "core/status.h"
#include "io/dataset.h"
#include "vis/render_setup.h"

enum {
    K_RECIPE, K_STEPS, K_LR, K_LR_DECAY, K_SIZE, K_SEED, K_BATCH, K_OPTIMIZER, K_FOURIER, K_DECAY, K_DECORRELATE,
    K_SIGMOID, K_INIT_SD, K_PAD, K_JITTER, K_JITTER2, K_SCALE, K_ROTATE, K_TV, K_L1, K_L2, K_TOWARDS, K_GRADNORM,
    K_GRADCLIP, K_ROUNDS, K_ZOOM, K_BLUR, K_OCTAVES, K_OCTAVE_SCALE, K_RELU_SLOPE, K_PRIOR, K_PRIOR_K, K_PRIOR_W,
    K_COUNT
};

static const cnv_vis_knob knobs[K_COUNT] = {
    [K_RECIPE] = {"recipe", "NAME", "named defaults: lucid, sainburg, plain, invert, dream, style (every knob below "
                  "overrides)", "lucid"},
    [K_STEPS] = {"steps", "N", "optimization steps (per round with --rounds)", "the recipe's (lucid 512)"},
    [K_LR] = {"lr", "LR", "learning rate", "the recipe's (lucid 0.05)"},
    [K_LR_DECAY] = {"lr-decay", "none|cosine", "anneal the learning rate to 0 along a half cosine over the steps",
                    "the recipe's"},
    [K_SIZE] = {"size", "S", "image size in pixels (square): the model runs at SxS where its input size is free (ONNX "
                "symbolic height/width, a VGG trunk without its classifier); a fixed model renders a larger canvas "
                "resampled to its input and refuses a smaller one", "the model's input size"},
    [K_SEED] = {"seed", "S", "random seed: the same seed gives the same image on the same device", "1"},
    [K_BATCH] = {"batch", "B", "images optimized together", "16"},
    [K_OPTIMIZER] = {"optimizer", "NAME", "adam or sgd", "the recipe's"},
    [K_FOURIER] = {"fourier", "on|off", "spectral (Fourier) parameterization", "the recipe's"},
    [K_DECAY] = {"decay", "D", "Fourier amplitude decay power", "the recipe's (1)"},
    [K_DECORRELATE] = {"decorrelate", "on|off", "ImageNet colour decorrelation", "the recipe's"},
    [K_SIGMOID] = {"sigmoid", "on|off", "squash the image to 0..1 with a sigmoid", "the recipe's"},
    [K_INIT_SD] = {"init-sd", "SD", "standard deviation of the random start", "the recipe's (0.01)"},
    [K_PAD] = {"pad", "P", "pad the image by P pixels of grey before the transforms", "the recipe's (lucid 12)"},
    [K_JITTER] = {"jitter", "J", "random translation of up to J pixels each step", "the recipe's (lucid 8)"},
    [K_JITTER2] = {"jitter2", "J", "a second random translation, added (Lucid jitters twice)", "the recipe's (lucid 4)"},
    [K_SCALE] = {"scale", "A-B", "random scale in [A, B] each step", "the recipe's (lucid 0.9-1.1)"},
    [K_ROTATE] = {"rotate", "DEG", "random rotation in [-DEG, DEG] each step", "the recipe's (lucid 10)"},
    [K_TV] = {"tv", "W", "total-variation penalty weight", "the recipe's (0)"},
    [K_L1] = {"l1", "W", "L1 penalty weight (towards grey)", "the recipe's (0)"},
    [K_L2] = {"l2", "W", "L2 penalty weight", "the recipe's"},
    [K_TOWARDS] = {"penalties-towards", "grey|black", "the value the L1/L2 penalties pull the image to (black suits "
                   "models trained on light objects on black, such as MNIST)", "grey"},
    [K_GRADNORM] = {"gradnorm", "on|off", "divide the gradient by its mean |g| (per image)", "the recipe's (off)"},
    [K_GRADCLIP] = {"gradclip", "C", "clip every gradient element to [-C, C] (after --gradnorm); 0: off",
                    "the recipe's (0)"},
    [K_ROUNDS] = {"rounds", "R", "Sainburg schedule: R rounds of --steps, zoom and blur between rounds",
                  "the recipe's"},
    [K_ZOOM] = {"zoom", "Z", "zoom factor between rounds", "the recipe's (sainburg 1.01)"},
    [K_BLUR] = {"blur", "SIGMA", "Gaussian blur between rounds", "the recipe's (sainburg 1)"},
    [K_OCTAVES] = {"octaves", "N", "coarse to fine: N sizes, each --octave-scale times the previous, ending at the "
                   "image's size, --steps at each (pixel parameterization)", "the recipe's (dream 4, others off)"},
    [K_OCTAVE_SCALE] = {"octave-scale", "S", "size ratio between octaves", "1.4"},
    [K_RELU_SLOPE] = {"relu-slope", "S", "when the layer ends in a ReLU (or a Concat of ReLUs), the objective sees a "
                      "leaky ReLU of slope S below zero in its place, so units off on the start still get a gradient "
                      "(0: the layer itself, 1: the values before the ReLU); the layer itself is measured too", "0.01"},
    [K_PRIOR] = {"image-prior", "DIR", "optimize in a Gaussian image prior fitted to the training images of a data "
                 "set (IDX or image folders, as `train --data`; pixels without a sigmoid at the model's input size)",
                 "none"},
    [K_PRIOR_K] = {"prior-components", "K", "principal components of the image prior", "64"},
    [K_PRIOR_W] = {"prior-weight", "W", "weight of the prior's penalty W/2 |z|^2 on the coefficients", "0.2"},
};

void cnv_vis_recipe_list(char *buf, size_t size) { cnv_recipe_list_all(buf, size); }

int cnv_vis_knob_count(void) { return K_COUNT; }

const cnv_vis_knob *cnv_vis_knob_at(int i) { return i >= 0 && i < K_COUNT ? &knobs[i] : NULL; }

cnv_status cnv_vis_settings_create(const char *recipe, cnv_vis_settings **out) {
    *out = NULL;
    cnv_vis_settings *s = calloc(1, sizeof *s);
    if (!s) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    s->batch = 16;
    s->seed = 1;
    s->relu_slope = CNV_LEAKY_TWIN_SLOPE;
    cnv_status st = cnv_vis_settings_set(s, "recipe", recipe ? recipe : "lucid");
    if (st != CNV_OK) {
        cnv_vis_settings_free(s);
        return st;
    }
    *out = s;
    return CNV_OK;
}

void cnv_vis_settings_free(cnv_vis_settings *s) {
    if (!s) return;
    cnv_image_prior_free(&s->prior);
    free(s->prior_data);
    free(s);
}

/* ---- values by kind; each message names the knob as the CLI's option ---- */

static cnv_status parse_int(int k, const char *arg, int min, int *out) {
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || v < min || v > INT_MAX)
        return cnv_fail(CNV_ERR_ARG, "--%s: '%s' is not a whole number >= %d", knobs[k].name, arg, min);
    *out = (int)v;
    return CNV_OK;
}

static cnv_status parse_float(int k, const char *arg, float *out) {
    char *end;
    double d = strtod(arg, &end);
    if (end == arg || *end || !isfinite(d)) return cnv_fail(CNV_ERR_ARG, "--%s: '%s' is not a number", knobs[k].name, arg);
    *out = (float)d;
    return CNV_OK;
}

/* One of two words: `no` gives 0, `yes` 1. */
static cnv_status parse_choice(int k, const char *arg, const char *no, const char *yes, int *out) {
    if (strcmp(arg, no) == 0) *out = 0;
    else if (strcmp(arg, yes) == 0) *out = 1;
    else return cnv_fail(CNV_ERR_ARG, "--%s: '%s' is not %s or %s", knobs[k].name, arg, no, yes);
    return CNV_OK;
}

static cnv_status parse_switch(int k, const char *arg, int *out) {
    if (strcmp(arg, "on") == 0) *out = 1;
    else if (strcmp(arg, "off") == 0) *out = 0;
    else return cnv_fail(CNV_ERR_ARG, "--%s: '%s' must be on or off", knobs[k].name, arg);
    return CNV_OK;
}

static cnv_status set_recipe(cnv_vis_settings *s, const char *name) {
    cnv_recipe r;
    if (cnv_recipe_resolve(name, &r) != CNV_OK) {
        cnv_error_prefix("--recipe");
        return CNV_ERR_ARG;
    }
    s->recipe = r;
    return CNV_OK;
}

static cnv_status set_seed(cnv_vis_settings *s, const char *arg) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (end == arg || *end || errno || arg[0] == '-')
        return cnv_fail(CNV_ERR_ARG, "--seed: '%s' is not a whole number >= 0", arg);
    s->seed = v;
    return CNV_OK;
}

static cnv_status set_scale(cnv_recipe *r, const char *arg) {
    char *end;
    double a = strtod(arg, &end), b = a;
    if (end != arg && *end == '-') b = strtod(end + 1, &end);
    if (end == arg || *end || !(a > 0) || !(b >= a))
        return cnv_fail(CNV_ERR_ARG, "--scale: '%s' is not a range A-B of positive numbers", arg);
    r->scale_min = (float)a;
    r->scale_max = (float)b;
    return CNV_OK;
}

static cnv_status set_relu_slope(cnv_vis_settings *s, const char *arg) {
    float v = 0;
    CNV_TRY(parse_float(K_RELU_SLOPE, arg, &v));
    if (v < 0.0f || v > 1.0f) return cnv_fail(CNV_ERR_ARG, "--relu-slope: %s is not in 0..1", arg);
    s->relu_slope = v;
    return CNV_OK;
}

static cnv_status set_prior(cnv_vis_settings *s, const char *arg) {
    char *copy = strdup(arg);
    if (!copy) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    free(s->prior_data);
    s->prior_data = copy;
    return CNV_OK;
}

cnv_status cnv_vis_settings_set(cnv_vis_settings *s, const char *knob, const char *arg) {
    int k = 0;
    while (k < K_COUNT && strcmp(knobs[k].name, knob) != 0) k++;
    if (k == K_COUNT) return cnv_fail(CNV_ERR_NOT_FOUND, "no knob '%s' (cnv_vis_knob_at lists them)", knob);
    if (!arg) return cnv_fail(CNV_ERR_ARG, "--%s: no value", knob);
    s->prepared_for = NULL;
    cnv_recipe *r = &s->recipe;
    switch (k) {
    case K_RECIPE: return set_recipe(s, arg);
    case K_STEPS: return parse_int(k, arg, 1, &r->steps);
    case K_LR: return parse_float(k, arg, &r->lr);
    case K_LR_DECAY: return parse_choice(k, arg, "none", "cosine", &r->lr_cosine);
    case K_SIZE: return parse_int(k, arg, 1, &s->size);
    case K_SEED: return set_seed(s, arg);
    case K_BATCH: return parse_int(k, arg, 1, &s->batch);
    case K_OPTIMIZER:
        if (strcmp(arg, "adam") == 0) r->optimizer = CNV_OPTIM_ADAM;
        else if (strcmp(arg, "sgd") == 0) r->optimizer = CNV_OPTIM_SGD;
        else return cnv_fail(CNV_ERR_ARG, "--optimizer: '%s' is not adam or sgd", arg);
        return CNV_OK;
    case K_FOURIER: return parse_switch(k, arg, &r->fourier);
    case K_DECAY: return parse_float(k, arg, &r->decay);
    case K_DECORRELATE: return parse_switch(k, arg, &r->decorrelate);
    case K_SIGMOID: return parse_switch(k, arg, &r->sigmoid);
    case K_INIT_SD: return parse_float(k, arg, &r->init_sd);
    case K_PAD: return parse_int(k, arg, 0, &r->pad);
    case K_JITTER: return parse_int(k, arg, 0, &r->jitter);
    case K_JITTER2: return parse_int(k, arg, 0, &r->jitter2);
    case K_SCALE: return set_scale(r, arg);
    case K_ROTATE: return parse_float(k, arg, &r->rotate_deg);
    case K_TV: return parse_float(k, arg, &r->tv);
    case K_L1: return parse_float(k, arg, &r->l1);
    case K_L2: return parse_float(k, arg, &r->l2);
    case K_TOWARDS: return parse_choice(k, arg, "grey", "black", &r->penalties_to_black);
    case K_GRADNORM: return parse_switch(k, arg, &r->gradnorm);
    case K_GRADCLIP: return parse_float(k, arg, &r->gradclip);
    case K_ROUNDS: return parse_int(k, arg, 0, &r->rounds);
    case K_ZOOM: return parse_float(k, arg, &r->zoom);
    case K_BLUR: return parse_float(k, arg, &r->blur_sigma);
    case K_OCTAVES: return parse_int(k, arg, 0, &r->octaves);
    case K_OCTAVE_SCALE: return parse_float(k, arg, &r->octave_scale);
    case K_RELU_SLOPE: return set_relu_slope(s, arg);
    case K_PRIOR: return set_prior(s, arg);
    case K_PRIOR_K: return parse_int(k, arg, 1, &r->prior_components);
    case K_PRIOR_W: return parse_float(k, arg, &r->prior_weight);
    }
    return cnv_fail(CNV_ERR_INTERNAL, "knob %d", k);
}

cnv_status cnv_vis_settings_check(const cnv_vis_settings *s) { return cnv_recipe_validate(&s->recipe); }

/* The image prior from the training split of the data set at the model's input size. */
static cnv_status fit_prior(cnv_vis_settings *s, const cnv_shape *in) {
    if (s->recipe.fourier || s->recipe.sigmoid)
        return cnv_fail(CNV_ERR_ARG, "--image-prior needs --fourier off --sigmoid off (the prior makes the image)");
    if (s->size && (s->size != in->d[2] || s->size != in->d[3]))
        return cnv_fail(CNV_ERR_ARG, "--image-prior renders at the model's input size %dx%d, not --size %d", in->d[2],
                        in->d[3], s->size);
    cnv_dataset d;
    if (cnv_dataset_load(s->prior_data, CNV_SPLIT_TRAIN, in->d[1], in->d[2], in->d[3], 0, &d) != CNV_OK) {
        cnv_error_prefix("--image-prior");
        return CNV_ERR_ARG;
    }
    cnv_status st = cnv_image_prior_fit(d.images, d.n, d.c, d.h, d.w, s->recipe.prior_components, &s->prior);
    s->prior_images = d.n;
    cnv_dataset_free(&d);
    if (st != CNV_OK) {
        char prefix[4200];
        snprintf(prefix, sizeof prefix, "--image-prior %s", s->prior_data);
        cnv_error_prefix(prefix);
    }
    return st;
}

cnv_status cnv_vis_settings_prepare(cnv_vis_settings *s, const cnv_graph *g) {
    CNV_TRY(cnv_vis_settings_check(s));
    const cnv_shape *in = &g->values[g->input].shape;
    if (in->ndim != 4 || (in->d[1] != 1 && in->d[1] != 3))
        return cnv_fail(CNV_ERR_ARG, "the model's input is not an image (1 or 3 channels)");
    cnv_image_prior_free(&s->prior);
    s->prior_images = 0;
    if (s->prior_data) CNV_TRY(fit_prior(s, in));
    s->prepared_for = g;
    return CNV_OK;
}

const char *cnv_vis_settings_recipe(const cnv_vis_settings *s) { return s->recipe.name; }
int cnv_vis_settings_size(const cnv_vis_settings *s) { return s->size; }
uint64_t cnv_vis_settings_seed(const cnv_vis_settings *s) { return s->seed; }
int cnv_vis_settings_batch(const cnv_vis_settings *s) { return s->batch; }
float cnv_vis_settings_relu_slope(const cnv_vis_settings *s) { return s->relu_slope; }
int cnv_vis_settings_total_steps(const cnv_vis_settings *s) { return cnv_recipe_total_steps(&s->recipe); }

void cnv_vis_settings_render_opts(const cnv_vis_settings *s, const cnv_graph *g, int batch, cnv_render_opts *o) {
    const cnv_shape *in = &g->values[g->input].shape;
    *o = (cnv_render_opts){.recipe = s->recipe, .batch = batch, .size = {s->size ? s->size : in->d[2],
                                                                         s->size ? s->size : in->d[3]},
                           .seed = s->seed, .log_every = 1, .prior = s->prior.k ? &s->prior : NULL};
}

json_t *cnv_vis_recipe_json(const cnv_recipe *r) {
    return json_pack("{s:s, s:s, s:b, s:f, s:b, s:b, s:f, s:s, s:f, s:s, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:f, s:f, "
                     "s:f, s:f, s:f, s:f, s:s, s:b, s:f, s:i, s:f, s:f, s:i, s:f}",
                     "name", r->name, "source", r->source, "fourier", r->fourier, "decay", r->decay, "decorrelate",
                     r->decorrelate, "sigmoid", r->sigmoid, "init_sd", r->init_sd, "optimizer",
                     r->optimizer == CNV_OPTIM_ADAM ? "adam" : "sgd", "lr", r->lr, "lr_decay",
                     r->lr_cosine ? "cosine" : "none", "beta1", r->beta1, "beta2", r->beta2, "eps", r->eps, "steps",
                     r->steps, "pad", r->pad, "jitter", r->jitter, "jitter2", r->jitter2, "scale_min", r->scale_min,
                     "scale_max", r->scale_max, "rotate_deg", r->rotate_deg, "tv", r->tv, "l1", r->l1, "l2", r->l2,
                     "penalties_towards", r->penalties_to_black ? "black" : "grey", "gradnorm", r->gradnorm,
                     "gradclip", r->gradclip, "rounds", r->rounds, "zoom", r->zoom, "blur_sigma", r->blur_sigma,
                     "octaves", r->octaves, "octave_scale", r->octave_scale);
}

cnv_status cnv_vis_settings_json(const cnv_vis_settings *s, char **json) {
    *json = NULL;
    json_t *j = json_pack("{s:o, s:i, s:I, s:i, s:f}", "recipe", cnv_vis_recipe_json(&s->recipe), "size", s->size,
                          "seed", (json_int_t)s->seed, "batch", s->batch, "relu_slope", (double)s->relu_slope);
    if (j && s->prior.k)
        json_object_set_new(j, "image_prior", json_pack("{s:s, s:i, s:f}", "data", s->prior_data, "components",
                                                        s->prior.k, "weight", s->recipe.prior_weight));
    /* Full precision: a reader that parses the text gets the same numbers back. */
    *json = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(j);
    return *json ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "out of memory");
}
