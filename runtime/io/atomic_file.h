/* Atomic outputs and the output transaction: public now (cnnvis/files.h, where their rules are
 * written). This header stays for the internal files that include it. */
#ifndef CNV_IO_ATOMIC_FILE_H
#define CNV_IO_ATOMIC_FILE_H

#include "cnnvis/files.h"

#endif
