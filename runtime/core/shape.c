#include "shape.h"

#include <stdio.h>

char *cnv_shape_str(const cnv_shape *s, char *buf, size_t size) {
    size_t pos = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->ndim && pos < size; i++)
        pos += (size_t)snprintf(buf + pos, size - pos, i ? "x%d" : "%d", s->d[i]);
    if (s->ndim == 0) snprintf(buf, size, "scalar");
    return buf;
}
