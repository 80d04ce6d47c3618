#!/usr/bin/env bash
# Users per second served by `sluice api` over loopback at results=5000, measured with
# wrk (Debian), 3 runs of 10 s, median. Usage: bench/api/run.sh [threads] [connections]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
THREADS="${1:-2}"; CONNS="${2:-8}"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SLUICE" api --port "$PORT" --threads "$THREADS" 2>/dev/null &
PID=$!
trap 'kill $PID' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
runs=()
for _ in 1 2 3; do
  out=$(wrk -t2 -c"$CONNS" -d10s "http://127.0.0.1:$PORT/api/?results=5000&seed=bench")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  lat=$(echo "$out" | awk '/Latency/ {print $2}')
  runs+=("$(echo "$rps * 5000" | bc -l) $lat")
done
printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p | awk '{printf "sluice api results=5000: %.0f users/s (median of 3), mean latency %s\n", $1, $2}'
