#!/usr/bin/env bash
# The demo, end to end: installs dependencies, builds, generates the synthetic
# news world (100k items, 100k users, 64 dims; dssm, item2vec, title2vec, tag
# and media vectors), builds a snapshot with the news policy, starts
# recall-server on 127.0.0.1:50051 (metrics on 127.0.0.1:9464, the debug page on
# http://127.0.0.1:8080/?user=ID), prints a few
# real answers and the commands to try, and serves until Ctrl-C. When
# redis-server is installed (scripts/install-deps.sh installs it) it also
# starts one on 127.0.0.1:$DEMO_REDIS_PORT as the click stream and shows an
# answer change after a user reads three articles, then an article published
# live (the item stream) reach the user's answer within a second and leave it
# when taken down.
#
# Environment: DEMO_DIR (default ./demo-data), DEMO_ITEMS, DEMO_USERS,
# DEMO_REDIS_PORT (default 6390).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT_DIR=$(pwd)

scripts/install-deps.sh
scripts/build.sh recall-server recallctl

BIN="$ROOT_DIR/build/bin"
DEMO_DIR="${DEMO_DIR:-$ROOT_DIR/demo-data}"
ITEMS="${DEMO_ITEMS:-100000}"
USERS="${DEMO_USERS:-100000}"
# One OpenMP/BLAS thread per search; malloc'd memory (Faiss's vectors and graph)
# on transparent huge pages: see docs/OPERATIONS.md.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1

start=$(date +%s)
echo "== generating the demo world in $DEMO_DIR/world ($ITEMS items, $USERS users)"
"$BIN/recallctl" gen --out "$DEMO_DIR/world" --items "$ITEMS" --users "$USERS" --seed 42
rm -rf "$DEMO_DIR/snapshots"  # the demo keeps one version
echo "== building a snapshot (HNSWLIB32) into $DEMO_DIR/snapshots"
OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$DEMO_DIR/world" \
  --out "$DEMO_DIR/snapshots" --policy deploy/policy/news.textproto \
  --clusters deploy/clusters/news.textproto

stream_flags=()
redis=""
stream=""
if command -v redis-server >/dev/null; then
  stream="redis://127.0.0.1:${DEMO_REDIS_PORT:-6390}/clicks"
  echo "== starting redis-server for the click stream ($stream)"
  redis-server --port "${DEMO_REDIS_PORT:-6390}" --bind 127.0.0.1 --save '' --appendonly no \
    --logfile "$DEMO_DIR/redis.log" &
  redis=$!
  items_stream="redis://127.0.0.1:${DEMO_REDIS_PORT:-6390}/items"
  stream_flags=(--click_stream "$stream" --item_stream "$items_stream")
fi

echo "== starting recall-server"
"$BIN/recall-server" --snapshot_root "$DEMO_DIR/snapshots" \
  --host 127.0.0.1 --port 50051 --metrics_host 127.0.0.1 --metrics_port 9464 \
  --debug_port 8080 "${stream_flags[@]}" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; [[ -z $redis ]] || kill $redis 2>/dev/null || true' EXIT
trap 'exit 0' INT TERM

