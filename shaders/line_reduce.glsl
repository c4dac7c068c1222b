// Reductions along independent lines of values (a softmax row, a GlobalAveragePool plane):
// LINE_THREADS invocations (specialization constant 3, a power of two dividing the workgroup
// size, chosen by runtime/vulkan/line_reduce.c) share each line, each taking every
// LINE_THREADS-th value, then combine their partials in shared memory in log2(LINE_THREADS)
// steps. With LINE_THREADS = 1 it is a plain loop per invocation.
// Dispatched 1-D with LINE_THREADS invocations per line (cnv_global_index() / LINE_THREADS is
// the line); every invocation must reach line_reduce, also those past the last line, because
// it holds workgroup barriers.
layout(constant_id = 3) const uint LINE_THREADS = 1;

shared float line_scratch[gl_WorkGroupSize.x];

uint line_index() { return cnv_global_index() / LINE_THREADS; }
uint line_lane() { return gl_LocalInvocationID.x % LINE_THREADS; }

// The max (take_max) or sum of v over the invocations of this line, returned to each of them.
float line_reduce(float v, bool take_max) {
    if (LINE_THREADS == 1) return v;
    uint lid = gl_LocalInvocationID.x, lane = lid % LINE_THREADS;
    line_scratch[lid] = v;
    memoryBarrierShared();
    barrier();
    for (uint s = LINE_THREADS / 2; s > 0; s >>= 1) {
        if (lane < s) {
            float a = line_scratch[lid], b = line_scratch[lid + s];
            line_scratch[lid] = take_max ? max(a, b) : a + b;
        }
        memoryBarrierShared();
        barrier();
    }
    float r = line_scratch[lid - lane];
    barrier(); // the scratch is reused by the next reduction
    return r;
}
