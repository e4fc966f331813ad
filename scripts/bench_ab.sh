#!/usr/bin/env bash
# Before/after comparisons of two builds of the binaries, alternated in one
# run on one machine (docs/PERFORMANCE.md, issue 22): keep a copy of the
# binaries from before a change (e.g. `cp -r build/bin /tmp/before`), make
# the change, build, then:
#
#   scripts/bench_ab.sh build  BEFORE_BIN AFTER_BIN WORLD [ROUNDS]
#       `recallctl build` of WORLD (news policy and clusters, every core):
#       wall time, CPU and each stage, per round and side, and each neighbour
#       table's search time
#   scripts/bench_ab.sh client BEFORE_BIN AFTER_BIN ROOT USERS [ROUNDS]
#       one AFTER_BIN server on ROOT; each side's `recallctl bench` at c=8,
#       u2i_dssm alone and the full policy: qps, p50, the load generator's
#       and the server's CPU per request
#   scripts/bench_ab.sh peer   BEFORE_BIN AFTER_BIN ROOT USERS [ROUNDS]
#       each side's in-process search of dssm (one thread per core) and its
#       server's u2i_dssm over gRPC at c=8: the RPC layer's share
#   scripts/bench_ab.sh flags  BIN "FLAGS_A" "FLAGS_B" ROOT USERS [ROUNDS]
#       one build, two sets of recall-server flags (e.g. "" and
#       "--inline_max_channels 1 --max_inline 2"), the servers alternated,
#       the order swapped every round: u2i_dssm alone and the full policy at
#       c=8 and c=1, as `client` prints them
#   scripts/bench_ab.sh targets BEFORE_BIN AFTER_BIN WORLD USERS [ROUNDS]
#       issue 22's five items in one run, the sides alternated (the order
#       swapped every round): each side builds WORLD with its own defaults
#       (items 3 and 4), then serves that snapshot: in process (the engine,
#       u2i_dssm alone and the full policy; the dssm search) and through its
#       own server and load generator over gRPC at c=1 and c=8 (items 1, 2
#       and 5); a line per measurement, then each side's medians and the
#       ratios the targets name (scripts/bench_targets.py). Environment:
#       BIG_WORLD (also build it, once per side: item 4 at 1M), BIG_ROOTS
#       (keep those snapshots in BIG_ROOTS/before and /after, e.g. for
#       `BENCH_BIN=... scripts/bench_policy.sh`), PEER=1 (last, AFTER_BIN's
#       `recallctl bench-peer` on WORLD: Faiss HNSW and hnswlib at the same
#       recall, item 3)
#
# BEFORE_BIN and AFTER_BIN are folders holding recallctl and recall-server,
# and optionally deploy/ (that version's policy/ and clusters/; default the
# checkout's). ROUNDS defaults to 2 (3 for client). Environment: SECS (8).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=$1; before=$2; after=$3; shift 3
SECS="${SECS:-8}"
PORT=50981
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(' '.join(str(d[k]) for k in sys.argv[1:]))" "$@"; }

bin_of() {  # SIDE (before or after): that side's BIN folder
  if [[ $1 == after ]]; then echo "$after"; else echo "$before"; fi
}

deploy_of() {  # BIN: the deploy/ folder its policy and clusters come from
  if [[ -d $1/deploy ]]; then echo "$1/deploy"; else echo deploy; fi
}

build_once() {  # BIN WORLD ROOT LOG: `recallctl build` with that version's
  local bin=$1 world=$2 root=$3 log=$4 deploy  # defaults, every core
  deploy=$(deploy_of "$bin")
  rm -rf "$root"
  ( unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS
    /usr/bin/time -v "$bin/recallctl" build --input "$world" --out "$root" \
      --policy "$deploy/policy/news.textproto" --clusters "$deploy/clusters/news.textproto" \
      --keep_versions 0 >"$log" 2>&1 ) ||
    { echo "$bin: the build failed:" >&2; grep -v '^\s' "$log" | tail -3 >&2; return 1; }
}

