/* Splitting a model file so that its weights are held once.
 *
 * protobuf-c copies every bytes field it decodes, so decoding a 553 MB VGG16 file whole held its
 * weights twice beside the file (its raw_data, then the float copy). Here the file's framing is
 * walked instead, at three levels only: the ModelProto's fields (graph = 7), the graph's
 * (initializer = 5) and each initializer's (raw_data = 9). Everything but the initializers'
 * raw_data is copied verbatim into a small "skeleton" (a few hundred KB for VGG16), which is
 * what protobuf-c decodes and judges; each raw_data is then moved, inside the file's own buffer,
 * to the front, 4-byte aligned, so that the buffer shrinks to the weights and the float ones are
 * read in place (onnx_const_from_tensor).
 *
 * The skeleton keeps protobuf's meaning: several graph fields are merged by concatenating their
 * contents, which is what merging a message means on the wire; a repeated raw_data keeps the
 * last, as a parser does. Every varint and length is checked against the buffer before use; a
 * group or an unknown wire type (which protobuf-c refuses too) fails the split. */
#include "onnx_internal.h"
#include "core/status.h"

#include <stdlib.h>
#include <string.h>

enum { FIELD_GRAPH = 7, FIELD_INITIALIZER = 5, FIELD_RAW_DATA = 9, WIRE_LEN = 2 };

typedef struct wire {
    const uint8_t *p, *end;
} wire;

/* One field: where it starts (its key), its number and wire type, and for a length-delimited
 * one its payload; end is one past the whole field. */
typedef struct field {
    const uint8_t *start, *data, *end;
    uint64_t number;
    int type;
    size_t len;
} field;

static int read_varint(wire *w, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (w->p == w->end) return 0;
        const uint8_t b = *w->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0; /* more than 10 bytes */
}

/* The next field of w; 0 when it is cut short or is a group or an unknown wire type. */
static int next_field(wire *w, field *f) {
    uint64_t key, v;
    f->start = w->p;
    if (!read_varint(w, &key)) return 0;
    f->number = key >> 3;
    f->type = (int)(key & 7);
    f->data = NULL;
    f->len = 0;
    switch (f->type) {
    case 0:
        if (!read_varint(w, &v)) return 0;
        break;
    case 1:
    case 5: {
        const size_t n = f->type == 1 ? 8 : 4;
        if ((size_t)(w->end - w->p) < n) return 0;
        w->p += n;
        break;
    }
    case WIRE_LEN:
        if (!read_varint(w, &v) || v > (uint64_t)(w->end - w->p)) return 0;
        f->data = w->p;
        f->len = (size_t)v;
        w->p += f->len;
        break;
    default:
        return 0;
    }
    f->end = w->p;
    return 1;
}

/* Where the skeleton goes; with p NULL only its length is counted. Nothing is written past cap
 * (n still counts it, and the caller sees n > cap). */
typedef struct out {
    uint8_t *p;
    size_t n, cap;
} out;

static void put(out *o, const void *src, size_t n) {
    if (o->p && n <= o->cap && o->n <= o->cap - n) memcpy(o->p + o->n, src, n);
    o->n += n;
}

