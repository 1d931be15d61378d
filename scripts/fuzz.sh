#!/usr/bin/env bash
# Builds the GGUF libFuzzer target with clang (ASan + UBSan) in build-fuzz and runs it on the seed
# corpus for ${FUZZ_SECONDS:-60} seconds. Exits non-zero if the fuzzer finds a crash, leak or timeout.
# Only the gguf_fuzz target is built, so unfinished code elsewhere in the tree does not block it.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
seconds="${FUZZ_SECONDS:-60}"

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DEDGELLM_FUZZ=ON -DEDGELLM_BUILD_TESTS=ON -DEDGELLM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target gguf_fuzz

# New inputs go to a scratch corpus so the checked-in seeds stay small and reviewed.
work="$build/gguf-corpus"
artifacts="$build/gguf-artifacts"
mkdir -p "$work" "$artifacts"
"$build/tests/gguf_fuzz" "$work" "$root/tests/fuzz/corpus/gguf" \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$artifacts/" -print_final_stats=1
