#!/usr/bin/env bash
# The numbers of docs/quality.md: for every weight format, bits per weight, weight-reconstruction RMSE
# (edgellm quantize --report), perplexity and KL divergence against the F32 model (edgellm perplexity
# --save-logits / --kld-base), as Markdown tables on stdout.
#
#   scripts/quality-report.sh [-b BUILD_DIR] [-w WORK_DIR] [-t THREADS] [llama2c] [synth] [target]
#
# llama2c: ../shared/testdata/llama2c/aidreams260K.bin converted to F32, scored on tests/data/ai_dreams_eval.txt.
# synth:   the "tiny" preset (random weights, every row a multiple of 256 so all k-quants apply), same text.
# target:  the issue's 3-bit question on a llama3.2-1b synth with a 32000-token vocabulary: KLD vs F16 of the
#          3-bit elq formats and Q4_K_M, and their decode speed (edgellm bench -t 1 -p 0 -n 64 --reps 2).
#          Needs ~10 GB of disk in WORK_DIR and several minutes.
# With no section named, runs llama2c and synth (a few minutes on two cores).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
work="${TMPDIR:-/tmp}/edgellm-quality"
threads=2
sections=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b) build=$2; shift 2 ;;
    -w) work=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    llama2c|synth|target) sections+=("$1"); shift ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-w WORK_DIR] [-t THREADS] [llama2c] [synth] [target]" >&2; exit 2 ;;
  esac
