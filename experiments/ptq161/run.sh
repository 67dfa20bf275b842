#!/usr/bin/env bash
# The PTQ1.61 experiment (README.md beside this script) on the bundled brown-llama, 3 seeds:
# RTN and GPTQ at 2 bits, BiLLM (binary), PTQ1.61 with its scales trained and at their
# initialization (the mask and μ/α alone), and PTQ1.61 after its quantization preprocessing
# (LoRA on the first round's quantized model, merged, PTQ1.61 again).
# Resumable: finished runs (by name) are skipped.
#   experiments/ptq161/run.sh            # everything
#   SEEDS="0" VARIANTS="ptq161" experiments/ptq161/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
workspace=${WORKSPACE:-$here/workspace}
seeds=${SEEDS:-"0 1 2"}
variants=${VARIANTS:-"rtn-w2 gptq-w2 billm ptq161-untrained ptq161"}

run_id() { # the id of the finished run named $1, or nothing (runs list --json: keys in order)
  "$qs" runs list --workspace "$workspace" --json 2>/dev/null | tr -d '\n' | tr -s ' ' |
    grep -o "\"id\": [0-9]*,[^{}]*\"name\": \"$1\",[^{}]*\"perplexity\": {[^}]*},[^{}]*\"status\": \"finished\"" |
    head -1 | sed 's/^"id": \([0-9]*\),.*/\1/' || true
}
finished() { [ -n "$(run_id "$1")" ]; }

for seed in $seeds; do
  for variant in $variants; do
    name="$variant seed$seed"
    if finished "$name"; then echo "skip: $name (finished)"; continue; fi
    echo "run:  $name"
    "$qs" calibrate --config "$here/configs/$variant.json" --seed "$seed" --name "$name" --workspace "$workspace" \
      --quiet
  done
  name="ptq161 preprocessed seed$seed"
  if finished "$name"; then echo "skip: $name (finished)"; continue; fi
  echo "run:  $name"
  "$qs" preprocess "$(run_id "ptq161 seed$seed")" --steps "${LORA_STEPS:-200}" --lora-seed "$seed" --name "$name" \
    --workspace "$workspace" --quiet
done
"$qs" runs list --workspace "$workspace"
