#version 450
#extension GL_GOOGLE_include_directive : require
// Unary elementwise ops backward to the input: dx += dy * f'(x), with f' from x and y,
// or Relu's deconvnet / guided-backprop rule; with ASSIGN, dx = that (dx holds no gradient yet).
#include "common.glsl"
#include "unary.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n; float p0; float p1; } pc;

// The backward rule (core/backend.h cnv_backward_rule), set only for Relu: 0 the gradient,
// 1 deconvnet (relu of dy, x ignored), 2 guided backprop (dy where x > 0 and dy > 0).
#define RULE_GRADIENT 0
#define RULE_DECONVNET 1
#define RULE_GUIDED 2
layout(constant_id = 4) const int RULE = RULE_GRADIENT;
layout(constant_id = 5) const bool ASSIGN = false;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    float g = dy[i], v;
    if (RULE == RULE_DECONVNET) v = g > 0.0 ? g : 0.0;
    else if (RULE == RULE_GUIDED) v = (x[i] > 0.0 && g > 0.0) ? g : 0.0;
    else v = g * unary_derivative(x[i], y[i], pc.p0, pc.p1);
    dx[i] = ASSIGN ? v : dx[i] + v;
}
