#!/usr/bin/env bash
# Configures and builds everything into build/ (Release, Ninja, ccache when
# installed). Binaries land in build/bin/. Usage: scripts/build.sh [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build --parallel "$(getconf _NPROCESSORS_ONLN)" ${1:+--target "$@"}
