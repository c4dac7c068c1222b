/* Presets: how a model wants its input (size, channel order, value range, mean/std), where its
 * logits are and what its classes are called. The table is models/preset.c; the type and the
 * calls are public (cnnvis/model.h, "presets"). */
#ifndef CNV_MODELS_PRESET_H
#define CNV_MODELS_PRESET_H

#include "cnnvis/model.h"
#include "core/graph.h"
#include "core/input_spec.h"

#endif
