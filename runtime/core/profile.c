#include "profile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void cnv_profile_add(cnv_profile *p, const char *name, double ms) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->entries[i].name, name) == 0) {
            p->entries[i].ms += ms;
            p->entries[i].calls++;
            return;
        }
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 32;
        cnv_profile_entry *grown = realloc(p->entries, (size_t)cap * sizeof *grown);
        if (!grown) return;
        p->entries = grown;
        p->cap = cap;
    }
    cnv_profile_entry *e = &p->entries[p->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ms = ms;
    e->calls = 1;
}

static int by_time_desc(const void *a, const void *b) {
    double d = ((const cnv_profile_entry *)b)->ms - ((const cnv_profile_entry *)a)->ms;
    return (d > 0) - (d < 0);
}

void cnv_profile_print(const cnv_profile *p, const char *title, FILE *f) {
    double total = 0;
    for (int i = 0; i < p->n; i++) total += p->entries[i].ms;
    fprintf(f, "profile (%s): %.3f ms in %d kernels\n", title, total, p->n);
    if (p->n == 0) return;
    cnv_profile_entry *sorted = malloc((size_t)p->n * sizeof *sorted);
    if (!sorted) return;
    memcpy(sorted, p->entries, (size_t)p->n * sizeof *sorted);
    qsort(sorted, (size_t)p->n, sizeof *sorted, by_time_desc);
    fprintf(f, "  %-40s %8s %12s %12s %7s\n", "kernel", "calls", "total ms", "ms/call", "share");
    for (int i = 0; i < p->n; i++)
        fprintf(f, "  %-40s %8llu %12.3f %12.4f %6.1f%%\n", sorted[i].name, (unsigned long long)sorted[i].calls,
                sorted[i].ms, sorted[i].ms / (double)sorted[i].calls, total > 0 ? 100.0 * sorted[i].ms / total : 0.0);
    free(sorted);
}

void cnv_profile_free(cnv_profile *p) {
    free(p->entries);
    p->entries = NULL;
    p->n = p->cap = 0;
}

double cnv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}
