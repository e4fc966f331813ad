#!/usr/bin/env bash
# Measures what the click stream adds (docs/QUALITY.md, "Real-time signals"):
# merged Recall@K on the users' next clicks with the stream's signals against
# the same snapshot on snapshot signals alone, beside popularity and item-kNN
# fitted on every click the stream-fed server has seen.
#
# The synthetic world's clicks are split in time:
#   validation: snapshot < T60, stream [T60, T70), judge [T70, T80)
#   test:       snapshot < T80, stream [T80, T90), judge >= T90
# (Tp = the p-th percentile of click times). The weights of the two
# real-time channels are chosen on the validation split only; the test split
# is measured once with them.
#
# Usage: scripts/quality_realtime.sh [WORK_DIR]   (needs redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(pwd)/quality-data/realtime}"
BIN="$(pwd)/build/bin"
PORT="${QUALITY_PORT:-50193}"
REDIS_PORT="${QUALITY_REDIS_PORT:-16391}"
ITEMS="${QUALITY_ITEMS:-20000}"
USERS="${QUALITY_USERS:-5000}"
scripts/build.sh recall-server recallctl >/dev/null
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
rm -rf "$WORK"
mkdir -p "$WORK"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --logfile "$WORK/redis.log" &
redis=$!
server=""
trap 'kill $redis ${server:-} 2>/dev/null || true' EXIT

"$BIN/recallctl" gen --out "$WORK/world" --items "$ITEMS" --users "$USERS" --seed 11
pct() { tail -n +2 "$WORK/world/clicks.tsv" | cut -f3 | sort -n | awk -v p="$1" \
  '{a[NR]=$1} END {print a[int(NR*p/100)]}'; }
T60=$(pct 60); T70=$(pct 70); T80=$(pct 80); T90=$(pct 90)

# split WORLD CUTOFF OUT_WORLD OUT_TSV
split() { "$BIN/recallctl" split --input "$1" --out "$3" --test "$4" --cutoff "$2" >/dev/null; }

# The policy: the news policy with its real-time channels at weights $1, $2.
policy() {
  python3 - "$1" "$2" <<'PY'
import re, sys
text = open("deploy/policy/news.textproto").read()
for name, weight in (("cluster_cf_now", sys.argv[1]), ("hot_now", sys.argv[2])):
    text, n = re.subn(r'(name: "%s"\n(?:  .*\n)*?  weight: )[0-9.]+' % name,
                      lambda m: m.group(1) + weight, text)
    assert n == 1, name
print(text, end="")
PY
}

# run NAME SNAP_WORLD STREAM_TSV JUDGE_TSV BASELINE_WORLD W_CF W_HOT STREAM(0|1)
run() {
  local name=$1 snap=$2 stream=$3 judge=$4 base=$5 wcf=$6 whot=$7 use_stream=$8
  policy "$wcf" "$whot" > "$WORK/$name.policy"
  rm -rf "$WORK/$name.root"
  OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$snap" \
    --out "$WORK/$name.root" --policy "$WORK/$name.policy" \
    --clusters deploy/clusters/news.textproto --version v >/dev/null 2>&1
  local flags=()
  local url="redis://127.0.0.1:$REDIS_PORT/$name"
  if [[ $use_stream == 1 ]]; then
    "$BIN/recallctl" replay --clicks "$stream" --stream "$url" >/dev/null
    flags=(--click_stream "$url" --realtime_click_ttl 720h --realtime_half_life 24h
           --realtime_max_users 1000000)
  fi
  "$BIN/recall-server" --snapshot_root "$WORK/$name.root" --host 127.0.0.1 --port "$PORT" \
    --metrics_port -1 --admin_port -1 "${flags[@]}" 2>/dev/null &
  server=$!
  "$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 60 >/dev/null
  if [[ $use_stream == 1 ]]; then  # wait until the replayed clicks are in
    local want; want=$(( $(wc -l < "$stream") - 1 ))
    for _ in $(seq 600); do
      got=$(/usr/bin/python3 ../shared/tools/grpcurl.py "127.0.0.1:$PORT" call \
        recall.v1.RecallService/GetSnapshotInfo '{}' 2>/dev/null | python3 -c \
        'import json,sys; s=json.load(sys.stdin).get("clickStream",{}); print(int(s.get("eventsTotal",0))+int(s.get("unknownItemEventsTotal",0)) if s.get("caughtUp") else -1)' \
        || echo -1)
      [[ $got -ge $want ]] && break
      sleep 0.1
    done
  fi
  "$BIN/recallctl" eval --target "127.0.0.1:$PORT" --test "$judge" --train "$base" \
    --k 10,50,100,500 --json 2>/dev/null > "$WORK/$name.json"
  kill -TERM $server; wait $server || true; server=""
  python3 - "$WORK/$name.json" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
row = lambda k: d[k]["recall@100"]
ch = d.get("channels", {})
extra = "  ".join(f"{c} {ch[c]['recall@100']:.4f}" for c in ("cluster_cf_now", "hot_now", "i2i_item2vec") if c in ch)
print(f"{sys.argv[2]:<28} merged {row('merged'):.4f}  popularity {row('popularity'):.4f}  "
      f"item-kNN {row('item_knn'):.4f}  users {d['merged']['users']}  {extra}")
PY
}

echo "== splits (T60 $T60, T70 $T70, T80 $T80, T90 $T90)"
split "$WORK/world" "$T90" "$WORK/pre90" "$WORK/judge_test.tsv"      # test judge: >= T90
split "$WORK/pre90" "$T80" "$WORK/pre80" "$WORK/stream_test.tsv"     # test stream: [T80, T90)
split "$WORK/pre80" "$T70" "$WORK/pre70" "$WORK/judge_val.tsv"       # validation judge
split "$WORK/pre70" "$T60" "$WORK/pre60" "$WORK/stream_val.tsv"      # validation stream

echo "== validation (snapshot < T60, stream [T60, T70), judged on [T70, T80))"
run val_snapshot_only "$WORK/pre60" "$WORK/stream_val.tsv" "$WORK/judge_val.tsv" "$WORK/pre70" 0 0 0
best=""; best_recall=-1
for wcf in 0.75 1.5 3; do
  for whot in 0.3 1; do
    line=$(run "val_stream_cf${wcf}_hot${whot}" "$WORK/pre60" "$WORK/stream_val.tsv" \
      "$WORK/judge_val.tsv" "$WORK/pre70" "$wcf" "$whot" 1)
    echo "$line"
    r=$(awk '{print $3}' <<<"$line")
    if python3 -c "import sys; sys.exit(0 if $r > $best_recall else 1)"; then
      best_recall=$r; best="$wcf $whot"
    fi
  done
done
read -r WCF WHOT <<<"$best"
echo "chosen on validation: cluster_cf_now weight $WCF, hot_now weight $WHOT"

echo "== test (snapshot < T80, stream [T80, T90), judged on >= T90), measured once"
run test_snapshot_only "$WORK/pre80" "$WORK/stream_test.tsv" "$WORK/judge_test.tsv" "$WORK/pre90" "$WCF" "$WHOT" 0
run test_stream "$WORK/pre80" "$WORK/stream_test.tsv" "$WORK/judge_test.tsv" "$WORK/pre90" "$WCF" "$WHOT" 1
