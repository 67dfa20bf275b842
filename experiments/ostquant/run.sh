#!/usr/bin/env bash
# The OSTQuant experiment (README.md beside this script): every variant of configs/ at W4A16 and
# W4A4KV4 and every calibration seed, into one workspace, then the table.
# Resumable: a run whose name is already finished in the workspace is skipped.
#   experiments/ostquant/run.sh                          # everything
#   SEEDS="0" PLAN="w4a16:quarot,ostquant" experiments/ostquant/run.sh
#   MODEL=/path/to/hf-model experiments/ostquant/run.sh  # any LLaMA-family model (default: the bundled brown-llama)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
workspace=${WORKSPACE:-$here/workspace}
seeds=${SEEDS:-"0 1 2"}
# SETTING:VARIANT,... ; a setting is w<bits>a<bits>[kv<bits>].
plan=${PLAN:-"w4a16:rtn,gptq,quarot,spinquant,ostquant,ostquant-ce w4a4kv4:rtn,gptq,quarot,spinquant,ostquant,ostquant-ce"}
model_args=()
[ -n "${MODEL:-}" ] && model_args=(--model "$MODEL")

finished() { "$qs" runs list --workspace "$workspace" --json | grep -A8 -F "\"name\": \"$1\"" | grep -q '"status": "finished"'; }

for entry in $plan; do
  setting=${entry%%:*}
  wbits=${setting#w}; wbits=${wbits%%a*}
  abits=${setting#*a}; abits=${abits%%kv*}
  kvbits=16
  [[ $setting == *kv* ]] && kvbits=${setting##*kv}
  IFS=, read -r -a variants <<< "${entry#*:}"
  for seed in $seeds; do
    for variant in "${variants[@]}"; do
      name="$variant $setting seed$seed"
      if finished "$name"; then
        echo "skip: $name (finished)"
        continue
      fi
      extra=()
      # The authors' W4A4 scripts start OSTQuant's rotations from the KLT (METHODS.md §7.2).
      [[ $variant == ostquant* && $abits -lt 16 ]] && extra=(--set ostquant.init=klt)
      echo "run:  $name"
      "$qs" calibrate --config "$here/configs/$variant.json" --wbits "$wbits" --abits "$abits" --kvbits "$kvbits" \
        --seed "$seed" --name "$name" --workspace "$workspace" "${model_args[@]}" "${extra[@]}" --quiet
    done
  done
done
"$here/report.sh" "$workspace"
