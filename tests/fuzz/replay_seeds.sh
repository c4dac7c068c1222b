#!/usr/bin/env bash
# ctest fuzz_seeds: writes the seed corpora (make_corpus.py) and runs every harness once on each
# seed in the ordinary build (replay_<name>), so a harness that crashes on valid input fails here
# without clang.   usage: tests/fuzz/replay_seeds.sh BUILD_DIR WORK
set -eu
build=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
/usr/bin/python3 "$here/make_corpus.py" "$work/seeds"
for seeds in "$work"/seeds/*/; do
  name=$(basename "$seeds")
  TMPDIR="$work" "$build/tests/fuzz/replay_$name" "$seeds" | sed "s/^/$name: /"
done
