/* SHA-256 (FIPS 180-4), to identify the model a result came from in its JSON sidecar. */
#ifndef CNV_CORE_SHA256_H
#define CNV_CORE_SHA256_H

#include "cnnvis/cnnvis.h"

/* Hex digest (64 characters + NUL) of a whole file. */
cnv_status cnv_sha256_file(const char *path, char hex[65]);

#endif
