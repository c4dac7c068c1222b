/* Internal error reporting: adding context to the last-error message, and returning early. */
#ifndef CNV_CORE_STATUS_H
#define CNV_CORE_STATUS_H

#include "cnnvis/cnnvis.h"

/* cnv_fail, which sets the thread's last-error message and returns the status, is public
 * (cnnvis.h). Usage: return cnv_fail(CNV_ERR_FORMAT, "%s: truncated header", path); */

/* Prefixes the current last-error message with "prefix: " (adds context while unwinding). */
void cnv_error_prefix(const char *prefix);

#define CNV_TRY(expr)                                                                           \
    do {                                                                                        \
        cnv_status cnv_try_s_ = (expr);                                                         \
        if (cnv_try_s_ != CNV_OK) return cnv_try_s_;                                           \
    } while (0)

#endif
