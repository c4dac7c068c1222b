#!/usr/bin/env bash
# ctest fuzz_smoke (CI): builds the libFuzzer harnesses with clang-14 (ASan + UBSan) in
# BUILD_DIR and runs each for SECONDS from the generated seeds (run.sh). Exit 77 (skipped) when
# clang-14 or its libFuzzer runtime (libclang-rt-14-dev) is missing.
#   usage: tests/fuzz/smoke.sh SOURCE_DIR BUILD_DIR SECONDS
set -u
src=$1 build=$2 seconds=$3
if ! command -v clang-14 >/dev/null || ! clang-14 -print-file-name=libclang_rt.fuzzer-x86_64.a | grep -q /; then
  echo "fuzz_smoke: skipped: needs clang-14 and libclang-rt-14-dev"
  exit 77
fi
targets=()
for h in onnx_model onnx_tensor keras_h5 keras_config npy image idx model_run; do targets+=(--target "fuzz_$h"); done
CC=clang-14 cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNNVIS_FUZZ=ON -DCNNVIS_BUILD_TESTS=OFF \
  >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc)" "${targets[@]}" >"$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }
rm -rf "$build/work"
"$src/tests/fuzz/run.sh" "$build" "$build/work" "$seconds"
