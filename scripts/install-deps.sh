#!/usr/bin/env bash
# Installs edgellm's build and test dependencies from Debian 12's packages (the only source we use).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libhwy-dev             # Google Highway: portable SIMD with runtime dispatch
  libcli11-dev           # command-line parsing
  nlohmann-json3-dev     # JSON (bench reports, server)
  libcpp-httplib-dev     # HTTP server (edgellm serve)
  libpcre2-dev           # pre-tokenizer regexes
  libutf8proc-dev        # Unicode categories and normalisation
  libcurl4-openssl-dev   # model downloads
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and micro-benchmarks
  libexpat1-dev          # XML parser: a test reads bench's HTML report as XML
  clang libclang-rt-14-dev                     # libFuzzer targets
  nodejs npm                                   # llama.cpp peer (node-llama-cpp) for cross-checks
)
export DEBIAN_FRONTEND=noninteractive
# Only touch apt when something is missing, so repeated runs are fast and offline-safe.
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine whose node/npm came from elsewhere (e.g. NodeSource) already has them: don't fight it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || tmp+=("$p"); done; missing=("${tmp[@]}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
