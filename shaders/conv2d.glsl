// Conv (ONNX, NCHW) as implicit matrix products, one per group g (the z of the dispatch):
//   im2col(X)_g [R, P]: R = (c, i, j) over the group's input channels and kernel taps,
//                       P = (n, oy, ox) over the batch and output pixels;
//   W_g [Mg, R], Y_g [Mg, P].
// The im2col matrix is never stored: conv_input_index maps one of its elements to the input
// element it reads, or to -1 in the padding. Shared by conv2d_fwd, conv2d_bwd_data and
// conv2d_bwd_weights (the same push constants for all three).

#define CONV_BIAS 1u    // forward: B is bound; backward to the weights: dB is wanted
#define CONV_WANT_DW 2u // backward to the weights: dW is wanted
#define CONV_RELU 4u    // forward: max(Y, 0) is written too (the Relu of Y, fused: core/exec.c)
#define CONV_ASSIGN 8u     // backward: dX (to the data) or dW (to the weights) is written, not added to
#define CONV_ASSIGN_DB 16u // backward to the weights: dB is written, not added to
#define CONV_RELU_ONLY 32u // forward: max(Y, 0) is written instead of Y (Y unread: core/exec.c)

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

// An im2col element im2col_g(r, p) is X at the sum of what its row r = (c, ky, kx) and its
// column p = (n, oy, ox) contribute, so the kernels that walk one of them in the inner loop can
// decompose the other once (gemm_tile.glsl: GEMM_PREPARED_COLUMNS).
struct conv_tap {   // row r: offset of its input channel, and its tap's reach
    int offset, dy, dx;
};
struct conv_pixel { // column p: offset of its image, and the top-left input pixel of its window
    int offset, y0, x0;
};

conv_tap conv_tap_of(uint g, uint r) {
    const uint taps = conv_taps(), c = conv_div(r, taps), tap = r - c * taps, ky = conv_div(tap, pc.kw);
    return conv_tap(int((g * pc.cg + c) * pc.h * pc.w), int(ky * pc.dh), int((tap - ky * pc.kw) * pc.dw));
}

conv_pixel conv_pixel_of(uint p) {
    const uint pixels = conv_pixels(), n = conv_div(p, pixels), pix = p - n * pixels, oy = conv_div(pix, pc.ow);
    return conv_pixel(int(n * pc.c * pc.h * pc.w), int(oy * pc.sh) - pc.pt, int((pix - oy * pc.ow) * pc.sw) - pc.pl);
}

// Flat index into X of the element of tap t in window q, or -1 in the padding.
int conv_im2col_index(conv_tap t, conv_pixel q) {
    const int iy = q.y0 + t.dy, ix = q.x0 + t.dx;
    if (uint(iy) >= pc.h || uint(ix) >= pc.w) return -1; // negative coordinates wrap past h, w
    return q.offset + t.offset + iy * int(pc.w) + ix;
}

// Flat index into X of im2col_g(r, p), or -1 when that tap lies in the padding.
int conv_input_index(uint g, uint r, uint p) { return conv_im2col_index(conv_tap_of(g, r), conv_pixel_of(p)); }

// Flat index into Y (or dY) of output channel mo of group g at column p = (n, oy, ox).
uint conv_output_index(uint g, uint mo, uint p) {
    const uint pixels = conv_pixels(), n = conv_div(p, pixels);
    return (n * pc.m + g * pc.mg + mo) * pixels + (p - n * pixels);
}
