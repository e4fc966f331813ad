#!/usr/bin/env bash
# The click stream's costs (docs/PERFORMANCE.md, "Click stream"), one run:
#   1. Recall p99 at 50% of the maximum throughput without ingest, then with
#      the consumer folding a backlog of clicks as fast as it can (the ratio);
#   2. the ingest rate the consumer sustains meanwhile (events/s, from
#      recall_click_stream_events_total);
#   3. memory per 1M users kept: server RSS and the state's own estimate
#      before and after 1M distinct users' clicks.
# World: the synthetic news world (BENCH_ITEMS items, BENCH_USERS users), the
# news policy plus the real-time channels, the news clusters.
#
# Usage: scripts/bench_realtime.sh [WORK_DIR]   (needs redis-server)
# Environment: BENCH_ITEMS (100000), BENCH_USERS (100000), BENCH_K (100),
#   BENCH_SECONDS (20), BENCH_CLICKS (5000000: the ingest backlog).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(pwd)/bench-data/realtime}"
ITEMS="${BENCH_ITEMS:-100000}"
USERS="${BENCH_USERS:-100000}"
K="${BENCH_K:-100}"
SECS="${BENCH_SECONDS:-20}"
CLICKS="${BENCH_CLICKS:-5000000}"
PORT=50161 METRICS=50162 REDIS_PORT=16392
source scripts/lib/bench.sh
bench_prepare "$WORK"
news_snapshot "$WORK" "$ITEMS" "$USERS"
users_file="$WORK/world/users.txt"
# The ingest backlog: known users clicking random items over the last hours,
# newest ts last (clicks over an hour ahead of the clock are refused).
if [[ ! -f "$WORK/backlog.tsv" ]]; then
  t0=$(( $(date +%s) - 4 * 3600 ))
  tail -n +2 "$WORK/world/items.tsv" | cut -f1 > "$WORK/items.txt"
  awk -v n="$CLICKS" -v t0="$t0" 'BEGIN { srand(3) }
    FNR == NR { items[++ni] = $1; next } { users[++nu] = $1 }
    END { print "user_id\titem_id\tts"
          for (i = 0; i < n; i++)
            printf "%s\t%s\t%d\n", users[int(rand() * nu) + 1], items[int(rand() * ni) + 1],
                   t0 + int(i / 1000) }' "$WORK/items.txt" "$users_file" > "$WORK/backlog.tsv"
  # 1M users the snapshot does not know, one click each.
  awk -v t0="$t0" 'BEGIN { srand(4) } FNR == NR { items[++ni] = $1; next }
    END { print "user_id\titem_id\tts"
          for (i = 0; i < 1000000; i++)
            printf "m%07d\t%s\t%d\n", i, items[int(rand() * ni) + 1], t0 + int(i / 1000) }' \
    "$WORK/items.txt" /dev/null > "$WORK/million_users.tsv"
fi

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --logfile "$WORK/redis.log" &
redis=$!
server=""
trap 'kill $redis ${server:-} 2>/dev/null || true' EXIT
sleep 0.5

metric() { curl -s "127.0.0.1:$METRICS/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
start_server() {  # STREAM [FLAGS...]
  local stream=$1
  shift
  "$BIN/recall-server" --snapshot_root "$WORK/root" --host 127.0.0.1 --port "$PORT" \
    --metrics_host 127.0.0.1 --metrics_port "$METRICS" --admin_port -1 \
    --click_stream "redis://127.0.0.1:$REDIS_PORT/$stream" --realtime_click_ttl 720h "$@" \
    2>/dev/null &
  server=$!
  "$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 120 >/dev/null
}
stop_server() { kill -TERM "$server"; wait "$server" || true; server=""; }
bench() {  # extra flags...
  "$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$users_file" --k "$K" \
    --duration "$SECS" --warmup 2 --deadline_ms 2000 --json "$@"
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "== latency with and without ingest ($ITEMS items, $USERS users, k=$K, $(getconf _NPROCESSORS_ONLN) cores)"
# One server throughout, so every run does the same real-time work per
# request: the state is first filled with 300k clicks (and caught up).
header() { head -1 "$WORK/backlog.tsv"; }
{ header; sed -n '2,300001p' "$WORK/backlog.tsv"; } > "$WORK/fill.tsv"
{ header; sed -n '300002,500001p' "$WORK/backlog.tsv"; } > "$WORK/steady.tsv"
{ header; tail -n +500002 "$WORK/backlog.tsv"; } > "$WORK/burst.tsv"
url="redis://127.0.0.1:$REDIS_PORT/load"
start_server load
"$BIN/recallctl" replay --clicks "$WORK/fill.tsv" --stream "$url" >/dev/null
wait_folded() {  # N: until N clicks are folded in and the state is live
  for _ in $(seq 1200); do
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1] or 0) >= $1 and sys.argv[2] == '1' else 1)" \
      "$(metric recall_click_stream_events_total)" "$(metric recall_click_stream_caught_up)" && return
    sleep 0.5
  done
}
wait_folded 300000
max=$(bench --concurrency 8)
rate=$(python3 -c "print(round($(field "$max" qps) / 2, 1))")
echo "maximum $(field "$max" qps) qps (closed loop, 8 in flight, 300k clicks in the state); open loop at $rate/s:"
quiet=$(bench --concurrency 32 --rate "$rate")
# For scale: a CPU burner of about the consumer's share at 5,000 clicks/s
# (6 ms every 100 ms, nice 10) and nothing else.
python3 - "$SECS" <<'PY' &
import os, sys, time
os.nice(10)
end = time.time() + float(sys.argv[1]) + 2
while time.time() < end:
    busy_until = time.perf_counter() + 0.006
    while time.perf_counter() < busy_until:
        pass
    time.sleep(0.094)
