// Softmax viewed as (outer, D, inner), normalized over D (runtime/vulkan/softmax.c maps both
// the opset-13 and the legacy semantics to it). One line per (outer, inner) pair, its D values
// inner apart, shared by LINE_THREADS invocations (line_reduce.glsl).
#include "line_reduce.glsl"

layout(push_constant) uniform P { uint lines; uint d; uint inner; } pc;

// Offset of value 0 of line `line`.
uint softmax_line_base(uint line) { return (line / pc.inner) * pc.d * pc.inner + line % pc.inner; }
