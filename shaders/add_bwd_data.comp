#version 450
#extension GL_GOOGLE_include_directive : require
// Add backward to one input (data or weights alike): each gradient element of the input, of
// 4-D dims in4, gathers dy over every output position broadcast from it (the whole output dim
// where in4 is 1 and the output's is not, else its own index) and adds the sum: dx += Σ dy.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer DY { float dy[]; };
layout(std430, binding = 1) buffer DX { float dx[]; };
layout(push_constant) uniform P { uint n; uint out4[4]; uint in4[4]; } pc;

void main() {
    uint i = cnv_global_index();
    if (i >= pc.n) return;
    uint first[4], count[4], rest = i;
    [[unroll]] for (int k = 3; k >= 0; k--) {
        bool broadcast = pc.in4[k] == 1u && pc.out4[k] != 1u;
        first[k] = broadcast ? 0u : rest % pc.in4[k];
        count[k] = broadcast ? pc.out4[k] : 1u;
        rest /= pc.in4[k];
    }
    float sum = 0.0;
    for (uint o0 = first[0]; o0 < first[0] + count[0]; o0++)
        for (uint o1 = first[1]; o1 < first[1] + count[1]; o1++)
            for (uint o2 = first[2]; o2 < first[2] + count[2]; o2++) {
                uint row = ((o0 * pc.out4[1] + o1) * pc.out4[2] + o2) * pc.out4[3];
                for (uint o3 = first[3]; o3 < first[3] + count[3]; o3++) sum += dy[row + o3];
            }
    dx[i] += sum;
}
