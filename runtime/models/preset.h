/* Presets: how a model wants its input (size, channel order, value range, mean/std), where its
 * logits are and what its classes are called. A table of data. */
#ifndef CNV_MODELS_PRESET_H
#define CNV_MODELS_PRESET_H

#include "core/graph.h"
#include "core/input_spec.h"

const cnv_preset *cnv_preset_find(const char *name);
/* Recognizes a known model by its input shape and names; NULL when unknown. */
const cnv_preset *cnv_preset_detect(const cnv_graph *g);
/* The same, also writing into why (size bytes) what was recognized: "detected: <reason>"
 * ("" when nothing matched). */
const cnv_preset *cnv_preset_detect_why(const cnv_graph *g, char *why, size_t size);
/* Prints the names of every preset, comma-separated, into buf. */
void cnv_preset_list(char *buf, size_t size);

#endif
