#!/usr/bin/env bash
# The flags in each Kubernetes ConfigMap start a real recall-server: every
# flag exists and parses. Each flag file is used as the pod uses it
# (--flagfile); only the snapshot root and ports are overridden, after it.
# Usage: configmap_flags_test.sh BIN_DIR
set -euo pipefail
bin=$1
here="$(cd "$(dirname "$0")" && pwd)"
k8s="$here/../../deploy/k8s"
# shellcheck source=scripts/lib/server_ports.sh
source "$here/../../scripts/lib/server_ports.sh"
tmp=$(mktemp -d)
pid=""
trap '[[ -n $pid ]] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

"$bin/recallctl" gen --out "$tmp/world" --items 300 --users 30 --dim 8 >/dev/null
"$bin/recallctl" build --input "$tmp/world" --out "$tmp/root" --index Flat >/dev/null

for configmap in "$k8s/base/configmap.yaml" "$k8s/overlays/production/configmap.yaml"; do
  flags="$tmp/recall-server.flags"
  awk '/recall-server.flags: \|/ {inside = 1; next}
       inside && /^    --/ {sub(/^    /, ""); print; next}
       inside {inside = 0}' "$configmap" >"$flags"
  [[ -s $flags ]] || { echo "no flags found in $configmap"; exit 1; }
  # Port 0 everywhere; the gRPC port is read from the log (logged_ports).
  "$bin/recall-server" --flagfile="$flags" --snapshot_root="$tmp/root" --host=127.0.0.1 \
    --port=0 --metrics_host=127.0.0.1 --metrics_port=0 --admin_port=0 \
    2>"$tmp/server.log" &
  pid=$!
  port=""
  read -r port _ < <(logged_ports "$tmp/server.log" $pid) || true
  if [[ -z $port ]] ||
     ! "$bin/recallctl" health --target "127.0.0.1:$port" --wait 30 >/dev/null; then
    echo "$configmap: the server did not serve:"; cat "$tmp/server.log"; exit 1
  fi
  kill -TERM $pid
  wait $pid || { echo "$configmap: exit status $? after SIGTERM"; cat "$tmp/server.log"; exit 1; }
  pid=""
  echo "$configmap: $(wc -l <"$flags") flags, served, stopped cleanly"
done
