/* Class names: public now (cnnvis/model.h, "labels"). This header stays for the internal files
 * that include it. */
#ifndef CNV_MODELS_LABELS_H
#define CNV_MODELS_LABELS_H

#include "cnnvis/model.h"

#endif
