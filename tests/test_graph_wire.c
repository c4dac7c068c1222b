/* The graph a Keras reader child sends back (core/graph_wire.c): a real model survives the trip
 * exactly, and a damaged stream (cut anywhere, bytes flipped) is refused or read into a graph
 * whose every index is in range, never a crash or an unbounded allocation. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/graph.h"
#include "core/graph_wire.h"
#include "models/onnx.h"

/* The stream of g, in memory (written through a temporary file). */
static unsigned char *stream_of(const cnv_graph *g, size_t *n) {
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(cnv_graph_wire_write(fileno(f), g), 0);
    *n = (size_t)lseek(fileno(f), 0, SEEK_END);
    unsigned char *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(pread(fileno(f), b, *n, 0), (ssize_t)*n);
    fclose(f);
    return b;
}

/* Reads a graph back from bytes; returns the reader's result. */
static int read_bytes(const unsigned char *b, size_t n, size_t budget, cnv_graph **g) {
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fflush(f);
    lseek(fileno(f), 0, SEEK_SET);
    cnv_wire_reader r = {fileno(f), 0, budget};
    int e = cnv_graph_wire_read(&r, g);
    fclose(f);
    return e;
}

static void expect_indices_in_range(const cnv_graph *g) {
    assert_in_range(g->input, 0, g->n_values - 1);
    assert_in_range(g->output, 0, g->n_values - 1);
    for (int i = 0; i < g->n_nodes; i++) {
        assert_in_range(g->nodes[i].out, 0, g->n_values - 1);
        assert_in_range(g->nodes[i].n_in, 0, CNV_MAX_INPUTS);
        for (int j = 0; j < g->nodes[i].n_in; j++) assert_in_range(g->nodes[i].in[j], 0, g->n_values - 1);
    }
}

static void a_graph_survives_and_damage_is_refused(void **state) {
    (void)state;
    cnv_graph *g = NULL;
    tu_expect_ok(cnv_onnx_load(tu_fixture_path("torch/vgg_small.onnx"), &g));
    g->input_symbolic = 1u | 4u | 8u; /* a Keras input's None batch, height and width */
    size_t n;
    unsigned char *b = stream_of(g, &n);
    cnv_graph *back = NULL;
    assert_int_equal(read_bytes(b, n, (size_t)1 << 30, &back), 0);
    assert_string_equal(back->source, g->source);
    assert_int_equal(back->n_nodes, g->n_nodes);
    assert_int_equal(back->n_values, g->n_values);
    assert_int_equal(back->input, g->input);
    assert_int_equal(back->output, g->output);
    assert_int_equal(back->input_symbolic, g->input_symbolic);
    for (int i = 0; i < g->n_nodes; i++) {
        assert_string_equal(back->nodes[i].name, g->nodes[i].name);
        assert_memory_equal(&back->nodes[i].attrs, &g->nodes[i].attrs, sizeof g->nodes[i].attrs);
        assert_memory_equal(back->nodes[i].in, g->nodes[i].in, sizeof g->nodes[i].in);
    }
    for (int i = 0; i < g->n_values; i++) {
        assert_string_equal(back->values[i].name, g->values[i].name);
        assert_true(cnv_shape_equal(&back->values[i].shape, &g->values[i].shape));
        if (g->values[i].init)
            assert_memory_equal(back->values[i].init, g->values[i].init, cnv_shape_numel(&g->values[i].shape) * 4);
    }
    cnv_graph_free(back);

    /* A budget below the weights' size is refused as such (-3). */
    assert_int_equal(read_bytes(b, n, 1000, &back), -3);
    assert_null(back);
    /* Cut anywhere: refused. */
    for (size_t cut = 0; cut < n; cut += 1 + cut / 8) {
        assert_int_not_equal(read_bytes(b, cut, (size_t)1 << 30, &back), 0);
        assert_null(back);
    }
    /* Bytes flipped: refused, or a graph whose indices are all in range. */
    cnv_rng rng;
    cnv_rng_seed(&rng, 3);
    unsigned char *d = malloc(n);
    assert_non_null(d);
    int refused = 0;
    for (int t = 0; t < 300; t++) {
        memcpy(d, b, n);
        for (int k = 0; k < 4; k++) d[cnv_rng_below(&rng, (uint32_t)n)] ^= (unsigned char)(1 + cnv_rng_below(&rng, 255));
        if (read_bytes(d, n, (size_t)64 << 20, &back) != 0) {
            refused++;
            continue;
        }
        expect_indices_in_range(back);
        cnv_graph_free(back);
    }
    printf("  %zu-byte stream: %d of 300 damaged copies refused, the rest in range\n", n, refused);
    free(d);
    free(b);
    cnv_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(a_graph_survives_and_damage_is_refused)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
