#include "log.h"

#include <stdarg.h>
#include <stdio.h>

static cnv_log_level current_level = CNV_LOG_WARN;

void cnv_log_set_level(cnv_log_level level) { current_level = level; }
cnv_log_level cnv_log_get_level(void) { return current_level; }

void cnv_log(cnv_log_level level, const char *fmt, ...) {
    static const char *const prefix[] = {"error", "warning", "info", "debug"};
    if (level > current_level) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cnnvis: %s: ", prefix[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
