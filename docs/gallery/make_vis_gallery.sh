#!/bin/sh
# Regenerates the feature-visualization pictures of the gallery (class, filter, neuron) from the
# built binary, with their JSON sidecars (every parameter, the seed, the model's sha256, the
# objective per step: the filter grids' start and final objectives are in their sidecars).
# On the CPU backend of a 2-core machine this takes about two hours (each fire grid about ten
# minutes); a GPU is much faster (--device). usage: docs/gallery/make_vis_gallery.sh [path/to/cnnvis] [extra options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cnnvis=${1:-$root/build/cnnvis}
[ $# -gt 0 ] && shift
shared=$root/../shared
squeezenet=$shared/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx
resnet8=$shared/models/cifar10_resnet8_mlperf_tiny/pretrainedResnet.h5

# Classes of SqueezeNet 1.1 with the default (Lucid) recipe, 512 steps, one batch.
"$cnnvis" class "$squeezenet" --class 967,980,417,852,94,949,951,779 --batch 8 "$@" \
    -o "$here/class_squeezenet.png"
# The control: plain gradient ascent on pixels gives adversarial noise the model also calls espresso.
"$cnnvis" class "$squeezenet" --class 967 --recipe plain --softmax --steps 64 "$@" -o "$here/class_plain_espresso.png"
# The ten CIFAR-10 classes of the Keras ResNet-8 (raw 0..255 input), rendered at 3x the input size.
"$cnnvis" class "$resnet8" --preset cifar10-raw --class 0,1,2,3,4,5,6,7,8,9 --batch 10 --size 96 "$@" \
    -o "$here/class_cifar10_resnet8.png"
# Single units, centre position, with the crop of their receptive field (NAME_crop.png).
for layer in conv1 fire3 fire6 fire9; do
    case $layer in conv1) l=conv1 ;; *) l=$layer/concat ;; esac
    "$cnnvis" neuron "$squeezenet" --layer "$l" --channel 12 --steps 256 "$@" -o "$here/neuron_$layer.png"
done
# At least 16 channels of every fire module with the default recipe (512 steps; the objective sees a
# leaky ReLU, so channels that are off on the start image still get a gradient). fire2, fire3 and
# fire5 go on past channel 15 so that 16 channels reach 20x their start next to the ones that cannot
# (README.md: fire3's 5 and 9 answer the grey start strongly, fire5's 9 is a dead filter).
for m in 2 3 4 5 6 7 8 9; do
    case $m in 2 | 5) channels=0-16 ;; 3) channels=0-17 ;; *) channels=0-15 ;; esac
    "$cnnvis" filter "$squeezenet" --layer fire$m/concat --channels $channels "$@" -o "$here/filter_fire$m.png"
done
# Coarse to fine: 4 octaves (x1.4) of 64 steps on pixels (with the sigmoid and colour decorrelation).
"$cnnvis" filter "$squeezenet" --layer fire5/concat --channels 0-3 --fourier off --octaves 4 --steps 64 "$@" \
    -o "$here/filter_fire5_octaves.png"
