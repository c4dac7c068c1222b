/* TEMPORARY STUB: replaced in this session. */
#include "commands.h"
#include <stdio.h>
int cmd_info(int argc, char **argv) { fprintf(stderr, "cnnvis info: not yet\n"); return 1; }
