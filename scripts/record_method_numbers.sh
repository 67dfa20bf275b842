#!/usr/bin/env bash
# Records every existing method's numbers on the bundled brown-llama (fixed seeds, small
# settings) so a refactor of the engine can be checked bit for bit: each variant's
# `calibrate --json` output, minus the wall-clock fields, goes to OUT_DIR/VARIANT.json.
# With BASELINE_DIR (experiments/framework-baseline/numbers, recorded before the issue-15
# lifecycle redesign) it then compares: every number must be identical; the only lines allowed
# to differ are the run config's "activations" and "kv" sections, which did not exist then.
#   scripts/record_method_numbers.sh QUANTSCOPE_EXECUTABLE OUT_DIR [BASELINE_DIR]
set -euo pipefail
q="$1"
out="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
workspace="$(mktemp -d)"
trap 'rm -rf "$workspace"' EXIT
mkdir -p "$out"

common=(--samples 8 --seq-len 256 --eval-max-windows 4 --seed 0 --workspace "$workspace" --json -q)
variants=(
  "rtn-w3g128|--method rtn --wbits 3 --group 128"
  "rtn-w2g64-sym|--method rtn --wbits 2 --group 64 --sym"
  "gptq-w3g128|--method gptq --wbits 3 --group 128"
  "gptq-w2g64-actorder|--method gptq --wbits 2 --group 64 --act-order"
  "omniquant-mse-w2g64|--method omniquant --wbits 2 --group 64 --epochs 2"
  "omniquant-let-aug-w3g128|--method omniquant --wbits 3 --group 128 --epochs 2 --let --aug-loss"
  "omniquant-mse-sw-w2g64|--method omniquant --wbits 2 --group 64 --epochs 2 --loss mse:0.9,sw:12.8"
  "omniquant-mse-nlc-w2g64|--method omniquant --wbits 2 --group 64 --epochs 2 --loss mse:1,nlc:0.1"
  "omniquant-mse-kltop-w2g64|--method omniquant --wbits 2 --group 64 --epochs 2 --loss mse:1,kl_top:0.1"
  "tesseraq-l2-sw-w2g64|--method tesseraq --wbits 2 --group 64 --epochs 1 --iterations 3 --loss l2:0.9,sw:0.1 --set tesseraq.thresholds=[0.5,0.1]"
)
for entry in "${variants[@]}"; do
  name="${entry%%|*}"
  read -r -a flags <<<"${entry#*|}"
  echo "record: $name" >&2
  "$q" calibrate "${flags[@]}" "${common[@]}" --name "$name" |
    grep -v -E '"(seconds|calibration_seconds|run_id)":' |
    sed -e "s|$workspace|WORKSPACE|g" -e "s|$root|ROOT|g" >"$out/$name.json"
done

if [ -n "${3:-}" ]; then
  differences=$(diff -r "$3" "$out" | grep '^[<>]' |
    grep -v -E '"(activations|kv|bits|clip_ratio|granularity|group_size|symmetric)"|^> +\},?$' || true)
  if [ -n "$differences" ]; then
    echo "record: numbers differ from $3:" >&2
    echo "$differences" >&2
    exit 1
  fi
  echo "record: every number identical to $3" >&2
fi
