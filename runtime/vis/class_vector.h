/* Class vectors and maps of classes (recognizing one, its class scores, softmax, top classes)
 * are public (cnnvis/model.h, "class vectors"); here is the check the attribution calls share. */
#ifndef CNV_VIS_CLASS_VECTOR_H
#define CNV_VIS_CLASS_VECTOR_H

#include "cnnvis/model.h"
#include "core/graph.h"
#include "core/shape.h"

/* CNV_OK when cls is a class of `layer`, whose output has one item's shape s (batch 1; see
 * cnv_class_score_count); else CNV_ERR_ARG naming the layer and its shape (no classes) or its
 * class count (cls out of range). */
cnv_status cnv_class_check(const cnv_graph *g, int layer, const cnv_shape *s, int cls);

#endif
