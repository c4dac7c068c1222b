/* Internal error reporting: set the thread's last-error message and return the status. */
#ifndef CNV_CORE_STATUS_H
#define CNV_CORE_STATUS_H

#include "cnnvis/cnnvis.h"

/* Formats the one-line message (printf-style) into the thread's last-error slot and returns s.
 * Usage: return cnv_fail(CNV_ERR_FORMAT, "%s: truncated header", path); */
cnv_status cnv_fail(cnv_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current last-error message with "prefix: " (adds context while unwinding). */
void cnv_error_prefix(const char *prefix);

#define CNV_TRY(expr)                                                                           \
    do {                                                                                        \
        cnv_status cnv_try_s_ = (expr);                                                         \
        if (cnv_try_s_ != CNV_OK) return cnv_try_s_;                                           \
    } while (0)

#endif
