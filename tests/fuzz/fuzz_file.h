/* The loaders read paths, so each fuzz input goes to a file first: one per process and
 * extension, in $TMPDIR (or /tmp), rewritten for every execution. */
#ifndef CNV_FUZZ_FILE_H
#define CNV_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fuzz_file(const uint8_t *data, size_t size, const char *ext) {
    static char path[512];
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/cnnvis_fuzz_%ld%s", dir && *dir ? dir : "/tmp", (long)getpid(), ext);
    FILE *f = fopen(path, "wb");
    if (!f) abort(); /* the harness cannot run at all: say so loudly */
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
    return path;
}

#endif
