/* The SPIR-V of every kernel in shaders/, compiled at build time and embedded. */
#ifndef CNV_VULKAN_SHADERS_H
#define CNV_VULKAN_SHADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cnv_shader_code {
    const char *name; /* file name without .comp, e.g. "conv2d_fwd" */
    const uint32_t *code;
    size_t size; /* bytes */
} cnv_shader_code;

/* Terminated by an entry with name NULL. */
extern const cnv_shader_code cnv_shader_table[];

/* NULL when no kernel has that name. */
const cnv_shader_code *cnv_shader_find(const char *name);

#endif
