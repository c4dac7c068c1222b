/* Invocations per line for the line reductions (see line_reduce.h). */
#include "line_reduce.h"

#include "core/status.h"

/* Values each invocation should take before sharing a line pays: below that, the shared-memory
 * steps and barriers cost more than the loop they split. */
#define VALUES_PER_INVOCATION 8

/* The largest power of two that divides the workgroup size (so a line never straddles two
 * workgroups) and leaves each invocation about VALUES_PER_INVOCATION values; 1 (a plain loop)
 * for short lines. Shared memory is not a limit here: the scratch is one float per invocation,
 * within the 16 KiB every Vulkan device offers for any workgroup it can run. The same choice
 * serves lavapipe, whose slow barriers matter little at log2(threads) per line. */
static uint32_t line_threads(uint32_t local, size_t len) {
    uint32_t t = 1;
    while (local % (2 * t) == 0 && (size_t)2 * t * VALUES_PER_INVOCATION <= len) t *= 2;
    return t;
}

cnv_status cnv_vk_line_kernel_get(cnv_vk_backend *vb, const char *shader, uint32_t bindings, uint32_t written,
                                  uint32_t push_size, size_t len, cnv_vk_line_kernel *out) {
    const uint32_t local = cnv_vkb_local_1d(vb);
    if ((uint64_t)local * sizeof(float) > cnv_vkb_caps(vb)->max_shared_memory)
        return cnv_fail(CNV_ERR_UNSUPPORTED, "vulkan: kernel %s: %u floats of shared memory exceed the device's %u bytes",
                        shader, local, cnv_vkb_caps(vb)->max_shared_memory);
    out->threads = line_threads(local, len);
    cnv_vk_kernel_desc d = {.shader = shader, .bindings = bindings, .written = written, .push_size = push_size,
                            .local_size = {local, 1, 1}, .spec = &out->threads, .spec_count = 1};
    return cnv_vkb_kernel(vb, &d, &out->pipe);
}

cnv_status cnv_vk_line_dispatch(cnv_vk_backend *vb, const cnv_vk_line_kernel *k, cnv_buf *const *bufs,
                                const void *push, size_t lines) {
    return cnv_vkb_dispatch_1d(vb, k->pipe, bufs, push, lines * k->threads);
}
