#!/usr/bin/env bash
# Installs the llama.cpp peer used by edgellm's cross-check test: node-llama-cpp 3.22.1 with its
# prebuilt linux-x64 CPU binaries, from npm only (nothing is compiled or fetched from GitHub).
#
#   scripts/peer-install.sh [DIR]     DIR defaults to ${EDGELLM_PEER_DIR:-$HOME/.cache/edgellm/llamacpp}
#
# Afterwards run the test with EDGELLM_PEER_DIR=DIR (or rely on the same default); see docs/crosscheck.md.
set -euo pipefail

dir="${1:-${EDGELLM_PEER_DIR:-$HOME/.cache/edgellm/llamacpp}}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "peer-install: node and npm are required (Node >= 20)" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "peer-install: Node >= 20 is required, found $(node --version)" >&2
  exit 1
fi

mkdir -p "$dir"
cat > "$dir/package.json" <<'JSON'
{
  "name": "edgellm-llamacpp-peer",
  "private": true,
  "version": "0.0.0",
  "description": "llama.cpp (prebuilt, from npm) as edgellm's cross-check peer",
  "type": "module",
  "dependencies": {
    "@node-llama-cpp/linux-x64": "3.22.1",
    "node-llama-cpp": "3.22.1"
  }
}
JSON
# --omit=optional skips the CUDA/Vulkan variants; the variable stops node-llama-cpp from trying to
# download or build llama.cpp. `npm install`, not `npm ci`: the registry lacks some other
# platforms' optional packages that a lock file would name.
cd "$dir"
NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund
echo "peer-install: installed node-llama-cpp 3.22.1 into $dir"
