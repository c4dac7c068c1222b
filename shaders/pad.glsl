// Pad, shared by pad_fwd.comp and pad_bwd_data.comp. Tensors are viewed as 4-D (leading unit
// dims); along each dim, output index o reads source index o - begin when inside the input,
// else (by mode) the constant, the mirror image without repeating the edge (numpy "reflect",
// periodic for pads wider than d - 1), or the nearest edge. Negative begins crop.
#define PAD_CONSTANT 0
#define PAD_REFLECT 1
#define PAD_EDGE 2
layout(constant_id = 3) const int MODE = PAD_CONSTANT;

layout(push_constant) uniform P {
    uint n;       // elements this dispatch covers: output (forward) or input (backward)
    int in4[4];
    int out4[4];
    int begin4[4];
    float value;  // constant mode fill (forward only)
} pc;

// Decomposes flat index i of a tensor of 4-D dims d into its index along each dim.
void unflatten(uint i, int d[4], out int idx[4]) {
    [[unroll]] for (int k = 3; k >= 0; k--) {
        idx[k] = int(i % uint(d[k]));
        i /= uint(d[k]);
    }
}

// Period of reflect along a dim of size d (> 1).
int reflect_period(int d) { return 2 * (d - 1); }

bool extends_edge(int d) { return MODE == PAD_EDGE || (MODE == PAD_REFLECT && d == 1); }

int positive_mod(int a, int m) {
    int r = a % m;
    return r < 0 ? r + m : r;
}
