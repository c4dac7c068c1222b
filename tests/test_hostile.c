/* The bad-input matrix: every class of hostile input (Keras files that crash, hang or balloon
 * libhdf5, pictures in formats cnnvis does not read or above the pixel limit, .npy and IDX
 * headers that lie about their size, NaN/Inf weights and inputs, shapes beyond int, absurd
 * sizes and tile counts, unwritable output paths) and every numeric fault (a diverging
 * optimization or training, an overflowing model). Each run must end with its exit status (2 for
 * bad input, 1 for a runtime fault), nothing on stdout, exactly one line on stderr naming the
 * file or option and the problem, no output file, the existing output untouched and no
 * temporary file left, within 10 s and 1 GB. The files come from tests/fixtures/make_hostile.py;
 * the Keras files libFuzzer found crashing libhdf5 from tests/fuzz/regressions/keras_h5_sandboxed,
 * and the pictures it found breaking stb_image from tests/fuzz/regressions/image_sandboxed. */
#include "cli_check.h"
#include "test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_SECONDS 10.0
#define MAX_RSS_KB (1024L * 1024L)
#define KEEP_TEXT "an existing output that no failed run may touch\n"

static char hostile[600], outdir[600], model[600];

static int setup(void **state) {
    (void)state;
    if (tu_scratch_create("hostile") != 0) return -1;
    snprintf(hostile, sizeof hostile, "%s/in", tu_scratch_dir());
    snprintf(outdir, sizeof outdir, "%s/out", tu_scratch_dir());
    snprintf(model, sizeof model, "%s/models/smallnet.onnx", CNNVIS_BINARY_DIR);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' && mkdir '%s'", tu_fixture_path("make_hostile.py"), hostile,
             outdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_hostile: `%s` failed: it needs /usr/bin/python3 with numpy, h5py, onnx and cv2\n", cmd);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return tu_scratch_remove();
}

/* args with {H} (the hostile files), {O} (the output folder) and {M} (a small ONNX model). */
static void expand(const char *in, char *out, size_t size) {
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < size;) {
        const char *sub = !strncmp(p, "{H}", 3) ? hostile : !strncmp(p, "{O}", 3) ? outdir : !strncmp(p, "{M}", 3) ? model : NULL;
        if (sub) {
            n += (size_t)snprintf(out + n, size - n, "%s", sub);
            p += 3;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < size ? n : size - 1] = '\0';
}

