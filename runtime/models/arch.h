/* Named architectures built directly as graphs, with seeded He-uniform weights: fresh models to
 * train, test and export without any file. */
#ifndef CNV_MODELS_ARCH_H
#define CNV_MODELS_ARCH_H

#include <stdint.h>

#include "core/graph.h"

/* Builds architecture `name` ("smallnet", "vgg-small", "fashion-cnn" for 28x28 gray; "vgg16",
 * "resnet50", "squeezenet1.1" in torchvision's layouts, models/arch_imagenet.c) with weights drawn
 * from `seed`: the same seed gives the same weights bit for bit on every machine.
 * CNV_ERR_NOT_FOUND for an unknown name (the message lists the known ones). */
cnv_status cnv_arch_build(const char *name, uint64_t seed, cnv_graph **out);
/* The same at input size `size` x `size` (0: the architecture's own); only the ImageNet
 * architectures take other sizes (at least 32). */
cnv_status cnv_arch_build_sized(const char *name, uint64_t seed, int size, cnv_graph **out);

/* The names of every architecture, comma-separated, into buf. */
void cnv_arch_list(char *buf, size_t size);

/* One-line description of an architecture; NULL when unknown. */
const char *cnv_arch_describe(const char *name);

#endif
