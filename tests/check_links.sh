#!/usr/bin/env bash
# Proves the layering of the binaries without compiling anything twice (ARCHITECTURE.md:
# core never links Qt; issue 14: the launcher starts without LibTorch):
#   1. the launcher `quantscope` links neither LibTorch nor Qt,
#   2. the CLI engine module links no Qt (LibTorch yes),
#   3. a GUI-off tree (QS_WITH_GUI=OFF) configures without Qt, and the launcher's torch-free,
#      Qt-free part compiles there (the only code whose preprocessing differs between trees).
# Direct dependencies only: Debian's libtorch itself pulls Qt5 in through OpenCV's highgui,
# which is not ours to remove; what matters is that our code never links Qt.
#   check_links.sh SOURCE_DIR BUILD_DIR GUI_OFF_DIR
set -euo pipefail
src="$1"
build="$2"
guiOff="$3"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
refuse() { # refuse FILE PATTERN WHAT
  local found
  found="$(needed "$1" | grep -E "$2" || true)"
  if [ -n "$found" ]; then
    echo "$(basename "$1") must not link $3, but needs: $found" >&2
    exit 1
  fi
}

launcher="$build/app/quantscope"
engine="$build/app/libquantscope_engine_cli.so"
refuse "$launcher" '^lib(torch|c10)' "LibTorch"
refuse "$launcher" '^libQt' "Qt"
refuse "$engine" '^libQt' "Qt"
needed "$engine" | grep -q '^libtorch' || { echo "libquantscope_engine_cli.so does not link LibTorch?" >&2; exit 1; }
echo "launcher: $(needed "$launcher" | tr '\n' ' ')"

cmake -S "$src" -B "$guiOff" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DQS_WITH_GUI=OFF -DQS_BUILD_TESTS=OFF -DQS_BUILD_EXPERIMENTS=OFF >/dev/null
if grep -q 'Qt6' "$guiOff/CMakeCache.txt"; then
  echo "the GUI-off configuration looked for Qt:" >&2
  grep 'Qt6' "$guiOff/CMakeCache.txt" | head -5 >&2
  exit 1
fi
cmake --build "$guiOff" --target quantscope_model_cli app/CMakeFiles/quantscope.dir/main.cpp.o
echo "layering OK: launcher without LibTorch and Qt, CLI engine without Qt, GUI-off tree configures"
