#!/usr/bin/env bash
# The policies and clusterings shipped in deploy/ build: each parses, names
# spaces a generated world has, and passes the builder's validation (the
# policy's channels are created against the built version).
# Usage: shipped_policies_test.sh BIN_DIR
set -euo pipefail
bin=$1
deploy="$(cd "$(dirname "$0")/../../deploy" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/recallctl" gen --out "$tmp/world" --items 1000 --users 300 --dim 8 >/dev/null
"$bin/recallctl" build --input "$tmp/world" --out "$tmp/news" --index Flat \
  --policy "$deploy/policy/news.textproto" --clusters "$deploy/clusters/news.textproto" |
  tail -1
# The MovieLens policy reads the learned "mf" space (`recallctl train`).
"$bin/recallctl" train --input "$tmp/world" --train_spaces mf --dim 8 --epochs 2 >/dev/null
"$bin/recallctl" build --input "$tmp/world" --out "$tmp/movielens" --index Flat \
  --policy "$deploy/policy/movielens.textproto" | tail -1
