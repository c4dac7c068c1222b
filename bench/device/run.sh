#!/bin/bash
# Runs the device kit (bench/device/prepare.sh made it) on a lent GPU machine, or here against
# lavapipe, in one call, each step time-boxed, everything into OUT (8 files at most, as the device
# tool brings back):
#
#   summary.jsonl  one line per step: name, exit status, seconds (0 pass, 77 skipped, 124 timed out)
#   run.log        what was found (the Vulkan driver's ICD file, the loader, the layer) and every
#                  step's stderr and text output
#   devices.json   cnnvis devices --json
#   tests.log      the Vulkan op suites (vulkan and vulkan-forced), test_vulkan_runtime and
#                  test_program_replay, validation on
#   check.json     cnnvis check on SqueezeNet 1.1 (ONNX), built-in vgg16 and built-in resnet50
#   bench.json     cnnvis bench --profile --json on the device
#   peer.json      bench/peer_bench_torch.py on CUDA (fp32, TF32 off), when PyTorch sees a GPU
#   compare.txt    bench/compare.py: cnnvis and the peer interleaved, 3 rounds, the table; then
#                  render steps that read nothing back (bench --read-every 10: time, queue submits
#                  and host waits a step); then a tile sweep (each CNNVIS_VK_TILES shape on gemm
#                  and a conv workload)
#
# usage: bench/device/run.sh OUT
# env:   DEVICE       the device, by a name substring or an index (NVIDIA; llvmpipe here)
#        QUICK=1      a short run: size 32, 1 repeat, SqueezeNet and gemm, two suites
#        BUDGET_S     seconds for the whole run; steps that no longer fit are skipped (480)
#        REPEAT, SIZE the bench's repeats (10) and image size (each workload's own)
#        CHECK_S      each check's time limit (90; QUICK: 240)
#        BENCH_WORKLOADS, COMPARE_WORKLOADS, TESTS (suite names)   what runs
#        PEER_DEVICE  cuda (cpu with llvmpipe); PYTHON: the python3 with PyTorch (python3)
#        SWEEP_TILES, SWEEP_WORKLOADS   the tile sweep's shapes and workloads
#        STEPS_WORKLOADS the render workloads of the steps table (compare.txt)
#        KIT          the kit (ROOT/.devkit); VK_ICD: an ICD file to use instead of searching
set -u
OUT=${1:?usage: bench/device/run.sh OUT}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KIT=${KIT:-$ROOT/.devkit}
DEVICE=${DEVICE:-NVIDIA}
QUICK=${QUICK:-0}
BUDGET_S=${BUDGET_S:-480}
case "$DEVICE" in *llvmpipe* | *lavapipe*) LAVAPIPE=1 ;; *) LAVAPIPE=0 ;; esac
if [ "$QUICK" = 1 ]; then
    REPEAT=${REPEAT:-1} SIZE=${SIZE:-32} CHECK_S=${CHECK_S:-240}
    BENCH_WORKLOADS=${BENCH_WORKLOADS:-"squeezenet-lucid-b1 gemm"}
    COMPARE_WORKLOADS=${COMPARE_WORKLOADS:-"squeezenet-lucid-b1"}
    STEPS_WORKLOADS=${STEPS_WORKLOADS:-"squeezenet-lucid-b1"}
    TESTS=${TESTS:-"test_ops_rules test_vulkan_runtime test_program_replay"}
else
    REPEAT=${REPEAT:-10} SIZE=${SIZE:-} CHECK_S=${CHECK_S:-90}
    BENCH_WORKLOADS=${BENCH_WORKLOADS:-}
    COMPARE_WORKLOADS=${COMPARE_WORKLOADS:-"vgg16-class-224 vgg16-conv5_3-224 resnet50-class-224 squeezenet-lucid-b8 gemm"}
    STEPS_WORKLOADS=${STEPS_WORKLOADS:-"vgg16-class-224 squeezenet-lucid-b8"}
    TESTS=${TESTS:-}
