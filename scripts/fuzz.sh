#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cc) with clang (ASan + UBSan) in build-fuzz and runs each on
# its seed corpus tests/fuzz/corpus/<name>/: the GGUF reader for ${FUZZ_SECONDS:-60} seconds, the others
# (jinja, hf_tokenizer_json, llama2c, vocab) for ${FUZZ_SECONDS_OTHER:-20} seconds each. Every target runs even
# if an earlier one failed; the script exits non-zero if any finds a crash, leak or timeout (reproducers are
# left in build-fuzz/<name>-artifacts/). Only the fuzz targets are built, so unfinished code elsewhere in the
# tree does not block them.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
seconds="${FUZZ_SECONDS:-60}"
seconds_other="${FUZZ_SECONDS_OTHER:-20}"
targets=(gguf jinja hf_tokenizer_json llama2c vocab logits)

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DEDGELLM_FUZZ=ON -DEDGELLM_BUILD_TESTS=ON -DEDGELLM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target "${targets[@]/%/_fuzz}"

# The vocab target starts from the GGUF seeds too: they already carry tokenizer metadata.
extra_seeds() { [[ "$1" == vocab ]] && echo "$root/tests/fuzz/corpus/gguf"; return 0; }

failed=()
for name in "${targets[@]}"; do
  t="$seconds_other"
  [[ "$name" == gguf ]] && t="$seconds"
  # New inputs go to a scratch corpus so the checked-in seeds stay small and reviewed.
  work="$build/$name-corpus"
  artifacts="$build/$name-artifacts"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz $name for ${t}s"
  # shellcheck disable=SC2046  # extra_seeds prints zero or one path without spaces
  if ! "$build/tests/${name}_fuzz" "$work" "$root/tests/fuzz/corpus/$name" $(extra_seeds "$name") \
      -max_total_time="$t" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$artifacts/" -print_final_stats=1; then
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: failures in ${failed[*]} (reproducers in $build/<name>-artifacts/)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"
