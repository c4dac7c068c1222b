#!/usr/bin/env bash
# Runs every fuzz harness (or those named) for SECONDS each, from the generated seeds, and
# prints one line per harness: executions, seconds, and the libFuzzer verdict. A finding (crash,
# leak, timeout, out-of-memory) is written as crash-*/leak-*/timeout-*/oom-* into WORK/<name>/
# and makes the script exit 1.
#   usage: [RUNS=N] tests/fuzz/run.sh BUILD_FUZZ_DIR WORK SECONDS [harness...]
# RUNS (optional) also stops each harness after N executions, whichever comes first: the long
# runs are sized by executions (docs/RELIABILITY.md), not by time on a shared machine.
# BUILD_FUZZ_DIR was configured with CC=clang-14 -DCNNVIS_FUZZ=ON (docs/RELIABILITY.md).
set -u
build=$1 work=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
harnesses=${*:-onnx_model onnx_tensor keras_h5 keras_config npy image idx model_run}
mkdir -p "$work"
# Each execution rewrites one input file: keep it in memory where possible.
scratch=$work
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
[ -d "$work/seeds" ] || /usr/bin/python3 "$here/make_corpus.py" "$work/seeds" || exit 1
status=0
for h in $harnesses; do
  mkdir -p "$work/$h/corpus" "$work/$h/findings"
  # Keras: libhdf5's own crashes are contained by the sandbox, not fixable here; -fork with
  # -ignore_crashes goes on past them (they are kept in findings/ for the regression replay).
  extra=()
  # The same for image: stb_image's crashes are contained by cnv_image_load's child process.
  [ "$h" = keras_h5 ] || [ "$h" = image ] && extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  [ -n "${RUNS:-}" ] && extra+=(-runs="$RUNS")
  log="$work/$h/log"
  dirs=("$work/$h/corpus" "$work/seeds/$h")
  [ -d "$here/regressions/$h" ] && dirs+=("$here/regressions/$h")
  TMPDIR="$scratch" "$build/tests/fuzz/fuzz_$h" "${dirs[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
    -artifact_prefix="$work/$h/findings/" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  [ -z "$execs" ] && execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')
  found=$(ls "$work/$h/findings" 2>/dev/null | wc -l)
  echo "$h: ${execs:-?} executions in ${seconds} s, exit $rc, $found finding(s)"
  contained=0
  [ "$h" = keras_h5 ] || [ "$h" = image ] && contained=1
  [ "$rc" -ne 0 ] && [ "$contained" = 0 ] && status=1
  [ "$found" -ne 0 ] && [ "$contained" = 0 ] && status=1
done
exit $status
