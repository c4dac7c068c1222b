#version 450
#extension GL_GOOGLE_include_directive : require
// Gram forward (runtime/vulkan/gram.c): G_n = (1/P) F_n F_nᵀ for item n = z, F_n [C, P] the
// item's feature planes flattened, reduced over the positions [first, first + count) of one
// chunk: the first chunk writes G, the later ones add to it. A(i, p) = F_n[i, p] and
// B(p, j) = F_n[j, p]: the same buffer, B read column-major (B_COLUMN_MAJOR set by the host), so
// both slab loads walk along rows.
#include "common.glsl"
#include "gemm_tile.glsl"

layout(std430, binding = 0) readonly buffer F { float f[]; };
layout(std430, binding = 1) buffer G { float g[]; };
layout(push_constant) uniform P { uint c; uint p; float scale; uint first; uint count; } pc;

float gemm_load_a(uint n, uint i, uint k) { return f[(n * pc.c + i) * pc.p + pc.first + k]; }
float gemm_load_b(uint n, uint k, uint j) { return f[(n * pc.c + j) * pc.p + pc.first + k]; }

void gemm_store(uint n, uint i, uint j, float value) {
    const uint o = (n * pc.c + i) * pc.c + j;
    g[o] = pc.first == 0u ? pc.scale * value : g[o] + pc.scale * value;
}

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.c, pc.c, pc.count); }
