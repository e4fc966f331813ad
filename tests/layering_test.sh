#!/usr/bin/env bash
# The dependency direction, checked on the sources: each folder may include
# only the project folders below it, and Faiss, RocksDB and gRPC stay in the
# folders that own them (see docs/ARCHITECTURE.md). Exits 1 naming every
# include that breaks the rule.
#
#   tests/layering_test.sh [REPO_ROOT]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"

# folder: the project folders its files may include (their own included).
declare -A allowed=(
  [util]="util"
  [index]="util index"
  [store]="util store proto"
  [recall]="util index store recall proto"
  [stream]="util index store recall stream proto"
  [server]="util index store recall stream server proto"
  [pipeline/data]="util store pipeline/data proto"
  [pipeline/train]="util store pipeline/data pipeline/train proto"
  [pipeline/snapshot]="util index store recall pipeline/data pipeline/train pipeline/snapshot proto"
  [pipeline/eval]="util index store recall pipeline/data pipeline/train pipeline/snapshot pipeline/eval proto"
  [tools]="util index store recall stream pipeline/data pipeline/train pipeline/snapshot pipeline/eval tools proto"
)
# folder: third-party headers it may include (extended regex on the path).
declare -A third_party=(
  [index]='^faiss/|^hnswlib/'
  [stream]='^hiredis/'
  [store]='^rocksdb/'
  [server]='^grpcpp/|^grpc/|\.grpc\.pb\.h$|^prometheus/|^openssl/'
  [pipeline/train]='^fasttext/|^Eigen/'
  [tools]='^grpcpp/|^grpc/|\.grpc\.pb\.h$'
)
# Headers only their owners may include.
owned='^faiss/|^hiredis/|^hnswlib/|^rocksdb/|^grpcpp/|^grpc/|\.grpc\.pb\.h$|^prometheus/|^fasttext/|^Eigen/|^openssl/'
project='^(util|index|store|recall|stream|server|pipeline|tools|proto)/'

failures=0
for folder in "${!allowed[@]}"; do
  # util/tsan_absl_sync.cc is only compiled into TSan builds and includes
  # nothing of ours.
  while IFS= read -r file; do
    while IFS= read -r header; do
      if [[ "$header" =~ $project ]]; then
        ok=0
        for dep in ${allowed[$folder]}; do
          if [[ "$header" == "$dep/"* ]]; then
            # A folder's own files: not those of a sub-folder it does not own.
            ok=1
            break
          fi
        done
        if [[ "$header" =~ \.grpc\.pb\.h$ ]]; then
          ok=0
          [[ -n "${third_party[$folder]:-}" && "$header" =~ ${third_party[$folder]} ]] && ok=1
        fi
        if [[ $ok == 0 ]]; then
          echo "$file: includes \"$header\": $folder/ may include only ${allowed[$folder]}"
          failures=$((failures + 1))
        fi
      elif [[ "$header" =~ $owned ]]; then
        if [[ -z "${third_party[$folder]:-}" || ! "$header" =~ ${third_party[$folder]} ]]; then
          echo "$file: includes <$header>: only its owning folder may"
          failures=$((failures + 1))
        fi
      fi
    done < <(sed -n 's/^#include [<"]\([^>"]*\)[>"].*/\1/p' "$file")
  done < <(find "$folder" -maxdepth 1 -name '*.h' -o -maxdepth 1 -name '*.cc')
done

if [[ $failures -gt 0 ]]; then
  echo "layering: $failures includes break the dependency direction"
  exit 1
fi
echo "layering: every include follows the dependency direction"
