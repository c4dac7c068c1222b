/* TEMPORARY STUB: replaced in this session. */
#include "commands.h"
#include <stdio.h>
int cmd_grad(int argc, char **argv) { fprintf(stderr, "cnnvis grad: not yet\n"); return 1; }
