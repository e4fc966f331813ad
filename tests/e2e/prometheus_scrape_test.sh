#!/usr/bin/env bash
# A real Prometheus server (Debian's) scrapes a running recall-server: the
# target is up and the recall metrics arrive. Usage: prometheus_scrape_test.sh BIN_DIR
set -euo pipefail
BIN="$1"
command -v prometheus >/dev/null || { echo "prometheus not installed"; exit 1; }
TMP=$(mktemp -d)
trap 'kill $server $prom 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
base=$(( 20000 + ($$ % 20000) ))
GRPC=$base; METRICS=$((base + 1)); PROM=$((base + 2))

"$BIN/recallctl" gen --out "$TMP/world" --items 500 --users 50 --dim 8 --extra_spaces=false >/dev/null
"$BIN/recallctl" build --input "$TMP/world" --out "$TMP/root" --index Flat >/dev/null
"$BIN/recall-server" --snapshot_root "$TMP/root" --host 127.0.0.1 --port $GRPC \
  --metrics_host 127.0.0.1 --metrics_port $METRICS --admin_port -1 2>"$TMP/server.log" &
server=$!
"$BIN/recallctl" query --target 127.0.0.1:$GRPC --user u0000001 --k 5 --wait 30 >/dev/null

cat > "$TMP/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: recall
    static_configs:
      - targets: ["127.0.0.1:$METRICS"]
CONF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
  --web.listen-address=127.0.0.1:$PROM >"$TMP/prometheus.log" 2>&1 &
prom=$!

query() { curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1"; }
for _ in $(seq 1 60); do
  if query 'up{job="recall"}' | grep -q '"value":\[[0-9.]*,"1"\]' &&
     query 'recall_requests_total{method="Recall",code="OK"}' | grep -q '"value":\[[0-9.]*,"[1-9]'; then
    echo "prometheus scraped recall-server: up, recall_requests_total present"
    exit 0
  fi
  sleep 1
done
echo "prometheus did not scrape the server"; tail -5 "$TMP/prometheus.log"
exit 1
