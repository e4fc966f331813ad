# shellcheck shell=bash
# Sourced by the scripts and tests that start recall-server with port 0 (the
# kernel picks free ports, so tests running side by side cannot take them
# first).
#
# logged_ports LOG [PID]: waits up to 30 s for the server's "serving on port
# N, metrics on port M," line (server/main.cc, LogServing) in LOG and prints
# "N M" (M empty when metrics are off). Returns 1 when the line does not come,
# or as soon as PID, when given, has exited.
logged_ports() {
  local log=$1 pid=${2:-} ports
  for _ in $(seq 300); do
    ports=$(sed -n 's/^recall-server: serving on port \([0-9]*\), \(metrics on port \([0-9]*\)\)\{0,1\}.*/\1 \3/p' "$log")
    if [[ -n $ports ]]; then echo "$ports"; return 0; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.1
  done
  return 1
}
