#!/usr/bin/env bash
# Faiss HNSW against hnswlib (Debian libhnswlib-dev) on the service's own
# vectors and queries: the item and user vectors of one space of a generated
# world, recall@100 against an exact search, one search thread, efSearch
# swept; prints the qps of each at recall@100 0.95 and 0.99 (docs/PERFORMANCE.md).
#
# Usage: scripts/bench_peer.sh [DIR]   (default ./bench-data; reuses DIR/world)
# Environment: BENCH_ITEMS (100000), BENCH_USERS (100000), PEER_SPACE (dssm),
#              PEER_QUERIES (1000).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
DIR="${1:-$ROOT_DIR/bench-data}"
BIN="$ROOT_DIR/build/bin"
scripts/build.sh recallctl >/dev/null
export OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) OPENBLAS_NUM_THREADS=1
if [[ ! -f "$DIR/world/items.tsv" ]]; then
  "$BIN/recallctl" gen --out "$DIR/world" --items "${BENCH_ITEMS:-100000}" \
    --users "${BENCH_USERS:-100000}" --seed 42
fi
"$BIN/recallctl" bench-peer --input "$DIR/world" --peer_space "${PEER_SPACE:-dssm}" \
  --queries "${PEER_QUERIES:-1000}"
