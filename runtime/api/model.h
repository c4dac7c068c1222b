/* Internal side of the public model calls (api/model.c). */
#ifndef CNV_API_MODEL_H
#define CNV_API_MODEL_H

#include "models/preset.h"

/* The preset the public calls use for g: the detected one, else generic (as the CLI without
 * --preset). */
const cnv_preset *cnv_model_default_preset(const cnv_graph *g);

#endif
