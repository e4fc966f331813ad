#!/usr/bin/env bash
# What the streams add (docs/QUALITY.md, "Streams on a time split"): merged
# Recall@100 on the users' next clicks with a snapshot built at a cut-off in
# time, alone, with the click stream, and with the click and item streams,
# beside popularity and item-kNN fitted on every click before the judged
# period; on all judged clicks and on the judged clicks of articles
# published after the cut-off (which a snapshot alone cannot recall).
#
# The synthetic world's clicks are split in time (Tp = the p-th percentile
# of click times):
#   validation: snapshot < T60, click stream [T60, T70), judged [T70, T80)
#   test:       snapshot < T80, click stream [T80, T90), judged >= T90
# The snapshot holds the items published before its cut-off (`recallctl
# split --cutoff` leaves the later ones out); the item stream carries the
# ones published from the cut-off to the end of the judged period, with
# their content vectors (dssm, title2vec; tag2vec is derived by the
# server), not item2vec, which is learnt from clicks. The weights of the two
# real-time channels are chosen on the validation split only; the test split
# is measured once with them.
#
# Usage: scripts/quality_realtime.sh [WORK_DIR]   (needs redis-server)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(pwd)/quality-data/realtime}"
BIN="$(pwd)/build/bin"
PORT="${QUALITY_PORT:-50193}"
METRICS_PORT="${QUALITY_METRICS_PORT:-50194}"
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

# split WORLD CUTOFF OUT_WORLD OUT_TSV [NEW_ITEMS_DIR]
split() {
  "$BIN/recallctl" split --input "$1" --out "$3" --test "$4" --cutoff "$2" \
    ${5:+--new_items "$5"} >/dev/null
}
# fresh JUDGE_TSV CUTOFF OUT: the judged clicks on items published >= CUTOFF.
fresh() {
  awk -F'\t' -v t="$2" 'NR == FNR { if (FNR > 1) pub[$1] = $6; next }
    FNR == 1 || pub[$2] >= t' "$WORK/world/items.tsv" "$1" > "$3"
}

# The policy: $3 (default the news policy) with its real-time channels at
# weights $1, $2.
policy() {
  python3 - "$1" "$2" "${3:-deploy/policy/news.textproto}" <<'PY'
import re, sys
text = open(sys.argv[3]).read()
for name, weight in (("cluster_cf_now", sys.argv[1]), ("hot_now", sys.argv[2])):
    text, n = re.subn(r'(name: "%s"\n(?:  .*\n)*?  weight: )[0-9.]+' % name,
                      lambda m: m.group(1) + weight, text)
    assert n == 1, name
print(text, end="")
PY
}

metric() {  # NAME: its value on the server's /metrics, 0 when absent
  curl -s "127.0.0.1:$METRICS_PORT/metrics" | awk -v m="$1" '$1 == m {v = $2} END {print v + 0}'
}

