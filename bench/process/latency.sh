#!/usr/bin/env bash
# The processor's end-to-end latency at one rate, run after run: `sluice produce --rate`
# for 30 s into a fresh processor (as bench/process/run.sh's latency step does), RUNS
# times, each run's p50/p99 and where the p99 was spent, then the median p99 and
# Cassandra alone at the same rate (the CQL client writing the same rows, batched as the
# processor batches them). For comparing settings quickly without the whole run.sh.
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: bench/process/latency.sh RATE [RUNS (default 5)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RATE="${1:?usage: bench/process/latency.sh RATE [RUNS]}"
RUNS="${2:-5}"
[[ "$RATE" =~ ^[1-9][0-9]*$ ]] || { echo "bench: RATE must be a positive whole number, not '$RATE'" >&2; exit 2; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "bench: RUNS must be a positive whole number, not '$RUNS'" >&2; exit 2; }
# shellcheck source=live.sh
source "$ROOT/bench/process/live.sh"

p99s=()
for run in $(seq "$RUNS"); do
  live_run "$RATE" 30
  echo "run $run at $RATE/s: $(live_line)"
  p99s+=("${LIVE_P99:-99999}")
done
median_p99=$(printf '%s\n' "${p99s[@]}" | median)
echo "p99 of the $RUNS runs: ${p99s[*]} ms; median $median_p99 ms (goal < 50 ms)"
echo "Cassandra alone at $RATE rows/s, same batching: $(engine_latency_run "$RATE")"
