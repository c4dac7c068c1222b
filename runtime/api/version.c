/* The library's version, for programs that check the install matches the headers. */
#include "cnnvis/cnnvis.h"

const char *cnv_version(void) { return CNV_VERSION_STRING; }
