/* IDX files (MNIST-style data sets): public now (cnnvis/files.h). This header stays for the
 * internal files that include it. */
#ifndef CNV_IO_IDX_H
#define CNV_IO_IDX_H

#include "cnnvis/files.h"

#endif
