#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

static const char *const status_names[CNV_STATUS_COUNT] = {
    [CNV_OK] = "CNV_OK",
    [CNV_ERR_ARG] = "CNV_ERR_ARG",
    [CNV_ERR_IO] = "CNV_ERR_IO",
    [CNV_ERR_FORMAT] = "CNV_ERR_FORMAT",
    [CNV_ERR_UNSUPPORTED] = "CNV_ERR_UNSUPPORTED",
    [CNV_ERR_SHAPE] = "CNV_ERR_SHAPE",
    [CNV_ERR_NOT_FOUND] = "CNV_ERR_NOT_FOUND",
    [CNV_ERR_NOMEM] = "CNV_ERR_NOMEM",
    [CNV_ERR_DEVICE] = "CNV_ERR_DEVICE",
    [CNV_ERR_INTERNAL] = "CNV_ERR_INTERNAL",
    [CNV_ERR_LIMIT] = "CNV_ERR_LIMIT",
    [CNV_ERR_NUMERIC] = "CNV_ERR_NUMERIC",
};

const char *cnv_status_str(cnv_status s) {
    if ((int)s < 0 || s >= CNV_STATUS_COUNT) return "CNV_ERR_UNKNOWN";
    return status_names[s];
}

int cnv_status_is_input_error(cnv_status s) {
    switch (s) {
    case CNV_ERR_ARG:
    case CNV_ERR_IO:
    case CNV_ERR_FORMAT:
    case CNV_ERR_UNSUPPORTED:
    case CNV_ERR_SHAPE:
    case CNV_ERR_NOT_FOUND:
    case CNV_ERR_LIMIT:
        return 1;
    default:
        return 0;
    }
}

const char *cnv_last_error(void) { return last_error; }

cnv_status cnv_fail(cnv_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    /* Messages are one line by contract: fold any newline a caller passed through. */
    for (char *p = last_error; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return s;
}

void cnv_error_prefix(const char *prefix) {
    char tmp[2 * sizeof last_error];
    snprintf(tmp, sizeof tmp, "%s: %s", prefix, last_error);
    memcpy(last_error, tmp, sizeof last_error - 1);
    last_error[sizeof last_error - 1] = '\0';
}
