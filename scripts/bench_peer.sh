#!/usr/bin/env bash
# Faiss HNSW against hnswlib (Debian libhnswlib-dev) on the service's own
# vectors and queries: the item and user vectors of one space of a generated
# world, recall@100 against an exact search, one search thread, efSearch
# swept; prints the qps of each at recall@100 0.95 and 0.99 (docs/PERFORMANCE.md).
# Then the same hnswlib index served: a snapshot of the world (every space
# HNSWLIB32), searched in process (store read + search, `bench --mode search`,
# one thread per core) and through the server over gRPC (u2i_<space> alone,
# c=8), in one run; prints the RPC layer's share as one ratio: service RPC
# qps / the same index in process.
#
# Usage: scripts/bench_peer.sh [DIR]   (default ./bench-data; reuses DIR/world)
# Environment: BENCH_ITEMS (100000), BENCH_USERS (100000), PEER_SPACE (dssm),
#              PEER_QUERIES (1000), BENCH_SECONDS (10), BENCH_K (100),
#              BENCH_PARTS ("peer rpc").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
DIR="${1:-$ROOT_DIR/bench-data}"
BIN="$ROOT_DIR/build/bin"
SPACE="${PEER_SPACE:-dssm}"
SECS="${BENCH_SECONDS:-10}"
K="${BENCH_K:-100}"
PARTS="${BENCH_PARTS:-peer rpc}"
PORT=50181
CORES=$(getconf _NPROCESSORS_ONLN)
scripts/build.sh recall-server recallctl >/dev/null
export OPENBLAS_NUM_THREADS=1
if [[ ! -f "$DIR/world/items.tsv" ]]; then
  "$BIN/recallctl" gen --out "$DIR/world" --items "${BENCH_ITEMS:-100000}" \
    --users "${BENCH_USERS:-100000}" --seed 42
fi
if [[ " $PARTS " == *" peer "* ]]; then
  "$BIN/recallctl" bench-peer --input "$DIR/world" --peer_space "$SPACE" \
    --queries "${PEER_QUERIES:-1000}" --threads "$CORES"
fi
[[ " $PARTS " == *" rpc "* ]] || exit 0

# The served side: the same backend, searched as a server searches it.
root="$DIR/peer-root"
if [[ ! -f "$root/CURRENT" ]]; then
  "$BIN/recallctl" build --input "$DIR/world" --out "$root" --index HNSWLIB32 \
    --neighbours 0 --keep_versions 0 --threads "$CORES" >/dev/null 2>&1
fi
export OMP_NUM_THREADS=1  # as the server runs
users="$DIR/world/users.txt"
bench() {  # recallctl bench arguments; prints the report's qps
  "$BIN/recallctl" bench --user_ids "$users" --k "$K" --duration "$SECS" --warmup 2 \
    --json "$@" | python3 -c 'import json,sys; print(json.load(sys.stdin)["qps"])'
}
in_process=$(bench --snapshot "$root" --mode search --space "$SPACE" --concurrency "$CORES")
"$BIN/recall-server" --snapshot_root "$root" --host 127.0.0.1 --port "$PORT" \
  --metrics_port -1 2>/dev/null &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
"$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 60 >/dev/null
rpc=$(bench --target "127.0.0.1:$PORT" --channels "u2i_$SPACE" --concurrency 8)
python3 - "$in_process" "$rpc" "$SPACE" "$CORES" <<'PY'
import sys
in_process, rpc, space, cores = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"same HNSWLIB32 index, k=100: in process {in_process:.0f} qps ({cores} threads), "
      f"service u2i_{space} over gRPC {rpc:.0f} qps (c=8)")
print(f"RPC layer's share: service RPC qps / the same index in process = {rpc / in_process:.2f} "
      f"(goal >= 0.8)")
PY
