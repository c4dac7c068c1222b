/* Allocation helpers shared by the graph builders and the model readers. */
#ifndef CNV_CORE_ALLOC_H
#define CNV_CORE_ALLOC_H

#include <stddef.h>

/* A malloc'ed copy of s; NULL when memory runs out. */
char *cnv_strdup(const char *s);

/* Makes room for `need` items of item_size in the array *items of capacity *cap (doubling, 16 at
 * least); returns 1, or 0 when memory runs out (the array is then left as it was). */
int cnv_grow(void **items, int *cap, int need, size_t item_size);

#endif
