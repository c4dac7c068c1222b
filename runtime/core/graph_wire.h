/* A graph sent through a file descriptor (a pipe from a child process, see
 * models/keras_sandbox.c). Both ends are the same binary, so values go in native layout; the
 * reader still checks every count, index and length, because the writer ran on hostile input
 * and may have been damaged by it. */
#ifndef CNV_CORE_GRAPH_WIRE_H
#define CNV_CORE_GRAPH_WIRE_H

#include <stddef.h>

#include "core/graph.h"

/* A byte source with a deadline: reads exactly n bytes or fails (0 = ok, -1 = end of data or
 * error, -2 = deadline passed). */
typedef struct cnv_wire_reader {
    int fd;
    double deadline; /* monotonic seconds (cnv_wire_now), 0 = none */
    size_t budget;   /* bytes the reader may still allocate for the graph */
} cnv_wire_reader;

double cnv_wire_now(void);
int cnv_wire_read(cnv_wire_reader *r, void *dst, size_t n);
/* Writes all n bytes (retrying on EINTR and short writes); 0 or -1. */
int cnv_wire_write(int fd, const void *src, size_t n);

/* Writes g; 0 or -1 (the reader then sees a truncated stream). */
int cnv_graph_wire_write(int fd, const cnv_graph *g);
/* Reads a graph written by cnv_graph_wire_write. Returns 0, -1 (malformed or truncated: the
 * graph is rejected), -2 (deadline passed) or -3 (it would exceed r->budget bytes). */
int cnv_graph_wire_read(cnv_wire_reader *r, cnv_graph **out);

#endif
