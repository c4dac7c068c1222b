/* Backend-independent entry points of the public API. */
#include "backend.h"

const char *cnv_backend_name(const cnv_backend *be) { return be->vt->name; }

const char *cnv_backend_device(const cnv_backend *be) {
    return be->vt->device_name ? be->vt->device_name(be) : "CPU (host)";
}

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

void cnv_backend_profile_report(cnv_backend *be, FILE *f) {
    const cnv_profile *p = be->vt->profile ? be->vt->profile(be) : NULL;
    if (p)
        cnv_profile_print(p, be->vt->name, f);
    else
        fprintf(f, "profile (%s): no timings (not collected by this backend)\n", be->vt->name);
}
