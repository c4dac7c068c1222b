// Fourier (spectral) image parameterization, shared by fourier_fwd.comp and fourier_bwd_data.comp
// (runtime/cpu/fourier.c has the definition). The image size is specialization constants, so the
// tables of unit roots e^{2 pi i k / H} and e^{2 pi i k / W} live in shared memory, filled once per
// workgroup; a kernel then indexes them with (u h mod H), never forming a large angle.
layout(constant_id = 3) const uint TH = 1; // image height H
layout(constant_id = 4) const uint TW = 1; // image width W
const uint TWF = TW / 2 + 1;               // coefficients per row

layout(push_constant) uniform P {
    float decay;   // amplitudes scaled by 1 / max(f, floor_f)^decay
    float norm;    // 1 / sqrt(H W)
    float floor_f; // 1 / max(H, W)
} pc;

shared vec2 roots_h[TH];
shared vec2 roots_w[TW];

// e^{2 pi i k / n}, from an angle in [-pi, pi] where float cos and sin are most accurate.
vec2 unit_root(uint k, uint n) {
    int centred = 2 * k > n ? int(k) - int(n) : int(k);
    float t = 6.28318530717958647692 * float(centred) / float(n);
    return vec2(cos(t), sin(t));
}

void fill_roots() {
    for (uint k = gl_LocalInvocationIndex; k < TH; k += gl_WorkGroupSize.x) roots_h[k] = unit_root(k, TH);
    for (uint k = gl_LocalInvocationIndex; k < TW; k += gl_WorkGroupSize.x) roots_w[k] = unit_root(k, TW);
}

// s(u, v) / sqrt(HW) with f the frequency of (u, v) in cycles per pixel.
float spectral_scale(uint u, uint v) {
    float fu = float(min(u, TH - u)) / float(TH), fv = float(v) / float(TW);
    return pc.norm * pow(max(sqrt(fu * fu + fv * fv), pc.floor_f), -pc.decay);
}

vec2 complex_mul(vec2 a, vec2 b) { return vec2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }

// k + step modulo n, for k < n and step <= n.
uint advance(uint k, uint step, uint n) {
    k += step;
    return k >= n ? k - n : k;
}
