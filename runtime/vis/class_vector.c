#include "class_vector.h"

#include "core/status.h"

#include <math.h>
#include <string.h>

int cnv_class_count(const cnv_shape *s) {
    if (s->ndim < 1) return 0;
    int first = s->ndim == 1 ? 0 : 1;
    if (first == 1 && s->d[0] != 1) return 0;
    for (int i = first + 1; i < s->ndim; i++)
        if (s->d[i] != 1) return 0;
    return s->d[first];
}

/* Positions averaged into one class score: 1 for a class vector, H x W for a map of classes
 * (1 x C x H x W with more than one position), 0 for anything else. */
static size_t score_positions(const cnv_shape *s) {
    if (cnv_class_count(s)) return 1;
    if (s->ndim == 4 && s->d[0] == 1 && (size_t)s->d[2] * s->d[3] > 1) return (size_t)s->d[2] * s->d[3];
    return 0;
}

int cnv_class_score_count(const cnv_shape *s) {
    int n = cnv_class_count(s);
    return n ? n : score_positions(s) ? s->d[1] : 0;
}

void cnv_class_score_seed(const cnv_shape *s, int cls, float *seed) {
    size_t plane = score_positions(s);
    memset(seed, 0, cnv_shape_numel(s) * sizeof *seed);
    for (size_t i = 0; i < plane; i++) seed[(size_t)cls * plane + i] = 1.0f / (float)plane;
}

void cnv_class_scores(const float *y, const cnv_shape *s, float *scores) {
    size_t plane = score_positions(s);
    for (int k = 0; k < cnv_class_score_count(s); k++) {
        double sum = 0; /* in double: a float sum over a 128 x 128 mask would lose digits */
        for (size_t i = 0; i < plane; i++) sum += y[(size_t)k * plane + i];
        scores[k] = (float)(sum / (double)plane);
    }
}

cnv_status cnv_class_check(const cnv_graph *g, int layer, const cnv_shape *s, int cls) {
    int n = cnv_class_score_count(s);
    char buf[64];
    if (!n)
        return cnv_fail(CNV_ERR_ARG, "%s: layer %s is %s: neither a class vector nor a 1xCxHxW map of classes",
                        g->source, g->nodes[layer].name, cnv_shape_str(s, buf, sizeof buf));
    if (cls < 0 || cls >= n)
        return cnv_fail(CNV_ERR_ARG, "class %d out of range: layer %s of %s has %d classes (0..%d)", cls,
                        g->nodes[layer].name, g->source, n, n - 1);
    return CNV_OK;
}

void cnv_softmax(float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++) m = fmaxf(m, x[i]);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)x[i] - m);
    for (int i = 0; i < n; i++) x[i] = (float)(exp((double)x[i] - m) / sum);
}

void cnv_top_k(const float *v, int n, int k, int *idx) {
    /* Selection by insertion into a sorted prefix: k is small (a handful of classes). */
    int filled = 0;
    for (int i = 0; i < n; i++) {
        int pos = filled < k ? filled : k;
        while (pos > 0 && v[i] > v[idx[pos - 1]]) pos--;
        if (pos >= k) continue;
        int last = filled < k ? filled : k - 1;
        for (int j = last; j > pos; j--) idx[j] = idx[j - 1];
        idx[pos] = i;
        if (filled < k) filled++;
    }
}