user=$(sed -n 1p "$DEMO_DIR/world/users.txt")
item=$(sed -n 2p "$DEMO_DIR/world/items.tsv" | cut -f1)
echo
echo "== Recall for known user $user (k=10): the news policy (deploy/policy/news.textproto)"
"$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --k 10 --wait 60
echo
echo "== Recall for an unknown user (k=5): the popular fallback"
"$BIN/recallctl" query --target 127.0.0.1:50051 --user new-user-0001 --k 5
echo
echo "== Related articles for item $item (k=5): SimilarItems in item2vec and title2vec"
"$BIN/recallctl" query --target 127.0.0.1:50051 --similar --seeds "$item" --spaces item2vec,title2vec --k 5
echo
echo "== One channel alone for $user (k=5): crosstag"
"$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --channels crosstag --k 5
if [[ -n $stream ]]; then
  # Three articles the user has not read, far down the item table.
  fresh="$DEMO_DIR/fresh_clicks.tsv"
  now=$(date +%s)
  { printf 'user_id\titem_id\tts\n'
    sed -n '5001,5003p' "$DEMO_DIR/world/items.tsv" | cut -f1 | awk -v u="$user" -v t="$now" \
      '{ printf "%s\t%s\t%d\n", u, $1, t + NR }'; } > "$fresh"
  echo
  echo "== Real time, before: i2i alone for $user (k=5), seeded by the clicks in the snapshot"
  "$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --channels i2i_item2vec --k 5
  echo
  echo "== $user reads $(tail -n +2 "$fresh" | cut -f2 | paste -sd' ')"
  echo "   (recallctl replay pushes them into $stream; the server folds them in)"
  "$BIN/recallctl" replay --clicks "$fresh" --stream "$stream"
  sleep 0.5
  echo "== Real time, after: i2i alone for $user (k=5), seeded by the new reads (via)"
  "$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --channels i2i_item2vec --k 5
  # A breaking article, published after the build: a near copy of the
  # user's best u2i_dssm article, with its dssm vector (tag2vec is derived).
  top=$("$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --channels u2i_dssm --k 1 \
    --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["item_id"])')
  live_id="LIVE$(date +%s)"
  { head -1 "$DEMO_DIR/world/items.tsv"
    awk -F'\t' -v OFS='\t' -v id="$top" -v new="$live_id" -v now="$(date +%s)" \
      '$1 == id { $1 = new; $6 = now; print }' "$DEMO_DIR/world/items.tsv"; } > "$DEMO_DIR/live.tsv"
  { echo "1 $(head -1 "$DEMO_DIR/world/vectors/dssm.item.vec" | cut -d' ' -f2)"
    awk -v id="$top" -v new="$live_id" '$1 == id { $1 = new; print }' \
      "$DEMO_DIR/world/vectors/dssm.item.vec"; } > "$DEMO_DIR/live.dssm.vec"
  echo
  echo "== Live articles: $live_id published now (recallctl publish-items into $items_stream)"
  "$BIN/recallctl" publish-items --items "$DEMO_DIR/live.tsv" --vectors "dssm=$DEMO_DIR/live.dssm.vec" \
    --stream "$items_stream"
  sleep 0.3
  echo "== u2i_dssm alone for $user (k=3): the live article beside its snapshot twin"
  "$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --channels u2i_dssm --k 3
  echo "== taken down (recallctl takedown): gone from every answer"
  "$BIN/recallctl" takedown --items "$live_id" --stream "$items_stream"
  sleep 0.3
  "$BIN/recallctl" query --target 127.0.0.1:50051 --user "$user" --channels u2i_dssm --k 3
fi
echo
echo "Set-up took $(( $(date +%s) - start )) s after the build. Try:"
echo "  open http://127.0.0.1:8080/?user=$user   # the debug page: why this reader got these articles"
echo "  grpcurl -plaintext 127.0.0.1:50051 list"
echo "  grpcurl -plaintext 127.0.0.1:50051 describe recall.v1.RecallService"
echo "  grpcurl -plaintext -d '{\"user_id\":\"$user\",\"k\":20}' 127.0.0.1:50051 recall.v1.RecallService/Recall"
echo "  $BIN/recallctl query --target 127.0.0.1:50051 --user $user --k 20 [--json]"
echo "  curl -s 127.0.0.1:9464/metrics | grep ^recall_"
echo "  grpcurl -plaintext 127.0.0.1:50052 recall.v1.RecallAdmin/Reload   # after a new build; or kill -HUP"
echo "  $BIN/recallctl bench --target 127.0.0.1:50051 --user_ids $DEMO_DIR/world/users.txt --concurrency 4 --duration 10"
[[ -z $stream ]] || echo "  $BIN/recallctl replay --clicks $DEMO_DIR/world/clicks.tsv --stream $stream --rate 1000   # replay the log as a live stream"
[[ -z $stream ]] || echo "  $BIN/recallctl publish-items --items NEW.tsv --vectors dssm=NEW.vec --stream $items_stream   # live articles"
echo "Serving until Ctrl-C."
wait $server
