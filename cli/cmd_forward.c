/* TEMPORARY STUB: replaced in this session. */
#include "commands.h"
#include <stdio.h>
int cmd_forward(int argc, char **argv) { fprintf(stderr, "cnnvis forward: not yet\n"); return 1; }
