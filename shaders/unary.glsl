// The unary elementwise functions, picked by specialization constant 3: the op's number from
// elementwise_ops.h (shared with runtime/cpu/unary.c, which these functions mirror). p0, p1: the
// op's parameters (runtime/core/op.c cnv_unary_params).
#include "elementwise_ops.h"
layout(constant_id = 3) const int UNARY = CNV_UNARY_RELU;

float unary_value(float x, float p0, float p1) {
    if (UNARY == CNV_UNARY_RELU) return max(x, 0.0);
    if (UNARY == CNV_UNARY_LEAKYRELU) return x >= 0.0 ? x : p0 * x;
    if (UNARY == CNV_UNARY_CLIP) return clamp(x, p0, p1);
    if (UNARY == CNV_UNARY_SIGMOID) return 1.0 / (1.0 + exp(-x));
    if (UNARY == CNV_UNARY_TANH) return tanh(x);
    return x >= 0.0 ? x : p0 * (exp(x) - 1.0); // CNV_UNARY_ELU
}

float unary_derivative(float x, float y, float p0, float p1) {
    if (UNARY == CNV_UNARY_RELU) return x > 0.0 ? 1.0 : 0.0;
    if (UNARY == CNV_UNARY_LEAKYRELU) return x >= 0.0 ? 1.0 : p0;
    if (UNARY == CNV_UNARY_CLIP) return (x > p0 && x < p1) ? 1.0 : 0.0;
    if (UNARY == CNV_UNARY_SIGMOID) return y * (1.0 - y);
    if (UNARY == CNV_UNARY_TANH) return 1.0 - y * y;
    return x >= 0.0 ? 1.0 : y + p0; // CNV_UNARY_ELU: alpha*exp(x) = y + alpha
}
