#!/usr/bin/env bash
# Reload under load (docs/PERFORMANCE.md): an open-loop load at a steady
# rate, first with nothing else happening, then while ROOT/CURRENT flips
# between prebuilt versions every 2 s (each flip: the server loads, verifies
# and swaps a whole snapshot). Reports p50/p99 of both, and failed requests.
#
# Usage: scripts/bench_reload.sh [DIR]   (BENCH_RATE, default 200 requests/s)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-$(pwd)/bench-data/reload}"
RATE="${BENCH_RATE:-200}"
PORT="${BENCH_PORT:-50153}"
BIN="$(pwd)/build/bin"
scripts/build.sh recall-server recallctl >/dev/null
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1

rm -rf "$DIR"
"$BIN/recallctl" gen --out "$DIR/world" --items 20000 --users 20000 --seed 3 >/dev/null
for v in v1 v2 v3 v4; do
  OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$DIR/world" \
    --out "$DIR/root" --version "$v" --keep_versions 0 --policy deploy/policy/news.textproto \
    --clusters deploy/clusters/news.textproto >/dev/null 2>&1
done
echo v1 > "$DIR/root/CURRENT"

"$BIN/recall-server" --snapshot_root "$DIR/root" --host 127.0.0.1 --port "$PORT" \
  --metrics_port -1 --reload_interval 0.5s 2>"$DIR/server.log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
"$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 60 >/dev/null

bench() {
  "$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$DIR/world/users.txt" --k 100 \
    --rate "$RATE" --concurrency 32 --duration 12 --warmup 2 --deadline_ms 2000 --json
}
echo "== steady, $RATE requests/s"
steady=$(bench)
echo "$steady"
echo "== CURRENT flips every 2 s"
( for i in 1 2 3 4 5 6 7; do
    sleep 2
    v="v$(( i % 4 + 1 ))"
    echo "$v" > "$DIR/root/CURRENT.tmp" && mv "$DIR/root/CURRENT.tmp" "$DIR/root/CURRENT"
  done ) &
flipper=$!
swapping=$(bench)
wait $flipper
echo "$swapping"
echo "swaps served: $(grep -c 'now serving' "$DIR/server.log")"
python3 - "$steady" "$swapping" <<'PY'
import json, sys
s, w = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("p50 %.3f -> %.3f ms, p99 %.3f -> %.3f ms (x%.2f), failed %d -> %d" % (
    s["p50_ms"], w["p50_ms"], s["p99_ms"], w["p99_ms"], w["p99_ms"] / s["p99_ms"],
    s["errors"], w["errors"]))
PY