PY
burner=$!
burned=$(bench --concurrency 32 --rate "$rate")
wait "$burner"
# A steady click rate (BENCH_RATE, default 5,000/s) pushed while the load
# runs: the operating point.
"$BIN/recallctl" replay --clicks "$WORK/steady.tsv" --stream "$url" --rate "${BENCH_RATE:-5000}" \
  >/dev/null &
replayer=$!
steady_before=$(metric recall_click_stream_events_total)
steady=$(bench --concurrency 32 --rate "$rate")
steady_events=$(( $(metric recall_click_stream_events_total | cut -d. -f1) - ${steady_before%.*} ))
kill "$replayer" 2>/dev/null || true
wait "$replayer" 2>/dev/null || true
sleep 1
# A burst: 2.5M clicks pushed at once; the consumer folds as fast as it can
# while the load runs (real-time signals off until it has caught up).
"$BIN/recallctl" replay --clicks "$WORK/burst.tsv" --stream "$url" >/dev/null
before=$(metric recall_click_stream_events_total)
t0=$(date +%s.%N)
busy=$(bench --concurrency 32 --rate "$rate")
t1=$(date +%s.%N)
after=$(metric recall_click_stream_events_total)
lag=$(metric recall_click_stream_lag_seconds)
behind=$(( 1 - $(metric recall_click_stream_caught_up) ))
malformed=$(metric recall_click_stream_malformed_events_total)
stop_server
python3 - "$quiet" "$busy" "$before" "$after" "$t0" "$t1" "$lag" "$malformed" "$CLICKS" \
  "$steady" "$steady_events" "${BENCH_RATE:-5000}" "$burned" "$behind" <<'PY'
import json, sys
q, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
before, after, t0, t1, lag, malformed, backlog = (float(x) for x in sys.argv[3:10])
st, st_events, st_rate = json.loads(sys.argv[10]), float(sys.argv[11]), float(sys.argv[12])
burn = json.loads(sys.argv[13])
print(f"without ingest:            p50 {q['p50_ms']:.2f} ms  p99 {q['p99_ms']:.2f} ms  errors {q['errors']}")
print(f"a 6% CPU burner, no ingest: p50 {burn['p50_ms']:.2f} ms  p99 {burn['p99_ms']:.2f} ms  "
      f"(p99 ratio {burn['p99_ms'] / q['p99_ms']:.2f})")
print(f"ingest at {st_rate:,.0f} clicks/s:  p50 {st['p50_ms']:.2f} ms  p99 {st['p99_ms']:.2f} ms  "
      f"errors {st['errors']}  (p99 ratio {st['p99_ms'] / q['p99_ms']:.2f}; {st_events:,.0f} folded meanwhile)")
print(f"catching up a burst:       p50 {b['p50_ms']:.2f} ms  p99 {b['p99_ms']:.2f} ms  "
      f"errors {b['errors']}  (p99 ratio {b['p99_ms'] / q['p99_ms']:.2f})")
left = ("still catching up at the end" if sys.argv[14] == "1"
        else "caught up before the end: a lower bound")
print(f"ingest while serving: {(after - before) / (t1 - t0):,.0f} clicks/s "
      f"({after - before:,.0f} in {t1 - t0:.1f} s; {left}; lag at the end {lag:.0f} s; malformed {malformed:,.0f})")
PY

echo "== memory per 1M users kept"
start_server memory --realtime_max_users 2000000  # all of them kept
rss0=$(metric process_resident_memory_bytes)
est0=$(metric recall_realtime_memory_bytes)
"$BIN/recallctl" replay --clicks "$WORK/million_users.tsv" \
  --stream "redis://127.0.0.1:$REDIS_PORT/memory" >/dev/null
for _ in $(seq 1200); do
  python3 -c "import sys; sys.exit(0 if float(sys.argv[1] or 0) >= 1e6 else 1)" \
    "$(metric recall_click_stream_events_total)" && break
  sleep 0.5
done
sleep 1  # the last publish
rss1=$(metric process_resident_memory_bytes)
est1=$(metric recall_realtime_memory_bytes)
users=$(metric recall_realtime_users)
stop_server
python3 -c "
rss0, rss1, est0, est1, users = $rss0, $rss1, $est0, $est1, $users
print(f'users kept {users:,.0f}: RSS +{(rss1 - rss0) / 2**20:,.0f} MiB '
      f'({(rss1 - rss0) / users:,.0f} B/user), estimate +{(est1 - est0) / 2**20:,.0f} MiB '
      f'({(est1 - est0) / users:,.0f} B/user)')"