fi
[ "$LAVAPIPE" = 1 ] && PEER_DEVICE=${PEER_DEVICE:-cpu} || PEER_DEVICE=${PEER_DEVICE:-cuda}
SIZE_OPT=${SIZE:+--size $SIZE}
PYTHON=${PYTHON:-python3}

mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/run.log
: > "$LOG"
: > "$OUT/summary.jsonl"
: > "$OUT/tests.log"
WORK=$(mktemp -d /tmp/cnnvis-devkit.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)
say() { echo "$*" | tee -a "$LOG"; }

# step NAME LIMIT_S STDOUT_FILE COMMAND...: runs COMMAND under `timeout` (within what is left of
# BUDGET_S), its stdout appended to STDOUT_FILE, its stderr to STEP_ERR (run.log unless set); one
# summary line.
step() {
    local name=$1 limit=$2 out=$3 left rc t0 t1
    shift 3
    left=$((BUDGET_S - ($(date +%s) - START)))
    if [ "$left" -lt 15 ]; then
        say "-- $name: skipped, the time budget is spent"
        echo "{\"step\": \"$name\", \"rc\": null, \"skipped\": \"budget\"}" >> "$OUT/summary.jsonl"
        return 0
    fi
    [ "$limit" -gt "$left" ] && limit=$left
    say "-- $name (at most ${limit}s): $*"
    t0=$(date +%s.%N)
    timeout -k 5 "$limit" "$@" >> "$out" 2>> "${STEP_ERR:-$LOG}"
    rc=$?
    t1=$(date +%s.%N)
    echo "{\"step\": \"$name\", \"rc\": $rc, \"seconds\": $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')}" >> "$OUT/summary.jsonl"
    say "   exit $rc"
    return 0
}

# ---- unpack: the payload and the .debs into a private prefix (never into /) ----
[ -f "$KIT/payload.tar.xz" ] || { say "no kit at $KIT: run bench/device/prepare.sh first (and carry it)"; exit 2; }
PREFIX=$WORK/root
mkdir -p "$PREFIX" "$WORK/kit"
if command -v xz > /dev/null; then
    xz -dc "$KIT/payload.tar.xz" | tar -xf - -C "$WORK/kit"
