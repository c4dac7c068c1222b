/* Backend-independent entry points of the public API. */
#include "backend.h"

const char *cnv_backend_name(const cnv_backend *be) { return be->vt->name; }

void cnv_backend_free(cnv_backend *be) {
    if (be) be->vt->destroy(be);
}

uint64_t cnv_backend_submit_count(const cnv_backend *be) {
    uint64_t submits = 0;
    unsigned messages = 0;
    if (be->vt->stats) be->vt->stats(be, &submits, &messages);
    return submits;
}

unsigned cnv_backend_validation_messages(const cnv_backend *be) {
    uint64_t submits = 0;
    unsigned messages = 0;
    if (be->vt->stats) be->vt->stats(be, &submits, &messages);
    return messages;
}
