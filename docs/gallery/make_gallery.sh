#!/bin/sh
# Regenerates every gallery picture of the image-inspection verbs from the built binary.
# usage: docs/gallery/make_gallery.sh [path/to/cnnvis]   (default: build/cnnvis)
# Needs ../shared (the models and images beside the repository).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cnnvis=${1:-$root/build/cnnvis}
shared=$root/../shared
squeezenet=$shared/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx
mnist=$shared/models/mnist/mnist-12/model.onnx
chelsea=$shared/images/chelsea.png
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The first 100 MNIST test digits as PNG files (the IDX file: a 16-byte header, then 28x28 bytes
# per digit; cnnvis reads PNG, JPEG and BMP), written by Python's standard library alone.
idx=$shared/models/mnist/real_digits_t10k_first100/t10k-images-first100-idx3-ubyte
mkdir "$tmp/digits"
/usr/bin/python3 - "$idx" "$tmp/digits" <<'EOF'
import struct, sys, zlib
idx, out = sys.argv[1], sys.argv[2]
data = open(idx, "rb").read()
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
for i in range(100):
    pixels = data[16 + i * 784:16 + (i + 1) * 784]
    rows = b"".join(b"\0" + pixels[r * 28:(r + 1) * 28] for r in range(28))  # filter 0 per row
    header = struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)  # 8-bit grey
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    open("%s/d%03d.png" % (out, i), "wb").write(png)
EOF

# maps: the 16 squeeze channels of SqueezeNet's fire2 on the cat; the first conv of the MNIST model on a 7.
"$cnnvis" maps "$squeezenet" "$chelsea" --layer fire2/squeeze1x1 -o "$here/maps_chelsea_fire2_squeeze1x1.png"
"$cnnvis" maps "$mnist" "$tmp/digits/d000.png" --layer ReLU32 --cmap viridis -o "$here/maps_digit7_ReLU32.png"
# gradcam: where SqueezeNet sees its top class (Egyptian cat).
"$cnnvis" gradcam "$squeezenet" "$chelsea" -o "$here/gradcam_chelsea.png"
# topk: the 9 digits (of 100) that most excite each of the 16 channels of the MNIST model's ReLU114.
"$cnnvis" topk "$mnist" --images "$tmp/digits" --layer ReLU114 --k 9 -o "$here/topk_mnist.png"
# deconv: Zeiler & Fergus projections of the strongest activation of the 8 strongest channels of
# pool5 and fire9/concat; one fire9 channel unpooled by the switches and by filling the windows.
"$cnnvis" deconv "$squeezenet" "$chelsea" --layer pool5 --top 8 -o "$here/deconv_pool5_top8.png"
"$cnnvis" deconv "$squeezenet" "$chelsea" --layer fire9/concat --top 8 -o "$here/deconv_fire9_top8.png"
"$cnnvis" deconv "$squeezenet" "$chelsea" --layer fire9/concat --channel 488 -o "$here/deconv_fire9_ch488_switches.png"
"$cnnvis" deconv "$squeezenet" "$chelsea" --layer fire9/concat --channel 488 --unpool fill \
    -o "$here/deconv_fire9_ch488_fill.png"
# saliency of the top class (Egyptian cat) by each method; SmoothGrad with its defaults (50
# samples, noise 0.15, seed 0).
for method in grad guided smoothgrad gradxinput; do
    "$cnnvis" saliency "$squeezenet" "$chelsea" --method $method -o "$here/saliency_$method.png"
done
# Synthesis (the JSON sidecars are left out of the gallery).
astronaut=$shared/images/astronaut.png
# invert: the astronaut reconstructed from noise out of conv1, fire2, fire5 and fire9 (recipe invert).
"$cnnvis" invert "$squeezenet" "$astronaut" --layers conv1,fire2/concat,fire5/concat,fire9/concat \
    -o "$here/invert_astronaut.png"
# dream: the cat dreamt at fire5/concat (recipe dream: 4 octaves x 1.4, 10 steps, jitter 32), then
# 12 frames of infinite zoom as a GIF.
"$cnnvis" dream "$squeezenet" "$chelsea" --layer fire5/concat -o "$here/dream_chelsea_fire5.png"
"$cnnvis" dream "$squeezenet" "$chelsea" --layer fire5/concat --zoom-frames 12 --gif "$here/dream_chelsea_zoom.gif" \
    -o "$tmp/dream_zoom.png"
# style: the cat in the colours and strokes of the astronaut picture (defaults: style layers conv1,
# fire2, fire3, fire5, fire7; content fire5; weights 10 and 1; from the content).
"$cnnvis" style "$squeezenet" --content "$chelsea" --style "$astronaut" -o "$here/style_chelsea_astronaut.png"
rm -f "$here/invert_astronaut.json" "$here/dream_chelsea_fire5.json" "$here/style_chelsea_astronaut.json"

# The demo's pictures of the bundled Fashion-MNIST model: class images within the image prior and
# without it, relu2's filters, and Grad-CAM of the trouser test image.
"$cnnvis" demo -o "$tmp/demo" >/dev/null
cp "$tmp/demo/classes.png" "$here/demo_classes.png"
cp "$tmp/demo/classes_fourier.png" "$here/demo_classes_fourier.png"
cp "$tmp/demo/filters_relu2.png" "$here/demo_filters_relu2.png"
cp "$tmp/demo/gradcam_1.png" "$here/demo_gradcam_trouser.png"
