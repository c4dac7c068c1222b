#!/bin/sh
# Seconds per training epoch of fashion-cnn on Fashion-MNIST (Adam, batch 32): cnnvis on the CPU
# backend, cnnvis on lavapipe (the Vulkan device of machines without a GPU), and PyTorch on the
# CPU training the same architecture on the same number of images, in the same run.
# A full epoch is 60,000 images; lavapipe is far too slow for one, so it trains on
# LAVAPIPE_LIMIT images and the per-epoch figure is scaled to 60,000 (printed as such).
#
# usage: bench/bench_train.sh [BUILD_DIR]   (env: CPU_LIMIT, LAVAPIPE_LIMIT, DATA)
set -eu
BUILD=${1:-build}
CNNVIS=$BUILD/cnnvis
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
CPU_LIMIT=${CPU_LIMIT:-60000}
LAVAPIPE_LIMIT=${LAVAPIPE_LIMIT:-640}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# train_seconds of epoch 1 from a cnnvis log, and the number of images it trained on
log_field() { /usr/bin/python3 -c "import json,sys; l=json.load(open(sys.argv[1])); print(l['epochs'][0]['train_seconds'], l['train_images'] // 32 * 32)" "$1"; }
per_epoch() { /usr/bin/python3 -c "import sys; s,n=float(sys.argv[1]),int(sys.argv[2]); print(f'{s:.1f} s for {n} images = {s*60000/n:.1f} s per 60k-image epoch')" "$1" "$2"; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for dev in cpu llvmpipe; do
    limit=$CPU_LIMIT
    [ "$dev" = llvmpipe ] && limit=$LAVAPIPE_LIMIT
    if "$CNNVIS" train --data "$DATA" --arch fashion-cnn --epochs 1 --batch 32 --limit "$limit" --device "$dev" \
        --log "$TMP/$dev.json" -o "$TMP/$dev.onnx" > /dev/null 2> "$TMP/$dev.err"; then
        set -- $(log_field "$TMP/$dev.json")
        echo "cnnvis $dev: $(per_epoch "$1" "$2")"
    else
        echo "cnnvis $dev: failed: $(cat "$TMP/$dev.err")"
    fi
done
if out=$(/usr/bin/python3 "$(dirname "$0")/peer_train_torch.py" --data "$DATA" --limit "$CPU_LIMIT" --batch 32); then
    set -- $out
    echo "pytorch cpu ($5 threads): $(per_epoch "$2" "$3")"
else
    echo "pytorch: not run"
fi
