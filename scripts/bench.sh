#!/usr/bin/env bash
# The serving benchmark behind docs/PERFORMANCE.md, in one run so that the
# figures are comparable: the same recall work (the news policy) in process
# (no gRPC) and over RPC, unloaded (concurrency 1) and saturated, on this
# machine's cores.
#
# Usage: scripts/bench.sh [DIR]   (default ./bench-data; reuses DIR/world)
# Environment: BENCH_ITEMS, BENCH_USERS (default 100000), BENCH_SECONDS (10),
#              BENCH_K (100), BENCH_INDEX (HNSWLIB32, the build default).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)
DIR="${1:-$ROOT_DIR/bench-data}"
ITEMS="${BENCH_ITEMS:-100000}"
USERS="${BENCH_USERS:-100000}"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
K="${BENCH_K:-100}"
INDEX="${BENCH_INDEX:-HNSWLIB32}"
PORT="${BENCH_PORT:-50151}"
BIN="$ROOT_DIR/build/bin"

scripts/build.sh recall-server recallctl >/dev/null
# As in production: one OpenMP/BLAS thread per search; malloc'd memory
# (Faiss's vectors and graph) on transparent huge pages.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1

if [[ ! -f "$DIR/world/items.tsv" ]]; then
  "$BIN/recallctl" gen --out "$DIR/world" --items "$ITEMS" --users "$USERS" --seed 42
fi
rm -rf "$DIR/snapshots"
OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$DIR/world" \
  --out "$DIR/snapshots" --index "$INDEX" --policy "${BENCH_POLICY:-deploy/policy/news.textproto}" \
  --clusters "${BENCH_CLUSTERS:-deploy/clusters/news.textproto}"
USERS_FILE="$DIR/world/users.txt"
CORES=$(getconf _NPROCESSORS_ONLN)

results="$DIR/results.jsonl"
: > "$results"
record() {  # name, then recallctl bench arguments
  local name=$1; shift
  local json
  json=$("$BIN/recallctl" bench --user_ids "$USERS_FILE" --k "$K" --duration "$SECONDS_PER_RUN" --warmup 2 --json "$@")
  echo "{\"name\":\"$name\",\"report\":$json}" >> "$results"
  echo "$name: $json"
}

record "in-process search c=1" --snapshot "$DIR/snapshots" --mode search --concurrency 1
record "in-process search c=$CORES" --snapshot "$DIR/snapshots" --mode search --concurrency "$CORES"
record "in-process engine c=1" --snapshot "$DIR/snapshots" --mode engine --concurrency 1
record "in-process engine c=$CORES" --snapshot "$DIR/snapshots" --mode engine --concurrency "$CORES"

# The server twice: channels one after another on the request's worker (the
# same work as the in-process engine, so the difference is the RPC layer),
# then in parallel on the channel pool (the default).
for mode in sequential parallel; do
  threads=-1
  [[ $mode == parallel ]] && threads=0
  "$BIN/recall-server" --snapshot_root "$DIR/snapshots" --host 127.0.0.1 --port "$PORT" \
    --metrics_port -1 --channel_threads "$threads" 2>"$DIR/server.log" &
  server=$!
  trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
  "$BIN/recallctl" query --target "127.0.0.1:$PORT" --user "$(head -1 "$USERS_FILE")" --k 1 \
    --wait 60 >/dev/null
  record "rpc $mode c=1" --target "127.0.0.1:$PORT" --concurrency 1
  record "rpc $mode c=8" --target "127.0.0.1:$PORT" --concurrency 8
  record "rpc $mode c=16" --target "127.0.0.1:$PORT" --concurrency 16
  kill -TERM $server
  wait $server || true
done

python3 - "$results" <<'PY'
import json, sys
rows = {r["name"]: r["report"] for r in map(json.loads, open(sys.argv[1]))}
print("\n%-26s %9s %8s %8s %8s %8s %7s" % ("run", "qps", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "errors"))
for name, r in rows.items():
    print("%-26s %9.0f %8.3f %8.3f %8.3f %8.3f %7d" % (name, r["qps"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["p999_ms"], r["errors"]))
engine1 = rows["in-process engine c=1"]
enginen = max(v["qps"] for k, v in rows.items() if k.startswith("in-process engine"))
for mode in ("sequential", "parallel"):
    rpcn = max(v["qps"] for k, v in rows.items() if k.startswith("rpc " + mode))
    print("\n%s channels:" % mode)
    print("  RPC p50 - in-process p50 (c=1): %+.0f us (target <= +150)" %
          ((rows["rpc %s c=1" % mode]["p50_ms"] - engine1["p50_ms"]) * 1000))
    print("  RPC max qps / in-process max qps: %.0f%% (target >= 80%%)" % (100 * rpcn / enginen))
PY
