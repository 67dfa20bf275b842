#!/usr/bin/env bash
# The SW-alignment experiment (README.md beside this script): every variant in configs/ at
# every weight setting and calibration seed, into one workspace, then the report.
# Resumable: a run whose name is already finished in the workspace is skipped.
#   experiments/sw-alignment/run.sh            # everything (about 45 minutes on 2 cores)
#   SEEDS="0" SETTINGS="2:64" VARIANTS="omniquant-mse omniquant-mse-sw" experiments/sw-alignment/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
report=${REPORT:-$root/build/experiments/sw_alignment_report}
workspace=${WORKSPACE:-$here/workspace}
seeds=${SEEDS:-"0 1 2"}
settings=${SETTINGS:-"2:64 3:128"}
variants=${VARIANTS:-"rtn gptq omniquant-mse omniquant-mse-sw omniquant-mse-sw-heavy omniquant-mse-nlc omniquant-mse-kltop tesseraq-l2 tesseraq-l2-sw tesseraq-l2-sw-scaled"}

finished() { "$qs" runs list --workspace "$workspace" --json | grep -A8 -F "\"name\": \"$1\"" | grep -q '"status": "finished"'; }

for setting in $settings; do
  bits=${setting%:*}
  group=${setting#*:}
  for seed in $seeds; do
    for variant in $variants; do
      name="$variant w${bits}g${group} seed$seed"
      if finished "$name"; then
        echo "skip: $name (finished)"
        continue
      fi
      echo "run:  $name"
      "$qs" calibrate --config "$here/configs/$variant.json" --wbits "$bits" --group "$group" --seed "$seed" \
        --name "$name" --workspace "$workspace" --quiet
    done
  done
done
if [ -x "$report" ]; then
  "$report" --workspace "$workspace"
fi
