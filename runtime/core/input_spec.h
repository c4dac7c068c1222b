/* How a model wants its input: the preset type (public, cnnvis/model.h) and the generic preset,
 * which preprocessing and the data-set reader in io/ read. It sits in core so that io/ needs
 * nothing from models/: the table of presets and their detection stay in models/preset.c. */
#ifndef CNV_CORE_INPUT_SPEC_H
#define CNV_CORE_INPUT_SPEC_H

#include "cnnvis/model.h"

/* The generic preset: any model at its own input size, RGB (gray for one channel), pixels / 255,
 * no mean. The last entry of the preset table, and how io/dataset.c reads training images. */
#define CNV_PRESET_GENERIC                                                                          \
    {                                                                                              \
        .name = "generic", .description = "any model: its own input size, RGB (gray for 1 channel), 0..1, no mean", \
        .order = CNV_ORDER_RGB, .scale = 1.0f / 255.0f, .mean = {0.0f, 0.0f, 0.0f}, .std = {1.0f, 1.0f, 1.0f}, \
    }

#endif
