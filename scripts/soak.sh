#!/usr/bin/env bash
# Soak test: a real recall-server under steady load while everything an
# operator does happens around it, for MINUTES minutes (default 5):
#   - open-loop load at 50% of the maximum measured first (recallctl bench);
#   - a new snapshot version published every 10 s (recallctl build
#     --keep_versions 3), picked up by the server's CURRENT poll;
#   - a SIGHUP every 7 s;
#   - a /metrics scrape every second, plus a probe of a wrong path;
#   - every minute a corrupt version (a copy of the current one with a
#     flipped byte in its index) pointed to by CURRENT, then a good build.
# It reports failed requests (must be 0), the server's RSS at start and end
# (flat within 10%), and reload failures (exactly the corrupt versions), and
# exits non-zero when any of the three is off.
#
# The server runs as in the image (GLIBC_TUNABLES=glibc.malloc.hugetlb=1).
# Usage: scripts/soak.sh [MINUTES] [DIR]   (DIR default ./soak-data)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-5}"
DIR="${2:-$(pwd)/soak-data}"
BIN="$(pwd)/build/bin"
PORT="${SOAK_PORT:-50171}"
METRICS_PORT="${SOAK_METRICS_PORT:-50172}"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
scripts/build.sh recall-server recallctl >/dev/null

rm -rf "$DIR"
mkdir -p "$DIR"
"$BIN/recallctl" gen --out "$DIR/world" --items 20000 --users 20000 --dim 32 --seed 5 >/dev/null
build() {
  "$BIN/recallctl" build --input "$DIR/world" --out "$DIR/root" --index HNSW32 \
    --policy deploy/policy/news.textproto --clusters deploy/clusters/news.textproto \
    --keep_versions 3 >>"$DIR/builds.log" 2>&1
}
build
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 "$BIN/recall-server" --snapshot_root "$DIR/root" --host 127.0.0.1 --port "$PORT" \
  --metrics_host 127.0.0.1 --metrics_port "$METRICS_PORT" --admin_port -1 \
  --reload_interval 2s 2>"$DIR/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
"$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 60 >/dev/null
rss() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
metric() {  # the value of an unlabelled metric
  curl -s "127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

max=$("$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$DIR/world/users.txt" \
  --concurrency 4 --duration 5 --warmup 1 --json | sed 's/.*"qps":\([0-9.]*\).*/\1/')
rate=$(awk -v m="$max" 'BEGIN {printf "%d", m / 2}')
echo "soak: max ${max} qps, load ${rate} qps for ${MINUTES} min"

seconds=$((MINUTES * 60))
"$BIN/recallctl" bench --target "127.0.0.1:$PORT" --user_ids "$DIR/world/users.txt" \
  --rate "$rate" --concurrency 16 --duration "$seconds" --warmup 0 --json \
  >"$DIR/load.json" 2>"$DIR/load.log" &
load=$!

corrupt=0
scrape_failures=0
builder=0
start=$(date +%s)
next_build=$((start + 10))
next_corrupt=$((start + 60))
next_hup=$((start + 7))
next_report=$start
rss_start=""
while kill -0 "$load" 2>/dev/null; do
  now=$(date +%s)
  # The reference RSS: after the first minute, once the load has warmed the
  # caches and a swap has held two versions at once (the steady state).
  if [[ -z "$rss_start" ]] && ((now >= start + 55)); then
    rss_start=$(rss)
    echo "soak: RSS after the first minute ${rss_start} kB"
  fi
  if ((now >= next_report)); then
    echo "soak: $(( (now - start) / 60 )) min, RSS $(rss) kB"
    next_report=$((now + 300))
  fi
  curl -sf -o /dev/null "127.0.0.1:$METRICS_PORT/metrics" || scrape_failures=$((scrape_failures + 1))
  curl -s -o /dev/null "127.0.0.1:$METRICS_PORT/no-such-page" || true
  if ((now >= next_hup)); then kill -HUP "$server"; next_hup=$((now + 7)); fi
  if ((now >= next_corrupt)); then
    # No build in flight: it would replace CURRENT before the server saw it.
    ((builder == 0)) || wait "$builder" || true
    current=$(cat "$DIR/root/CURRENT")
    bad="corrupt-$now"
    cp -r "$DIR/root/$current" "$DIR/root/$bad"
    sed -i "s/version: \"$current\"/version: \"$bad\"/" "$DIR/root/$bad/MANIFEST"
    index=$(ls "$DIR/root/$bad/spaces/"*.faiss | head -1)
    printf '\x55' | dd of="$index" bs=1 seek=4096 conv=notrunc status=none
    echo "$bad" >"$DIR/root/CURRENT.tmp" && mv "$DIR/root/CURRENT.tmp" "$DIR/root/CURRENT"
    corrupt=$((corrupt + 1))
    sleep 3  # the server's poll sees it and refuses it
    build
    next_corrupt=$((now + 60))
    next_build=$(($(date +%s) + 10))
  elif ((now >= next_build)); then
    ((builder == 0)) || wait "$builder" || true
    build &
    builder=$!
    next_build=$((now + 10))
  fi
  sleep 1
done
wait "$load" || true
sleep 3
rss_end=$(rss)
reload_failures=$(metric recall_snapshot_reload_failures_total)
failed=$(sed 's/.*"errors":\([0-9]*\).*/\1/' "$DIR/load.json")
requests=$(sed 's/.*"requests":\([0-9]*\).*/\1/' "$DIR/load.json")
versions=$(grep -c published "$DIR/builds.log" || true)
growth=$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN {printf "%.1f", 100 * (b - a) / a}')
echo "soak: ${requests} requests, ${failed} failed; ${versions} versions built;" \
  "${corrupt} corrupt versions, ${reload_failures} reload failures;" \
  "RSS ${rss_start} -> ${rss_end} kB (${growth}%); ${scrape_failures} failed scrapes"
ok=1
[[ "$failed" == 0 ]] || { echo "soak: FAILED requests"; ok=0; }
[[ "${reload_failures%.*}" == "$corrupt" ]] || { echo "soak: reload failures != corrupt versions"; ok=0; }
awk -v g="$growth" 'BEGIN {exit !(g <= 10)}' || { echo "soak: RSS grew over 10%"; ok=0; }
[[ "$scrape_failures" == 0 ]] || { echo "soak: failed scrapes"; ok=0; }
kill -TERM "$server"
wait "$server" || true
trap - EXIT
((ok)) && echo "soak: PASS" || { echo "soak: FAIL"; exit 1; }
