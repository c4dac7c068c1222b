#version 450
#extension GL_GOOGLE_include_directive : require
// Conv backward to the data, as a gather: dX_g[c, q] += sum over (mo, i, j) of
// W[mo, c, i, j] * dY[mo, the output pixel whose tap (i, j) lands on q], with q = (n, iy, ix)
// over the input pixels. A tiled product (gemm_tile.glsl) of W_g^T [Cg, Mg*kH*kW] with an
// implicit matrix read from dY (zero where no output pixel maps to q); each invocation owns
// its input elements, so no atomics are needed.
#include "common.glsl"
#include "gemm_tile.glsl"
#include "conv2d.glsl"

layout(std430, binding = 0) readonly buffer W { float wt[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

// Reduction index r = (mo, i, j).
float gemm_load_a(uint g, uint c, uint r) {
    const uint mo = r / conv_taps(), tap = r % conv_taps();
    return wt[((g * pc.mg + mo) * pc.cg + c) * conv_taps() + tap];
}

// Output coordinate that reads input coordinate `in_` through tap t: in_ = o*stride + t*dil - pad.
int conv_source(uint in_, uint t, uint stride, uint dil, int pad, uint extent) {
    const int num = int(in_) + pad - int(t * dil);
    if (num < 0 || num % int(stride) != 0) return -1;
    const int o = num / int(stride);
    return o < int(extent) ? o : -1;
}

float gemm_load_b(uint g, uint r, uint q) {
    const uint mo = r / conv_taps(), tap = r % conv_taps();
    const uint plane = pc.h * pc.w, n = q / plane, pix = q % plane;
    const int oy = conv_source(pix / pc.w, tap / pc.kw, pc.sh, pc.dh, pc.pt, pc.oh);
    const int ox = conv_source(pix % pc.w, tap % pc.kw, pc.sw, pc.dw, pc.pl, pc.ow);
    if (oy < 0 || ox < 0) return 0.0;
    return dy[((n * pc.m + g * pc.mg + mo) * pc.oh + uint(oy)) * pc.ow + uint(ox)];
}

void gemm_store(uint g, uint c, uint q, float value) {
    const uint plane = pc.h * pc.w, n = q / plane, pix = q % plane;
    dx[(n * pc.c + g * pc.cg + c) * plane + pix] += value;
}

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.cg, pc.n * pc.h * pc.w, pc.mg * conv_taps()); }
