/* The picture a model actually saw, its input preprocessed back to 8 bits: public now
 * (cnnvis/model.h, "inputs"; the map normalization it builds on is in cnnvis/picture.h). This
 * header stays for the internal files that include it. */
#ifndef CNV_IO_NORMALIZE_H
#define CNV_IO_NORMALIZE_H

#include "cnnvis/model.h"
#include "core/input_spec.h"
#include "core/shape.h"

#endif
