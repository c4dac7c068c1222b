// The unary elementwise functions, picked by specialization constant 3: the op's number from
// elementwise_ops.h (shared with runtime/cpu/unary.c, which these functions mirror, kinks
// included). p0, p1: the op's parameters (runtime/core/op.c cnv_unary_params).
#include "elementwise_ops.h"
layout(constant_id = 3) const int UNARY = CNV_UNARY_RELU;

const float SQRT_HALF = 0.70710678118654752;
const float SQRT_2_OVER_PI = 0.79788456080286536;
const float INV_SQRT_2PI = 0.39894228040143268;
const float TWO_OVER_SQRT_PI = 1.12837916709551257;
const float GELU_TANH_CUBIC = 0.044715;

// GLSL has no erf: its Taylor series below 0.5 (terms to x^9, error < 1e-8 relative), above
// Abramowitz and Stegun 7.1.26 (absolute error < 1.5e-7).
float erf_approx(float x) {
    float a = abs(x);
    if (a < 0.5) {
        float x2 = x * x;
        return TWO_OVER_SQRT_PI * x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (0.1 + x2 * (-1.0 / 42.0 + x2 / 216.0))));
    }
    float t = 1.0 / (1.0 + 0.3275911 * a);
    float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return sign(x) * (1.0 - poly * exp(-a * a));
}

float gelu_tanh_arg(float x) { return SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x); }

float unary_value(float x, float p0, float p1) {
    if (UNARY == CNV_UNARY_RELU) return max(x, 0.0);
    if (UNARY == CNV_UNARY_LEAKYRELU) return x >= 0.0 ? x : p0 * x;
    if (UNARY == CNV_UNARY_CLIP) return clamp(x, p0, p1);
    if (UNARY == CNV_UNARY_SIGMOID) return 1.0 / (1.0 + exp(-x));
    if (UNARY == CNV_UNARY_TANH) return tanh(x);
    if (UNARY == CNV_UNARY_ELU) return x >= 0.0 ? x : p0 * (exp(x) - 1.0);
    if (UNARY == CNV_UNARY_IDENTITY) return x;
    if (UNARY == CNV_UNARY_NEG) return -x;
    if (UNARY == CNV_UNARY_ABS) return abs(x);
    if (UNARY == CNV_UNARY_SQRT) return sqrt(x);
    if (UNARY == CNV_UNARY_EXP) return exp(x);
    if (UNARY == CNV_UNARY_LOG) return log(x);
    if (UNARY == CNV_UNARY_RECIPROCAL) return 1.0 / x;
    if (UNARY == CNV_UNARY_ERF) return erf_approx(x);
    if (UNARY == CNV_UNARY_SOFTPLUS) return max(x, 0.0) + log(1.0 + exp(-abs(x)));
    if (UNARY == CNV_UNARY_HARDSIGMOID) return clamp(p0 * x + p1, 0.0, 1.0);
    if (UNARY == CNV_UNARY_HARDSWISH) return x * clamp(x + 3.0, 0.0, 6.0) / 6.0;
    // CNV_UNARY_GELU
    return p0 != 0.0 ? 0.5 * x * (1.0 + tanh(gelu_tanh_arg(x))) : 0.5 * x * (1.0 + erf_approx(x * SQRT_HALF));
}

float unary_derivative(float x, float y, float p0, float p1) {
    if (UNARY == CNV_UNARY_RELU) return x > 0.0 ? 1.0 : 0.0;
    if (UNARY == CNV_UNARY_LEAKYRELU) return x >= 0.0 ? 1.0 : p0;
    if (UNARY == CNV_UNARY_CLIP) return (x > p0 && x < p1) ? 1.0 : 0.0;
    if (UNARY == CNV_UNARY_SIGMOID) return y * (1.0 - y);
    if (UNARY == CNV_UNARY_TANH) return 1.0 - y * y;
    if (UNARY == CNV_UNARY_ELU) return x >= 0.0 ? 1.0 : y + p0; // alpha*exp(x) = y + alpha
    if (UNARY == CNV_UNARY_IDENTITY) return 1.0;
    if (UNARY == CNV_UNARY_NEG) return -1.0;
    if (UNARY == CNV_UNARY_ABS) return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0);
    if (UNARY == CNV_UNARY_SQRT) return 0.5 / y;
    if (UNARY == CNV_UNARY_EXP) return y;
    if (UNARY == CNV_UNARY_LOG) return 1.0 / x;
    if (UNARY == CNV_UNARY_RECIPROCAL) return -y * y;
    if (UNARY == CNV_UNARY_ERF) return TWO_OVER_SQRT_PI * exp(-x * x);
    if (UNARY == CNV_UNARY_SOFTPLUS) return 1.0 / (1.0 + exp(-x));
    if (UNARY == CNV_UNARY_HARDSIGMOID) {
        float z = p0 * x + p1;
        return (z > 0.0 && z < 1.0) ? p0 : 0.0;
    }
    if (UNARY == CNV_UNARY_HARDSWISH) return x < -3.0 ? 0.0 : (x <= 3.0 ? x / 3.0 + 0.5 : 1.0);
    // CNV_UNARY_GELU
    if (p0 != 0.0) {
        float t = tanh(gelu_tanh_arg(x));
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_CUBIC * x * x);
    }
    return 0.5 * (1.0 + erf_approx(x * SQRT_HALF)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}
