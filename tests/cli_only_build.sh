#!/usr/bin/env bash
# Proves that core and the CLI are Qt-free: configures a second build tree with
# QS_WITH_GUI=OFF, builds `quantscope`, and checks that no Qt library is linked.
#   cli_only_build.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
dir="$2"
cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DQS_WITH_GUI=OFF -DQS_BUILD_TESTS=OFF -DQS_BUILD_EXPERIMENTS=OFF >/dev/null
cmake --build "$dir" --target quantscope
# Direct dependencies only: Debian's libtorch itself pulls Qt5 in through OpenCV's
# highgui, which is not ours to remove; what matters is that our code never links Qt.
if readelf -d "$dir/app/quantscope" | grep NEEDED | grep -q "libQt"; then
  echo "CLI-only quantscope links Qt directly:" >&2
  readelf -d "$dir/app/quantscope" | grep NEEDED | grep libQt >&2
  exit 1
fi
"$dir/app/quantscope" --version
echo "CLI-only build OK (no Qt linked)"
