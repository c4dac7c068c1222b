/* cnnvis — public C API: tensors and data on disk, and writing outputs so that readers never
 * see a partial one. NumPy .npy tensors (read and write), IDX files (MNIST-style data sets), and
 * the output transaction every verb of the CLI runs in.
 *
 * Rules of cnnvis.h. Buffers a read call fills are malloc'ed and the caller's (free(), or the
 * matching *_free). */
#ifndef CNNVIS_FILES_H
#define CNNVIS_FILES_H

#include <stdio.h>

#include "cnnvis/cnnvis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- .npy tensors: float32, C order, up to CNV_MAX_RANK axes ---- */
/* Reads '<f4' (and '<f8', converted) C-order arrays into *data (malloc'ed) and *shape.
 * CNV_ERR_IO, CNV_ERR_FORMAT (a malformed or truncated file), CNV_ERR_UNSUPPORTED (another dtype,
 * Fortran order, too many axes), CNV_ERR_SHAPE (an empty array), each naming the file. */
CNV_API cnv_status cnv_npy_read(const char *path, float **data, cnv_shape *shape);
/* Writes '<f4' through cnv_atomic_open (below): never a partial file, and inside a transaction
 * only when it commits. */
CNV_API cnv_status cnv_npy_write(const char *path, const float *data, const cnv_shape *shape);

/* ---- IDX files, the format of MNIST and Fashion-MNIST (train-images-idx3-ubyte, ...) ----
 * A big-endian header (two zero bytes, a type code, the number of dimensions, each dimension
 * as a 32-bit count) and the values. Only unsigned bytes (type 0x08) are read, which is what
 * every MNIST-style data set holds. Files may be gzip-compressed. */
#define CNV_IDX_MAX_DIMS 4

typedef struct cnv_idx {
    int ndim;
    int dims[CNV_IDX_MAX_DIMS];
    unsigned char *data; /* dims[0] x ... x dims[ndim-1] bytes, malloc'ed */
} cnv_idx;

/* Reads an unsigned-byte IDX file of `ndim` dimensions, keeping at most `limit` items along the
 * first dimension (limit <= 0: all). CNV_ERR_IO when it cannot be opened, CNV_ERR_FORMAT (naming
 * the file) when it is not such a file or is truncated. */
CNV_API cnv_status cnv_idx_read(const char *path, int ndim, int limit, cnv_idx *out);
/* Frees the data and zeroes idx. */
CNV_API void cnv_idx_free(cnv_idx *idx);

/* ---- atomic outputs and the output transaction ----
 * A file is written to a temporary file in the same folder ("<final>.tmp-<pid>-XXXXXX", so the
 * final rename stays on one file system and is atomic), synced to disk, and replaces the
 * destination only once everything was written. Every temporary file of the process is
 * registered, so that cnv_atomic_cleanup_on_signals() can remove them on SIGINT, SIGTERM or
 * SIGHUP; a run killed harder (SIGKILL, power loss) leaves them behind, and the next
 * cnv_atomic_open in that folder removes those whose process no longer exists.
 *
 * A transaction (cnv_atomic_begin ... cnv_atomic_finish) makes every commit of the process wait:
 * committed files stay under their temporary names, synced, until cnv_atomic_finish(1) renames
 * them all into place, or cnv_atomic_finish(0) removes them, so a run that fails half-way leaves
 * every existing output as it was. The CLI runs each verb in one transaction. The list of
 * temporary files is the process's: write files from one thread at a time. */
typedef struct cnv_atomic_file {
    FILE *f;        /* write here */
    char *path;     /* final name (the library's, until commit or abort) */
    char *tmp_path; /* temporary name beside it */
} cnv_atomic_file;

/* Opens the temporary file for path; CNV_ERR_IO (naming it) when it cannot be created. */
CNV_API cnv_status cnv_atomic_open(const char *path, cnv_atomic_file *af);
/* Flushes, syncs, closes and renames onto the final name (inside a transaction: queues the
 * rename); on any failure removes the temporary file. */
CNV_API cnv_status cnv_atomic_commit(cnv_atomic_file *af);
/* Drops everything written so far (no file appears). Safe on a file already committed. */
CNV_API void cnv_atomic_abort(cnv_atomic_file *af);
/* Writes text and a final newline to path atomically. */
CNV_API cnv_status cnv_write_text_file(const char *path, const char *text);

/* Starts the process's transaction (see above). */
CNV_API void cnv_atomic_begin(void);
/* Ends it: commit != 0 renames every queued file into place, in the order committed (the first
 * failure is returned, the rest still tried); 0 removes them, and the folders noted with
 * cnv_atomic_note_dir when they are left empty. */
CNV_API cnv_status cnv_atomic_finish(int commit);
/* Renames the files committed so far into place now, inside the transaction: for a run that
 * reads back what it wrote (the demo's input pictures). */
CNV_API cnv_status cnv_atomic_publish(void);
/* A folder this run created for its outputs (removed again by a failed transaction if empty). */
CNV_API void cnv_atomic_note_dir(const char *path);
/* Installs handlers for SIGINT, SIGTERM and SIGHUP that remove every temporary file of the
 * process, then end it as the signal would have. */
CNV_API void cnv_atomic_cleanup_on_signals(void);

#ifdef __cplusplus
}
#endif

#endif
