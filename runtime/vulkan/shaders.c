#include "shaders.h"

#include <string.h>

const cnv_shader_code *cnv_shader_find(const char *name) {
    for (const cnv_shader_code *s = cnv_shader_table; s->name; s++)
        if (strcmp(s->name, name) == 0) return s;
    return NULL;
}
