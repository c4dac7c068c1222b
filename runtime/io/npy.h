/* NumPy .npy files: public now (cnnvis/files.h). This header stays for the internal files that
 * include it. */
#ifndef CNV_IO_NPY_H
#define CNV_IO_NPY_H

#include "cnnvis/files.h"
#include "core/shape.h"

#endif
