#!/usr/bin/env bash
# Cross-compiles the unit tests for ARM64 (cmake/aarch64-toolchain.cmake, dependencies from
# scripts/install-arm64-deps.sh) in build-arm64 and runs them under qemu-aarch64 with CTest, so the NEON,
# SVE and sdot paths are executed, not just compiled, and skipped/failing tests show as in a native run.
# Extra arguments go to ctest. EDGELLM_ARM64_BUILD_DIR (default build-arm64) picks the build folder.
#
# What runs: the test binaries of the layers core, kernels, format, tokenizer, model and runtime, without
# the tests labelled slow. Left out: tools_tests (they start the CLI as a child process, which without
# binfmt_misc would be an x86 exec of an ARM binary, and they talk to the node-based llama.cpp peer),
# measure_tests (they measure this machine's speed, meaningless under emulation, and assert minimum rates),
# the micro-benchmarks and the fuzz targets (the x86 runs cover them), and, by name, tests of what qemu-user
# does not emulate: LutRelease.MappedSourcePagesLeaveAfterPrepare (qemu 7.2 accepts madvise(MADV_PAGEOUT)
# but does nothing, so the pages stay resident).
# Highway's per-target tests run each compiled target qemu's default "max" CPU supports: NEON, SVE and
# SVE2 at qemu-user's default 512-bit vectors. The kernels binary then runs again at 128- and 256-bit SVE
# (QEMU_CPU), where SVE/SVE2 run at those lengths and Highway's fixed-length SVE2_128 and SVE_256 targets
# become usable too: code that takes MaxLanes for the vector length only breaks there.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${EDGELLM_ARM64_BUILD_DIR:-build-arm64}"
LAYERS=(core kernels format tokenizer model runtime)
QEMU_LIMITED_TESTS=(LutRelease.MappedSourcePagesLeaveAfterPrepare)

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-toolchain.cmake -DEDGELLM_BUILD_BENCH=OFF
cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${LAYERS[@]/%/_tests}"
# Only the layers built above (a label per layer): the tests of unbuilt binaries would report "NOT_BUILT".
label_regex="^($(IFS='|'; echo "${LAYERS[*]}"))$"
exclude_regex="^($(IFS='|'; echo "${QEMU_LIMITED_TESTS[*]//./\\.}"))$"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" -L "$label_regex" -LE slow -E "$exclude_regex" "$@"

qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64)"
for cpu in max,sve128=on max,sve256=on; do
  echo "test-arm64: kernels_tests with QEMU_CPU=$cpu"
  QEMU_CPU="$cpu" "$qemu" "$BUILD_DIR/tests/kernels_tests" --gtest_brief=1 \
    --gtest_filter="-$(IFS=':'; echo "${QEMU_LIMITED_TESTS[*]}")"
done
