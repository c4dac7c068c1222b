/* The Keras layer list: growing it, freeing it, and Keras activation names. */
#include "models/keras_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

keras_layer *keras_model_add(keras_model *m, const char *name, const char *class_name, keras_kind kind) {
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 32;
        keras_layer *grown = realloc(m->layers, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        m->layers = grown;
        m->cap = cap;
    }
    keras_layer *l = &m->layers[m->n];
    memset(l, 0, sizeof *l);
    l->name = cnv_strdup(name);
    l->class_name = cnv_strdup(class_name);
    if (!l->name || !l->class_name) {
        free(l->name);
        free(l->class_name);
        return NULL;
    }
    l->kind = kind;
    l->kernel[0] = l->kernel[1] = l->strides[0] = l->strides[1] = 1;
    l->dilation[0] = l->dilation[1] = l->groups = 1;
    l->use_bias = l->center = l->scale = 1;
    l->epsilon = 1e-3f;
    l->axis = -1;
    l->act.op = CNV_OP_DROPOUT;
    l->merge_op = CNV_OP_ADD;
    l->depth_multiplier = 1;
    m->n++;
    return l;
}

void keras_model_free(keras_model *m) {
    for (int i = 0; i < m->n; i++) {
        free(m->layers[i].name);
        free(m->layers[i].class_name);
        for (int k = 0; k < m->layers[i].n_in; k++) free(m->layers[i].inputs[k]);
    }
    free(m->layers);
    free(m->output);
    memset(m, 0, sizeof *m);
}

cnv_status keras_activation_parse(const char *path, const keras_layer *l, const char *name, int keras3,
                                  keras_activation *act) {
    memset(act, 0, sizeof *act);
    /* Keras activations composed from ops (keras.activations): */
    if (!strcmp(name, "swish") || !strcmp(name, "silu")) {
        act->op = CNV_OP_SIGMOID;
        act->gate = 1;
        return CNV_OK;
    }
    if (!strcmp(name, "selu")) {
        act->op = CNV_OP_ELU;
        act->alpha = 1.67326324235437728f;
        act->scale = 1.05070098735548049f;
        return CNV_OK;
    }
    if (!strcmp(name, "hard_sigmoid")) {
        act->op = CNV_OP_HARDSIGMOID;
        act->alpha = keras3 ? 1.0f / 6.0f : 0.2f;
        act->beta = 0.5f;
        return CNV_OK;
    }
    /* The Keras names of each op are in its descriptor (core/op_list.h). */
    const cnv_op_type op = cnv_op_from_keras(name);
    if (op != CNV_OP_COUNT) {
        act->op = op;
        act->alpha = 1.0f; /* Keras' elu activation has alpha 1 */
        act->max = 6.0f;   /* used by relu6 only */
        return CNV_OK;
    }
    return cnv_fail(CNV_ERR_UNSUPPORTED, "%s: layer '%s' (%s): activation '%s' is not supported", path, l->name,
                    l->class_name, name);
}
