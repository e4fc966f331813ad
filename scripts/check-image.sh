#!/usr/bin/env bash
# Builds docker/Dockerfile for real with buildah (no Docker engine needed),
# then runs the image: its recallctl generates and builds a small snapshot,
# its entrypoint serves it, and the script checks health, one Recall answer,
# the non-root user and a clean SIGTERM exit. Prints the image size.
#
#   scripts/check-image.sh            # as root on Debian 12
#
# The Debian base images are made once with debootstrap and kept, with the
# buildah storage, under $RECALL_IMAGE_WORK (default /var/tmp/recall-image).
# IMAGE names the result (default localhost/recall-service:dev).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/server_ports.sh
source scripts/lib/server_ports.sh

WORK=${RECALL_IMAGE_WORK:-/var/tmp/recall-image}
IMAGE=${IMAGE:-localhost/recall-service:dev}
mkdir -p "$WORK"

scripts/install-deps.sh >/dev/null   # buildah, debootstrap among them

bah() { buildah --root "$WORK/storage" --runroot "$WORK/run" "$@"; }
step() { printf '\n== check-image: %s (%ds)\n' "$*" "$SECONDS"; }
fail() { echo "check-image: FAILED: $*" >&2; exit 1; }

# --- Debian base images (debian:bookworm and debian:bookworm-slim) ----------
if ! bah inspect --type image docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
  step "making the Debian base images with debootstrap"
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [[ -n $mirror ]] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log"
  cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null &&
    rm -f "$rootfs/etc/apt/sources.list" || true
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb
  # commit_rootfs NAME: the rootfs folder as a one-layer image.
  commit_rootfs() {
    tar -C "$rootfs" -cf "$WORK/rootfs.tar" .
    local c
    c=$(bah from scratch)
    bah add "$c" "$WORK/rootfs.tar" /
    bah config --cmd /bin/bash "$c"
    bah commit -q "$c" "$1"
    bah rm "$c" >/dev/null
  }
  commit_rootfs docker.io/library/debian:bookworm
  # slim: as Docker's, without documentation, man pages and locales, and
  # with dpkg told not to install them again.
  printf '%s\n' "path-exclude /usr/share/doc/*" "path-include /usr/share/doc/*/copyright" \
    "path-exclude /usr/share/man/*" "path-exclude /usr/share/info/*" \
    "path-exclude /usr/share/locale/*" >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  commit_rootfs docker.io/library/debian:bookworm-slim
  rm -rf "$rootfs" "$WORK/rootfs.tar"
fi

# --- The image ----------------------------------------------------------------
step "building $IMAGE from docker/Dockerfile"
bah bud --isolation chroot --pull=never --layers -f docker/Dockerfile -t "$IMAGE" . \
  >"$WORK/bud.log" 2>&1 || { tail -40 "$WORK/bud.log"; fail "buildah bud (log: $WORK/bud.log)"; }
bah rmi --prune >/dev/null 2>&1 || true   # the build stage's layers
size=$(bah images --format '{{.Size}}' "$IMAGE" | head -1)
echo "image $IMAGE: $size"

entrypoint=$(bah inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$IMAGE")
cmd=$(bah inspect --type image --format '{{.OCIv1.Config.Cmd}}' "$IMAGE")
user=$(bah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE")
echo "entrypoint $entrypoint cmd $cmd user $user"
[[ $entrypoint == '[/usr/local/bin/recall-server]' ]] || fail "entrypoint is $entrypoint"
[[ $user != "" && $user != root && $user != 0* ]] || fail "image runs as root ($user)"

# --- Run it: a small snapshot, the server, health, one Recall ----------------
data=$(mktemp -d "$WORK/data.XXXXXX")
chmod 0777 "$data"
ctr=$(bah from --pull=never "$IMAGE")
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null || true
  bah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$data"
}
trap cleanup EXIT
run() { bah run --isolation chroot --user "$user" -v "$data:/snapshots" "$ctr" -- "$@"; }
# The server gets the snapshot volume read-only, as on Kubernetes.
run_ro() { bah run --isolation chroot --user "$user" -v "$data:/snapshots:ro" "$ctr" -- "$@"; }

step "the image's recallctl: gen + build a small snapshot with the shipped policy"
run id
run recallctl gen --out /snapshots/world --items 2000 --users 300 --dim 16 --seed 7 >/dev/null
# As the snapshot-build CronJob does: with the policy and clusterings the
# image ships.
run recallctl build --input /snapshots/world --out /snapshots --index Flat --version img1 \
  --policy /usr/local/share/recall/policy/news.textproto \
  --clusters /usr/local/share/recall/clusters/news.textproto | tail -1

step "serving with the image's entrypoint (ports 0: the kernel picks free ones)"
# chroot isolation shares the host's network and process namespaces: the
# server's port is reachable here and the process gets our signals.
run_ro /usr/local/bin/recall-server --snapshot_root=/snapshots --host=127.0.0.1 \
  --port=0 --metrics_host=127.0.0.1 --metrics_port=0 --admin_port=-1 \
  --workers=2 2>"$WORK/server.log" &
for _ in $(seq 100); do
  server_pid=$(pgrep -f -- "^/usr/local/bin/recall-server --snapshot_root=/snapshots" | head -1 || true)
  [[ -n $server_pid ]] && break
  sleep 0.1
done
[[ -n $server_pid ]] || fail "the server did not start: $(cat "$WORK/server.log")"
port="" metrics_port=""
read -r port metrics_port < <(logged_ports "$WORK/server.log") || true
[[ -n $port ]] || fail "the server logged no port: $(cat "$WORK/server.log")"
echo "serving on 127.0.0.1:$port, metrics on $metrics_port"

run recallctl health --target "127.0.0.1:$port" --wait 60 || fail "health: $(cat "$WORK/server.log")"
answer=$(run recallctl query --target "127.0.0.1:$port" --user u0000001 --k 10)
echo "$answer" | head -5
grep -q "items=10" <<<"$answer" || fail "Recall did not answer 10 items"
grep -q "snapshot img1" <<<"$answer" || fail "Recall did not name snapshot img1"
server_user=$(ps -o user= -p "$server_pid")
echo "server runs as uid $(ps -o uid= -p "$server_pid" | tr -d ' ') ($server_user)"
[[ $(ps -o uid= -p "$server_pid" | tr -d ' ') != 0 ]] || fail "the server runs as root"
metrics=$(curl -sf "127.0.0.1:$metrics_port/metrics") || fail "no /metrics"
grep -q '^recall_requests_total' <<<"$metrics" || fail "no recall_requests_total on /metrics"

step "SIGTERM"
kill -TERM "$server_pid"
wait %1 && rc=0 || rc=$?
server_pid=""
grep -q "recall-server: stopped" "$WORK/server.log" || fail "no clean stop: $(cat "$WORK/server.log")"
[[ $rc -eq 0 ]] || fail "exit status $rc after SIGTERM"

step "OK: $IMAGE ($size) builds, serves health and Recall as uid $user, stops on SIGTERM"
