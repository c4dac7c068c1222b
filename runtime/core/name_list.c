#include "name_list.h"

#include <stdio.h>
#include <string.h>

void cnv_name_list_append(char *buf, size_t size, const char *name) {
    if (size == 0) return;
    const size_t used = strnlen(buf, size - 1);
    snprintf(buf + used, size - used, "%s%s", used ? ", " : "", name);
}
