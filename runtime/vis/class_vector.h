/* Class vectors (recognizing one, its softmax, its top classes): public now (cnnvis/model.h,
 * "class vectors"). This header stays for the internal files that include it. */
#ifndef CNV_VIS_CLASS_VECTOR_H
#define CNV_VIS_CLASS_VECTOR_H

#include "cnnvis/model.h"
#include "core/shape.h"

#endif
