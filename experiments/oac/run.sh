#!/usr/bin/env bash
# The OAC experiment (README.md beside this script): every variant of configs/ at its weight
# settings and every calibration seed, into one workspace, then the table.
# Resumable: a run whose name is already finished in the workspace is skipped.
#   experiments/oac/run.sh                          # everything (about 40 minutes on 2 cores)
#   SEEDS="0" PLAN="w2g16:spqr,oac-spqr" experiments/oac/run.sh
#   MODEL=/path/to/hf-model experiments/oac/run.sh  # any model (the default: the bundled brown-llama)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
report=${REPORT:-$root/build/experiments/sw_alignment_report}
workspace=${WORKSPACE:-$here/workspace}
seeds=${SEEDS:-"0 1 2"}
# SETTING:VARIANT,... ; a setting is w<bits>g<group> (g-1: one group per output channel).
plan=${PLAN:-"w2g16:rtn,gptq,spqr,oac-spqr,oac-spqr-one-shot w1g-1:billm,oac-billm,oac-billm-one-shot w2g128:gptq,oac-gptq,oac-gptq-one-shot,oac-gptq-blend w3g128:gptq,oac-gptq,oac-gptq-one-shot"}
model_args=()
[ -n "${MODEL:-}" ] && model_args=(--model "$MODEL")

finished() { "$qs" runs list --workspace "$workspace" --json | grep -A8 -F "\"name\": \"$1\"" | grep -q '"status": "finished"'; }

for entry in $plan; do
  setting=${entry%%:*}
  bits=${setting#w}; bits=${bits%%g*}
  group=${setting#*g}
  IFS=, read -r -a variants <<< "${entry#*:}"
  for seed in $seeds; do
    for variant in "${variants[@]}"; do
      name="$variant $setting seed$seed"
      if finished "$name"; then
        echo "skip: $name (finished)"
        continue
      fi
      echo "run:  $name"
      "$qs" calibrate --config "$here/configs/$variant.json" --wbits "$bits" --group "$group" --seed "$seed" \
        --name "$name" --workspace "$workspace" "${model_args[@]}" --quiet
    done
  done
done
if [ -x "$report" ]; then
  "$report" --workspace "$workspace" --pairs "spqr:oac-spqr,spqr:oac-spqr-one-shot,billm:oac-billm,billm:oac-billm-one-shot,gptq:oac-gptq,gptq:oac-gptq-one-shot,gptq:oac-gptq-blend"
fi
