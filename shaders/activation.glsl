// Activation functions selected by specialization constant 3 (values of cnv_op_type order
// are not used: this list is the kernel's own). p0/p1: LeakyRelu/Elu alpha, Clip min/max.
#define ACT_RELU 0
#define ACT_LEAKYRELU 1
#define ACT_CLIP 2
#define ACT_SIGMOID 3
#define ACT_TANH 4
#define ACT_ELU 5
layout(constant_id = 3) const int ACT = ACT_RELU;

float act_forward(float x, float p0, float p1) {
    if (ACT == ACT_RELU) return max(x, 0.0);
    if (ACT == ACT_LEAKYRELU) return x >= 0.0 ? x : p0 * x;
    if (ACT == ACT_CLIP) return clamp(x, p0, p1);
    if (ACT == ACT_SIGMOID) return 1.0 / (1.0 + exp(-x));
    if (ACT == ACT_TANH) return tanh(x);
    return x >= 0.0 ? x : p0 * (exp(x) - 1.0); // ELU
}

float act_derivative(float x, float y, float p0, float p1) {
    if (ACT == ACT_RELU) return x > 0.0 ? 1.0 : 0.0;
    if (ACT == ACT_LEAKYRELU) return x >= 0.0 ? 1.0 : p0;
    if (ACT == ACT_CLIP) return (x > p0 && x < p1) ? 1.0 : 0.0;
    if (ACT == ACT_SIGMOID) return y * (1.0 - y);
    if (ACT == ACT_TANH) return 1.0 - y * y;
    return x >= 0.0 ? 1.0 : y + p0; // ELU: alpha*exp(x) = y + alpha
}
