/* Labelled image sets for training and evaluation: public (cnnvis/train.h, which describes the
 * layouts and the scaling). The library's readers (training, the atlas' images, the image
 * prior) include this header. */
#ifndef CNV_IO_DATASET_H
#define CNV_IO_DATASET_H

#include "cnnvis/train.h"

#endif
