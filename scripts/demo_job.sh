#!/usr/bin/env bash
# The main job (`./run.sh`): the demo calibrations of the bundled brown-llama — RTN, GPTQ,
# OmniQuant with MSE and OmniQuant with MSE + SW (the SW-alignment experiment's configs, seed 0)
# at W2 g64 and W3 g128, each also scored on the bundled zero-shot tasks — into the demo
# workspace, then the comparison: the workbench opens on
# it when a display is available, otherwise the table is printed and the plots written as PNG.
# A run already finished under the same name in the demo workspace is reused, not repeated.
#   scripts/demo_job.sh QUANTSCOPE_EXECUTABLE
set -euo pipefail
q="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configs="$root/experiments/sw-alignment/configs"
demo="${QUANTSCOPE_DEMO_WORKSPACE:-${XDG_DATA_HOME:-$HOME/.local/share}/quantscope/demo}"
plots="${QUANTSCOPE_DEMO_PLOTS:-$demo/plots}"

# The id of the finished run called "$1", if there is one (`runs list --json` lists id, name
# and status in that order within each run).
finished_run() {
  "$q" runs list --workspace "$demo" --json | awk -v name="$1" '
    /"id":/ { id = $2; gsub(/[^0-9]/, "", id); match_ = 0 }
    index($0, "\"name\": \"" name "\"") { match_ = 1 }
    /"status": "finished"/ && match_ { print id; exit }'
}

ids=()
for setting in "2 64" "3 128"; do
  read -r bits group <<<"$setting"
  for variant in rtn gptq omniquant-mse omniquant-mse-sw; do
    name="demo $variant w${bits}g${group}"
    id=$(finished_run "$name")
    if [ -n "$id" ]; then
      echo "demo: reusing run $id ($name)" >&2
    else
      echo "demo: calibrating $name" >&2
      id=$("$q" calibrate --config "$configs/$variant.json" --wbits "$bits" --group "$group" --seed 0 \
        --task bundled --name "$name" --workspace "$demo" --json | sed -n 's/^  "run_id": \([0-9]*\),\{0,1\}$/\1/p')
    fi
    ids+=("$id")
  done
done

"$q" compare "${ids[@]}" --workspace "$demo"
selection=$(IFS=,; echo "${ids[*]}")
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${CI:-}" ]; then
  echo "demo: opening the workbench on $demo" >&2
  exec "$q" gui --workspace "$demo" --select "$selection"
fi
"$q" gui --workspace "$demo" --select "$selection" --export-plots "$plots" >/dev/null
echo "demo: comparison plots (PNG) in $plots" >&2
