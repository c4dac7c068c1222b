#include "class_vector.h"

#include <math.h>

int cnv_class_count(const cnv_shape *s) {
    if (s->ndim < 1) return 0;
    int first = s->ndim == 1 ? 0 : 1;
    if (first == 1 && s->d[0] != 1) return 0;
    for (int i = first + 1; i < s->ndim; i++)
        if (s->d[i] != 1) return 0;
    return s->d[first];
}

void cnv_softmax(float *x, int n) {
    float m = x[0];
    for (int i = 1; i < n; i++) m = fmaxf(m, x[i]);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)x[i] - m);
    for (int i = 0; i < n; i++) x[i] = (float)(exp((double)x[i] - m) / sum);
}

void cnv_top_k(const float *v, int n, int k, int *idx) {
    /* Selection by insertion into a sorted prefix: k is small (a handful of classes). */
    int filled = 0;
    for (int i = 0; i < n; i++) {
        int pos = filled < k ? filled : k;
        while (pos > 0 && v[i] > v[idx[pos - 1]]) pos--;
        if (pos >= k) continue;
        int last = filled < k ? filled : k - 1;
        for (int j = last; j > pos; j--) idx[j] = idx[j - 1];
        idx[pos] = i;
        if (filled < k) filled++;
    }
}
