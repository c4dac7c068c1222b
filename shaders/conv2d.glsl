// Conv (ONNX, NCHW) as implicit matrix products, one per group g (the z of the dispatch):
//   im2col(X)_g [R, P]: R = (c, i, j) over the group's input channels and kernel taps,
//                       P = (n, oy, ox) over the batch and output pixels;
//   W_g [Mg, R], Y_g [Mg, P].
// The im2col matrix is never stored: conv_input_index maps one of its elements to the input
// element it reads, or to -1 in the padding. Shared by conv2d_fwd, conv2d_bwd_data and
// conv2d_bwd_weights (the same push constants for all three).

#define CONV_BIAS 1u    // forward: B is bound; backward to the weights: dB is wanted
#define CONV_WANT_DW 2u // backward to the weights: dW is wanted

layout(push_constant) uniform ConvParams {
    uint n, c, h, w;        // input
    uint m, oh, ow;         // output channels and size
    uint kh, kw;            // kernel
    uint sh, sw, dh, dw;    // strides, dilations
    int pt, pl;             // top and left padding (bottom/right follow from the output size)
    uint cg, mg;            // input and output channels per group
    uint flags;
} pc;

uint conv_taps() { return pc.kh * pc.kw; }
uint conv_rows() { return pc.cg * conv_taps(); } // R
uint conv_pixels() { return pc.oh * pc.ow; }

// a / b (b > 0, a < 2^31) without an integer division, which llvmpipe performs one SIMD lane at
// a time and GPUs emulate in many instructions: the float quotient is within a few units of the
// truth, one refinement on the remainder brings it within one, and a last step makes it exact.
uint conv_div(uint a, uint b) {
    const float fb = float(b);
    uint q = uint(float(a) / fb);
    q = uint(int(q) + int(floor(float(int(a - q * b)) / fb)));
    const int rem = int(a - q * b);
    return rem < 0 ? q - 1u : rem >= int(b) ? q + 1u : q;
}

// Flat index into X of im2col_g(r, p), or -1 when that tap lies in the padding.
int conv_input_index(uint g, uint r, uint p) {
    const uint taps = conv_taps(), pixels = conv_pixels();
    const uint c = conv_div(r, taps), tap = r - c * taps;
    const uint n = conv_div(p, pixels), pix = p - n * pixels;
    const uint ky = conv_div(tap, pc.kw), oy = conv_div(pix, pc.ow);
    const int iy = int(oy * pc.sh + ky * pc.dh) - pc.pt;
    const int ix = int((pix - oy * pc.ow) * pc.sw + (tap - ky * pc.kw) * pc.dw) - pc.pl;
    if (iy < 0 || iy >= int(pc.h) || ix < 0 || ix >= int(pc.w)) return -1;
    return int(((n * pc.c + g * pc.cg + c) * pc.h + uint(iy)) * pc.w + uint(ix));
}

// Flat index into Y (or dY) of output channel mo of group g at column p = (n, oy, ox).
uint conv_output_index(uint g, uint mo, uint p) {
    const uint pixels = conv_pixels(), n = conv_div(p, pixels);
    return (n * pc.m + g * pc.mg + mo) * pixels + (p - n * pixels);
}
