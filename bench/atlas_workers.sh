#!/bin/sh
# The atlas speed-up of 1 against 2 workers on this machine (docs/SCALE.md): the bundled model's
# conv1 and conv2 (96 channels, 12 render items of 8 channels, 256 Lucid steps), once by one
# process, once by two (--shard 0/2 and 1/2 at the same time) followed by the indexing run.
# Prints the load average before each run, the wall times, and the mean seconds per item
# from the items' records. usage: bench/atlas_workers.sh [path/to/cnnvis] [extra options...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cnnvis=${1:-$root/build/cnnvis}
[ $# -gt 0 ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args="$root/models/fashion_mnist.onnx --layers conv1,conv2 --steps 256 --batch 8 --device cpu $*"
now() { date +%s.%N; }
mean_item_seconds() {
    cat "$1"/items/*.json | awk -F': ' '/"seconds"/ { s += $2; n++ } END { printf "%.2f s over %d items", s / n, n }'
}

echo "load average before 1 worker: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now)
"$cnnvis" atlas $args -o "$work/one" >/dev/null
t1=$(now)
echo "1 worker: $(echo "$t1 - $t0" | bc) s wall; per item $(mean_item_seconds "$work/one")"

echo "load average before 2 workers: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now)
"$cnnvis" atlas $args -o "$work/two" --shard 0/2 >/dev/null &
"$cnnvis" atlas $args -o "$work/two" --shard 1/2 >/dev/null
wait
t1=$(now)
"$cnnvis" atlas $args -o "$work/two" >/dev/null
t2=$(now)
echo "2 workers: $(echo "$t1 - $t0" | bc) s wall for the items, $(echo "$t2 - $t1" | bc) s the index; per item $(mean_item_seconds "$work/two")"
cmp -s "$work/one/index.json" "$work/two/index.json" && echo "index.json identical" || echo "index.json DIFFERS"
