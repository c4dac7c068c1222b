#!/bin/sh
# Seconds per optimization step of invert (fire5/concat), dream (fire5/concat, one octave) and
# style (the default five style layers and fire5/concat) on SqueezeNet 1.1: cnnvis on the CPU
# backend and on lavapipe, and PyTorch on the CPU doing the same forward+backward+update per step
# (bench/peer_synth_torch.py), in the same run. cnnvis's figure is the difference between a run
# of N steps and a run of 1 step (from the JSON sidecars' "seconds"), divided by N-1: set-up,
# targets and image loading cancel out.
#
# usage: bench/bench_synth.sh [BUILD_DIR]   (env: CPU_STEPS, LAVAPIPE_STEPS, PEER_STEPS)
set -eu
BUILD=${1:-build}
CNNVIS=$BUILD/cnnvis
SHARED=$(dirname "$0")/../../shared
MODEL=$SHARED/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx
CHELSEA=$SHARED/images/chelsea.png
ASTRONAUT=$SHARED/images/astronaut.png
CPU_STEPS=${CPU_STEPS:-11}
LAVAPIPE_STEPS=${LAVAPIPE_STEPS:-3}
PEER_STEPS=${PEER_STEPS:-10}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

seconds() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds'])" "$1"; }

# run VERB DEVICE STEPS: one cnnvis run; its sidecar is $TMP/VERB_DEVICE_STEPS.json
run() {
    out="$TMP/$1_$2_$3.png"
    case $1 in
    invert) "$CNNVIS" invert "$MODEL" "$ASTRONAUT" --layer fire5/concat --device "$2" --steps "$3" -o "$out" ;;
    dream) "$CNNVIS" dream "$MODEL" "$CHELSEA" --layer fire5/concat --size 227 --octaves 1 --device "$2" --steps "$3" \
        -o "$out" ;;
    style) "$CNNVIS" style "$MODEL" --content "$ASTRONAUT" --style "$CHELSEA" --device "$2" --steps "$3" -o "$out" ;;
    esac > /dev/null 2> "$TMP/err"
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for verb in invert dream style; do
    for dev in cpu llvmpipe; do
        n=$CPU_STEPS
        [ "$dev" = llvmpipe ] && n=$LAVAPIPE_STEPS
        if run $verb $dev 1 && run $verb $dev "$n"; then
            a=$(seconds "$TMP/${verb}_${dev}_1.json")
            b=$(seconds "$TMP/${verb}_${dev}_$n.json")
            echo "cnnvis $verb $dev 227x227: $(/usr/bin/python3 -c "import sys; print(f'{(float(sys.argv[2])-float(sys.argv[1]))/(int(sys.argv[3])-1):.3f}')" "$a" "$b" "$n") s/step"
        else
            echo "cnnvis $verb $dev: failed: $(cat "$TMP/err")"
        fi
    done
    if out=$(/usr/bin/python3 "$(dirname "$0")/peer_synth_torch.py" $verb 227 227 "$PEER_STEPS"); then
        set -- $out
        echo "pytorch $verb cpu 227x227 ($5 threads): $4 s/step"
    else
        echo "pytorch $verb: not run"
    fi
done
