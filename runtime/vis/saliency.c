/* Saliency methods (vis/saliency.h) over the executor's backward and its guided rule. */
#include "saliency.h"

#include "core/status.h"
#include "vis/class_vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[CNV_SALIENCY_COUNT] = {"grad", "guided", "smoothgrad", "gradxinput"};

cnv_status cnv_saliency_parse(const char *name, cnv_saliency_method *out) {
    for (int m = 0; m < CNV_SALIENCY_COUNT; m++)
        if (strcmp(name, method_names[m]) == 0) {
            *out = (cnv_saliency_method)m;
            return CNV_OK;
        }
    return cnv_fail(CNV_ERR_ARG, "unknown saliency method '%s' (known: %s)", name, cnv_saliency_names());
}

const char *cnv_saliency_name(cnv_saliency_method m) {
    return m >= 0 && m < CNV_SALIENCY_COUNT ? method_names[m] : "?";
}

const char *cnv_saliency_names(void) { return "grad, guided, smoothgrad, gradxinput"; }

void cnv_saliency_params_default(cnv_saliency_params *o) {
    *o = (cnv_saliency_params){.method = CNV_SALIENCY_GRAD, .samples = 50, .noise = 0.15f, .seed = 0};
}

static size_t input_numel(const cnv_exec *ex) { return cnv_shape_numel(&ex->shapes[ex->g->input]); }

cnv_status cnv_saliency_gradient(cnv_exec *ex, int logits, int cls, const float *x, cnv_backward_rule rule,
                                 float *grad) {
    const cnv_graph *g = ex->g;
    if (logits < 0 || logits >= g->n_nodes) return cnv_fail(CNV_ERR_ARG, "%s: no layer with index %d", g->source, logits);
    const int value = g->nodes[logits].out;
    if (ex->batch != 1) return cnv_fail(CNV_ERR_ARG, "saliency: needs an executor of batch 1, not %d", ex->batch);
    CNV_TRY(cnv_class_check(g, logits, &ex->shapes[value], cls));
    float *seed = malloc(cnv_shape_numel(&ex->shapes[value]) * sizeof *seed);
    if (!seed) return cnv_fail(CNV_ERR_NOMEM, "saliency: out of memory");
    cnv_class_score_seed(&ex->shapes[value], cls, seed);
    cnv_status s = cnv_exec_set_input(ex, x);
    if (s == CNV_OK) s = cnv_exec_forward(ex, logits);
    if (s == CNV_OK) s = cnv_exec_set_backward_rules(ex, rule, 0);
    if (s == CNV_OK) s = cnv_exec_backward(ex, value, seed, 0);
    if (s == CNV_OK) s = cnv_exec_read_grad(ex, g->input, grad);
    cnv_exec_set_backward_rules(ex, CNV_RULE_GRADIENT, 0); /* valid arguments: cannot fail */
    free(seed);
    return s;
}

cnv_status cnv_saliency_smoothgrad(cnv_exec *ex, int logits, int cls, const float *x, int n_samples,
                                   cnv_noise_fn noise, void *noise_state, float *grad) {
    if (n_samples < 1) return cnv_fail(CNV_ERR_ARG, "smoothgrad needs at least 1 sample, not %d", n_samples);
    const size_t n = input_numel(ex);
    float *noisy = malloc(n * sizeof *noisy), *g = malloc(n * sizeof *g);
    double *sum = calloc(n, sizeof *sum); /* in double: the mean does not depend on the sample count's rounding */
    cnv_status s = noisy && g && sum ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "smoothgrad: out of memory");
    for (int i = 0; s == CNV_OK && i < n_samples; i++) {
        s = noise(noise_state, i, noisy, n);
        for (size_t k = 0; s == CNV_OK && k < n; k++) noisy[k] += x[k];
        if (s == CNV_OK) s = cnv_saliency_gradient(ex, logits, cls, noisy, CNV_RULE_GRADIENT, g);
        for (size_t k = 0; s == CNV_OK && k < n; k++) sum[k] += g[k];
    }
    for (size_t k = 0; s == CNV_OK && k < n; k++) grad[k] = (float)(sum[k] / n_samples);
    free(noisy);
    free(g);
    free(sum);
    return s;
}

cnv_status cnv_gaussian_noise_draw(void *state, int sample, float *noise, size_t numel) {
    cnv_gaussian_noise *gn = state;
    for (size_t i = 0; i < numel; i++) noise[i] = gn->sd * cnv_rng_normal(&gn->rng);
    return CNV_OK;
}

float cnv_saliency_noise_sd(const float *x, size_t n, float fraction) {
    if (n == 0) return 0.0f;
    float lo = x[0], hi = x[0];
    for (size_t i = 1; i < n; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    return fraction * (hi - lo);
}

cnv_status cnv_saliency_compute(cnv_exec *ex, int logits, int cls, const float *x, const cnv_saliency_params *o,
                                float *attribution) {
    const size_t n = input_numel(ex);
    switch (o->method) {
    case CNV_SALIENCY_GRAD: return cnv_saliency_gradient(ex, logits, cls, x, CNV_RULE_GRADIENT, attribution);
    case CNV_SALIENCY_GUIDED: return cnv_saliency_gradient(ex, logits, cls, x, CNV_RULE_GUIDED, attribution);
    case CNV_SALIENCY_GRADXINPUT:
        CNV_TRY(cnv_saliency_gradient(ex, logits, cls, x, CNV_RULE_GRADIENT, attribution));
        for (size_t i = 0; i < n; i++) attribution[i] *= x[i];
        return CNV_OK;
    case CNV_SALIENCY_SMOOTHGRAD: {
        if (!(o->noise >= 0.0f)) return cnv_fail(CNV_ERR_ARG, "smoothgrad noise must be >= 0, not %g", o->noise);
        cnv_gaussian_noise gn = {.sd = cnv_saliency_noise_sd(x, n, o->noise)};
        cnv_rng_seed(&gn.rng, o->seed);
        return cnv_saliency_smoothgrad(ex, logits, cls, x, o->samples, cnv_gaussian_noise_draw, &gn, attribution);
    }
    default: return cnv_fail(CNV_ERR_ARG, "unknown saliency method %d", (int)o->method);
    }
}

void cnv_saliency_map(const float *attribution, const cnv_shape *s, float *map) {
    const int c = s->d[1];
    const size_t plane = (size_t)s->d[2] * s->d[3];
    for (size_t i = 0; i < plane; i++) {
        float m = 0.0f;
        for (int ch = 0; ch < c; ch++) m = fmaxf(m, fabsf(attribution[ch * plane + i]));
        map[i] = m;
    }
}

static int compare_floats(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

cnv_status cnv_saliency_map_picture(const float *map, int h, int w, cnv_image *out) {
    memset(out, 0, sizeof *out);
    if (h < 1 || w < 1) return cnv_fail(CNV_ERR_ARG, "saliency map: %dx%d is not a picture", h, w);
    const size_t n = (size_t)h * w;
    float *sorted = malloc(n * sizeof *sorted);
    unsigned char *bytes = malloc(n);
    cnv_status s = sorted && bytes ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "saliency map: out of memory");
    if (s == CNV_OK) {
        memcpy(sorted, map, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, compare_floats);
        float p99 = sorted[(size_t)(0.99 * (double)(n - 1))];
        if (!(p99 > 0)) p99 = sorted[n - 1]; /* a map almost all zero: use its maximum */
        cnv_map_to_u8(map, n, 0.0f, p99, bytes);
        s = cnv_colormap_apply(CNV_CMAP_GRAY, bytes, w, h, out);
    }
    free(sorted);
    free(bytes);
    return s;
}
