#!/usr/bin/env bash
# Installs what the ARM64 cross-build and its qemu test run need, from Debian 12's packages only:
# the aarch64 cross compiler, qemu's user-mode emulator, and the arm64 multiarch -dev packages of the
# libraries the test binaries link. Header-only packages (nlohmann-json, CLI11) are architecture-independent
# and come from scripts/install-deps.sh. Idempotent: apt is touched only when something is missing.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  g++-aarch64-linux-gnu          # cross compiler (GCC 12, same as the native one)
  qemu-user-static               # qemu-aarch64-static runs the test binaries (no binfmt needed: we call it)
  nlohmann-json3-dev libcli11-dev  # header-only, any architecture
  libhwy-dev:arm64               # Highway: NEON (and SVE) targets
  libpcre2-dev:arm64 libutf8proc-dev:arm64
  libgtest-dev:arm64 libgmock-dev:arm64
  libexpat1-dev:arm64            # only for configuring tests/CMakeLists.txt (tools_tests are not run here)
)
added_arch=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install-arm64-deps: adding the arm64 architecture"
  $SUDO dpkg --add-architecture arm64
  added_arch=1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-arm64-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
elif [ "$added_arch" = 1 ]; then
  $SUDO apt-get update -qq
else
  echo "install-arm64-deps: all packages present"
fi
