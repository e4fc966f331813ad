#!/usr/bin/env bash
# The live segment's visibility and costs (docs/PERFORMANCE.md, "Live
# segment"), one run:
#   visibility  recallctl bench-live over BENCH_PROBES items: from the XADD of
#               an upsert to recallable (u2i, SimilarItems, a new reader's top
#               50 after 300 readers' clicks) and from a takedown's XADD to
#               absent from all three; p50 and p99
#   cost        the news policy with clusters, open loop at 50% of the
#               closed-loop maximum, p50/p99 with 0, 20k and 100k live items
#               (two rounds, interleaved); each run starts a server that
#               replays its item stream before SERVING (the replay time is
#               printed), RSS and recall_live_memory_bytes after
#   fold        upserts per second the server applies while serving at 50%:
#               100k upserts pushed at full speed into a live server, and the
#               Recall p99 meanwhile
# Live items are the world's items under new ids, their dssm, item2vec and
# title2vec vectors nudged (tag2vec is derived by the server).
#
# Usage: scripts/bench_live.sh [WORK_DIR]   (needs redis-server)
# Environment: BENCH_ITEMS (1000000), BENCH_USERS (100000), BENCH_K (100),
#   BENCH_SECONDS (30), BENCH_PROBES (1000), BENCH_PARTS ("visibility cost
#   fold").
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(pwd)/bench-data/live}"
ITEMS="${BENCH_ITEMS:-1000000}"
USERS="${BENCH_USERS:-100000}"
K="${BENCH_K:-100}"
SECS="${BENCH_SECONDS:-30}"
PROBES="${BENCH_PROBES:-1000}"
PARTS="${BENCH_PARTS:-visibility cost fold}"
PORT=50171 METRICS=50172 REDIS_PORT=16393
source scripts/lib/bench.sh
bench_prepare "$WORK"
news_snapshot "$WORK" "$ITEMS" "$USERS"
# live_files N: N items of the world under new ids ("live-N-<id>"), published
# now, with their vectors nudged: $WORK/live_N.tsv and $WORK/live_N.<space>.vec.
live_files() {
  local n=$1 now; now=$(date +%s)
  [[ -f "$WORK/live_$n.tsv" ]] && return
  awk -v n="$n" -v now="$now" 'BEGIN { FS = OFS = "\t" }
    NR == 1 { print; next } NR <= n + 1 { $1 = "live-" n "-" $1; $6 = now; print }' \
    "$WORK/world/items.tsv" > "$WORK/live_$n.tsv"
  for space in dssm item2vec title2vec; do
    awk -v n="$n" 'BEGIN { srand(n) }
      NR == 1 { print (n < $1 ? n : $1), $2; next } NR <= n + 1 {
        printf "live-%d-%s", n, $1
        for (i = 2; i <= NF; i++) printf " %.6f", $i + (rand() - 0.5) * 0.02
        printf "\n" }' "$WORK/world/vectors/$space.item.vec" > "$WORK/live_$n.$space.vec"
  done
}
publish() {  # N STREAM
  "$BIN/recallctl" publish-items --items "$WORK/live_$1.tsv" \
    --vectors "dssm=$WORK/live_$1.dssm.vec,item2vec=$WORK/live_$1.item2vec.vec,title2vec=$WORK/live_$1.title2vec.vec" \
    --stream "redis://127.0.0.1:$REDIS_PORT/$2" >/dev/null
}

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --logfile "$WORK/redis.log" &
redis=$!
server=""
trap 'kill $redis ${server:-} 2>/dev/null || true' EXIT
sleep 0.5
redis-cli -p "$REDIS_PORT" FLUSHALL >/dev/null

metric() { curl -s "127.0.0.1:$METRICS/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
start_server() {  # ITEM_STREAM
  "$BIN/recall-server" --snapshot_root "$WORK/root" --host 127.0.0.1 --port "$PORT" \
    --metrics_host 127.0.0.1 --metrics_port "$METRICS" --admin_port -1 \
    --click_stream "redis://127.0.0.1:$REDIS_PORT/clicks" \
    --item_stream "redis://127.0.0.1:$REDIS_PORT/$1" --item_catchup_timeout 600s \
    2>"$WORK/server.log" &
  server=$!
  "$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 900 >/dev/null
}
stop_server() { kill -TERM "$server"; wait "$server" || true; server=""; }
bench() {  # extra flags...
  "$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$WORK/world/users.txt" \
    --k "$K" --duration "$SECS" --warmup 2 --deadline_ms 2000 --json "$@"
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
cores=$(getconf _NPROCESSORS_ONLN)

if [[ " $PARTS " == *" visibility "* ]]; then
  echo "== visibility over $PROBES items ($ITEMS items in the snapshot, $cores cores)"
  start_server items_visibility
  "$BIN/recallctl" bench-live --target "127.0.0.1:$PORT" --input "$WORK/world" \
    --stream "redis://127.0.0.1:$REDIS_PORT/items_visibility" \
    --click_stream "redis://127.0.0.1:$REDIS_PORT/clicks" --items "$PROBES" --concurrency 4
  stop_server
fi

if [[ " $PARTS " == *" cost "* || " $PARTS " == *" fold "* ]]; then
  start_server items_0
  max=$(field "$(bench --concurrency 8)" qps)
  rate=$(python3 -c "print(round($max / 2))")
  stop_server
  echo "== closed-loop maximum $max queries/s (c=8); open loop at $rate/s, k=$K, ${SECS}s each"
fi

if [[ " $PARTS " == *" cost "* ]]; then
  for n in 20000 100000; do live_files "$n"; publish "$n" "items_$n"; done
  printf "%-7s %-8s %10s %10s %10s %12s %14s %10s\n" round live p50_ms p99_ms qps replay_s live_mem_MB rss_MB
  for round in 1 2; do
    for n in 0 20000 100000; do
      t0=$(date +%s.%N)
      start_server "items_$n"
      replay=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
      out=$(bench --rate "$rate")
      printf "%-7s %-8s %10.2f %10.2f %10.0f %12s %14.1f %10.0f\n" "$round" "$n" \
        "$(field "$out" p50_ms)" "$(field "$out" p99_ms)" "$(field "$out" qps)" "$replay" \
        "$(python3 -c "print($(metric recall_live_memory_bytes) / 1e6)")" \
        "$(python3 -c "print($(metric process_resident_memory_bytes) / 1e6)")"
      stop_server
    done
  done
fi

if [[ " $PARTS " == *" fold "* ]]; then
  live_files 100000
  start_server items_fold
  bench --rate "$rate" > "$WORK/fold_bench.json" &
  bench_pid=$!
  sleep 3
  t0=$(date +%s.%N)
  publish 100000 items_fold &
  publish_pid=$!
  while true; do
    got=$(metric recall_item_stream_upserts_total); got=${got:-0}
    python3 -c "import sys; sys.exit(0 if float('$got') >= 100000 else 1)" && break
    sleep 0.2
  done
  t1=$(date +%s.%N)
  wait $publish_pid
  wait $bench_pid
  out=$(cat "$WORK/fold_bench.json")
  python3 -c "print(f'== fold: 100000 upserts applied in {$t1 - $t0:.1f} s ({100000 / ($t1 - $t0):.0f}/s) while serving $rate/s; Recall p50 {$(field "$out" p50_ms):.2f} ms, p99 {$(field "$out" p99_ms):.2f} ms meanwhile')"
  stop_server
fi
