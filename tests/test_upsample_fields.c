/* Receptive fields through the ops that enlarge a map, a U-Net's decoder: Resize (nearest x2, as
 * Keras UpSampling2D) and ConvTranspose (2x2, stride 2). An output unit reads back to the smaller
 * map it came from, so its input box is where the unit's pixels really come from, and its jump on
 * the input shrinks by the factor (before these were counted as identities, and the boxes of a
 * U-Net's output units slid to the bottom-right corner). */
#include "test_util.h"

#include "core/graph.h"

/* image 1x1x8x8 -> conv 3x3 s2 pad 1 (4x4) -> up (8x8) -> conv 3x3 pad 1 (8x8). */
static cnv_graph *down_up(cnv_op_type up) {
    cnv_graph *g = cnv_graph_new("upsample-fields");
    assert_non_null(g);
    static const float w[3 * 3];
    cnv_shape x_shape = cnv_shape4(1, 1, 8, 8), w3 = cnv_shape4(1, 1, 3, 3), w2 = cnv_shape4(1, 1, 2, 2);
    g->input = cnv_graph_add_value(g, "image", &x_shape, NULL);
    int k3 = cnv_graph_add_value(g, "w3", &w3, w), k2 = cnv_graph_add_value(g, "w2", &w2, w);
    cnv_attrs down, u, conv;
    cnv_attrs_default(CNV_OP_CONV, &down);
    cnv_attrs_default(up, &u);
    cnv_attrs_default(CNV_OP_CONV, &conv);
    down.stride[0] = down.stride[1] = 2;
    for (int k = 0; k < 4; k++) down.pads[k] = conv.pads[k] = 1;
    if (up == CNV_OP_RESIZE) { /* UpSampling2D: nearest, asymmetric coordinates, floor */
        u.resize_mode = CNV_RESIZE_NEAREST;
        u.resize_coord = CNV_COORD_ASYMMETRIC;
        u.resize_nearest = CNV_NEAREST_FLOOR;
        u.resize_scale[0] = u.resize_scale[1] = 2.0f;
    } else {
        u.stride[0] = u.stride[1] = 2;
    }
    int a = cnv_graph_add_value(g, "a", NULL, NULL), b = cnv_graph_add_value(g, "b", NULL, NULL);
    int c = cnv_graph_add_value(g, "c", NULL, NULL);
    assert_true(cnv_graph_add_node(g, "down", CNV_OP_CONV, &down, 2, (int[]){g->input, k3}, a) >= 0);
    if (up == CNV_OP_RESIZE) assert_true(cnv_graph_add_node(g, "up", up, &u, 1, &a, b) >= 0);
    else assert_true(cnv_graph_add_node(g, "up", up, &u, 2, (int[]){a, k2}, b) >= 0);
    assert_true(cnv_graph_add_node(g, "conv", CNV_OP_CONV, &conv, 2, (int[]){b, k3}, c) >= 0);
    g->output = c;
    cnv_shape shapes[8];
    cnv_status st = cnv_graph_infer_shapes(g, &x_shape, shapes);
    if (st != CNV_OK) fail_msg("%s", cnv_last_error());
    for (int v = 0; v < g->n_values; v++) g->values[v].shape = shapes[v];
    cnv_shape want = cnv_shape4(1, 1, 8, 8);
    assert_true(cnv_shape_equal(&g->values[c].shape, &want));
    return g;
}

static void check(cnv_op_type up) {
    cnv_graph *g = down_up(up);
    cnv_receptive_field rf[3];
    cnv_graph_receptive_fields(g, rf);
    print_message("  %s: jumps %d, %d, %d; sizes %d, %d, %d\n", cnv_op_name(up), rf[0].stride[0], rf[1].stride[0],
                  rf[2].stride[0], rf[0].size[0], rf[1].size[0], rf[2].size[0]);
    assert_int_equal(rf[0].stride[0], 2);
    assert_int_equal(rf[1].stride[0], 1); /* back at the input's resolution */
    assert_int_equal(rf[2].stride[0], 1);
    assert_int_equal(rf[2].size[0], 5); /* 3 of down, +2 of the last conv at jump 1 */
    /* Unit (5, 2) of the last conv reads up rows 4..6, columns 1..3, which come from down rows
     * 2..3, columns 0..1 (floor(o / 2) for both ops), which read image rows 3..7, columns
     * -1..3 (clamped to 0..3). */
    int field[4];
    assert_int_equal(cnv_graph_unit_field(g, 2, 5, 2, field), CNV_OK);
    print_message("  %s: unit (5, 2) reads rows %d-%d, columns %d-%d\n", cnv_op_name(up), field[0], field[2], field[1],
                  field[3]);
    assert_int_equal(field[0], 3);
    assert_int_equal(field[2], 7);
    assert_int_equal(field[1], 0);
    assert_int_equal(field[3], 3);
    cnv_graph_free(g);
}

static void test_resize_nearest(void **state) {
    (void)state;
    check(CNV_OP_RESIZE);
}

static void test_convtranspose(void **state) {
    (void)state;
    check(CNV_OP_CONVTRANSPOSE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_nearest),
        cmocka_unit_test(test_convtranspose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
