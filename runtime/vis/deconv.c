/* The Zeiler & Fergus projection (vis/deconv.h) over the executor's modified backward rules. */
#include "deconv.h"

#include "core/input_spec.h"
#include "core/status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index within one plane of its largest value (the first one on ties). */
static size_t plane_argmax(const float *plane, size_t n) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (plane[i] > plane[best]) best = i;
    return best;
}

/* The deconvnet's starting signal: the chosen activations, zero elsewhere. */
static void deconv_seed(const float *act, const cnv_shape *s, int channel, int all_positions, float *seed) {
    const size_t n = cnv_shape_numel(s), per_item = n / (size_t)s->d[0], plane = per_item / (size_t)s->d[1];
    memset(seed, 0, n * sizeof *seed);
    for (int b = 0; b < s->d[0]; b++) {
        const size_t base = (size_t)b * per_item + (size_t)channel * plane;
        if (all_positions) {
            memcpy(seed + base, act + base, plane * sizeof *seed);
        } else {
            size_t k = base + plane_argmax(act + base, plane);
            seed[k] = act[k];
        }
    }
}

cnv_status cnv_deconv_project(cnv_exec *ex, int node, int channel, const cnv_deconvnet_params *p, float *out,
                              float *peak) {
    const cnv_graph *g = ex->g;
    const cnv_deconvnet_params defaults = {0};
    if (!p) p = &defaults;
    if (node < 0 || node >= g->n_nodes) return cnv_fail(CNV_ERR_ARG, "%s: no layer with index %d", g->source, node);
    const int value = g->nodes[node].out;
    const cnv_shape *s = &ex->shapes[value];
    char buf[64];
    if (s->ndim < 2)
        return cnv_fail(CNV_ERR_SHAPE, "layer %s is %s: it has no channel axis", g->nodes[node].name,
                        cnv_shape_str(s, buf, sizeof buf));
    if (channel < 0 || channel >= s->d[1])
        return cnv_fail(CNV_ERR_ARG, "channel %d out of range: layer %s has %d channels (0..%d)", channel,
                        g->nodes[node].name, s->d[1], s->d[1] - 1);
    const size_t n = cnv_shape_numel(s);
    float *act = malloc(n * sizeof *act), *seed = malloc(n * sizeof *seed);
    cnv_status st = act && seed ? CNV_OK : cnv_fail(CNV_ERR_NOMEM, "deconv: out of memory");
    if (st == CNV_OK) st = cnv_exec_read(ex, value, act);
    if (st == CNV_OK) {
        deconv_seed(act, s, channel, p->all_positions, seed);
        if (peak) {
            const size_t plane = n / (size_t)s->d[0] / (size_t)s->d[1];
            const float *m = act + (size_t)channel * plane;
            *peak = m[plane_argmax(m, plane)];
        }
        st = cnv_exec_set_backward_rules(ex, CNV_RULE_DECONVNET, p->unpool_fill);
    }
    if (st == CNV_OK) st = cnv_exec_backward(ex, value, seed, 0);
    if (st == CNV_OK) st = cnv_exec_read_grad(ex, g->input, out);
    cnv_exec_set_backward_rules(ex, CNV_RULE_GRADIENT, 0); /* valid arguments: cannot fail */
    free(act);
    free(seed);
    return st;
}

cnv_status cnv_deconv_strongest_channels(const float *act, const cnv_shape *s, int k, int *channels, float *peaks) {
    char buf[64];
    if (s->ndim < 2) return cnv_fail(CNV_ERR_SHAPE, "activation %s has no channel axis", cnv_shape_str(s, buf, sizeof buf));
    const int c = s->d[1];
    if (k < 1 || k > c) return cnv_fail(CNV_ERR_ARG, "k = %d: the activation has %d channels", k, c);
    const size_t plane = cnv_shape_numel(s) / (size_t)s->d[0] / (size_t)c;
    float *maxima = malloc((size_t)c * sizeof *maxima);
    char *taken = calloc((size_t)c, 1);
    if (!maxima || !taken) {
        free(maxima);
        free(taken);
        return cnv_fail(CNV_ERR_NOMEM, "deconv: out of memory ranking %d channels", c);
    }
    for (int ch = 0; ch < c; ch++) maxima[ch] = act[(size_t)ch * plane + plane_argmax(act + (size_t)ch * plane, plane)];
    for (int i = 0; i < k; i++) {
        int best = -1;
        for (int ch = 0; ch < c; ch++)
            if (!taken[ch] && (best < 0 || maxima[ch] > maxima[best])) best = ch;
        taken[best] = 1;
        channels[i] = best;
        if (peaks) peaks[i] = maxima[best];
    }
    free(maxima);
    free(taken);
    return CNV_OK;
}

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The magnitude shown at full contrast: the 99th percentile of the nonzero magnitudes (a
 * projection is often zero outside its receptive field, and a few extreme values would
 * otherwise leave the rest near gray). 0 when everything is zero. */
static cnv_status display_limit(const float *x, const double *to_pixels, int c, size_t plane, double *limit) {
    double *mag = malloc(plane * (size_t)c * sizeof *mag);
    if (!mag) return cnv_fail(CNV_ERR_NOMEM, "signal picture: out of memory");
    size_t n = 0;
    for (int ch = 0; ch < c; ch++)
        for (size_t i = 0; i < plane; i++) {
            double m = fabs(x[ch * plane + i] * to_pixels[ch]);
            if (m > 0 && isfinite(m)) mag[n++] = m;
        }
    qsort(mag, n, sizeof *mag, compare_doubles);
    *limit = n ? mag[(size_t)(0.99 * (double)(n - 1))] : 0;
    free(mag);
    return CNV_OK;
}

cnv_status cnv_signal_picture(const float *x, const cnv_shape *s, const cnv_preset *p, cnv_image *out) {
    static const cnv_preset generic = CNV_PRESET_GENERIC;
    if (!p) p = &generic;
    memset(out, 0, sizeof *out);
    char buf[64];
    if (s->ndim != 4 || s->d[0] < 1 || (s->d[1] != 1 && s->d[1] != 3))
        return cnv_fail(CNV_ERR_SHAPE, "signal %s is not an image (1 or 3 channels)", cnv_shape_str(s, buf, sizeof buf));
    const int c = s->d[1];
    const size_t plane = (size_t)s->d[2] * s->d[3];
    /* A change dx of the model's input is a change dx * std / scale of the 0..255 pixels. */
    double to_pixels[3], limit = 0;
    for (int ch = 0; ch < c; ch++) to_pixels[ch] = (double)p->std[ch] / p->scale;
    CNV_TRY(display_limit(x, to_pixels, c, plane, &limit));
    out->px = malloc(plane * (size_t)c);
    if (!out->px) return cnv_fail(CNV_ERR_NOMEM, "signal picture: out of memory");
    out->w = s->d[3];
    out->h = s->d[2];
    out->c = c;
    const double gain = limit > 0 ? 127.0 / limit : 0;
    for (int ch = 0; ch < c; ch++) {
        const int dst = (c == 3 && p->order == CNV_ORDER_BGR) ? 2 - ch : ch;
        for (size_t i = 0; i < plane; i++) {
            double v = 128.0 + gain * x[ch * plane + i] * to_pixels[ch];
            if (!isfinite(v)) v = 128.0;
            out->px[i * c + dst] = (unsigned char)lrint(fmin(255.0, fmax(0.0, v)));
        }
    }
    return CNV_OK;
}
