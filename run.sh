#!/usr/bin/env bash
# Quantscope's two entry points (README.md):
#   ./run.sh        install what is missing, build, run the main job on the bundled model
#   ./run.sh test   install what is missing, build, run the test suite (ctest)
# A second run skips the install and rebuilds incrementally.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${QS_BUILD_DIR:-$root/build}"
mode="${1:-main}"

# Everything the build, the tests and the main job need, from Debian 12.
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread libgoogle-perftools-dev
  qt6-base-dev qt6-qpa-plugins qt6-svg-dev libgl-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  libhdf5-dev libsqlite3-dev libsentencepiece-dev nlohmann-json3-dev libcli11-dev
  xvfb xauth
  slurm-wlm munge
  clang libclang-rt-14-dev clang-format clang-tidy
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "run.sh: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

configure_and_build() {
  # ccache cannot cache translation units that use a precompiled header unless told these are safe.
  export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$build" --parallel "$(nproc)" "$@"
}

install_missing
case "$mode" in
  test)
    configure_and_build
    cd "$build"
    # Benchmarks (label "bench") are not part of the default run: `ctest -L bench` runs them.
    ctest --output-on-failure --label-exclude bench --parallel "$(nproc)"
    ;;
  main)
    configure_and_build --target quantscope
    # The demo calibrations of the bundled brown-llama into the demo workspace, then the
    # comparison (scripts/demo_job.sh).
    "$root/scripts/demo_job.sh" "$build/app/quantscope"
    ;;
  *)
    echo "usage: ./run.sh [test]" >&2
    exit 2
    ;;
esac
