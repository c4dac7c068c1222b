// Unfolded BatchNormalization, y = x * scale[c] + shift[c] over X [N, C, inner...]: the push
// constants every batchnorm kernel shares. n: elements of X.
layout(push_constant) uniform P { uint n; uint channels; uint inner; } pc;

uint channel_of(uint i) { return (i / pc.inner) % pc.channels; }
