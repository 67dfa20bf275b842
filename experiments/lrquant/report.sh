#!/usr/bin/env bash
# The experiment's table from a workspace (default: the one run.sh fills).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../common/seed_table.sh" "${1:-$here/workspace}"