# run NAME SNAP_WORLD STREAM_TSV JUDGE_TSV FRESH_TSV BASELINE_WORLD NEW_ITEMS W_CF W_HOT CLICKS ITEMS [POLICY]
run() {
  local name=$1 snap=$2 stream=$3 judge=$4 judge_fresh=$5 base=$6 new=$7
  local wcf=$8 whot=$9 use_clicks=${10} use_items=${11} base_policy=${12:-}
  policy "$wcf" "$whot" $base_policy > "$WORK/$name.policy"
  rm -rf "$WORK/$name.root"
  OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$snap" \
    --out "$WORK/$name.root" --policy "$WORK/$name.policy" \
    --clusters deploy/clusters/news.textproto --version v >/dev/null 2>&1
  local flags=()
  if [[ $use_clicks == 1 ]]; then
    "$BIN/recallctl" replay --clicks "$stream" --stream "redis://127.0.0.1:$REDIS_PORT/$name" >/dev/null
    flags+=(--click_stream "redis://127.0.0.1:$REDIS_PORT/$name" --realtime_click_ttl 720h
            --realtime_half_life 24h --realtime_max_users 1000000)
  fi
  if [[ $use_items == 1 ]]; then
    "$BIN/recallctl" publish-items --items "$new/items.tsv" \
      --vectors "dssm=$new/dssm.item.vec,title2vec=$new/title2vec.item.vec" \
      --stream "redis://127.0.0.1:$REDIS_PORT/$name-items" >/dev/null
    flags+=(--item_stream "redis://127.0.0.1:$REDIS_PORT/$name-items" --item_window 100000h)
  fi
  "$BIN/recall-server" --snapshot_root "$WORK/$name.root" --host 127.0.0.1 --port "$PORT" \
    --metrics_host 127.0.0.1 --metrics_port "$METRICS_PORT" --admin_port -1 "${flags[@]}" \
    2>/dev/null &
  server=$!
  "$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 120 >/dev/null
  if [[ $use_clicks == 1 ]]; then  # wait until the replayed clicks are in
    local want; want=$(( $(wc -l < "$stream") - 1 ))
    for _ in $(seq 600); do
      local got
      got=$(python3 -c "print(int($(metric recall_click_stream_events_total) + $(metric recall_click_stream_unknown_item_events_total)))")
      [[ $got -ge $want && $(metric recall_click_stream_caught_up) == 1 ]] && break
      sleep 0.1
    done
  fi
  "$BIN/recallctl" eval --target "127.0.0.1:$PORT" --test "$judge" --train "$base" \
    --cutoffs 10,50,100,500 --json 2>/dev/null > "$WORK/$name.json"
  "$BIN/recallctl" eval --target "127.0.0.1:$PORT" --test "$judge_fresh" --train "$base" \
    --cutoffs 100 --json 2>/dev/null > "$WORK/$name.fresh.json"
  kill -TERM $server; wait $server || true; server=""
  python3 - "$WORK/$name.json" "$WORK/$name.fresh.json" "$name" <<'PY'
import json, sys
d, f = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
row = lambda x, k: x[k]["recall@100"]
ch = d.get("channels", {})
extra = "  ".join(f"{c} {ch[c]['recall@100']:.4f}" for c in ("cluster_cf_now", "hot_now", "i2i_item2vec", "u2i_dssm") if c in ch)
print(f"{sys.argv[3]:<30} merged {row(d, 'merged'):.4f}  fresh {row(f, 'merged'):.4f}  "
      f"popularity {row(d, 'popularity'):.4f} / {row(f, 'popularity'):.4f}  "
      f"item-kNN {row(d, 'item_knn'):.4f} / {row(f, 'item_knn'):.4f}  "
      f"users {d['merged']['users']} / {f['merged']['users']}  {extra}")
PY
}

echo "== splits (T60 $T60, T70 $T70, T80 $T80, T90 $T90)"
split "$WORK/world" "$T90" "$WORK/pre90" "$WORK/judge_test.tsv"      # test judge: >= T90
split "$WORK/pre90" "$T80" "$WORK/pre80" "$WORK/stream_test.tsv"     # test stream: [T80, T90)
split "$WORK/pre80" "$T70" "$WORK/pre70" "$WORK/judge_val.tsv"       # validation judge
split "$WORK/pre70" "$T60" "$WORK/pre60" "$WORK/stream_val.tsv"      # validation stream
# The item streams: items published from the cut-off to the judged period's end.
split "$WORK/pre80" "$T60" "$WORK/unused60" "$WORK/unused60.tsv" "$WORK/new_val"
split "$WORK/world" "$T80" "$WORK/unused80" "$WORK/unused80.tsv" "$WORK/new_test"
fresh "$WORK/judge_val.tsv" "$T60" "$WORK/judge_val_fresh.tsv"
fresh "$WORK/judge_test.tsv" "$T80" "$WORK/judge_test_fresh.tsv"
echo "judged clicks on articles published after the cut-off: validation" \
  "$(($(wc -l < "$WORK/judge_val_fresh.tsv") - 1)) of $(($(wc -l < "$WORK/judge_val.tsv") - 1)), test" \
  "$(($(wc -l < "$WORK/judge_test_fresh.tsv") - 1)) of $(($(wc -l < "$WORK/judge_test.tsv") - 1));" \
  "new items: validation $(($(wc -l < "$WORK/new_val/items.tsv") - 1)), test $(($(wc -l < "$WORK/new_test/items.tsv") - 1))"

