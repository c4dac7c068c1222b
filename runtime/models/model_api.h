/* Internal side of the public model calls (model_api.c). */
#ifndef CNV_MODELS_MODEL_API_H
#define CNV_MODELS_MODEL_API_H

#include "models/preset.h"

/* The preset the public calls use for g: the detected one, else generic (as the CLI without
 * --preset). */
const cnv_preset *cnv_model_default_preset(const cnv_graph *g);

#endif
