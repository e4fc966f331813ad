#!/usr/bin/env bash
# Regenerates the recall-quality figures of docs/QUALITY.md: every channel
# alone, the merged policy and a popularity baseline, at K = 10, 50, 100, 500,
# through the real RPC, on MovieLens (ml-latest-small, temporal split: each
# user's last 5 liked movies held out) and on the synthetic world.
#
# Each dataset also gets an evaluation report, a static page with charts
# (recallctl eval --report; the charts need gnuplot): WORK_DIR/ml_eval-report/
# and WORK_DIR/syn_eval-report/, each opened at index.html.
#
# Usage: scripts/quality.sh MOVIELENS_DIR [WORK_DIR]
#   MOVIELENS_DIR: an unpacked ml-latest-small (ratings.csv, movies.csv,
#   tags.csv; https://grouplens.org/datasets/movielens/, never copied into
#   the repository); WORK_DIR defaults to ./quality-data.
set -euo pipefail
if [[ $# -lt 1 || ! -f "$1/ratings.csv" ]]; then
  echo "usage: scripts/quality.sh MOVIELENS_DIR [WORK_DIR] (MOVIELENS_DIR holds ratings.csv)" >&2
  exit 2
fi
ML="$(cd "$1" && pwd)"
cd "$(dirname "$0")/.."
WORK="${2:-$(pwd)/quality-data}"
BIN="$(pwd)/build/bin"
PORT="${QUALITY_PORT:-50191}"
scripts/build.sh recall-server recallctl >/dev/null
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
rm -rf "$WORK"
mkdir -p "$WORK"

# serve ROOT, evaluate TEST against TRAIN_WORLD, write OUT.json and the
# report OUT-report/, and print the table
evaluate() {
  local root=$1 test=$2 train=$3 out=$4 note=$5
  "$BIN/recall-server" --snapshot_root "$root" --host 127.0.0.1 --port "$PORT" \
    --metrics_port -1 2>/dev/null &
  local server=$!
  "$BIN/recallctl" health --target "127.0.0.1:$PORT" --wait 60 >/dev/null
  # One evaluation: the table on stdout, the report, and its report.json (what
  # --json prints) as OUT.json.
  "$BIN/recallctl" eval --target "127.0.0.1:$PORT" --test "$test" --train "$train" \
    --cutoffs 10,50,100,500 --report "$out-report" --report_note "$note" 2>"$out.log" || {
    cat "$out.log" >&2; kill -TERM $server; exit 1; }
  cp "$out-report/report.json" "$out.json"
  kill -TERM $server
  wait $server || true
}

echo "== MovieLens ($ML)"
"$BIN/recallctl" import movielens --input "$ML" --out "$WORK/ml" --min-rating 4
"$BIN/recallctl" split --input "$WORK/ml" --out "$WORK/ml_train" --test "$WORK/ml_test.tsv" --last-n 5
"$BIN/recallctl" train --input "$WORK/ml_train" --dim 64 --epochs 10 --threads 2
# Films: long histories (all of them seed item-CF), popularity over all time.
ML_BUILD=(--recent_clicks 1000 --seen_items 2000 --itemcf_neighbors 1000 --hot_half_life_hours 0)
# The policy is fitted on a validation split of ml_train, never on ml_test.
OPENBLAS_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" tune --input "$WORK/ml_train" \
  --out "$WORK/ml_policy.textproto" --metric recall@100 "${ML_BUILD[@]}" --threads 2
OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$WORK/ml_train" \
  --out "$WORK/ml_root" --policy "$WORK/ml_policy.textproto" --version ml "${ML_BUILD[@]}"
evaluate "$WORK/ml_root" "$WORK/ml_test.tsv" "$WORK/ml_train" "$WORK/ml_eval" \
  "MovieLens ml-latest-small, ratings >= 4 as clicks (import movielens --min-rating 4); test: each user's last 5 (split --last-n 5); the policy fitted on a validation split of the train world (tune)"

echo "== synthetic world (20k items, 5k users)"
"$BIN/recallctl" gen --out "$WORK/syn" --items 20000 --users 5000 --seed 7
"$BIN/recallctl" split --input "$WORK/syn" --out "$WORK/syn_train" --test "$WORK/syn_test.tsv" --last-n 5
OMP_NUM_THREADS=$(getconf _NPROCESSORS_ONLN) "$BIN/recallctl" build --input "$WORK/syn_train" \
  --out "$WORK/syn_root" --policy deploy/policy/news.textproto \
  --clusters deploy/clusters/news.textproto --version syn
evaluate "$WORK/syn_root" "$WORK/syn_test.tsv" "$WORK/syn_train" "$WORK/syn_eval" \
  "synthetic world, 20k items, 5k users (gen --seed 7); test: each user's last 5 clicks (split --last-n 5); the shipped news policy and clusters"
