/* The op-suite cases, registered by table: test_ops_misc runs every table on each backend (cpu,
 * vulkan, vulkan-forced) against the float64 oracle and finite differences, and
 * test_op_coverage fails when an op has no case in any table (and round-trips each ONNX op's
 * first case through ONNX export and import). A new op adds its cases to a table here. */
#ifndef CNV_TEST_OP_CASES_H
#define CNV_TEST_OP_CASES_H

#include "opcheck.h"

#define TU_MAX_TABLE_CASES 40

typedef struct tu_case_table {
    const char *title;
    size_t (*build)(tu_opcase out[TU_MAX_TABLE_CASES]); /* fills the cases, returns their count */
} tu_case_table;

/* Every table; *n = their count. */
const tu_case_table *tu_case_tables(size_t *n);

/* Shapes of 1..6 dims. */
#define S1(a) ((cnv_shape){1, {a}})
#define S2(a, b) ((cnv_shape){2, {a, b}})
#define S3(a, b, c) ((cnv_shape){3, {a, b, c}})
#define S4(a, b, c, d) ((cnv_shape){4, {a, b, c, d}})
#define S5(a, b, c, d, e) ((cnv_shape){5, {a, b, c, d, e}})
#define S6(a, b, c, d, e, f) ((cnv_shape){6, {a, b, c, d, e, f}})

/* A case with default attributes for op, inputs in [lo, hi) ([-1, 1) when both are 0). */
tu_opcase tu_make_case(const char *label, cnv_op_type op, float lo, float hi, int n_in, const cnv_shape *shapes);
#define CASE(label, op, lo, hi, ...)                                                               \
    tu_make_case(label, op, lo, hi, (int)(sizeof((cnv_shape[]){__VA_ARGS__}) / sizeof(cnv_shape)), \
                 (cnv_shape[]){__VA_ARGS__})

#endif