done
[[ ${#sections[@]} -gt 0 ]] || sections=(llama2c synth)
el="$build/bin/edgellm"
[[ -x "$el" ]] || { echo "no $el: build first (scripts/test.sh or cmake --build)" >&2; exit 1; }
shared="${EDGELLM_SHARED_DIR:-$root/../shared}"
text="$root/tests/data/ai_dreams_eval.txt"
mkdir -p "$work"

# Every format edgellm writes that the report covers: llama.cpp's, then edgellm's.
llama_types=(f16 bf16 q8_0 q6_K q5_K_M q5_K q5_1 q5_0 q4_K_M q4_K q4_1 q4_0 q3_K_M q3_K q2_K tq2_0 tq1_0)
elq_types=()
for bits in 8 7 6 5 4 3 2 1; do
  for g in 32 64 128; do elq_types+=("elq${bits}_g$g" "elq${bits}z_g$g"); done
done
elq_types+=(elqt_g32 elqt_g64 elqt_g128)

# row JSON FIELD...: one Markdown row, the given fields, then PPL, PPL ratio, mean KLD ± error, KLD p99 and top-1
# from the perplexity --json output (or, with a last field "tg=CELLS", the short table of the target section with
# CELLS appended).
row() {
  python3 - "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
k = j["kld"]
cells = sys.argv[2:]
tg = None
if cells and cells[-1].startswith("tg="):
    tg = cells.pop()[3:]
else:
    cells += [f"{j['ppl']:.3f}", f"{k['ppl_ratio']:.4f}"]
cells += [f"{k['mean']:.3g} ± {k['mean_error']:.1g}", f"{k['p99']:.3g}", f"{k['top1_percent']:.2f}"]
if tg is not None:
    cells.append(tg)
print("| " + " | ".join(cells) + " |")
PY
}

# quality MODEL_F32 NAME CTX: one table row per format against MODEL_F32's saved log-probabilities.
quality() {
  local ref=$1 name=$2 ctx=$3
  shift 3
  local base="$work/$name.ref.elp"
  "$el" perplexity -m "$ref" -f "$text" -c "$ctx" -t "$threads" --save-logits "$base" --json >"$work/$name.ref.json"
  echo "| format | matrices stored as | bpw (layers) | bpw (all) | weight rel. RMSE | PPL | PPL ratio | mean KLD | KLD p99 | top-1 % |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  jq -r '"| F32 (reference) | f32 | 32 | 32 | 0 | \(.ppl*1000|round/1000) ± \(.ppl_error*1000|round/1000) | 1 | 0 | 0 | 100 |"' \
    "$work/$name.ref.json"
  local t q
  for t in "$@"; do
    q="$work/$name.$t.gguf"
    if ! "$el" quantize "$ref" "$q" --type "$t" --report -t "$threads" >"$work/$name.$t.report" 2>"$work/$name.$t.err"; then
      echo "| $t | (not written: $(tail -1 "$work/$name.$t.err")) |||||||||"
      continue
    fi
    "$el" perplexity -m "$q" -f "$text" -c "$ctx" -t "$threads" --kld-base "$base" --json >"$work/$name.$t.json"
    # Layer bpw: bytes and elements of the blk.* matrices the report lists (converted tensors only).
    local stored layer_bpw total_bpw rel
    stored=$(grep -o '^[0-9]* tensors (.*)' "$work/$name.$t.err" | sed 's/^[0-9]* tensors (\(.*\))/\1/')
    layer_bpw=$(awk '$1 ~ /^blk\./ {e += $4; b += $5} END {if (e) printf "%.3f", 8 * b / e; else print "-"}' \
      "$work/$name.$t.report")
    total_bpw=$(sed -n 's/.*rel_rmse [0-9.]*, \([0-9.]*\) bits per weight.*/\1/p' "$work/$name.$t.report")
    rel=$(sed -n 's/^total:.*rel_rmse \([0-9.]*\),.*/\1/p' "$work/$name.$t.report")
    row "$work/$name.$t.json" "$t" "$stored" "$layer_bpw" "$total_bpw" "$rel"
    rm -f "$q"
  done
}

for s in "${sections[@]}"; do
  case "$s" in
    llama2c)
      l2c="$shared/testdata/llama2c"
      [[ -f "$l2c/aidreams260K.bin" ]] || { echo "missing $l2c/aidreams260K.bin" >&2; exit 1; }
      "$el" convert "$l2c/aidreams260K.bin" --from llama2c --tokenizer "$l2c/tok512.bin" --type f32 \
        -o "$work/l2c.f32.gguf" >/dev/null 2>&1
      echo "### llama2c aidreams260K (dim 64, hidden 172, vocab 512), --ctx 128, $(basename "$text")"
      echo
      quality "$work/l2c.f32.gguf" l2c 128 "${llama_types[@]}" "${elq_types[@]}"
      echo
      ;;
    synth)
      "$el" synth --preset tiny --type f32 -o "$work/tiny.f32.gguf" >/dev/null 2>&1
      echo "### synth tiny (random weights; dim 256, ff 768, 4 layers, vocab 2048), --ctx 256, $(basename "$text")"
      echo
      quality "$work/tiny.f32.gguf" tiny 256 "${llama_types[@]}" "${elq_types[@]}"
      echo
      ;;
    target)
      big="$work/l1b.f16.gguf"
      [[ -f "$big" ]] || "$el" synth --preset llama3.2-1b --n-vocab 32000 --type f16 -o "$big" >/dev/null 2>&1
      echo "### llama3.2-1b synth (random weights, vocab 32000): 3-bit elq vs Q4_K_M, KLD vs F16, --ctx 128, 4 chunks"
      echo
      # The F16 model is the reference here; the --chunks limit keeps each run to a minute on two cores.
      text_big="$text"
      ref_json="$work/l1b.ref.json"
      "$el" perplexity -m "$big" -f "$text_big" -c 128 --chunks 4 -t "$threads" --save-logits "$work/l1b.ref.elp" \
        --json >"$ref_json"
      echo "| format | bpw (layers) | weight rel. RMSE | mean KLD vs F16 | KLD p99 | top-1 % | MB/token | decode tok/s (-t 1) |"
      echo "|---|---|---|---|---|---|---|---|"
      for t in q4_K_M q4_K q3_K_M elq4_g64 elq3_g32 elq3z_g32 elq3_g64 elq3z_g64 elq3z_g128; do
        q="$work/l1b.$t.gguf"
        "$el" quantize "$big" "$q" --type "$t" --report -t "$threads" >"$work/l1b.$t.report" 2>/dev/null
        "$el" perplexity -m "$q" -f "$text_big" -c 128 --chunks 4 -t "$threads" --kld-base "$work/l1b.ref.elp" \
          --json >"$work/l1b.$t.json"
        "$el" bench -m "$q" -t 1 -p 0 -n 64 --reps 2 >"$work/l1b.$t.bench" 2>&1 || true
        tg=$(awk -F'|' '$5 ~ /tg64/ {gsub(/^ +| +$/, "", $7); print $7; exit}' "$work/l1b.$t.bench")
        layer_bpw=$(awk '$1 ~ /^blk\./ {e += $4; b += $5} END {printf "%.3f", 8 * b / e}' "$work/l1b.$t.report")
        rel=$(sed -n 's/^total:.*rel_rmse \([0-9.]*\),.*/\1/p' "$work/l1b.$t.report")
        mbt=$(sed -n 's/.*decode reads \([0-9.]*\) MB\/token.*/\1/p' "$work/l1b.$t.bench" | head -1)
        row "$work/l1b.$t.json" "$t" "$layer_bpw" "$rel" "tg=${mbt:-?} | ${tg:-?}"
        rm -f "$q"
      done
      echo
      ;;
  esac
done
