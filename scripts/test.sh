#!/usr/bin/env bash
# Builds edgellm (Release) and runs every test with CTest. Extra arguments go to ctest.
# EDGELLM_BUILD_DIR (default build) picks the build folder; EDGELLM_SANITIZE=1 builds with ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${EDGELLM_BUILD_DIR:-build}"
CMAKE_ARGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
if [ "${EDGELLM_SANITIZE:-0}" = "1" ]; then
  CMAKE_ARGS+=(-DEDGELLM_SANITIZE=ON -DEDGELLM_BUILD_BENCH=OFF)
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
# Tests that tune kernels write their per-machine cache here, not into the user's ~/.cache.
export EDGELLM_CACHE_DIR="${EDGELLM_CACHE_DIR:-$PWD/$BUILD_DIR/test-cache}"
cmake -S . -B "$BUILD_DIR" "${CMAKE_ARGS[@]}"
cmake --build "$BUILD_DIR" -j "$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
