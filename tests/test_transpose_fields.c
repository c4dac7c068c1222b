/* Receptive fields through Transpose: a permutation of batch and channels keeps image
 * positions (the field keeps growing conv by conv), one that moves H or W makes them
 * meaningless, like Flatten: from there on every node, convs included, sees the whole input. */
#include "test_util.h"

#include "core/graph.h"

/* image 1x2x12x10 -> conv 3x3 (2 -> 4) -> Transpose perm -> conv 3x3 (c_in -> 1). */
static cnv_graph *conv_transpose_conv(const int perm[4], int c_in) {
    cnv_graph *g = cnv_graph_new("transpose-fields");
    assert_non_null(g);
    static const float w[4 * 2 * 3 * 3];
    cnv_shape x_shape = cnv_shape4(1, 2, 12, 10), w1 = cnv_shape4(4, 2, 3, 3), w2 = cnv_shape4(1, c_in, 3, 3);
    g->input = cnv_graph_add_value(g, "image", &x_shape, NULL);
    int k1 = cnv_graph_add_value(g, "w1", &w1, w), k2 = cnv_graph_add_value(g, "w2", &w2, w);
    cnv_attrs conv, tr;
    cnv_attrs_default(CNV_OP_CONV, &conv);
    cnv_attrs_default(CNV_OP_TRANSPOSE, &tr);
    for (int k = 0; k < 4; k++) tr.perm[k] = perm[k];
    /* Shapes of a, b, c are inferred below. */
    int a = cnv_graph_add_value(g, "a", NULL, NULL), b = cnv_graph_add_value(g, "b", NULL, NULL);
    int c = cnv_graph_add_value(g, "c", NULL, NULL);
    assert_true(cnv_graph_add_node(g, "conv1", CNV_OP_CONV, &conv, 2, (int[]){g->input, k1}, a) >= 0);
    assert_true(cnv_graph_add_node(g, "transpose", CNV_OP_TRANSPOSE, &tr, 1, &a, b) >= 0);
    assert_true(cnv_graph_add_node(g, "conv2", CNV_OP_CONV, &conv, 2, (int[]){b, k2}, c) >= 0);
    g->output = c;
    cnv_shape shapes[8];
    cnv_status st = cnv_graph_infer_shapes(g, &x_shape, shapes);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    for (int v = 0; v < g->n_values; v++) g->values[v].shape = shapes[v];
    return g;
}

static void test_batch_channel_permutation_keeps_positions(void **state) {
    (void)state;
    cnv_graph *g = conv_transpose_conv((const int[4]){1, 0, 2, 3}, 1); /* 1x4xHxW -> 4x1xHxW */
    cnv_receptive_field rf[3];
    cnv_graph_receptive_fields(g, rf);
    assert_int_equal(rf[1].size[0], 3);
    assert_int_equal(rf[2].size[0], 5);
    assert_int_equal(rf[2].size[1], 5);
    int field[4];
    assert_int_equal(cnv_graph_unit_field(g, 2, 2, 3, field), CNV_OK);
    assert_int_equal(field[0], 2);
    assert_int_equal(field[1], 3);
    assert_int_equal(field[2], 6);
    assert_int_equal(field[3], 7);
    cnv_graph_free(g);
}

static void test_spatial_permutation_covers_whole_input(void **state) {
    (void)state;
    cnv_graph *g = conv_transpose_conv((const int[4]){0, 1, 3, 2}, 4); /* H and W swapped */
    cnv_receptive_field rf[3];
    cnv_graph_receptive_fields(g, rf);
    assert_int_equal(rf[0].size[0], 3);
    for (int node = 1; node < 3; node++) {
        assert_int_equal(rf[node].size[0], 12);
        assert_int_equal(rf[node].size[1], 10);
    }
    int field[4];
    assert_int_equal(cnv_graph_unit_field(g, 2, 0, 0, field), CNV_OK);
    assert_int_equal(field[0], 0);
    assert_int_equal(field[1], 0);
    assert_int_equal(field[2], 11);
    assert_int_equal(field[3], 9);
    cnv_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_channel_permutation_keeps_positions),
        cmocka_unit_test(test_spatial_permutation_covers_whole_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
