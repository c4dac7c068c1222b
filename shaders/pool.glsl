// Pool geometry shared by the MaxPool and AveragePool kernels (runtime/vulkan/pool.h fills
// the same block). Axes are (y, x) = (H, W); pads _lo are top/left, _hi bottom/right.
layout(push_constant) uniform Pool {
    uint n; // invocations: output elements (forward) or input elements (backward)
    int h, w, oh, ow;
    int kh, kw, sh, sw, ph, pw, dh, dw;
    int ph_hi, pw_hi, include_pad;
} pc;

// The output index along one axis whose tap k lands on input position pos, or -1. A given
// output reaches pos through at most one tap, so walking k visits each window once; walking k
// downwards visits the outputs in increasing order (the CPU kernel's accumulation order).
int pool_out_of_tap(int pos, int k, int stride, int pad_lo, int dilation, int out_size) {
    int t = pos + pad_lo - k * dilation;
    if (t < 0 || t % stride != 0) return -1;
    int o = t / stride;
    return o < out_size ? o : -1;
}

// Taps of window o (along one axis) that fall in [lo, hi).
int pool_taps_within(int o, int kernel, int stride, int pad_lo, int dilation, int lo, int hi) {
    int n = 0;
    for (int k = 0; k < kernel; k++) {
        int pos = o * stride - pad_lo + k * dilation;
        n += (pos >= lo && pos < hi) ? 1 : 0;
    }
    return n;
}

// AveragePool divisor of output (oy, ox), as runtime/cpu/avgpool.c: the taps inside the input,
// or with count_include_pad the taps inside the explicitly padded input (never the ceil_mode
// overhang). The product of per-axis counts.
int pool_divisor(int oy, int ox) {
    int lo_y = pc.include_pad != 0 ? -pc.ph : 0, hi_y = pc.include_pad != 0 ? pc.h + pc.ph_hi : pc.h;
    int lo_x = pc.include_pad != 0 ? -pc.pw : 0, hi_x = pc.include_pad != 0 ? pc.w + pc.pw_hi : pc.w;
    return pool_taps_within(oy, pc.kh, pc.sh, pc.ph, pc.dh, lo_y, hi_y) *
           pool_taps_within(ox, pc.kw, pc.sw, pc.pw, pc.dw, lo_x, hi_x);
}
