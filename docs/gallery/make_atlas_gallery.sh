#!/bin/sh
# Regenerates atlas_squeezenet/: the atlas of SqueezeNet 1.1's fire modules (the first 16 channels
# of each fire concat, Lucid recipe at 64 steps, JPEG pictures) with the top 6 of the 13 pictures
# in ../shared (the two photographs, the ten CIFAR-10 test pictures, the car) per channel. About
# 20-35 minutes on the CPU backend of a busy 2-core machine; give --device N for a GPU, and
# --shard I/N to several processes to split it (see docs/SCALE.md).
# usage: docs/gallery/make_atlas_gallery.sh [path/to/cnnvis] [extra options...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cnnvis=${1:-$root/build/cnnvis}
[ $# -gt 0 ] && shift
shared=$root/../shared
squeezenet=$shared/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The pictures of ../shared in one folder (links), as --images takes them.
mkdir "$work/images"
for f in "$shared"/images/*.png "$shared"/models/cifar10_test_images/*.png "$shared"/models/squeezenet1.1_openvino_fp16/car.png; do
    ln -s "$f" "$work/images/"
done
"$cnnvis" atlas "$squeezenet" -o "$work/atlas" \
    --layers fire2/concat,fire3/concat,fire4/concat,fire5/concat,fire6/concat,fire7/concat,fire8/concat,fire9/concat \
    --max-channels 16 --steps 64 --images "$work/images" --k 6 --format jpg "$@"
rm -rf "$here/atlas_squeezenet"
cp -r "$work/atlas" "$here/atlas_squeezenet"
# The committed copy is re-encoded at JPEG quality 70 (about half of cnnvis' quality 90) to keep
# the repository small; the pictures are otherwise as cnnvis wrote them.
/usr/bin/python3 -c '
import cv2, glob, sys
for p in glob.glob(sys.argv[1] + "/layers/*/*.jpg"):
    cv2.imwrite(p, cv2.imread(p), [cv2.IMWRITE_JPEG_QUALITY, 70])
' "$here/atlas_squeezenet"
