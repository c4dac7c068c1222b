#include "recipe.h"

#include "core/name_list.h"

#include <math.h>
#include <string.h>

static const cnv_recipe recipes[] = {
    {
        .name = "lucid",
        .source = "Olah, Mordvintsev, Schubert, Feature Visualization, Distill 2017 / Lucid defaults: Adam 0.05, "
                  "512 steps, Fourier parameterization with decay 1, colour decorrelation, sigmoid, pad 12, "
                  "jitter 8, scale 0.9-1.1, rotate +-10 degrees, jitter 4",
        .fourier = 1,
        .decay = 1.0f,
        .decorrelate = 1,
        .sigmoid = 1,
        .init_sd = 0.01f,
        .optimizer = CNV_OPTIM_ADAM,
        .lr = 0.05f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .steps = 512,
        .pad = 12,
        .jitter = 8,
        .jitter2 = 4,
        .scale_min = 0.9f,
        .scale_max = 1.1f,
        .rotate_deg = 10.0f,
        .octave_scale = 1.4f,
    },
    {
        .name = "sainburg",
        .source = "Sainburg's progressive zoom: 50 rounds x 20 Adam steps at 0.1 on pixels, zoom 1.01 and a "
                  "Gaussian blur of sigma 1 between rounds",
        .sigmoid = 1,
        .init_sd = 0.01f,
        .optimizer = CNV_OPTIM_ADAM,
        .lr = 0.1f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .steps = 20,
        .rounds = 50,
        .zoom = 1.01f,
        .blur_sigma = 1.0f,
        .scale_min = 1.0f,
        .scale_max = 1.0f,
        .octave_scale = 1.4f,
    },
    {
        .name = "plain",
        .source = "naive gradient ascent on the pixels (Erhan et al. 2009, Simonyan et al. 2013) with a small L2 "
                  "penalty and no transformations: finds adversarial high-frequency patterns",
        .init_sd = 0.01f,
        .optimizer = CNV_OPTIM_ADAM,
        .lr = 0.01f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
        .steps = 256,
        .scale_min = 1.0f,
        .scale_max = 1.0f,
        .l2 = 1e-3f,
        .octave_scale = 1.4f,
    },
};

int cnv_recipe_total_steps(const cnv_recipe *r) {
    return r->steps * (r->rounds > 0 ? r->rounds : 1) * (r->octaves > 1 ? r->octaves : 1);
}

void cnv_recipe_octave_size(const cnv_recipe *r, int k, int h, int w, int *hk, int *wk) {
    double f = r->octaves > 1 ? pow(r->octave_scale, r->octaves - 1 - k) : 1.0;
    *hk = (int)lround(h / f);
    *wk = (int)lround(w / f);
}

const cnv_recipe *cnv_recipe_find(const char *name) {
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0]; i++)
        if (strcmp(recipes[i].name, name) == 0) return &recipes[i];
    return NULL;
}

void cnv_recipe_list(char *buf, size_t size) {
    if (size) buf[0] = '\0';
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0]; i++) cnv_name_list_append(buf, size, recipes[i].name);
}
