#!/usr/bin/env bash
# tests/layering_test.sh must fail on a tree that breaks the direction, and
# name each offending include.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT
for d in util index store recall server tools pipeline/data pipeline/train pipeline/snapshot pipeline/eval; do
  mkdir -p "$tree/$d"
done
printf '#include "server/server.h"\n#include "proto/recall/v1/recall.grpc.pb.h"\n#include "proto/recall/v1/snapshot.pb.h"\n' > "$tree/recall/a.cc"
printf '#include "faiss/Index.h"\n#include "pipeline/snapshot/builder.h"\n' > "$tree/pipeline/data/b.h"
printf '#include "rocksdb/db.h"\n' > "$tree/index/c.cc"
printf '#include "grpcpp/grpcpp.h"\n#include "index/index_handle.h"\n' > "$tree/pipeline/eval/d.cc"
if out="$("$here/layering_test.sh" "$tree")"; then
  echo "layering_test.sh passed a tree that breaks the direction"; exit 1
fi
echo "$out"
for expected in 'recall/a.cc: includes "server/server.h"' \
                'recall/a.cc: includes "proto/recall/v1/recall.grpc.pb.h"' \
                'pipeline/data/b.h: includes <faiss/Index.h>' \
                'pipeline/data/b.h: includes "pipeline/snapshot/builder.h"' \
                'index/c.cc: includes <rocksdb/db.h>' \
                'pipeline/eval/d.cc: includes <grpcpp/grpcpp.h>' \
                'layering: 6 includes'; do
  grep -qF "$expected" <<<"$out" || { echo "missing: $expected"; exit 1; }
done
