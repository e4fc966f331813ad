#!/usr/bin/env bash
# The test command: installs dependencies (Debian 12), builds, and runs the
# whole test suite with ctest. Works on a fresh machine as root.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
# Faiss and OpenBLAS single-threaded, as in the server (see ECOSYSTEM notes
# in docs/PERFORMANCE.md): tests run in parallel instead.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
ctest --test-dir build --output-on-failure --parallel "$(getconf _NPROCESSORS_ONLN)" --timeout 300
