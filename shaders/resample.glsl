// Affine bilinear resampling (runtime/cpu/resample.c has the definition): output pixel (i, j)
// of item n samples the input at T applied to its centred coordinates; taps weigh
// tent(distance) = max(0, 1 - |distance|) in each axis, taps outside the input add nothing.
// total: elements of the dispatch (output elements forward, input elements backward).
layout(push_constant) uniform P { uint total; uint c; uint hi; uint wi; uint ho; uint wo; } pc;

float tent(float d) { return max(0.0, 1.0 - abs(d)); }

// Sample point (sx, sy) of output pixel (i, j), in the very float expression of the CPU kernel.
vec2 sample_point(float t[6], uint i, uint j) {
    float x = float(j) - 0.5 * float(pc.wo - 1u), y = float(i) - 0.5 * float(pc.ho - 1u);
    return vec2(t[0] * x + t[1] * y + t[2] + 0.5 * float(pc.wi - 1u), t[3] * x + t[4] * y + t[5] + 0.5 * float(pc.hi - 1u));
}
