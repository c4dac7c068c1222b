/* TEMPORARY STUB */
#include "exec.h"
