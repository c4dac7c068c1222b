/* Tensor shapes: float32, NCHW for images, up to CNV_MAX_DIMS (6) dims. */
#ifndef CNV_CORE_SHAPE_H
#define CNV_CORE_SHAPE_H

#include <stddef.h>

#include "../../shaders/limits.h" /* CNV_MAX_DIMS, shared with the shaders */
#include "cnnvis/cnnvis.h"

/* The struct and its inline helpers are public (cnnvis/cnnvis.h); the shaders' limit is the same. */
_Static_assert(CNV_MAX_RANK == CNV_MAX_DIMS, "cnnvis.h's CNV_MAX_RANK and shaders/limits.h's CNV_MAX_DIMS differ");

#endif
