// LRN across channels (ONNX), as runtime/cpu/lrn.c: tensors viewed as (N, C, inner); channel
// c's window is [c - lo, c + hi] clipped to the channels, and
// s_c = bias + k * sum over the window of x^2 with k = alpha / size.
layout(push_constant) uniform P {
    uint n; // elements
    uint c, inner;
    int lo, hi;
    float k, beta, bias;
} pc;

// s of channel ch in the column whose channel 0 is at x[col].
float lrn_scale(uint col, int ch) {
    int first = max(ch - pc.lo, 0), last = min(ch + pc.hi, int(pc.c) - 1);
    float sum = 0.0;
    for (int i = first; i <= last; i++) {
        float v = x[col + uint(i) * pc.inner];
        sum += v * v;
    }
    return pc.bias + pc.k * sum;
}

// Column start and channel of element i.
void lrn_locate(uint i, out uint col, out int ch) {
    uint plane = pc.c * pc.inner;
    ch = int((i % plane) / pc.inner);
    col = i - uint(ch) * pc.inner;
}
