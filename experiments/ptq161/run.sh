#!/usr/bin/env bash
# The PTQ1.61 experiment (README.md beside this script) on the bundled brown-llama, 3 seeds:
# RTN and GPTQ at 2 bits, BiLLM (binary), PTQ1.61 with its scales trained and at their
# initialization (the mask and μ/α alone). Resumable: finished runs (by name) are skipped.
#   experiments/ptq161/run.sh            # everything
#   SEEDS="0" VARIANTS="ptq161" experiments/ptq161/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
workspace=${WORKSPACE:-$here/workspace}
seeds=${SEEDS:-"0 1 2"}
variants=${VARIANTS:-"rtn-w2 gptq-w2 billm ptq161-untrained ptq161"}

finished() { # a finished run named $1 exists (runs list --json: keys in order)
  "$qs" runs list --workspace "$workspace" --json 2>/dev/null | tr -d '\n' | tr -s ' ' |
    grep -q "\"name\": \"$1\",[^{}]*\"perplexity\": {[^}]*},[^{}]*\"status\": \"finished\""
}

for seed in $seeds; do
  for variant in $variants; do
    name="$variant seed$seed"
    if finished "$name"; then echo "skip: $name (finished)"; continue; fi
    echo "run:  $name"
    "$qs" calibrate --config "$here/configs/$variant.json" --seed "$seed" --name "$name" --workspace "$workspace" \
      --quiet
  done
done
"$qs" runs list --workspace "$workspace"
