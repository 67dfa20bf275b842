#!/usr/bin/env bash
# The LRQuant experiment (README.md beside this script), W4A4 on the bundled brown-llama, 3 seeds:
# RTN, OmniQuant-LET and LRQuant calibrated on Brown; LRQuant calibrated on the KJV text itself;
# and LRQuant's test-time adaptation of the Brown-calibrated run to KJV, in its intended form and
# in the authors' code's form (embedding-level inputs, unquantized activations in the last block).
# Resumable: a run whose name is already finished in the workspace is skipped.
#   experiments/lrquant/run.sh            # everything
#   SEEDS="0" experiments/lrquant/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
qs=${QUANTSCOPE:-$root/build/app/quantscope}
workspace=${WORKSPACE:-$here/workspace}
seeds=${SEEDS:-"0 1 2"}
kjv=$root/resources/data/kjv_test.txt

run_id() { # the id of the finished run named $1, or nothing (runs list --json: keys in order)
  "$qs" runs list --workspace "$workspace" --json 2>/dev/null | tr -d '\n' | tr -s ' ' |
    grep -o "\"id\": [0-9]*,[^{}]*\"name\": \"$1\",[^{}]*\"perplexity\": {[^}]*},[^{}]*\"status\": \"finished\"" |
    head -1 | sed 's/^"id": \([0-9]*\),.*/\1/' || true
}

calibrate() { # name config [flags...]
  local name=$1 config=$2
  shift 2
  if [ -n "$(run_id "$name")" ]; then echo "skip: $name (finished)"; return; fi
  echo "run:  $name"
  "$qs" calibrate --config "$here/configs/$config.json" --name "$name" --workspace "$workspace" --quiet "$@"
}

adapt() { # name parent-name [flags...]
  local name=$1 parent
  parent=$(run_id "$2")
  shift 2
  if [ -n "$(run_id "$name")" ]; then echo "skip: $name (finished)"; return; fi
  echo "run:  $name (TTA of run $parent)"
  "$qs" adapt "$parent" --text "$kjv" --max-windows 100 --name "$name" --workspace "$workspace" --quiet "$@"
}

for seed in $seeds; do
  calibrate "rtn w4a4 seed$seed" rtn --seed "$seed"
  calibrate "omniquant-let w4a4 seed$seed" omniquant-let --seed "$seed"
  calibrate "lrquant w4a4 seed$seed" lrquant --seed "$seed"
  calibrate "lrquant w4a4 calib-kjv seed$seed" lrquant --seed "$seed" --calib-text "$kjv"
  adapt "lrquant w4a4 tta-kjv seed$seed" "lrquant w4a4 seed$seed"
  adapt "lrquant w4a4 tta-kjv-parity seed$seed" "lrquant w4a4 seed$seed" --inputs embedding --fp-activations
done
"$qs" runs list --workspace "$workspace"
