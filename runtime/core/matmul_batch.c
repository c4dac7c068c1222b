#include "matmul_batch.h"

#include "status.h"

/* Extent of batch dim j (counted from the right, 0 = the one before M or K) of s, 1 past its rank. */
static int batch_dim(const cnv_shape *s, int j) { return j < s->ndim - 2 ? s->d[s->ndim - 3 - j] : 1; }

cnv_status cnv_matmul_batch_make(const cnv_shape *a, const cnv_shape *b, const cnv_shape *y, const char *node,
                                 cnv_matmul_batch *p) {
    *p = (cnv_matmul_batch){.count = 1};
    if (a->ndim < 2 || b->ndim < 2 || y->ndim != (a->ndim > b->ndim ? a->ndim : b->ndim))
        return cnv_fail(CNV_ERR_SHAPE, "node '%s': MatMul needs inputs of 2 or more dims", node);
    p->m = a->d[a->ndim - 2];
    p->k = a->d[a->ndim - 1];
    p->n = b->d[b->ndim - 1];
    p->nd = y->ndim - 2;
    int ok = b->d[b->ndim - 2] == p->k && y->d[y->ndim - 2] == p->m && y->d[y->ndim - 1] == p->n;
    size_t a_step = (size_t)p->m * p->k, b_step = (size_t)p->k * p->n, b_batch = 1;
    for (int j = 0; ok && j < p->nd; j++) {
        const int da = batch_dim(a, j), db = batch_dim(b, j), dy = y->d[p->nd - 1 - j];
        ok = (da == dy || da == 1) && (db == dy || db == 1);
        p->dim[p->nd - 1 - j] = (size_t)dy;
        p->a_step[p->nd - 1 - j] = da == 1 ? 0 : a_step;
        p->b_step[p->nd - 1 - j] = db == 1 ? 0 : b_step;
        a_step *= (size_t)da;
        b_step *= (size_t)db;
        b_batch *= (size_t)db;
        p->count *= (size_t)dy;
    }
    if (!ok) return cnv_fail(CNV_ERR_SHAPE, "node '%s': MatMul inputs and output do not fit", node);
    if (b_batch == 1 && p->count > 1 && a_step == p->count * (size_t)p->m * p->k) {
        p->m *= (int)p->count; /* B shared by every product and A's rows in order: one product */
        p->count = 1;
        p->nd = 0;
    }
    return CNV_OK;
}

void cnv_matmul_batch_offsets(const cnv_matmul_batch *p, size_t z, size_t *a_off, size_t *b_off) {
    *a_off = *b_off = 0;
    for (int k = p->nd - 1; k >= 0; k--) {
        const size_t i = z % p->dim[k];
        *a_off += i * p->a_step[k];
        *b_off += i * p->b_step[k];
        z /= p->dim[k];
    }
}
