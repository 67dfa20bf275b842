#!/usr/bin/env bash
# The OSTQuant experiment's tables and scatter plot from a workspace (default: the one run.sh fills).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
report=${REPORT:-$root/build/experiments/ostquant_report}
[ -x "$report" ] || cmake --build "$root/build" --target ostquant_report >&2
"$report" --workspace "${1:-$here/workspace}" --svg "$here/qsur_vs_perplexity.svg"
