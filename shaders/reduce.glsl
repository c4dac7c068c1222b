// The index walk of ReduceSum / ReduceMean / ReduceMax (runtime/core/reduce_plan.h): one
// invocation per output element i reads x[reduce_base(i) + reduce_at(r)] for r < count. Dims
// arrive padded to CNV_MAX_DIMS with leading unit dims (step 0). KIND is CNV_REDUCE_*.
#include "common.glsl"
#include "limits.h"
#include "reduce_ops.h"

layout(constant_id = 3) const uint KIND = CNV_REDUCE_SUM;

layout(push_constant) uniform P {
    uint n_out, count;
    uint kept_dim[CNV_MAX_DIMS], kept_step[CNV_MAX_DIMS];
    uint red_dim[CNV_MAX_DIMS], red_step[CNV_MAX_DIMS];
} pc;

uint reduce_base(uint i) {
    uint at = 0u;
    [[unroll]] for (int k = CNV_MAX_DIMS - 1; k >= 0; k--) {
        at += (i % pc.kept_dim[k]) * pc.kept_step[k];
        i /= pc.kept_dim[k];
    }
    return at;
}

uint reduce_at(uint r) {
    uint at = 0u;
    [[unroll]] for (int k = CNV_MAX_DIMS - 1; k >= 0; k--) {
        at += (r % pc.red_dim[k]) * pc.red_step[k];
        r /= pc.red_dim[k];
    }
    return at;
}
