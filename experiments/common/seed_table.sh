#!/usr/bin/env bash
# An experiment's seed table from its workspace: `quantscope compare --group-seeds` (runs that
# differ only in calibration.seed as one row, mean ± sample std over the seeds; Markdown).
# The experiments' report.sh call this with their workspace.
#   experiments/common/seed_table.sh WORKSPACE
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
quantscope=${QUANTSCOPE:-$root/build/app/quantscope}
[ -x "$quantscope" ] || cmake --build "$root/build" --target quantscope >&2
"$quantscope" compare --group-seeds --workspace "$1"
