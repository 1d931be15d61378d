#!/usr/bin/env bash
# One-invocation end-to-end comparison of edgellm and llama.cpp (issue 4, item 7): makes (or reuses, cached by
# name) random-weight GGUF files of the Llama-3.2-1B shape with a 32000-token vocabulary at several weight types,
# then runs `edgellm bench --compare llamacpp` over all of them in one process: the same files and token ids for
# both engines, each engine's run bracketed by memory-bandwidth measurements, one markdown table on stdout and a
# JSON report (docs/bench-json.md, "compare").
#
#   scripts/compare-llamacpp.sh [options] [-- extra edgellm bench flags]
#     --edgellm PATH    the edgellm binary (default: build/bin/edgellm)
#     --cache DIR       where the model files live (default: ${XDG_CACHE_HOME:-$HOME/.cache}/edgellm/compare)
#     --types LIST      comma list (default: q8_0,q4_0,q4_K_M,q2_K,tq2_0,tq1_0,elq3z_g32,elq3_g64,elq2_g64)
#     --preset NAME     model shape (default: llama3.2-1b)
#     --json FILE       JSON report (default: compare.json)
#     --quick           -p 64 -n 16 --reps 1 instead of -p 512 -n 128 --reps 3
#   Other bench flags after --, e.g. -- -t 1 --busy-limit 100. Defaults: -t 1,2.
#
# Files: the preset is synthesized once at f16 (<preset>-v32000-f16.gguf), every type is made from it by
# `edgellm quantize` (its llama.cpp-like per-tensor rules: output/tied embedding Q6_K below 6 bits, token
# embedding Q8_0 below 8 bits); q4_K_M is llama.cpp's mix (more bits for attn_v/ffn_down in some layers).
# elq3z_g32 is the 3-bit format docs/quality.md compares with Q4_K_M. llama.cpp refuses the elq types
# (edgellm's own tensor ids): they show as n/a on its side. The llama.cpp peer: scripts/peer-install.sh, found via
# EDGELLM_PEER_DIR (default $HOME/.cache/edgellm/llamacpp).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
edgellm="$root/build/bin/edgellm"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/edgellm/compare"
types="q8_0,q4_0,q4_K_M,q2_K,tq2_0,tq1_0,elq3z_g32,elq3_g64,elq2_g64"
preset="llama3.2-1b"
json="compare.json"
prompt=512 gen=128 reps=3
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --edgellm) edgellm="$2"; shift 2 ;;
    --cache) cache="$2"; shift 2 ;;
    --types) types="$2"; shift 2 ;;
    --preset) preset="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    --quick) prompt=64 gen=16 reps=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-llamacpp: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -x "$edgellm" ]; then
  echo "compare-llamacpp: no edgellm binary at $edgellm (build it, or pass --edgellm)" >&2
  exit 1
fi
# Defaults for the grid flags the extra bench flags do not set themselves.
given=" ${extra[*]:-} "
run_flags=()
[[ "$given" =~ \ (-p|--n-prompt)[\ =] ]] || run_flags+=(-p "$prompt")
[[ "$given" =~ \ (-n|--n-gen)[\ =] ]] || run_flags+=(-n "$gen")
[[ "$given" =~ \ --reps[\ =] ]] || run_flags+=(--reps "$reps")
[[ "$given" =~ \ (-t|--threads)[\ =] ]] || run_flags+=(-t 1,2)

mkdir -p "$cache"
base="$cache/$preset-v32000-f16.gguf"
if [ ! -s "$base" ]; then
  echo "compare-llamacpp: synthesizing $base" >&2
  "$edgellm" synth --preset "$preset" --type f16 --n-vocab 32000 -o "$base.tmp"
  mv "$base.tmp" "$base"
fi
models=""
IFS=',' read -r -a type_list <<< "$types"
for t in "${type_list[@]}"; do
  f="$cache/$preset-v32000-$t.gguf"
  if [ ! -s "$f" ]; then
    echo "compare-llamacpp: quantizing $f" >&2
    # A temporary name first, so an interrupted run never leaves a half-written file in the cache.
    "$edgellm" quantize "$base" "$f.tmp" --type "$t"
    mv "$f.tmp" "$f"
  fi
  models="${models:+$models,}$f"
done

exec "$edgellm" bench -m "$models" --compare llamacpp --json "$json" "${run_flags[@]}" ${extra[@]+"${extra[@]}"}
