#version 450
#extension GL_GOOGLE_include_directive : require
// Conv backward to the data as a stride-decomposed transposed convolution. Input pixel
// iy = o*stride + i*dil - pad receives from output pixel o through tap i, so the input pixels
// of one phase (iy mod stride_y, ix mod stride_x) all receive through the same taps, each
// input pixel a of the phase from o = a + offset - t*shift through its t-th serving tap: one dense
// product per phase (a dispatch; the groups are its z):
//   dX_(g,phase)[c, (n, a, b)] += sum over (mo, ty, tx) of W[mo, c, i(ty), j(tx)] * dY[n, mo, oy, ox]
// through gemm_tile.glsl. A gather over all taps would multiply the zeros between the strided
// output pixels (3 of 4 at stride 2); here every product term is a real one. The phase's
// geometry arrives as specialization constants (runtime/vulkan/conv.c: phase_axis), so the
// tap arithmetic divides by constants only. Each invocation owns its input elements: no atomics.
#include "common.glsl"
#define GEMM_PREPARED_COLUMNS
#define GEMM_PARTIALS_BINDING 3
#include "gemm_tile.glsl"
#include "conv2d.glsl"

// Per axis: the phase (first input coordinate), the first serving tap, the step between
// serving taps, their count, and the output coordinate offset (conv.c: phase_axis_of).
layout(constant_id = 11) const uint PHASE_Y = 0;
layout(constant_id = 12) const uint FIRST_Y = 0;
layout(constant_id = 13) const uint STEP_Y = 1;
layout(constant_id = 14) const uint COUNT_Y = 1;
layout(constant_id = 15) const int OFFSET_Y = 0;
layout(constant_id = 16) const uint PHASE_X = 0;
layout(constant_id = 17) const uint FIRST_X = 0;
layout(constant_id = 18) const uint STEP_X = 1;
layout(constant_id = 19) const uint COUNT_X = 1;
layout(constant_id = 20) const int OFFSET_X = 0;

CNV_INPUT(0, wt);
CNV_INPUT(1, dy);
layout(std430, binding = 2) buffer DX { float dx[]; };

const uint PHASE_TAPS = COUNT_Y * COUNT_X;

// Of the workgroup (main): the phase's input pixels along each axis, and how far the output
// coordinate moves from one serving tap to the next.
uint extent_y, extent_x;
int shift_y, shift_x;

// Reduction index r = (mo, ty, tx) over the output channels and the phase's taps.
float gemm_load_a(uint g, uint c, uint r) {
    const uint mo = r / PHASE_TAPS, t = r % PHASE_TAPS;
    const uint i = FIRST_Y + (t / COUNT_X) * STEP_Y, j = FIRST_X + (t % COUNT_X) * STEP_X;
    return CNV_LOAD(wt, ((g * pc.mg + mo) * pc.cg + c) * conv_taps() + i * pc.kw + j);
}

// Column q = (n, a, b) over the batch and the phase's input pixels: the offset of its image's
// gradient planes in dY and the output pixel its first serving tap reads.
struct phase_pixel {
    int offset, oy, ox;
};

phase_pixel phase_pixel_of(uint g, uint q) {
    const uint plane = extent_y * extent_x, n = q / plane, pix = q % plane;
    return phase_pixel(int((n * pc.m + g * pc.mg) * pc.oh * pc.ow), int(pix / extent_x) + OFFSET_Y,
                       int(pix % extent_x) + OFFSET_X);
}

// Reduction index r = (mo, ty, tx): dY at output channel mo, moved back by the tap's shifts.
float phase_load(uint r, phase_pixel q) {
    const uint mo = r / PHASE_TAPS, t = r % PHASE_TAPS;
    const int oy = q.oy - int(t / COUNT_X) * shift_y, ox = q.ox - int(t % COUNT_X) * shift_x;
    if (uint(oy) >= pc.oh || uint(ox) >= pc.ow) return 0.0; // negative coordinates wrap past oh, ow
    return CNV_LOAD(dy, q.offset + int(mo * pc.oh * pc.ow) + oy * int(pc.ow) + ox);
}

float gemm_load_b(uint g, uint r, uint q) { return phase_load(r, phase_pixel_of(g, q)); }

// DIRECT walk: the invocation's columns, decomposed once per tile.
phase_pixel prepared[RN];

void gemm_prepare_column(uint g, uint j, uint q) { prepared[j] = phase_pixel_of(g, q); }

float gemm_load_prepared_b(uint g, uint r, uint j) { return phase_load(r, prepared[j]); }

void gemm_store(uint g, uint c, uint q, float value) {
    const uint plane = extent_y * extent_x, n = q / plane, pix = q % plane;
    const uint iy = PHASE_Y + (pix / extent_x) * pc.sh, ix = PHASE_X + (pix % extent_x) * pc.sw;
    const uint at = ((n * pc.c + g * pc.cg + c) * pc.h + iy) * pc.w + ix;
    dx[at] = (pc.flags & CONV_ASSIGN) != 0u ? value : dx[at] + value; // each element in one phase, once
}

void main() {
    extent_y = PHASE_Y < pc.h ? (pc.h - PHASE_Y + pc.sh - 1u) / pc.sh : 0u;
    extent_x = PHASE_X < pc.w ? (pc.w - PHASE_X + pc.sw - 1u) / pc.sw : 0u;
    shift_y = int(STEP_Y * pc.dh / pc.sh); // exact: sh divides STEP_Y * dh
    shift_x = int(STEP_X * pc.dw / pc.sw);
    gemm_tile_run(gl_WorkGroupID.z, pc.cg, pc.n * extent_y * extent_x, pc.mg * PHASE_TAPS);
}
