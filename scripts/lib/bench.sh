# Sourced by the benchmarks, from the repository root.
#
# bench_prepare WORK: sets BIN, keeps the server's Faiss and OpenBLAS
# single-threaded, builds the two binaries and makes WORK.
bench_prepare() {
  BIN="$(pwd)/build/bin"
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  scripts/build.sh recall-server recallctl >/dev/null
  mkdir -p "$1"
}

# news_snapshot WORK ITEMS USERS [SEED] generates
# WORK/world (ITEMS items, USERS users) and builds WORK/root from it with the
# shipped news policy and clusterings, on every core, unless WORK/root
# exists. Needs BIN (bench_prepare).
news_snapshot() {
  local work=$1 items=$2 users=$3 seed=${4:-5}
  [[ -d "$work/root" ]] && return 0
  "$BIN/recallctl" gen --out "$work/world" --items "$items" --users "$users" \
    --seed "$seed" >/dev/null
  "$BIN/recallctl" build --input "$work/world" --out "$work/root" \
    --threads "$(getconf _NPROCESSORS_ONLN)" --policy deploy/policy/news.textproto \
    --clusters deploy/clusters/news.textproto >/dev/null 2>&1
}
