/* How a model wants its input: the part of a preset (models/preset.h) that preprocessing and
 * the data-set reader in io/ read. It sits in core so that io/ needs nothing from models/: the
 * table of presets and their detection stay in models/preset.c. */
#ifndef CNV_CORE_INPUT_SPEC_H
#define CNV_CORE_INPUT_SPEC_H

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

/* The generic preset: any model at its own input size, RGB (gray for one channel), pixels / 255,
 * no mean. The last entry of the preset table, and how io/dataset.c reads training images. */
#define CNV_PRESET_GENERIC                                                                          \
    {                                                                                              \
        .name = "generic", .description = "any model: its own input size, RGB (gray for 1 channel), 0..1, no mean", \
        .order = CNV_ORDER_RGB, .scale = 1.0f / 255.0f, .mean = {0.0f, 0.0f, 0.0f}, .std = {1.0f, 1.0f, 1.0f}, \
    }

#endif
