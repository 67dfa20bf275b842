#!/usr/bin/env bash
# The experiment's table from a workspace (default: the one run.sh fills).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
table=${TABLE:-$root/build/experiments/seed_table}
[ -x "$table" ] || cmake --build "$root/build" --target seed_table >&2
"$table" --workspace "${1:-$here/workspace}"
