#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (leaks included): builds
# BUILD_DIR with -DCNNVIS_SANITIZE=ON and runs ctest there, optionally only the tests matching a
# ctest regex. Slower than the plain suite (about 3x); docs/RELIABILITY.md lists its last result.
#   usage: tests/run_sanitized.sh [BUILD_DIR [REGEX]]     (default: build-asan, every test)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-asan}
regex=${2:-.}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNNVIS_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
# Vulkan drivers and the loader leak at exit by design; the suites' own checks still run.
# The Keras sandbox sets no address-space limit under ASan (shadow memory): refuse huge single
# allocations instead, as the limit would.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1:max_allocation_size_mb=1024}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" -R "$regex" --output-on-failure