build_line() {  # LOG: wall, CPU, each stage and each neighbour table of a build
  echo "wall $(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$1")" \
    "cpu $(awk -F': ' '/Percent of CPU/ {print $2}' "$1")" \
    "$(grep -E '^build: stage' "$1" | awk '{printf "%s=%s ", $3, $4}')" \
    "$(sed -nE 's/^build: neighbours ([^:]+):.* ([0-9.]+) per item.* ([0-9.]+) s;.*/table_\1: \2 per item, \3 s/p' "$1")"
}

build_ab() {
  local world=$1 rounds=${2:-2} out
  out=$(mktemp -d)
  trap 'rm -rf "$out"' RETURN
  for round in $(seq 1 "$rounds"); do
    for side in before after; do
      local bin; bin=$(bin_of "$side")
      build_once "$bin" "$world" "$out/root" "$out/log"
      echo "$round $side $(build_line "$out/log")"
    done
  done
}

serve() {  # BIN ROOT [FLAGS...]: a server on PORT (metrics on PORT+1); sets $server
  local bin=$1 root=$2; shift 2
  OMP_NUM_THREADS=1 "$bin/recall-server" --snapshot_root "$root" --host 127.0.0.1 --port $PORT \
    --metrics_host 127.0.0.1 --metrics_port $((PORT + 1)) --admin_port -1 "$@" 2>/dev/null &
  server=$!
  "$bin/recallctl" health --target 127.0.0.1:$PORT --wait 120 >/dev/null
}

load() {  # BIN USERS WORK C: one bench against the server; prints its figures
  local extra=(); [[ $3 == u2i ]] && extra=(--channels u2i_dssm)
  "$1/recallctl" bench --target 127.0.0.1:$PORT --user_ids "$2" --k 100 --concurrency "$4" \
    --duration "$SECS" --warmup 1 --server_metrics 127.0.0.1:$((PORT + 1)) --json \
    "${extra[@]}" 2>/dev/null | json_field qps p50_ms client_cpu_us server_cpu_us errors
}

in_process() {  # BIN ROOT USERS BENCH_ARGS...: an in-process bench, one thread per
  local bin=$1 root=$2 users=$3; shift 3  # core; prints qps and CPU us per request
  OMP_NUM_THREADS=1 "$bin/recallctl" bench --snapshot "$root" --user_ids "$users" --k 100 \
    --concurrency "$(getconf _NPROCESSORS_ONLN)" --duration "$SECS" --warmup 2 --json "$@" \
    2>/dev/null | json_field qps client_cpu_us
}

client_ab() {
  local root=$1 users=$2 rounds=${3:-3}
  serve "$after" "$root"
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' RETURN
  echo "round work side qps p50_ms client_cpu_us server_cpu_us errors"
  for round in $(seq 1 "$rounds"); do
    for work in u2i full; do
      for side in before after; do
        local bin; bin=$(bin_of "$side")
        echo "$round $work $side $(load "$bin" "$users" $work 8)"
      done
    done
  done
}

flags_ab() {  # the `before` and `after` arguments are the two flag sets here
  local root=$1 users=$2 rounds=${3:-3} bin=$BIN_DIR
  echo "round side work c qps p50_ms client_cpu_us server_cpu_us errors"
  for round in $(seq 1 "$rounds"); do
    local sides=(A B); (( round % 2 )) || sides=(B A)
    for side in "${sides[@]}"; do
      local flags=$before; [[ $side == B ]] && flags=$after
      # shellcheck disable=SC2086  # the flag set is split on purpose
      serve "$bin" "$root" $flags
      for c in 8 1; do
        for work in u2i full; do
          echo "$round $side $work $c $(load "$bin" "$users" $work $c)"
        done
      done
      kill $server; wait $server 2>/dev/null || true
    done
  done
}