else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$KIT/payload.tar.xz" "$WORK/kit"
fi || { say "cannot unpack $KIT/payload.tar.xz"; exit 1; }
for deb in "$KIT"/debs/*.deb; do
    dpkg-deb -x "$deb" "$PREFIX" || { say "cannot unpack $deb (dpkg-deb)"; exit 1; }
done
say "kit: $(head -1 "$KIT/MANIFEST.txt")"
say "machine: $(uname -srm), $(nproc) cores, $(. /etc/os-release 2> /dev/null && echo "$PRETTY_NAME")"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$LOG"

# ---- the Vulkan driver: its ICD file, found by name (or VK_ICD) ----
find_icd() {
    local pattern=nvidia_icd*.json d f
    [ "$LAVAPIPE" = 1 ] && pattern='lvp_icd*.json'
    for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d \
        /usr/local/nvidia/share/vulkan/icd.d /usr/local/nvidia/etc/vulkan/icd.d; do
        for f in "$d"/$pattern; do [ -f "$f" ] && { echo "$f"; return 0; }; done
    done
    f=$(timeout 30 find /usr /etc /opt -maxdepth 7 -name "$pattern" 2> /dev/null | head -1)
    [ -n "$f" ] && { echo "$f"; return 0; }
    return 1
}
NVLIB=$(timeout 30 find /usr/local/nvidia /usr/lib /usr/lib64 -maxdepth 4 -name 'libGLX_nvidia.so.0' 2> /dev/null | head -1)
ICD=${VK_ICD:-$(find_icd)}
if [ -z "$ICD" ] && [ "$LAVAPIPE" = 0 ] && [ -n "$NVLIB" ]; then
    # No ICD file but the driver's library: name it ourselves (what the file says on NVIDIA systems).
    ICD=$WORK/nvidia_icd.json
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' "$NVLIB" > "$ICD"
    say "no NVIDIA ICD file found; wrote $ICD for $NVLIB"
fi
say "ICD file: ${ICD:-none found}"
[ -n "$ICD" ] && { sed 's/^/    /' "$ICD"; echo; } | tee -a "$LOG"
say "NVIDIA driver library: ${NVLIB:-none found}"
LOADER=$(ls "$PREFIX"/usr/lib/x86_64-linux-gnu/libvulkan.so.1.* 2> /dev/null | head -1)
LAYER_JSON=$(ls "$PREFIX"/usr/share/vulkan/explicit_layer.d/*validation*.json 2> /dev/null | head -1)
say "Vulkan loader: ${LOADER:-missing}; validation layer: ${LAYER_JSON:-missing}"
export VK_ICD_FILENAMES=$ICD VK_DRIVER_FILES=$ICD
export VK_LAYER_PATH=$PREFIX/usr/share/vulkan/explicit_layer.d
export XDG_CACHE_HOME=$WORK/cache

# cnnvis and the test binaries see the kit's libraries; Python (the peer) keeps the machine's own.
KITLIBS=$WORK/kit/lib:$PREFIX/usr/lib/x86_64-linux-gnu${NVLIB:+:$(dirname "$NVLIB")}
CNNVIS=$WORK/cnnvis
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' "$KITLIBS" "$WORK/kit/bin/cnnvis" > "$CNNVIS"
chmod +x "$CNNVIS"
KIT_ENV=(env "LD_LIBRARY_PATH=$KITLIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "CNNVIS_TEST_DEVICE=$DEVICE" "CNNVIS_TEST_CLI=$CNNVIS")

# ---- devices, and whether the validation layer really loads ----
step devices 30 "$LOG" "$CNNVIS" devices
step devices-json 30 "$OUT/devices.json" "$CNNVIS" devices --json
CNNVIS_VALIDATION=1 timeout 30 "$CNNVIS" devices > /dev/null 2> "$WORK/probe.err"
if grep -q "validation requested but" "$WORK/probe.err"; then
    say "VALIDATION LAYER NOT LOADED: $(head -1 "$WORK/probe.err")"
    echo '{"step": "validation-layer", "rc": 1}' >> "$OUT/summary.jsonl"
else
    say "validation layer loads"
    echo '{"step": "validation-layer", "rc": 0}' >> "$OUT/summary.jsonl"
fi

# ---- cnnvis check: the device against the CPU backend, forward and backward, layer by layer ----
for model in squeezenet vgg16 resnet50; do
    case $model in
    squeezenet) src=("$WORK/kit/models/squeezenet1.1.onnx") ;;
    *) src=(--arch "$model") ;;
    esac
    STEP_ERR=$WORK/check-$model.err step "check-$model" "$CHECK_S" "$WORK/check-$model.json" "$CNNVIS" check "${src[@]}" \
        --device "$DEVICE" --json
    cat "$WORK/check-$model.err" >> "$LOG"
done

# ---- the pipeline cache: SqueezeNet's check twice from an empty cache folder; the second start
# should compile nothing (summary.jsonl: start-cold and start-warm seconds; run.log: the file) ----
for run in cold warm; do
    step "start-$run" 120 /dev/null env XDG_CACHE_HOME="$WORK/cache" "$CNNVIS" check "$WORK/kit/models/squeezenet1.1.onnx" \
        --device "$DEVICE" --json
done
say "pipeline cache after two starts: $(find "$WORK/cache/cnnvis" -type f -printf '%f %s bytes; ' 2> /dev/null)the driver's own cache: $(find "$WORK/cache" -path "$WORK/cache/cnnvis" -prune -o -type f -print 2> /dev/null | wc -l) files, $(du -sk --exclude=cnnvis "$WORK/cache" 2> /dev/null | cut -f1) KiB"

# ---- the op suites with validation on (the test backend turns it on) ----
run_suites() {
    local backend=$1 t name
    for t in "$WORK"/kit/tests/test_ops_*; do
        name=$(basename "$t")
        [ -n "$TESTS" ] && ! [[ " $TESTS " == *" $name "* ]] && continue
        echo "===== $name $backend" >> "$OUT/tests.log"
        STEP_ERR=$OUT/tests.log step "$name-$backend" 120 "$OUT/tests.log" "${KIT_ENV[@]}" "$t" "$backend"
    done
}
run_suites vulkan
if [ -z "$TESTS" ] || [[ " $TESTS " == *" test_vulkan_runtime "* ]]; then
    echo "===== test_vulkan_runtime" >> "$OUT/tests.log"
    STEP_ERR=$OUT/tests.log step test_vulkan_runtime 120 "$OUT/tests.log" "${KIT_ENV[@]}" "$WORK/kit/tests/test_vulkan_runtime"
fi
# one submit a step, no host wait in the first two steps, Adam bit-identical twice, SGD as on the CPU
if [ -z "$TESTS" ] || [[ " $TESTS " == *" test_program_replay "* ]]; then
    echo "===== test_program_replay" >> "$OUT/tests.log"
    STEP_ERR=$OUT/tests.log step test_program_replay 120 "$OUT/tests.log" "${KIT_ENV[@]}" \
        CNNVIS_FIXTURE_DIR="$WORK/kit/fixtures" "$WORK/kit/tests/test_program_replay"
fi

# ---- speed: cnnvis bench with its kernel breakdown, the PyTorch peer, then both interleaved ----
# shellcheck disable=SC2086 # the workload lists and SIZE_OPT are word lists
step bench 180 "$OUT/bench.json" "$CNNVIS" bench $BENCH_WORKLOADS --device "$DEVICE" --profile --json --repeat "$REPEAT" $SIZE_OPT
if "$PYTHON" -c "import torch, torchvision, sys; sys.exit(0 if '$PEER_DEVICE' == 'cpu' or torch.cuda.is_available() else 1)" 2>> "$LOG"; then
    # shellcheck disable=SC2086
    step peer 180 "$OUT/peer.json" "$PYTHON" "$ROOT/bench/peer_bench_torch.py" $BENCH_WORKLOADS --device "$PEER_DEVICE" --json --repeat "$REPEAT" $SIZE_OPT
    PEER_OPT=()
else
    say "-- peer: skipped, no PyTorch (with a GPU) here"
    echo '{"step": "peer", "rc": null, "skipped": "no torch"}' >> "$OUT/summary.jsonl"
    PEER_OPT=(--no-peer)
fi
# shellcheck disable=SC2086
step compare 240 "$OUT/compare.txt" "$PYTHON" "$ROOT/bench/compare.py" $COMPARE_WORKLOADS --cnnvis "$CNNVIS" --device "$DEVICE" \
    --peer-device "$PEER_DEVICE" --rounds 3 --repeat "$REPEAT" $SIZE_OPT "${PEER_OPT[@]}"

# ---- steps that read nothing back (issue 16: one submit a step, no host wait): the objective read
# every 10 steps, 3 repeats of 10 steps each; a table appended to compare.txt, the JSON to run.log ----
# shellcheck disable=SC2086
step steps 120 "$WORK/steps.json" "$CNNVIS" bench $STEPS_WORKLOADS --device "$DEVICE" --json --repeat 3 --read-every 10 $SIZE_OPT
cat "$WORK/steps.json" >> "$LOG" 2> /dev/null
"$PYTHON" - "$WORK/steps.json" >> "$OUT/compare.txt" << 'PY'
import json, sys
print("\nrender steps reading nothing back (cnnvis bench --read-every 10 --repeat 3; per step)\n")
print("| workload | median s | queue submits | host waits |\n|---|---:|---:|---:|")
try:
    results = json.load(open(sys.argv[1]))["results"]
except (OSError, ValueError, KeyError):
    results = []
    print("| (no result) | | | |")
for r in results:
    cells = [r.get(k) for k in ("median_s", "submits_per_step", "host_waits_per_step")]
    print("| " + r["workload"] + " | " + " | ".join("" if v is None else f"{v:.4f}" if i == 0 else f"{v:.2f}"
                                                    for i, v in enumerate(cells)) + " |")
PY

# ---- tile sweep: the tiled products' speed for each tile shape (CNNVIS_VK_TILES), so the first run
# on a GPU gives the figures its vendor's ladder in tiles.c is tuned from; a table appended to
# compare.txt ----
if [ "$LAVAPIPE" = 1 ]; then
    SWEEP_TILES=${SWEEP_TILES:-"8x64x1/8x8/direct 8x32x1/8x4/direct 4x64x1/4x8/direct"}
    SWEEP_WORKLOADS=${SWEEP_WORKLOADS:-"gemm squeezenet-lucid-b1"}
else
    SWEEP_TILES=${SWEEP_TILES:-"128x128x16/8x8 128x64x16/8x4 64x128x16/4x8 64x64x16/4x4 64x32x16/4x4 32x32x16/4x4 128x128x8/8x8"}
    SWEEP_WORKLOADS=${SWEEP_WORKLOADS:-"gemm vgg16-forward-224"}
fi
# "default" is the device's own choice, "nosplit" the same without split-K (CNNVIS_VK_SPLITK=1).
for entry in default nosplit $SWEEP_TILES; do
    case $entry in
    default) settings=() ;;
    nosplit) settings=(CNNVIS_VK_SPLITK=1) ;;
    *) settings=(CNNVIS_VK_TILES="$entry") ;;
    esac
    # shellcheck disable=SC2086
    step "sweep-$entry" 60 "$WORK/sweep-${entry//\//_}.json" env "${settings[@]}" "$CNNVIS" bench $SWEEP_WORKLOADS \
        --device "$DEVICE" --profile --json --repeat 3 $SIZE_OPT
done
"$PYTHON" - "$WORK" "default nosplit $SWEEP_TILES" >> "$OUT/compare.txt" << 'PY'
import json, os, sys
work, entries = sys.argv[1], sys.argv[2].split()
labels = {"default": "the device's tiles", "nosplit": "the device's tiles, no split-K"}
print("\ntile sweep (CNNVIS_VK_TILES; 3 repeats; GFLOP/s: gemm's product, else the forward convs' in their kernel)\n")
print("| tiles | workload | median s | GFLOP/s |\n|---|---|---:|---:|")
for entry in entries:
    label = labels.get(entry, entry)
    path = os.path.join(work, "sweep-" + entry.replace("/", "_") + ".json")
    try:
        results = json.load(open(path))["results"]
    except (OSError, ValueError, KeyError):
        print(f"| {label} | (no result) | | |")
        continue
    for r in results:
        rate = r.get("gflops") or r.get("conv_forward_gflops")
        cell = f"{rate:.1f}" if rate else ""
        print(f"| {label} | {r['workload']} | {r['median_s']:.4f} | {cell} |")
PY

run_suites vulkan-forced

# ---- check.json: the three reports in one object, each with what check said on stderr (a report
# that is not JSON is kept as text) ----
"$PYTHON" - "$WORK" "$OUT/check.json" << 'PY'
import json, os, sys
work, out = sys.argv[1], sys.argv[2]
reports = {}
for model in ("squeezenet", "vgg16", "resnet50"):
    path = os.path.join(work, f"check-{model}.json")
    text = open(path).read() if os.path.exists(path) else ""
    try:
        reports[model] = json.loads(text)
    except ValueError:
        reports[model] = {"not_json": text}
    err = os.path.join(work, f"check-{model}.err")
    reports[model]["stderr"] = open(err).read() if os.path.exists(err) else ""
json.dump(reports, open(out, "w"), indent=1)
PY

say "== summary ($(($(date +%s) - START)) s)"
grep -v '"rc": 0' "$OUT/summary.jsonl" | sed 's/^/not passed: /' | tee -a "$LOG"
grep -c '"rc": 0' "$OUT/summary.jsonl" | sed 's/$/ steps passed/' | tee -a "$LOG"
