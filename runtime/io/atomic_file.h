/* Writing a file so that readers never see a partial one: the data goes to a temporary file in
 * the same folder (so the final rename stays on one file system and is atomic), which replaces
 * the destination only once everything was written and flushed. */
#ifndef CNV_IO_ATOMIC_FILE_H
#define CNV_IO_ATOMIC_FILE_H

#include <stdio.h>

#include "cnnvis/cnnvis.h"

typedef struct cnv_atomic_file {
    FILE *f;          /* write here */
    char *path;       /* final name */
    char *tmp_path;   /* temporary name beside it */
} cnv_atomic_file;

cnv_status cnv_atomic_open(const char *path, cnv_atomic_file *af);
/* Flushes, closes and renames onto the final name; on any failure removes the temporary file. */
cnv_status cnv_atomic_commit(cnv_atomic_file *af);
/* Drops everything written so far (no file appears). Safe on a file already committed. */
void cnv_atomic_abort(cnv_atomic_file *af);

/* Writes text and a final newline to path atomically. */
cnv_status cnv_write_text_file(const char *path, const char *text);

#endif
