/* A command recorder: a sequence of dispatches recorded once into one command buffer and
 * submitted as often as wanted (a visualization step is one submit). Barriers are inserted
 * only where a dispatch touches a buffer that an earlier dispatch since the last barrier wrote
 * (read after write, write after write) or read (write after read); one global memory barrier
 * then orders everything before it. With profiling on, a timestamp is written before and after
 * every dispatch. */
#ifndef CNV_VULKAN_COMMAND_H
#define CNV_VULKAN_COMMAND_H

#include "memory.h"
#include "pipeline.h"

typedef struct cnv_vk_recorder cnv_vk_recorder;

/* A buffer bound to a kernel's binding: bytes [offset, offset + size) of buf; size 0 means to
 * the end. Each binding must fit within maxStorageBufferRange (bind a split buffer's ranges). */
typedef struct cnv_vk_binding {
    const cnv_vk_buffer *buf;
    VkDeviceSize offset, size;
} cnv_vk_binding;

/* Room for up to max_dispatches dispatches per recording. */
cnv_status cnv_vk_recorder_create(cnv_vk_context *ctx, uint32_t max_dispatches, cnv_vk_recorder **out);
/* Waits for a submit still running first. NULL is ignored. */
void cnv_vk_recorder_free(cnv_vk_recorder *rec);

/* Starts a new recording, discarding the previous one. */
cnv_status cnv_vk_recorder_begin(cnv_vk_recorder *rec);
/* Records pipe over groups[0] x groups[1] x groups[2] workgroups with its buffers (one per
 * binding of the pipeline) and push constants (pipe->push_size bytes). */
cnv_status cnv_vk_recorder_dispatch(cnv_vk_recorder *rec, const cnv_vk_pipeline *pipe, const cnv_vk_binding *bindings,
                                    const void *push, const uint32_t groups[3]);
/* Ends the recording; the results are then visible to the host after each submit. */
cnv_status cnv_vk_recorder_end(cnv_vk_recorder *rec);
/* Submits the recording once and waits for it (one queue submission; ctx->submits counts it). */
cnv_status cnv_vk_recorder_submit(cnv_vk_recorder *rec);
/* Submits it without waiting: the host goes on while the device runs it (a recorded step). A
 * recorder still running is waited for first, as before a new recording. */
cnv_status cnv_vk_recorder_submit_async(cnv_vk_recorder *rec);
/* Waits for its last submit, if it may still be running; a wait that found it running counts
 * in ctx->host_waits. Reports a lost device. */
cnv_status cnv_vk_recorder_wait(cnv_vk_recorder *rec);
/* Whether a submit may still be running, and whether the recording binds buf. */
int cnv_vk_recorder_running(const cnv_vk_recorder *rec);
int cnv_vk_recorder_uses(const cnv_vk_recorder *rec, const cnv_vk_buffer *buf);

uint32_t cnv_vk_recorder_dispatches(const cnv_vk_recorder *rec);
uint32_t cnv_vk_recorder_barriers(const cnv_vk_recorder *rec);
/* After a submit with profiling on: GPU milliseconds of each dispatch of the last run, into
 * ms[0 .. min(cap, dispatches)). Returns how many were written (0 without profiling). */
cnv_status cnv_vk_recorder_timings(cnv_vk_recorder *rec, double *ms, uint32_t cap, uint32_t *written);

/* One-shot copy between buffers (one submit, waited for); used for staging transfers. */
cnv_status cnv_vk_copy_buffer(cnv_vk_context *ctx, const cnv_vk_buffer *src, VkDeviceSize src_offset,
                              const cnv_vk_buffer *dst, VkDeviceSize dst_offset, VkDeviceSize bytes);

#endif
