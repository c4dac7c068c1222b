#!/bin/sh
# Prepares the device kit: everything bench/device/run.sh needs on a lent GPU machine that reaches
# no package registry, in one git-ignored folder that the device tool carries (its `carry`
# parameter; bench/device/README.md has the exact call). Run here, from anywhere in the checkout:
#
#   bench/device/prepare.sh            (env: BUILD=build, KIT=.devkit, JOBS=$(nproc))
#
# It builds cnnvis Release (with its test binaries), then gathers into $KIT:
#   payload.tar.xz  bin/cnnvis, tests/test_ops_*, test_vulkan_runtime and test_program_replay
#                   (stripped, its fixture beside them), lib/ (the
#                   shared libraries they load, less glibc's and libgcc_s, which every Linux has),
#                   models/squeezenet1.1.onnx (from ../shared)
#   debs/           the Vulkan loader (libvulkan1), the validation layer (vulkan-validationlayers) and
#                   libglvnd0 (NVIDIA's Vulkan driver loads libGLdispatch), as Debian .deb files
#   MANIFEST.txt    the commit, the build, every file with its size
# and prints the kit's size and what the whole call carries (the tracked tree travels too): the
# device tool takes 64 MiB in all.
set -eu
ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$ROOT"
BUILD=${BUILD:-build}
KIT=${KIT:-.devkit}
JOBS=${JOBS:-$(nproc)}
SQUEEZENET=../shared/models/squeezenet1.1_openvino_fp16/derived/squeezenet1.1_fp32_from_ir.onnx
LIMIT=$((64 * 1024 * 1024))

[ "$(uname -m)" = x86_64 ] || { echo "prepare.sh: the GPU machine is x86-64; build the kit on an x86-64 machine" >&2; exit 2; }
[ -f "$SQUEEZENET" ] || { echo "prepare.sh: $SQUEEZENET is missing (../shared beside the checkout)" >&2; exit 2; }
git check-ignore -q "$KIT" || { echo "prepare.sh: $KIT is not ignored by git: it would travel twice" >&2; exit 2; }

echo "== building $BUILD (Release)"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD" -j"$JOBS" > "$BUILD/devkit-build.log" 2>&1 || { tail -20 "$BUILD/devkit-build.log"; exit 1; }

rm -rf "$KIT"
STAGE=$KIT/stage
mkdir -p "$STAGE/bin" "$STAGE/tests" "$STAGE/lib" "$STAGE/models" "$KIT/debs"
strip --strip-unneeded -o "$STAGE/bin/cnnvis" "$BUILD/cnnvis"
for t in "$BUILD"/tests/test_ops_* "$BUILD"/tests/test_vulkan_runtime "$BUILD"/tests/test_program_replay; do
    strip --strip-unneeded -o "$STAGE/tests/$(basename "$t")" "$t"
done
cp "$SQUEEZENET" "$STAGE/models/squeezenet1.1.onnx"
mkdir -p "$STAGE/fixtures/torch"
cp tests/fixtures/torch/vgg_small.onnx "$STAGE/fixtures/torch/" # test_program_replay's model

# The libraries the binaries load, resolved here; glibc and libgcc_s are the machine's own there.
ldd "$STAGE"/bin/* "$STAGE"/tests/* | awk '/=> \//{print $3}' | sort -u |
    grep -vE '/(libc|libm|libdl|libpthread|librt|libresolv|libgcc_s)\.so' |
    while read -r lib; do cp -L "$lib" "$STAGE/lib/"; done

echo "== packing (xz)"
tar -cf - -C "$STAGE" . | xz -T"$JOBS" -6 > "$KIT/payload.tar.xz"
rm -rf "$STAGE"

echo "== Debian packages"
(cd "$KIT/debs" && apt-get download libvulkan1 vulkan-validationlayers libglvnd0 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
    { echo "prepare.sh: apt-get download failed (run apt-get update first)" >&2; exit 1; }

{
    echo "cnnvis device kit, commit $(git rev-parse HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
    echo "built $(date -u +%Y-%m-%dT%H:%MZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(cc --version | head -1)"
    xz -dc "$KIT/payload.tar.xz" | tar -tvf - | awk '{print $3, $6}'
    ls -l "$KIT"/debs | awk 'NR > 1 {print $5, "debs/" $9}'
} > "$KIT/MANIFEST.txt"

kit=$(du -sb "$KIT" | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((kit + tree + ${untracked:-0}))
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
echo "== kit $KIT: $(mib "$kit") (payload $(mib "$(stat -c %s "$KIT/payload.tar.xz")"), debs $(mib "$(du -sb "$KIT/debs" | cut -f1)"))"
echo "   with the tracked tree ($(mib "$tree")) and untracked files ($(mib "${untracked:-0}")) a call carries $(mib "$total") of 64 MiB"
[ "$total" -le "$LIMIT" ] || { echo "prepare.sh: over the device tool's 64 MiB" >&2; exit 1; }