static void put_varint(out *o, uint64_t v) {
    uint8_t b[10];
    int k = 0;
    do {
        b[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(o, b, (size_t)k);
}

static void put_len_field(out *o, uint64_t number, size_t len) {
    put_varint(o, number << 3 | WIRE_LEN);
    put_varint(o, len);
}

typedef struct splitter {
    const uint8_t *base;
    onnx_raw *raws; /* NULL while counting */
    size_t n_init, cap;
} splitter;

/* An initializer's fields but raw_data into o; *raw: its (last) raw_data payload, or NULL. */
static int tensor_skeleton(const field *t, out *o, const uint8_t **raw, size_t *raw_len) {
    wire w = {t->data, t->data + t->len};
    field f;
    *raw = NULL;
    *raw_len = 0;
    while (w.p < w.end) {
        if (!next_field(&w, &f)) return 0;
        if (f.number == FIELD_RAW_DATA && f.type == WIRE_LEN) {
            *raw = f.data;
            *raw_len = f.len;
        } else {
            put(o, f.start, (size_t)(f.end - f.start));
        }
    }
    return 1;
}

/* A graph's fields into o, each initializer without its raw_data (recorded in s->raws). */
static int graph_skeleton(splitter *s, const field *g, out *o) {
    wire w = {g->data, g->data + g->len};
    field f;
    while (w.p < w.end) {
        if (!next_field(&w, &f)) return 0;
        if (f.number != FIELD_INITIALIZER || f.type != WIRE_LEN) {
            put(o, f.start, (size_t)(f.end - f.start));
            continue;
        }
        out size = {NULL, 0, 0};
        const uint8_t *raw;
        size_t raw_len;
        if (!tensor_skeleton(&f, &size, &raw, &raw_len)) return 0;
        put_len_field(o, FIELD_INITIALIZER, size.n);
        tensor_skeleton(&f, o, &raw, &raw_len);
        if (s->raws && s->n_init == s->cap) return 0;
        if (s->raws)
            s->raws[s->n_init] = (onnx_raw){.present = raw != NULL, .offset = raw ? (size_t)(raw - s->base) : 0,
                                            .len = raw_len};
        s->n_init++;
    }
    return 1;
}

/* The model's fields into o: with graphs 0 every field but the graphs, with graphs 1 the
 * contents of every graph field (merged), and *has_graph whether there was one. */
static int model_skeleton(splitter *s, const uint8_t *buf, size_t size, int graphs, out *o, int *has_graph) {
    wire w = {buf, buf + size};
    field f;
    *has_graph = 0;
    while (w.p < w.end) {
        if (!next_field(&w, &f)) return 0;
        const int is_graph = f.number == FIELD_GRAPH && f.type == WIRE_LEN;
        *has_graph |= is_graph;
        if (!graphs && !is_graph) put(o, f.start, (size_t)(f.end - f.start));
        if (graphs && is_graph && !graph_skeleton(s, &f, o)) return 0;
    }
    return 1;
}

/* Moves every raw_data to the front of buf, in file order, each at a multiple of 4. A payload
 * never moves up: between two of them lie at least the second's initializer key and length and
 * its raw_data key and length (4 bytes, more than the 3 of padding), so a move never reaches a
 * payload not yet moved. Returns the bytes in use, or SIZE_MAX if that ever failed. */
static size_t move_weights(uint8_t *buf, onnx_raw *raws, size_t n) {
    size_t front = 0;
    for (size_t k = 0; k < n; k++) {
        if (!raws[k].present) continue;
        const size_t dest = (front + 3) & ~(size_t)3;
        if (dest > raws[k].offset) return SIZE_MAX;
        memmove(buf + dest, buf + raws[k].offset, raws[k].len);
        raws[k].offset = dest;
        front = dest + raws[k].len;
    }
    return front;
}

void onnx_split_free(onnx_split *sp) {
    free(sp->skeleton);
    free(sp->raws);
    free(sp->block);
    memset(sp, 0, sizeof *sp);
}

cnv_status onnx_split_model(const char *path, uint8_t *buf, size_t size, onnx_split *sp) {
    memset(sp, 0, sizeof *sp);
    splitter s = {.base = buf};
    out rest = {NULL, 0, 0}, graph = {NULL, 0, 0};
    int has_graph;
    int ok = model_skeleton(&s, buf, size, 0, &rest, &has_graph) && model_skeleton(&s, buf, size, 1, &graph, &has_graph);
    if (!ok) {
        free(buf);
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (protobuf decoding failed)", path);
    }
    out head = {NULL, 0, 0};
    if (has_graph) put_len_field(&head, FIELD_GRAPH, graph.n);
    const size_t n_init = s.n_init, total = rest.n + head.n + graph.n;
    sp->skeleton = malloc(total ? total : 1);
    sp->raws = calloc(n_init ? n_init : 1, sizeof *sp->raws);
    if (!sp->skeleton || !sp->raws) {
        free(buf);
        onnx_split_free(sp);
        return cnv_fail(CNV_ERR_NOMEM, "%s: out of memory", path);
    }
    /* The same walk again, writing this time; the graph goes last (field order has no meaning). */
    out o = {sp->skeleton, 0, total};
    s.raws = sp->raws;
    s.n_init = 0;
    s.cap = n_init;
    ok = model_skeleton(&s, buf, size, 0, &o, &has_graph);
    if (ok && has_graph) put_len_field(&o, FIELD_GRAPH, graph.n);
    ok = ok && model_skeleton(&s, buf, size, 1, &o, &has_graph);
    sp->skeleton_len = o.n;
    sp->n_raws = s.n_init;
    const size_t used = ok ? move_weights(buf, sp->raws, sp->n_raws) : SIZE_MAX;
    /* None of this can happen: both walks read the same bytes. */
    if (!ok || o.n != total || s.n_init != n_init || used == SIZE_MAX) {
        free(buf);
        onnx_split_free(sp);
        return cnv_fail(CNV_ERR_FORMAT, "%s: not a valid ONNX model (its framing could not be split)", path);
    }
    if (used == 0) {
        free(buf);
        return CNV_OK;
    }
    /* The tail held the skeleton's bytes, now copied: give it back (in place for a large block). */
    uint8_t *shrunk = realloc(buf, used);
    sp->block = shrunk ? shrunk : buf;
    sp->block_len = used;
    return CNV_OK;
}