peer_ab() {
  local root=$1 users=$2 rounds=${3:-2}
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  for round in $(seq 1 "$rounds"); do
    for side in before after; do
      local bin; bin=$(bin_of "$side")
      local in_process rpc
      in_process=$(in_process "$bin" "$root" "$users" --mode search --space dssm | cut -d' ' -f1)
      serve "$bin" "$root"
      rpc=$("$bin/recallctl" bench --target 127.0.0.1:$PORT --user_ids "$users" --k 100 \
        --channels u2i_dssm --concurrency 8 --duration "$SECS" --warmup 2 --json 2>/dev/null |
        json_field qps)
      kill $server; wait $server 2>/dev/null || true
      python3 -c "import sys; i, r = map(float, sys.argv[1:]); print('$round $side in process %.0f, RPC %.0f, share %.2f' % (i, r, r / i))" \
        "$in_process" "$rpc"
    done
  done
}

serve_side() {  # ROUND SIDE BIN ROOT USERS: a side's snapshot in process and served
  local round=$1 side=$2 bin=$3 root=$4 users=$5 work c
  for work in u2i full; do
    local extra=(); [[ $work == u2i ]] && extra=(--channels u2i_dssm)
    echo "$round $side engine $work $(in_process "$bin" "$root" "$users" --mode engine "${extra[@]}")"
  done
  echo "$round $side search dssm $(in_process "$bin" "$root" "$users" --mode search --space dssm)"
  serve "$bin" "$root"
  echo "$round $side rss loaded $(awk '/^VmRSS/ {print $2}' "/proc/$server/status")"
  for c in 8 1; do
    for work in u2i full; do
      echo "$round $side rpc $work $c $(load "$bin" "$users" $work $c)"
    done
  done
  echo "$round $side rss peak $(awk '/^VmHWM/ {print $2}' "/proc/$server/status")"
  kill $server; wait $server 2>/dev/null || true
}

targets_ab() {
  local world=$1 users=$2 rounds=${3:-2} out
  out=$(mktemp -d)
  trap 'rm -rf "$out"' RETURN
  echo "# $(date -u +%FT%TZ) $(uname -n), $(getconf _NPROCESSORS_ONLN) cores," \
    "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  for round in $(seq 1 "$rounds"); do
    local sides=(before after); (( round % 2 )) || sides=(after before)
    for side in "${sides[@]}"; do
      local bin; bin=$(bin_of "$side")
      build_once "$bin" "$world" "$out/root-$side" "$out/log"
      echo "$round $side build $(build_line "$out/log")"
      echo "$round $side index $(cd "$out/root-$side"/*/spaces && echo dssm.*)" \
        "$(du -sm "$out/root-$side" | cut -f1) MB"
      serve_side "$round" "$side" "$bin" "$out/root-$side" "$users"
    done
  done
  if [[ -n ${BIG_WORLD:-} ]]; then
    local big=${BIG_ROOTS:-$out/big}
    for side in before after; do
      local bin; bin=$(bin_of "$side")
      build_once "$bin" "$BIG_WORLD" "$big/$side" "$out/log"
      echo "big $side build $(build_line "$out/log")"
      [[ -n ${BIG_ROOTS:-} ]] || rm -rf "${big:?}/$side"
    done
  fi
  if [[ ${PEER:-0} == 1 ]]; then
    OMP_NUM_THREADS=1 "$after/recallctl" bench-peer --input "$world" --peer_space dssm \
      --queries 1000 --threads "$(getconf _NPROCESSORS_ONLN)" 2>&1 | sed -u 's/^/# peer: /'
  fi
}

case $mode in
  build) build_ab "$@" ;;
  targets) targets_ab "$@" | tee /dev/stderr | python3 scripts/bench_targets.py ;;
  client) client_ab "$@" ;;
  peer) peer_ab "$@" ;;
  flags) BIN_DIR=$before; before=$after; after=$1; shift; flags_ab "$@" ;;
  *) echo "usage: scripts/bench_ab.sh build|client|peer|flags|targets ..." >&2; exit 2 ;;
esac
