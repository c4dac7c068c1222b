#include "objective.h"

#include "core/status.h"
#include "vis/class_vector.h"

#include <string.h>

/* Elements per batch item, channels and positions of a layer output. */
static void geometry(const cnv_shape *s, size_t *item, int *channels, size_t *plane) {
    *item = cnv_shape_numel(s) / (size_t)s->d[0];
    *channels = s->ndim > 1 ? s->d[1] : 1;
    *plane = *item / (size_t)*channels;
}

cnv_status cnv_objective_check(const cnv_objective *objs, int n, const cnv_shape *s, const char *layer) {
    size_t item, plane;
    int channels;
    geometry(s, &item, &channels, &plane);
    for (int i = 0; i < n; i++) {
        const cnv_objective *o = &objs[i];
        if (o->channel < 0 || o->channel >= channels)
            return cnv_fail(CNV_ERR_ARG, "layer %s has %d %s, no %d", layer, channels,
                            o->kind == CNV_OBJ_UNIT ? "classes" : "channels", o->channel);
        if (o->kind == CNV_OBJ_NEURON) {
            if (s->ndim != 4)
                return cnv_fail(CNV_ERR_ARG, "layer %s has no spatial positions for a neuron", layer);
            if (o->y < 0 || o->y >= s->d[2] || o->x < 0 || o->x >= s->d[3])
                return cnv_fail(CNV_ERR_ARG, "layer %s is %dx%d: no position (%d, %d)", layer, s->d[2], s->d[3], o->y, o->x);
        }
        /* A class of a map (a segmentation output) is its channel's mean, which the seed below
         * gives any unit objective. */
        cnv_shape one = *s;
        one.d[0] = 1;
        if (o->kind == CNV_OBJ_UNIT && !cnv_class_score_count(&one))
            return cnv_fail(CNV_ERR_ARG, "layer %s is neither a class vector nor a 1xCxHxW map of classes", layer);
    }
    return CNV_OK;
}

void cnv_objective_seed(const cnv_objective *objs, const cnv_shape *s, float *seed) {
    size_t item, plane;
    int channels;
    geometry(s, &item, &channels, &plane);
    memset(seed, 0, cnv_shape_numel(s) * sizeof *seed);
    for (int i = 0; i < s->d[0]; i++) {
        const cnv_objective *o = &objs[i];
        float *base = seed + (size_t)i * item + (size_t)o->channel * plane;
        if (o->kind == CNV_OBJ_NEURON)
            base[(size_t)o->y * (size_t)s->d[3] + (size_t)o->x] = 1.0f;
        else
            for (size_t p = 0; p < plane; p++) base[p] = 1.0f / (float)plane;
    }
}

void cnv_objective_values(const float *seed, const float *out, const cnv_shape *s, double *values) {
    size_t item = cnv_shape_numel(s) / (size_t)s->d[0];
    for (int i = 0; i < s->d[0]; i++) {
        double v = 0;
        for (size_t k = 0; k < item; k++) v += (double)seed[(size_t)i * item + k] * out[(size_t)i * item + k];
        values[i] = v;
    }
}
