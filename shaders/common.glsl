// Shared by every kernel: the workgroup size comes from specialization constants 0..2 so the
// host can fit it to the device's limits, and element counts arrive as push constants.
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

// Flat index of a 1-D dispatch whose grid may be folded into y (cnv_vkb_dispatch_1d) when it
// needs more workgroups than maxComputeWorkGroupCount[0].
uint cnv_global_index() {
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

// A read-only float operand at binding B: a storage buffer, or in the kernel's CNV_TEXEL build
// (<kernel>_texel, third_party/shaders.cmake) a uniform texel buffer of R32_SFLOAT, which the
// pipeline picks where the capability table sets texel_reads: llvmpipe turns a storage-buffer
// load into scalar loads lane by lane, a texel fetch into one gather. Read it with CNV_LOAD.
#ifdef CNV_TEXEL
#define CNV_INPUT(B, NAME) layout(binding = B) uniform samplerBuffer NAME
#define CNV_LOAD(NAME, I) texelFetch(NAME, int(I)).r
#else
#define CNV_INPUT(B, NAME) layout(std430, binding = B) readonly buffer NAME##_block { float NAME##_data[]; }
#define CNV_LOAD(NAME, I) NAME##_data[I]
#endif
