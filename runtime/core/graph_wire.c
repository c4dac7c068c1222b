#include "core/graph_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/checked.h"

#define WIRE_MAGIC 0x47564e43u /* "CNVG" */
#define WIRE_MAX_NAME (1u << 16)
#define WIRE_MAX_ITEMS (1 << 20)

double cnv_wire_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cnv_wire_read(cnv_wire_reader *r, void *dst, size_t n) {
    unsigned char *p = dst;
    while (n > 0) {
        if (r->deadline > 0) {
            double left = r->deadline - cnv_wire_now();
            if (left <= 0) return -2;
            struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
            int ready = poll(&pfd, 1, (int)(left * 1000) + 1);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) return -1;
            if (ready == 0) return -2;
        }
        ssize_t got = read(r->fd, p, n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int cnv_wire_write(int fd, const void *src, size_t n) {
    const unsigned char *p = src;
    while (n > 0) {
        ssize_t put = write(fd, p, n);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return -1;
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

static int write_name(int fd, const char *s) {
    uint32_t len = (uint32_t)strlen(s);
    return cnv_wire_write(fd, &len, sizeof len) || cnv_wire_write(fd, s, len) ? -1 : 0;
}

int cnv_graph_wire_write(int fd, const cnv_graph *g) {
    int32_t head[7] = {(int32_t)WIRE_MAGIC, g->opset, g->input, g->output, g->n_values, g->n_nodes,
                       (int32_t)g->input_symbolic}; /* which input dims the file left free */
    if (cnv_wire_write(fd, head, sizeof head) || write_name(fd, g->source)) return -1;
    for (int i = 0; i < g->n_values; i++) {
        const cnv_value *v = &g->values[i];
        int32_t has_init = v->init != NULL;
        if (write_name(fd, v->name) || cnv_wire_write(fd, &v->shape, sizeof v->shape) ||
            cnv_wire_write(fd, &v->producer, sizeof v->producer) || cnv_wire_write(fd, &has_init, sizeof has_init))
            return -1;
        if (has_init && cnv_wire_write(fd, v->init, cnv_shape_numel(&v->shape) * sizeof(float))) return -1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const cnv_node *n = &g->nodes[i];
        int32_t op = (int32_t)n->op;
        if (write_name(fd, n->name) || cnv_wire_write(fd, &op, sizeof op) ||
            cnv_wire_write(fd, &n->attrs, sizeof n->attrs) || cnv_wire_write(fd, &n->n_in, sizeof n->n_in) ||
            cnv_wire_write(fd, n->in, sizeof n->in) || cnv_wire_write(fd, &n->out, sizeof n->out))
            return -1;
    }
    return 0;
}

/* Takes `bytes` from the budget; -3 when it is spent. */
static int spend(cnv_wire_reader *r, size_t bytes) {
    if (bytes > r->budget) return -3;
    r->budget -= bytes;
    return 0;
}

static int read_name(cnv_wire_reader *r, char **out) {
    uint32_t len;
    int e = cnv_wire_read(r, &len, sizeof len);
    if (e) return e;
    if (len > WIRE_MAX_NAME) return -1;
    if ((e = spend(r, len + 1u))) return e;
    char *s = malloc(len + 1u);
    if (!s) return -3;
    if ((e = cnv_wire_read(r, s, len))) {
        free(s);
        return e;
    }
    s[len] = '\0';
    if (strlen(s) != len) { /* an embedded NUL: not a name we wrote */
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int read_value(cnv_wire_reader *r, cnv_value *v) {
    int32_t has_init;
    int e = read_name(r, &v->name);
    if (!e) e = cnv_wire_read(r, &v->shape, sizeof v->shape);
    if (!e) e = cnv_wire_read(r, &v->producer, sizeof v->producer);
    if (!e) e = cnv_wire_read(r, &has_init, sizeof has_init);
    if (e) return e;
    size_t bytes;
    if (!cnv_shape_bytes_checked(&v->shape, &bytes) || v->producer < -1 || (has_init != 0 && has_init != 1))
        return -1;
    if (!has_init) return 0;
    if ((e = spend(r, bytes))) return e;
    v->init = malloc(bytes ? bytes : 1);
    if (!v->init) return -3;
    return cnv_wire_read(r, v->init, bytes);
}

static int index_ok(int i, int n) { return i >= 0 && i < n; }

static int read_node(cnv_wire_reader *r, int n_values, cnv_node *n) {
    int32_t op;
    int e = read_name(r, &n->name);
    if (!e) e = cnv_wire_read(r, &op, sizeof op);
    if (!e) e = cnv_wire_read(r, &n->attrs, sizeof n->attrs);
    if (!e) e = cnv_wire_read(r, &n->n_in, sizeof n->n_in);
    if (!e) e = cnv_wire_read(r, n->in, sizeof n->in);
    if (!e) e = cnv_wire_read(r, &n->out, sizeof n->out);
    if (e) return e;
    if (op < 0 || op >= CNV_OP_COUNT || n->n_in < 0 || n->n_in > CNV_MAX_INPUTS || !index_ok(n->out, n_values)) return -1;
    n->op = (cnv_op_type)op;
    for (int i = 0; i < n->n_in; i++)
        if (!index_ok(n->in[i], n_values)) return -1;
    return 0;
}

static int read_body(cnv_wire_reader *r, cnv_graph *g, int n_values, int n_nodes) {
    int e;
    if ((e = spend(r, (size_t)n_values * sizeof *g->values + (size_t)n_nodes * sizeof *g->nodes))) return e;
    g->values = calloc((size_t)n_values + 1, sizeof *g->values);
    g->nodes = calloc((size_t)n_nodes + 1, sizeof *g->nodes);
    if (!g->values || !g->nodes) return -3;
    g->cap_values = n_values + 1;
    g->cap_nodes = n_nodes + 1;
    for (int i = 0; i < n_values; i++) {
        e = read_value(r, &g->values[i]);
        g->n_values = i + 1; /* freed by cnv_graph_free from here on, even when half read */
        if (e) return e;
    }
    for (int i = 0; i < n_nodes; i++) {
        e = read_node(r, n_values, &g->nodes[i]);
        g->n_nodes = i + 1;
        if (e) return e;
    }
    for (int i = 0; i < n_values; i++)
        if (g->values[i].producer >= n_nodes || (g->values[i].producer >= 0 && g->nodes[g->values[i].producer].out != i))
            return -1;
    return 0;
}

int cnv_graph_wire_read(cnv_wire_reader *r, cnv_graph **out) {
    *out = NULL;
    int32_t head[7];
    int e = cnv_wire_read(r, head, sizeof head);
    if (e) return e;
    int n_values = head[4], n_nodes = head[5];
    if ((uint32_t)head[0] != WIRE_MAGIC || n_values < 0 || n_values > WIRE_MAX_ITEMS || n_nodes < 0 ||
        n_nodes > WIRE_MAX_ITEMS || !index_ok(head[2], n_values) || !index_ok(head[3], n_values) ||
        (uint32_t)head[6] >= 1u << CNV_MAX_DIMS)
        return -1;
    char *source;
    if ((e = read_name(r, &source))) return e;
    cnv_graph *g = cnv_graph_new(source);
    free(source);
    if (!g) return -3;
    g->opset = head[1];
    g->input = head[2];
    g->output = head[3];
    g->input_symbolic = (unsigned)head[6];
    e = read_body(r, g, n_values, n_nodes);
    if (e) {
        cnv_graph_free(g);
        return e;
    }
    *out = g;
    return 0;
}
