#include "alloc.h"

#include <stdlib.h>
#include <string.h>

char *cnv_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int cnv_grow(void **items, int *cap, int need, size_t item_size) {
    if (need <= *cap) return 1;
    int cap2 = *cap ? *cap * 2 : 16;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*items, (size_t)cap2 * item_size);
    if (!p) return 0;
    *items = p;
    *cap = cap2;
    return 1;
}
