#version 450
#extension GL_GOOGLE_include_directive : require
// Gram forward (runtime/vulkan/gram.c): G_n = (1/P) F_n F_nᵀ for item n = z, F_n [C, P] the
// item's feature planes flattened. A(i, p) = F_n[i, p] and B(p, j) = F_n[j, p]: the same buffer,
// B read column-major (B_COLUMN_MAJOR set by the host), so both slab loads walk along rows.
#include "common.glsl"
#include "gemm_tile.glsl"

layout(std430, binding = 0) readonly buffer F { float f[]; };
layout(std430, binding = 1) writeonly buffer G { float g[]; };
layout(push_constant) uniform P { uint c; uint p; float scale; } pc;

float gemm_load_a(uint n, uint i, uint k) { return f[(n * pc.c + i) * pc.p + k]; }
float gemm_load_b(uint n, uint k, uint j) { return f[(n * pc.c + j) * pc.p + k]; }
void gemm_store(uint n, uint i, uint j, float value) { g[(n * pc.c + i) * pc.c + j] = pc.scale * value; }

void main() { gemm_tile_run(gl_WorkGroupID.z, pc.c, pc.c, pc.p); }
