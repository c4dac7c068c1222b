/* Named architectures built directly as graphs, with seeded He-uniform weights: fresh models to
 * train, test and export without any file. The internal part: the sized build. */
#ifndef CNV_MODELS_ARCH_H
#define CNV_MODELS_ARCH_H

#include <stdint.h>

#include "core/graph.h"

/* cnnvis/convert.h declares the public calls (build, list, describe). */
#include "cnnvis/convert.h"

/* cnv_arch_build at input size `size` x `size` (0: the architecture's own); only the ImageNet
 * architectures take other sizes (at least 32). What bench's --size builds. */
cnv_status cnv_arch_build_sized(const char *name, uint64_t seed, int size, cnv_graph **out);

#endif
