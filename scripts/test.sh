#!/usr/bin/env bash
# The test command: installs dependencies (Debian 12), builds, and runs the
# whole test suite with ctest. Works on a fresh machine as root.
#
#   scripts/test.sh              the suite (what .ci/run runs)
#   scripts/test.sh --sanitize   the suite built with ASan + UBSan in
#                                build-asan/ (without the container image check)
#   scripts/test.sh --tsan       the server, reload, engine, overload, click-stream,
#                                item-stream, live-segment, inline-serving and
#                                neighbour-table tests
#                                built with TSan in build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
scripts/install-deps.sh
# Faiss and OpenBLAS single-threaded, as in the server (see ECOSYSTEM notes
# in docs/PERFORMANCE.md): tests run in parallel instead.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="$(getconf _NPROCESSORS_ONLN)"

sanitized() {  # DIR SANITIZERS CTEST_ARGS...
  local dir=$1 sanitizers=$2
  shift 2
  if [[ ! -f "$dir/build.ninja" ]]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRECALL_SANITIZE="$sanitizers"
  fi
  cmake --build "$dir" --parallel "$jobs"
  ctest --test-dir "$dir" --output-on-failure --parallel "$jobs" --timeout 900 "$@"
}

case "$mode" in
  "")
    scripts/build.sh
    ctest --test-dir build --output-on-failure --parallel "$jobs" --timeout 300
    ;;
  --sanitize)
    # detect_leaks=0: gRPC and protobuf keep process-lifetime singletons.
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
    sanitized build-asan address,undefined -E 'docker_image'
    ;;
  --tsan)
    # Debian's libraries are not built with TSan: util/tsan_absl_sync.cc makes
    # absl::Mutex visible, ignore_noninstrumented_modules drops what the
    # libraries' own memory calls do, tests/tsan.supp names gRPC's hand-offs.
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1 suppressions=$PWD/tests/tsan.supp"
    sanitized build-tsan thread -R 'TsanAbslSync|Reload|Engine|Overload|Shutdown|WorkerPool|Health|ServerE2e|ListChannels|Realtime|ClickConsumer|InlineService|ComputeTable|LiveIndex|LiveItems|LiveEngine|ItemConsumer'
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize|--tsan]" >&2
    exit 2
    ;;
esac
