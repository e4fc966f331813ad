#!/usr/bin/env bash
# Build time of the news snapshot (news policy and clusters), as docs/PERFORMANCE.md
# "Build time" reports it: for each item count, a world from `recallctl gen`
# (users = min(items, 100000), title2vec dropped at 1M as bench_policy.sh does),
# then one `recallctl build` under /usr/bin/time: wall time, CPU use, peak RSS,
# and the builder's own lines (each stage's time, each index, the neighbour
# tables with their recall against a live search).
#
# Usage: scripts/bench_build.sh [DIR] [ITEMS...]   (default ./bench-data, 100000)
#   e.g. scripts/bench_build.sh /tmp/bb 100000 1000000
# Worlds are reused (DIR/world-ITEMS); roots are rebuilt (DIR/root-ITEMS).
# Environment: BUILD_FLAGS (extra recallctl build flags).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
DIR="${1:-$ROOT_DIR/bench-data}"
shift || true
SIZES=("${@:-100000}")
BIN="$ROOT_DIR/build/bin"
scripts/build.sh recallctl >/dev/null
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS  # the build uses every core
mkdir -p "$DIR"
echo "machine: $(getconf _NPROCESSORS_ONLN) cores, $(free -g | awk '/Mem:/ {print $2}') GiB," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%FT%TZ)"
for items in "${SIZES[@]}"; do
  world="$DIR/world-$items"
  users=$(( items < 100000 ? items : 100000 ))
  if [[ ! -f "$world/items.tsv" ]]; then
    "$BIN/recallctl" gen --out "$world" --items "$items" --users "$users" --seed 42 >/dev/null
    if (( items >= 1000000 )); then rm -f "$world/vectors/title2vec.item.vec"; fi
  fi
  rm -rf "$DIR/root-$items"
  log="$DIR/build-$items.log"
  # shellcheck disable=SC2086
  /usr/bin/time -v "$BIN/recallctl" build --input "$world" --out "$DIR/root-$items" \
    --policy deploy/policy/news.textproto --clusters deploy/clusters/news.textproto \
    --keep_versions 0 ${BUILD_FLAGS:-} >"$log" 2>&1
  echo "== $items items, $users users"
  grep -E '^build: (stage|space|neighbours|itemcf)' "$log"
  awk -F': ' '/Elapsed \(wall clock\)/ {print "wall " $2}
              /Percent of CPU/ {print "cpu " $2}
              /Maximum resident set size/ {printf "peak RSS %.2f GiB\n", $2 / 1048576}' "$log"
done
