/* Presets: how a model wants its input (size, channel order, value range, mean/std), where its
 * logits are and what its classes are called. A table of data. */
#ifndef CNV_MODELS_PRESET_H
#define CNV_MODELS_PRESET_H

#include "core/graph.h"

typedef enum { CNV_ORDER_RGB, CNV_ORDER_BGR, CNV_ORDER_GRAY } cnv_channel_order;

typedef struct cnv_preset {
    const char *name;
    const char *description;
    int channels, height, width;
    cnv_channel_order order;
    float scale;      /* applied to 0..255 pixels first: 1 or 1/255 */
    float mean[3];    /* subtracted after scaling, in the model's channel order */
    float std[3];     /* then divided by */
    const char *logits_layer; /* layer (name) before softmax; NULL: the graph output */
    const char *labels_file;  /* searched beside the model and in its parent folders */
    const char *const *builtin_labels; /* used when labels_file is NULL */
    int n_builtin_labels;
    const char *default_layers; /* comma-separated layers worth visualizing */
} cnv_preset;

const cnv_preset *cnv_preset_find(const char *name);
/* Recognizes a known model by its input shape and names; NULL when unknown. */
const cnv_preset *cnv_preset_detect(const cnv_graph *g);
/* The same, also writing into why (size bytes) what was recognized: "detected: <reason>"
 * ("" when nothing matched). */
const cnv_preset *cnv_preset_detect_why(const cnv_graph *g, char *why, size_t size);
/* Prints the names of every preset, comma-separated, into buf. */
void cnv_preset_list(char *buf, size_t size);

#endif
