#version 450
#extension GL_GOOGLE_include_directive : require
// Conv backward to the data as a stride-decomposed transposed convolution. Input pixel
// iy = o*stride + i*dil - pad receives from output pixel o through tap i, so the input pixels
// of one phase (iy mod stride_y, ix mod stride_x) all receive from the same taps, and each of
// them at o = a + offset(tap) for its index a within the phase: one dense product per
// (group, phase), the z of the dispatch:
//   dX_(g,phase)[c, (n, a, b)] += sum over (mo, taps of the phase) of W[mo, c, i, j] * dY[n, mo, oy, ox]
// through gemm_tile.glsl. A gather over all taps would multiply the zeros between the strided
// output pixels (3 of 4 at stride 2); here every product term is a real one. Each invocation
// owns its input elements, so no atomics are needed.
#include "common.glsl"
#include "gemm_tile.glsl"
#include "conv2d.glsl"

layout(std430, binding = 0) readonly buffer W { float wt[]; };
layout(std430, binding = 1) readonly buffer DY { float dy[]; };
layout(std430, binding = 2) buffer DX { float dx[]; };

// One axis of a phase: the input coordinates phase + stride*a (a < extent) receive through the
// taps first + t*step (t < count), from output coordinate a + offset - t*shift.
struct Axis {
    uint phase, extent, first, step, count;
    int offset, shift;
};

Axis axis_of(uint phase, uint in_size, uint k, uint stride, uint dil, int pad) {
    Axis ax;
    ax.phase = phase;
    ax.extent = phase < in_size ? (in_size - phase + stride - 1) / stride : 0u;
    // Tap i serves the phase when stride divides phase + pad - i*dil; the serving taps repeat
    // every `step` (the least step with stride dividing step*dil), so the first lies below it.
    ax.step = 1u;
    while ((ax.step * dil) % stride != 0u) ax.step++;
    ax.first = k;
    for (uint i = 0u; i < ax.step && i < k; i++) // kept non-negative: GLSL's % is not for negatives
        if (uint(int(phase + stride * k * dil) + pad - int(i * dil)) % stride == 0u) { ax.first = i; break; }
    ax.count = ax.first < k ? (k - ax.first + ax.step - 1u) / ax.step : 0u;
    ax.offset = (int(phase) + pad - int(ax.first * dil)) / int(stride); // exact: stride divides it
    ax.shift = int(ax.step * dil / stride);
    return ax;
}

Axis ay, ax; // of this workgroup's phase (main)

// Reduction index r = (mo, ty, tx) over the output channels and the phase's taps.
float gemm_load_a(uint z, uint c, uint r) {
    const uint taps = ay.count * ax.count, mo = r / taps, t = r % taps;
    const uint i = ay.first + (t / ax.count) * ay.step, j = ax.first + (t % ax.count) * ax.step;
    const uint g = z / (pc.sh * pc.sw);
    return wt[((g * pc.mg + mo) * pc.cg + c) * conv_taps() + i * pc.kw + j];
}

// Column q = (n, a, b) over the batch and the phase's input pixels.
float gemm_load_b(uint z, uint r, uint q) {
    const uint taps = ay.count * ax.count, mo = r / taps, t = r % taps;
    const uint plane = ay.extent * ax.extent, n = q / plane, pix = q % plane;
    const int oy = int(pix / ax.extent) + ay.offset - int(t / ax.count) * ay.shift;
    const int ox = int(pix % ax.extent) + ax.offset - int(t % ax.count) * ax.shift;
    if (oy < 0 || oy >= int(pc.oh) || ox < 0 || ox >= int(pc.ow)) return 0.0;
    const uint g = z / (pc.sh * pc.sw);
    return dy[((n * pc.m + g * pc.mg + mo) * pc.oh + uint(oy)) * pc.ow + uint(ox)];
}

void gemm_store(uint z, uint c, uint q, float value) {
    const uint plane = ay.extent * ax.extent, n = q / plane, pix = q % plane;
    const uint iy = ay.phase + (pix / ax.extent) * pc.sh, ix = ax.phase + (pix % ax.extent) * pc.sw;
    const uint g = z / (pc.sh * pc.sw);
    dx[((n * pc.c + g * pc.cg + c) * pc.h + iy) * pc.w + ix] += value;
}

void main() {
    const uint z = gl_WorkGroupID.z, phase = z % (pc.sh * pc.sw);
    ay = axis_of(phase / pc.sw, pc.h, pc.kh, pc.sh, pc.dh, pc.pt);
    ax = axis_of(phase % pc.sw, pc.w, pc.kw, pc.sw, pc.dw, pc.pl);
    gemm_tile_run(z, pc.cg, pc.n * ay.extent * ax.extent, pc.mg * ay.count * ax.count);
}
