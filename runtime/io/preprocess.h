/* From a file to the tensor a model takes: public now (cnnvis/model.h, "inputs"). This header
 * stays for the internal files that include it. */
#ifndef CNV_IO_PREPROCESS_H
#define CNV_IO_PREPROCESS_H

#include "cnnvis/model.h"
#include "core/input_spec.h"
#include "core/shape.h"

#endif
