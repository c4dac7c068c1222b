/* Runs a graph on a backend: forward to a node, backward from a seeded gradient. */
#ifndef CNV_CORE_EXEC_H
#define CNV_CORE_EXEC_H

#include "backend.h"

struct cnv_exec {
    cnv_graph *g;
    cnv_backend *be;
    int batch;
    cnv_shape *shapes; /* per value, at this batch size */
    cnv_buf **vals;    /* per value */
    cnv_buf **grads;   /* per value, allocated on first backward */
    cnv_buf **aux;     /* per node */
};

#endif
