/* Backend-independent entry points of the public API. */
#include "backend.h"

const char *cnv_backend_name(const cnv_backend *be) { return be->vt->name; }

const char *cnv_backend_device(const cnv_backend *be) {
    return be->vt->device_name ? be->vt->device_name(be) : "CPU (host)";
}

void cnv_backend_free(cnv_backend *be) {
    if (be) be->vt->destroy(be);
}

typedef struct backend_stats {
    uint64_t submits, host_waits;
    unsigned messages;
} backend_stats;

static backend_stats stats_of(const cnv_backend *be) {
    backend_stats st = {0};
    if (be->vt->stats) be->vt->stats(be, &st.submits, &st.host_waits, &st.messages);
    return st;
}

uint64_t cnv_backend_submit_count(const cnv_backend *be) { return stats_of(be).submits; }
uint64_t cnv_backend_host_waits(const cnv_backend *be) { return stats_of(be).host_waits; }
unsigned cnv_backend_validation_messages(const cnv_backend *be) { return stats_of(be).messages; }

void cnv_backend_profile_report(cnv_backend *be, FILE *f) {
    const cnv_profile *p = be->vt->profile ? be->vt->profile(be) : NULL;
    if (p)
        cnv_profile_print(p, be->vt->name, f);
    else
        fprintf(f, "profile (%s): no timings (not collected by this backend)\n", be->vt->name);
}
