/* The input `cnnvis check` runs without a file (cnnvis/tools.h): random pixels through the
 * preset, so every layer sees values of the range it was trained on. */
#include <stdlib.h>

#include "api/model.h"
#include "cnnvis/tools.h"
#include "core/graph.h"
#include "core/rng.h"
#include "core/status.h"
#include "io/preprocess.h"

cnv_status cnv_check_random_input(const cnv_graph *g, const char *preset, uint64_t seed, float *out) {
    const cnv_preset *p = preset ? cnv_preset_find(preset) : cnv_model_default_preset(g);
    if (!p) return cnv_fail(CNV_ERR_NOT_FOUND, "no preset '%s'", preset);
    const cnv_shape *s = &g->values[g->input].shape;
    cnv_rng r;
    cnv_rng_seed(&r, seed);
    if (s->ndim != 4 || (s->d[1] != 1 && s->d[1] != 3)) {
        for (size_t i = 0; i < cnv_shape_numel(s); i++) out[i] = cnv_rng_normal(&r);
        return CNV_OK;
    }
    cnv_image img = {.w = s->d[3], .h = s->d[2], .c = s->d[1]};
    img.px = malloc((size_t)img.w * img.h * img.c);
    if (!img.px) return cnv_fail(CNV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < (size_t)img.w * img.h * img.c; i++) img.px[i] = (unsigned char)cnv_rng_below(&r, 256);
    cnv_preprocess_pixels(&img, p, out);
    free(img.px);
    return CNV_OK;
}
