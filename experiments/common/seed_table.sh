#!/usr/bin/env bash
# An experiment's seed table (experiments/common/seed_table.cpp) from a workspace, building the
# program first when it is missing. The experiments' report.sh call this with their workspace.
#   experiments/common/seed_table.sh WORKSPACE
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
table=${TABLE:-$root/build/experiments/seed_table}
[ -x "$table" ] || cmake --build "$root/build" --target seed_table >&2
"$table" --workspace "$1"
