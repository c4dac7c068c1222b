/* TEMPORARY STUB: replaced in this session. */
#include "commands.h"
#include <stdio.h>
int cmd_classify(int argc, char **argv) { fprintf(stderr, "cnnvis classify: not yet\n"); return 1; }
