/* The comma-separated lists of names that help texts and error messages show ("a, b, c"). */
#ifndef CNV_CORE_NAME_LIST_H
#define CNV_CORE_NAME_LIST_H

#include <stddef.h>

/* Appends name to the list in buf (", " before it unless buf is empty); what does not fit in
 * size bytes is cut, and buf stays NUL-terminated. Start from buf[0] = '\0'. */
void cnv_name_list_append(char *buf, size_t size, const char *name);

#endif
