#version 450
#extension GL_GOOGLE_include_directive : require
// Gram backward (runtime/vulkan/gram.c): dF_n += (1/P) (dG_n + dG_nᵀ) F_n for item n = z. The
// left operand is symmetrized as it is loaded; every invocation owns its dF elements (no
// atomics) and adds once.
#include "common.glsl"
#include "gemm_tile.glsl"

layout(std430, binding = 0) readonly buffer F { float f[]; };
layout(std430, binding = 1) readonly buffer DG { float dg[]; };
layout(std430, binding = 2) buffer DF { float df[]; };
layout(push_constant) uniform P { uint c; uint p; float scale; uint first; uint count; } pc; // first, count: forward only

float gemm_load_a(uint n, uint i, uint j) { return dg[(n * pc.c + i) * pc.c + j] + dg[(n * pc.c + j) * pc.c + i]; }
float gemm_load_b(uint n, uint j, uint p) { return f[(n * pc.c + j) * pc.p + p]; }
void gemm_store(uint n, uint i, uint p, float value) { df[(n * pc.c + i) * pc.p + p] += pc.scale * value; }

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.c, pc.p, pc.c); }