static void write_keep(void) {
    char path[700];
    snprintf(path, sizeof path, "%s/keep.png", outdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(KEEP_TEXT, f);
    fclose(f);
}

/* The output folder holds keep.png, unchanged, and nothing else (no output, no temporary). */
static void expect_outputs_untouched(const char *args) {
    DIR *d = opendir(outdir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        if (strcmp(e->d_name, "keep.png") != 0) fail_msg("cnnvis %s left %s/%s behind", args, outdir, e->d_name);
    }
    closedir(d);
    char path[700], text[200] = "";
    snprintf(path, sizeof path, "%s/keep.png", outdir);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cnnvis %s removed the existing output %s", args, path);
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    fclose(f);
    if (strcmp(text, KEEP_TEXT) != 0) fail_msg("cnnvis %s changed the existing output %s", args, path);
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs one case and checks everything the contract promises. */
static void expect_refusal(int want, const char *verb, const char *pattern, const char *names) {
    char args[4096], name[700];
    expand(pattern, args, sizeof args);
    expand(names, name, sizeof name);
    write_keep();
    double t0 = seconds_now();
    int rc = tu_run_cli(args, tu_cli_out, sizeof tu_cli_out, tu_cli_err, sizeof tu_cli_err);
    double took = seconds_now() - t0;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru); /* the largest child so far: the sandbox's reader included */
    if (rc != want) fail_msg("cnnvis %s: exit %d, expected %d; stderr: %s", args, rc, want, tu_cli_err);
    if (tu_cli_out[0]) fail_msg("cnnvis %s printed on stdout: %.200s", args, tu_cli_out);
    size_t len = strlen(tu_cli_err);
    if (!len || tu_cli_err[len - 1] != '\n' || strchr(tu_cli_err, '\n') != tu_cli_err + len - 1)
        fail_msg("cnnvis %s: stderr is not one line: %s", args, tu_cli_err);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cnnvis %s: ", verb);
    if (strncmp(tu_cli_err, prefix, strlen(prefix)) != 0) fail_msg("cnnvis %s: stderr lacks '%s': %s", args, prefix, tu_cli_err);
    if (!strstr(tu_cli_err, name)) fail_msg("cnnvis %s: stderr does not name '%s': %s", args, name, tu_cli_err);
    if (took > MAX_SECONDS) fail_msg("cnnvis %s took %.1f s", args, took);
    if (ru.ru_maxrss > MAX_RSS_KB) fail_msg("cnnvis %s: a process reached %ld KB", args, ru.ru_maxrss);
    expect_outputs_untouched(args);
    printf("  ok  exit %d  %4.1f s  %s", rc, took, tu_cli_err);
}


/* Every file of tests/fuzz/regressions/<folder> whose name contains `contains` (skipping dot
 * files), run as `args` (printf with the file's path) and refused in one line naming it.
 * Returns how many ran. */
static int refuse_each(const char *folder, const char *contains, const char *verb, const char *args_fmt) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", CNNVIS_SOURCE_DIR, folder);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !strstr(e->d_name, contains)) continue;
        char path[1000], args[1200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        snprintf(args, sizeof args, args_fmt, path);
        expect_refusal(2, verb, args, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}
static void keras_files_that_break_libhdf5(void **state) {
    (void)state;
    setenv("CNNVIS_H5_SECONDS", "2", 1); /* a hang ends in 2 s, not the default 10 */
    expect_refusal(2, "info", "info '{H}/balloon.h5'", "balloon.h5: reading it needs more than 512 MiB");
    expect_refusal(2, "info", "info '{H}/wrap.h5'",
                   "wrap.h5: weight /model_weights/conv2d/conv2d/kernel:0 holds more than 2147483647 values");
    expect_refusal(2, "info", "info '{H}/nan_weight.h5'", "weight 'conv2d/bias' holds NaN");
    /* A FIFO named like a model: libhdf5 blocks on it forever. */
    char fifo[700];
    snprintf(fifo, sizeof fifo, "%s/fifo.h5", hostile);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_refusal(2, "info", "info '{H}/fifo.h5'", "fifo.h5: reading it took longer than 2 s");
    /* What libFuzzer found in libhdf5 1.10: segfaults and out-of-bounds reads in the attribute reads,
     * spins, balloons and leaks (docs/RELIABILITY.md). */
    assert_true(refuse_each("keras_h5_sandboxed", ".h5", "info", "info '%s'") >= 23);
    unsetenv("CNNVIS_H5_SECONDS");
}

static void pictures_and_tensors_that_lie(void **state) {
    (void)state;
    expect_refusal(2, "classify", "classify {M} '{H}/pnm_named.png'", "pnm_named.png: not a PNG, JPEG or BMP");
    expect_refusal(2, "classify", "classify {M} '{H}/tga_named.jpg'", "tga_named.jpg: not a PNG, JPEG or BMP");
    expect_refusal(2, "classify", "classify {M} '{H}/huge_header.png'", "8000x9000 pixels is above the limit");
    expect_refusal(2, "classify", "classify {M} '{H}/huge_header.jpg'", "--max-pixels");
    expect_refusal(2, "classify", "classify {M} '{H}/chunk_lie.png'", "chunk_lie.png: truncated or corrupt PNG");
    /* What libFuzzer found in stb_image (an out-of-bounds write building a JPEG Huffman table):
     * decoded in cnv_image_load's child process, refused in one line. */
    assert_true(refuse_each("image_sandboxed", "", "classify", "classify {M} '%s'") >= 1);
    expect_refusal(2, "forward", "forward {M} '{H}/lie.npy' --save-tensor '{O}/t.npy'", "lie.npy: truncated .npy");
    expect_refusal(2, "forward", "forward {M} '{H}/nan.npy' --save-tensor '{O}/t.npy'", "nan.npy: element 88 of 784 is NaN");
    expect_refusal(2, "classify", "classify {M} '{H}/inf.npy'", "inf.npy: element 146 of 784 is an infinity");
    expect_refusal(2, "train", "train --data '{H}/idx_plain' --arch fashion-cnn --epochs 1 -o '{O}/keep.png'",
                   "idx_plain/train-images-idx3-ubyte: truncated");
    expect_refusal(2, "train", "train --data '{H}/idx_gzip' --arch fashion-cnn --epochs 1 -o '{O}/keep.png'",
                   "idx_gzip/train-images-idx3-ubyte.gz: truncated");
}

static void models_beyond_the_limits(void **state) {
    (void)state;
    expect_refusal(2, "info", "info '{H}/nan_weight.onnx'", "weight 'w' holds NaN");
    expect_refusal(2, "convert", "convert '{H}/nan_weight.onnx' -o '{O}/keep.png'", "weight 'w' holds NaN");
    expect_refusal(2, "info", "info '{H}/input_65535.onnx'", "12884508675, beyond the 2147483647");
    expect_refusal(2, "class", "class {M} --class 1 --size 100000 -o '{O}/keep.png'", "--size 100000");
    expect_refusal(2, "topk", "topk {M} --images '{H}/images' --layer 0 --channels 0 --k 100000 -o '{O}/keep.png'",
                   "--max-pixels");
}

/* The hostile folder's model `name` (a layer with two outputs) run on ones.npy: both
 * outputs equal `want`, and the tensor written for it is removed again. */
static void expect_forward_on_ones(const char *name, float want) {
    char args[2000], out[700];
    snprintf(out, sizeof out, "%s/t.npy", outdir);
    snprintf(args, sizeof args, "forward '%s/%s' '%s/ones.npy' --save-tensor '%s'", hostile, name, hostile, out);
    if (tu_run_cli(args, tu_cli_out, sizeof tu_cli_out, tu_cli_err, sizeof tu_cli_err) != 0)
        fail_msg("cnnvis %s failed: %s", args, tu_cli_err);
    float *y = NULL;
    cnv_shape shape;
    tu_expect_ok(cnv_npy_read(out, &y, &shape));
    assert_int_equal(shape.ndim, 2);
    assert_int_equal(shape.d[1], 2);
    for (int k = 0; k < 2; k++) assert_float_equal(y[k], want, 0.0f);
    free(y);
    assert_int_equal(remove(out), 0);
}

/* External data: read when it lies inside the model's folder and holds the tensor's bytes;
 * refused in one line naming the model, the tensor and the problem otherwise. */
static void external_data_stays_in_its_folder(void **state) {
    (void)state;
    expect_forward_on_ones("external_ok.onnx", 40.0f); /* 4 inputs of 10, weights of 1 */
    expect_refusal(2, "info", "info '{H}/external_escape.onnx'",
                   "{H}/external_escape.onnx: initializer 'w': external data location '../in/weights.bin' is not inside the model's folder");
    expect_refusal(2, "info", "info '{H}/external_absolute.onnx'", "is not inside the model's folder");
    expect_refusal(2, "info", "info '{H}/external_missing.onnx'",
                   "{H}/external_missing.onnx: initializer 'w': cannot open its external data {H}/no_such_weights.bin");
    expect_refusal(2, "info", "info '{H}/external_short.onnx'",
                   "its external data {H}/weights.bin holds 96 bytes, the tensor needs 32 at offset 80");
    expect_refusal(2, "info", "info '{H}/external_length.onnx'", "external data holds 16 bytes, its dims need 32");
    expect_refusal(2, "info", "info '{H}/external_fifo.onnx'", "its external data {H}/weights.fifo is not a regular file");
}

/* The protobuf framing cnnvis walks itself to keep the weights out of protobuf-c's copies
 * (runtime/models/onnx_split.c): a file cut inside a weight, a raw_data length past its tensor
 * and a FIFO are refused in one line; a graph in two fields whose initializer has two raw_data
 * loads as protobuf merges it (the last raw_data: weights of 2, so 4 x 10 x 2 = 80). */
static void model_framing_checked(void **state) {
    (void)state;
    expect_refusal(2, "info", "info '{H}/cut_weights.onnx'",
                   "{H}/cut_weights.onnx: not a valid ONNX model (protobuf decoding failed)");
    expect_refusal(2, "info", "info '{H}/raw_past_tensor.onnx'",
                   "{H}/raw_past_tensor.onnx: not a valid ONNX model (protobuf decoding failed)");
    expect_refusal(2, "info", "info '{H}/fifo.onnx'", "{H}/fifo.onnx: not a regular file");
    expect_forward_on_ones("two_graphs.onnx", 80.0f);
}

/* Shape ops that do not fit their input, shapes that do not broadcast and an op cnnvis lacks:
 * one line naming the file and the node, exit 2. */
static void shapes_that_do_not_fit(void **state) {
    (void)state;
    expect_refusal(2, "info", "info '{H}/reshape_misfit.onnx'",
                   "{H}/reshape_misfit.onnx: node 'view' (Reshape): 1x4 (4 elements) cannot become 1x3");
    expect_refusal(2, "info", "info '{H}/slice_axis.onnx'",
                   "{H}/slice_axis.onnx: node 'cut' (Slice): axis 2 out of range or repeated for a 2-D input");
    expect_refusal(2, "info", "info '{H}/split_misfit.onnx'",
                   "{H}/split_misfit.onnx: node 'halves' (Split): 2 parts of 5 in all do not split dim 1 (4)");
    expect_refusal(2, "info", "info '{H}/squeeze_axis.onnx'",
                   "{H}/squeeze_axis.onnx: node 'flat' (Squeeze): axis out of range or repeated");
    expect_refusal(2, "info", "info '{H}/reduce_axis.onnx'",
                   "{H}/reduce_axis.onnx: node 'avg' (ReduceMean): axis 2 out of range for a 2-D input");
    expect_refusal(2, "info", "info '{H}/matmul_misfit.onnx'",
                   "{H}/matmul_misfit.onnx: node 'proj' (MatMul): needs inputs [..., M, K] x [..., K, N], got 1x4 and 3x2");
    expect_refusal(2, "info", "info '{H}/logsoftmax_axis.onnx'",
                   "{H}/logsoftmax_axis.onnx: node 'logp' (LogSoftmax): axis 3 out of range for a 2-D input");
    expect_refusal(2, "info", "info '{H}/broadcast_misfit.onnx'",
                   "{H}/broadcast_misfit.onnx: node 'sum' (Add): shapes 1x4 and 1x3 do not broadcast");
    expect_refusal(2, "info", "info '{H}/unsupported_op.onnx'", "{H}/unsupported_op.onnx: node 'odd': unsupported op 'Celu'");
    expect_refusal(2, "info", "info '{H}/layernorm_scale.onnx'",
                   "{H}/layernorm_scale.onnx: node 'norm' (LayerNormalization): scale 'g' holds 3 values; the data needs 4");
}

static void output_paths_checked_before_the_run(void **state) {
    (void)state;
    expect_refusal(2, "class", "class {M} --class 1 --steps 8 --gif '{O}/missing/run.gif' -o '{O}/keep.png'",
                   "--gif {O}/missing/run.gif: the folder {O}/missing does not exist");
    expect_refusal(2, "class", "class {M} --class 1 --steps 8 --frames '{O}/keep.png' -o '{O}/new.png'",
                   "--frames {O}/keep.png: exists and is not a folder");
    expect_refusal(2, "forward", "forward {M} '{H}/ones.npy' --save-tensor '{O}'", "--save-tensor {O}: is a folder");
    expect_refusal(2, "convert", "convert {M} -o '{O}/missing/m.onnx'", "{O}/missing does not exist");
}

static void numeric_faults_stop_the_run(void **state) {
    (void)state;
    /* Frames and a GIF were being written when it diverged: none of them may remain. */
    expect_refusal(1, "class",
                   "class {M} --class 1 --steps 30 --lr 1e38 --frames '{O}/frames' --frame-every 1 --gif '{O}/g.gif' "
                   "-o '{O}/keep.png'",
                   "the optimization diverged (try a lower --lr than 1e+38)");
    expect_refusal(1, "train",
                   "train --data /usr/share/datasets/fashion-mnist --arch fashion-cnn --epochs 1 --limit 512 --lr 1e4 "
                   "--optimizer sgd -o '{O}/keep.png' --log '{O}/log.json'",
                   "training diverged (try a lower --lr than 10000)");
    expect_refusal(1, "forward", "forward '{H}/overflow.onnx' '{H}/ones.npy' --save-tensor '{O}/t.npy'",
                   "layer 'fc' gave 2 non-finite values");
    /* Device memory exhausted, forced by the documented cap. */
    setenv("CNNVIS_DEVICE_MEMORY_MB", "1", 1);
    expect_refusal(1, "class", "class {M} --class 1 --steps 8 --device cpu -o '{O}/keep.png'",
                   "device memory exhausted: batch 1 needs up to 2 MiB of tensors, above the 1 MiB allowed");
    unsetenv("CNNVIS_DEVICE_MEMORY_MB");
}

/* A lost device and a driver out of memory cannot be produced on demand here: CNNVIS_VK_FAULT
 * (runtime/vulkan/fault.h) injects them at the call a real one comes from, and what follows is
 * the real path: one line, exit 1, the outputs as they were. */
static void device_faults_are_reported(void **state) {
    (void)state;
    setenv("CNNVIS_VK_FAULT", "device-lost@3", 1);
    expect_refusal(1, "class", "class {M} --class 1 --steps 8 --device llvmpipe -o '{O}/keep.png' --gif '{O}/keep.gif'",
                   "the Vulkan device was lost (VK_ERROR_DEVICE_LOST in vkWaitForFences)");
    setenv("CNNVIS_VK_FAULT", "out-of-memory@1", 1);
    expect_refusal(1, "class", "class {M} --class 1 --steps 8 --device llvmpipe -o '{O}/keep.png'",
                   "device memory exhausted (VK_ERROR_OUT_OF_DEVICE_MEMORY in vkAllocateMemory)");
    unsetenv("CNNVIS_VK_FAULT");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keras_files_that_break_libhdf5),
        cmocka_unit_test(pictures_and_tensors_that_lie),
        cmocka_unit_test(models_beyond_the_limits),
        cmocka_unit_test(external_data_stays_in_its_folder),
        cmocka_unit_test(model_framing_checked),
        cmocka_unit_test(shapes_that_do_not_fit),
        cmocka_unit_test(output_paths_checked_before_the_run),
        cmocka_unit_test(numeric_faults_stop_the_run),
        cmocka_unit_test(device_faults_are_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
