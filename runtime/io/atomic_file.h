/* Writing a file so that readers never see a partial one: the data goes to a temporary file in
 * the same folder (so the final rename stays on one file system and is atomic), which is synced
 * to disk and then replaces the destination only once everything was written.
 *
 * Temporary names are "<final>.tmp-<pid>-XXXXXX". Every temporary file of the process is
 * registered, so that cnv_atomic_cleanup_on_signals() can remove them on SIGINT, SIGTERM or
 * SIGHUP; a run killed harder (SIGKILL, power loss) leaves them behind, and the next
 * cnv_atomic_open in that folder removes those whose process no longer exists.
 *
 * A transaction (cnv_atomic_begin ... cnv_atomic_finish) makes every commit of the process wait:
 * committed files stay under their temporary names, synced, until cnv_atomic_finish(1) renames
 * them all into place, or cnv_atomic_finish(0) removes them, so a run that fails half-way leaves
 * every existing output as it was. The CLI runs each verb in one transaction.
 * The list of temporary files is the process's: write files from one thread at a time. */
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
/* Flushes, syncs, closes and renames onto the final name (inside a transaction: queues the
 * rename); on any failure removes the temporary file. */
cnv_status cnv_atomic_commit(cnv_atomic_file *af);
/* Drops everything written so far (no file appears). Safe on a file already committed. */
void cnv_atomic_abort(cnv_atomic_file *af);

/* Writes text and a final newline to path atomically. */
cnv_status cnv_write_text_file(const char *path, const char *text);

/* Starts the process's transaction (see above). */
void cnv_atomic_begin(void);
/* Ends it: commit != 0 renames every queued file into place, in the order committed (the
 * first failure is returned, the rest still tried); 0 removes them, and the folders noted with
 * cnv_atomic_note_dir when they are left empty. */
cnv_status cnv_atomic_finish(int commit);
/* Renames the files committed so far into place now, inside the transaction: for a verb that
 * reads back what it wrote (the demo's input pictures). */
cnv_status cnv_atomic_publish(void);
/* A folder this run created for its outputs (removed again by a failed transaction if empty). */
void cnv_atomic_note_dir(const char *path);
/* Installs handlers for SIGINT, SIGTERM and SIGHUP that remove every temporary file of the
 * process, then end it as the signal would have. */
void cnv_atomic_cleanup_on_signals(void);

#endif
