#!/usr/bin/env bash
# The full-policy benchmark behind docs/PERFORMANCE.md ("Full policy at 1M
# items"): on an existing snapshot, the engine in process (time per channel and
# outside the channels), the RPC maximum throughput (closed loop), then the
# latency at half of it (open loop), with the server-side time per channel.
#
# Usage: scripts/bench_policy.sh SNAPSHOT_ROOT USERS_FILE
# Environment: BENCH_K (500), BENCH_SECONDS (20), BENCH_PORT (50152),
#              BENCH_BIN (build/bin: the recallctl and recall-server measured).
# Making the 1M-item news snapshot (policy and clusters, about 8 minutes on 2
# cores): scripts/bench_build.sh DIR 1000000, then
#   scripts/bench_policy.sh DIR/root-1000000 DIR/world-1000000/users.txt
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$1"
USERS_FILE="$2"
K="${BENCH_K:-500}"
SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
PORT="${BENCH_PORT:-50152}"
BIN="${BENCH_BIN:-$(pwd)/build/bin}"
CORES=$(getconf _NPROCESSORS_ONLN)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1

echo "== in process, engine, $CORES threads, k=$K"
"$BIN/recallctl" bench --snapshot "$ROOT" --user_ids "$USERS_FILE" --mode engine --k "$K" \
  --concurrency "$CORES" --duration "$SECONDS_PER_RUN" --warmup 2

"$BIN/recall-server" --snapshot_root "$ROOT" --host 127.0.0.1 --port "$PORT" --metrics_port -1 \
  2>/dev/null &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
"$BIN/recallctl" query --target "127.0.0.1:$PORT" --user "$(head -1 "$USERS_FILE")" --k 1 \
  --wait 300 >/dev/null

echo "== RPC, closed loop, concurrency 8: maximum throughput"
max=$("$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$USERS_FILE" --k "$K" \
  --concurrency 8 --duration "$SECONDS_PER_RUN" --warmup 2 --deadline_ms 2000 --json)
echo "$max"
rate=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["qps"] / 2, 1))' "$max")
echo "== RPC, open loop at 50% of maximum: $rate requests/s"
"$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$USERS_FILE" --k "$K" \
  --concurrency 32 --rate "$rate" --duration "$SECONDS_PER_RUN" --warmup 2 --deadline_ms 2000
