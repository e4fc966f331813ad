#!/usr/bin/env bash
# Installs the Debian 12 packages the recall service needs to build, test and run
# its demo, and the npm packages of the deploy checks (tests/deploy/package.json,
# exact versions). Idempotent: when everything is present it does nothing;
# otherwise it runs one `apt-get update` and installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl openssl libssl-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libfaiss-dev libopenblas-dev libabsl-dev librocksdb-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libfasttext-dev libeigen3-dev libhnswlib-dev
  libmicrohttpd-dev libcpp-httplib-dev nlohmann-json3-dev  # HTTP server, client; JSON
  libhiredis-dev redis-server redis-tools  # the click stream (issue 13); tests start redis-server
  python3-grpcio python3-grpc-tools
  prometheus
  # what people look at (issue 23): the eval report's charts, the browser tests
  gnuplot-nox chromium chromium-driver fonts-dejavu-core
  # deploy checks: manifests, Dockerfile, the image (scripts/check-image.sh)
  yamllint buildah debootstrap uidmap fuse-overlayfs
)
# Node.js for the Kubernetes schema validation; machines that have one keep it.
if ! command -v npm >/dev/null; then PACKAGES+=(nodejs npm); fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages, reinstalled only when the lock file changes.
lock=tests/deploy/package-lock.json
stamp=tests/deploy/node_modules/.installed-lock
if ! cmp -s "$lock" "$stamp"; then
  echo "install-deps: npm ci in tests/deploy"
  (cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error)
  cp "$lock" "$stamp"
fi
