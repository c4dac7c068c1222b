/* SHA-256 (FIPS 180-4), to identify the model a result came from in its JSON sidecar. */
#ifndef CNV_CORE_SHA256_H
#define CNV_CORE_SHA256_H

#include "cnnvis/cnnvis.h"

#include <stddef.h>
#include <stdint.h>

/* A digest under way: init, update with the bytes in order, then hex. */
typedef struct cnv_sha256 {
    uint32_t h[8];
    uint8_t block[64];
    size_t used;
    uint64_t bytes;
} cnv_sha256;

void cnv_sha256_init(cnv_sha256 *s);
void cnv_sha256_update(cnv_sha256 *s, const void *data, size_t n);
/* The digest as 64 lowercase hex digits and a NUL; s is used up. */
void cnv_sha256_hex(cnv_sha256 *s, char hex[65]);

/* Hex digest (64 characters + NUL) of a whole file. */
cnv_status cnv_sha256_file(const char *path, char hex[65]);

#endif