val() {  # NAME W_CF W_HOT CLICKS ITEMS
  run "$1" "$WORK/pre60" "$WORK/stream_val.tsv" "$WORK/judge_val.tsv" "$WORK/judge_val_fresh.tsv" \
    "$WORK/pre70" "$WORK/new_val" "$2" "$3" "$4" "$5"
}
test_split() {  # NAME W_CF W_HOT CLICKS ITEMS [POLICY]
  run "$1" "$WORK/pre80" "$WORK/stream_test.tsv" "$WORK/judge_test.tsv" "$WORK/judge_test_fresh.tsv" \
    "$WORK/pre90" "$WORK/new_test" "$2" "$3" "$4" "$5" "${6:-}"
}

echo "== validation (snapshot < T60, click stream [T60, T70), judged on [T70, T80))"
val val_snapshot_only 0 0 0 0
best=""; best_recall=-1
for wcf in 0.75 1.5 3; do
  for whot in 0.3 1; do
    line=$(val "val_streams_cf${wcf}_hot${whot}" "$wcf" "$whot" 1 1)
    echo "$line"
    r=$(awk '{print $3}' <<<"$line")
    if python3 -c "import sys; sys.exit(0 if $r > $best_recall else 1)"; then
      best_recall=$r; best="$wcf $whot"
    fi
  done
done
read -r WCF WHOT <<<"$best"
echo "chosen on validation (both streams): cluster_cf_now weight $WCF, hot_now weight $WHOT"
val val_click_stream "$WCF" "$WHOT" 1 0

# The news policy was fitted on each user's last clicks; a snapshot serves at
# a cut-off in time, with clicks and new articles arriving on the streams.
# Refit it the way it serves: `tune --split time` on everything before the
# test's cut-off (its own validation: a snapshot, the next 10% of the clicks
# on the click stream, the newest 10% judged, the items published since the
# snapshot live), with this script's real-time state settings.
echo "== refit: recallctl tune --split time on the clicks before T80"
"$BIN/recallctl" tune --input "$WORK/pre80" --out "$WORK/refit.policy" --split time \
  --policy deploy/policy/news.textproto --clusters deploy/clusters/news.textproto \
  --realtime_click_ttl 720h --realtime_half_life 24h --live_spaces dssm,title2vec \
  --train_spaces= --max_seconds "${QUALITY_TUNE_SECONDS:-300}" 2>"$WORK/tune.log" | grep '^# Validation'

echo "== test (snapshot < T80, click stream [T80, T90), judged on >= T90), measured once"
test_split test_snapshot_only "$WCF" "$WHOT" 0 0
test_split test_click_stream "$WCF" "$WHOT" 1 0
test_split test_both_streams "$WCF" "$WHOT" 1 1
# The refit's real-time weights are its own (fitted with the stream's state).
test_split test_both_streams_refit \
  "$(python3 -c "import re,sys; t=open(sys.argv[1]).read(); print(re.search(r'name: \"cluster_cf_now\"\n(?:  .*\n)*?  weight: ([0-9.]+)', t).group(1))" "$WORK/refit.policy" 2>/dev/null || echo "$WCF")" \
  "$(python3 -c "import re,sys; t=open(sys.argv[1]).read(); print(re.search(r'name: \"hot_now\"\n(?:  .*\n)*?  weight: ([0-9.]+)', t).group(1))" "$WORK/refit.policy" 2>/dev/null || echo "$WHOT")" \
  1 1 "$WORK/refit.policy"
