// The binary elementwise functions with numpy broadcasting, picked by specialization constant 3:
// the op's number from elementwise_ops.h (shared with runtime/cpu/binary.c, which these mirror).
// Inputs and output are viewed at CNV_MAX_DIMS dims (leading unit dims added); an input dim
// of 1 against a larger output dim is broadcast: its index stays 0 there.
#include "elementwise_ops.h"
#include "limits.h"
layout(constant_id = 3) const int BINARY = CNV_BINARY_ADD;
#define R CNV_MAX_DIMS

// Flat index into an input of dims in_dims at output position o (broadcast dims read index 0).
uint broadcast_index(uint o[R], uint in_dims[R]) {
    uint at = 0;
    [[unroll]] for (int k = 0; k < R; k++) at = at * in_dims[k] + (in_dims[k] == 1u ? 0u : o[k]);
    return at;
}

// a^b as the CPU's powf gives it for the cases models use: a negative base with an integral
// exponent (LayerNorm's (x - mean)^2) keeps its sign rule; GLSL's pow is undefined for a < 0.
float binary_pow(float a, float b) {
    float p = pow(abs(a), b);
    if (a >= 0.0) return p;
    if (b != floor(b)) return 0.0 / 0.0; // NaN, as powf
    return mod(b, 2.0) == 1.0 ? -p : p;
}

float binary_value(float a, float b) {
    if (BINARY == CNV_BINARY_ADD) return a + b;
    if (BINARY == CNV_BINARY_SUB) return a - b;
    if (BINARY == CNV_BINARY_MUL) return a * b;
    if (BINARY == CNV_BINARY_DIV) return a / b;
    if (BINARY == CNV_BINARY_POW) return binary_pow(a, b);
    if (BINARY == CNV_BINARY_MAX) return a >= b ? a : b;
    if (BINARY == CNV_BINARY_MIN) return a <= b ? a : b;
    return a >= 0.0 ? a : b * a; // CNV_BINARY_PRELU
}

// df/da (which = 0) or df/db (which = 1). Max and Min pass a tie to a.
float binary_partial(int which, float a, float b) {
    if (BINARY == CNV_BINARY_ADD) return 1.0;
    if (BINARY == CNV_BINARY_SUB) return which == 1 ? -1.0 : 1.0;
    if (BINARY == CNV_BINARY_MUL) return which == 1 ? a : b;
    if (BINARY == CNV_BINARY_DIV) return which == 1 ? -a / (b * b) : 1.0 / b;
    if (BINARY == CNV_BINARY_POW) return which == 1 ? binary_pow(a, b) * log(a) : b * binary_pow(a, b - 1.0);
    if (BINARY == CNV_BINARY_MAX) return (a >= b) == (which == 0) ? 1.0 : 0.0;
    if (BINARY == CNV_BINARY_MIN) return (a <= b) == (which == 0) ? 1.0 : 0.0;
    return a >= 0.0 ? (which == 1 ? 0.0 : 1.0) : (which == 1 ? a : b); // CNV_BINARY_PRELU
}
