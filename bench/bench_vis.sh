#!/usr/bin/env bash
# Seconds per step of each feature-visualization recipe at 227x227 (SqueezeNet 1.1, one class
# image) on the CPU backend and on Vulkan (lavapipe here, or any device named in DEVICES), and
# the PyTorch peer (bench/peer_squeezenet_torch.py) in the same run.
#
# Each figure is the marginal cost of a step: (time of N2 steps - time of N1 steps) / (N2 - N1),
# so model loading, graph building and pipeline creation are not counted.
#
# usage: bench/bench_vis.sh BUILD_DIR [MODEL]   (DEVICES="cpu llvmpipe" N1=4 N2=12 by default)
set -euo pipefail
build=${1:?usage: bench_vis.sh BUILD_DIR [MODEL]}
here=$(cd "$(dirname "$0")" && pwd)
model=${2:-$here/../../shared/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx}
devices=${DEVICES:-cpu llvmpipe}
n1=${N1:-4}
n2=${N2:-12}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

seconds() { # recipe device steps -> the run's "seconds" from its JSON sidecar
    "$build/cnnvis" class "$model" --class 967 --recipe "$1" --rounds 0 --steps "$3" --device "$2" \
        -o "$tmp/out.png" > /dev/null
    /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['seconds'])" "$tmp/out.json"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-10s %16s\n' recipe device seconds/step
for device in $devices; do
    for recipe in lucid sainburg plain; do
        a=$(seconds "$recipe" "$device" "$n1")
        b=$(seconds "$recipe" "$device" "$n2")
        printf '%-10s %-10s %16.3f\n' "$recipe" "$device" "$(/usr/bin/python3 -c "print(($b - $a) / ($n2 - $n1))")"
    done
done
printf '%-10s %-10s %16s\n' "pytorch" "cpu" "$(/usr/bin/python3 "$here/peer_squeezenet_torch.py" --steps 10 | cut -d= -f2)"
