/* Running a reader that may crash, hang or balloon on hostile input in a child process: the
 * child resets the parent's signal handlers, silences stderr (the parent's one line is the
 * report), limits its address space (not under ASan, whose shadow memory needs terabytes) and
 * its CPU time, runs the reader, which writes its reply into a pipe, and exits. The parent reads
 * the reply with a deadline (core/graph_wire.h's reader) and collects the child. Used by the
 * Keras .h5 reader (models/keras_sandbox.c) and the picture decoder (io/image_sandbox.c). */
#ifndef CNV_CORE_SANDBOX_H
#define CNV_CORE_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "cnnvis/cnnvis.h"

typedef struct cnv_sandbox {
    pid_t pid;
    int fd; /* the read end of the child's reply */
} cnv_sandbox;

/* Forks a child that runs reader(fd, user) with `memory` bytes of address space above the
 * parent's present size and `seconds` of CPU time, then _exits. `path` and `what` ("reader",
 * "decoder") name the failure of the pipe or the fork. */
cnv_status cnv_sandbox_start(const char *path, const char *what, size_t memory, unsigned seconds,
                             void (*reader)(int fd, void *user), void *user, cnv_sandbox *sb);
/* Closes the reply, kills the child first when kill_it (hung, over a limit, or talking
 * nonsense), waits for it and returns its wait status. */
int cnv_sandbox_finish(cnv_sandbox *sb, int kill_it);

#endif
