#!/usr/bin/env bash
# This build's processor beside another build's (a baseline commit), in one run, both
# warmed up the same way: 3 rounds, each a drain run (N Avro records preloaded, one
# processor drains them: rows/s) and a 30-s live latency run at RATE (producer and
# processor together: end-to-end p50/p99) for the baseline, then the same for this build,
# on fresh topics and keyspaces. Prints each run, the medians and this build / baseline.
# Needs the stack up (`sluice up --start-pipeline false`). Build the baseline with e.g.
#   git worktree add ../baseline COMMIT && cmake -S ../baseline -B ../baseline/build -G Ninja
#   cmake --build ../baseline/build --target sluice
# Usage: bench/process/compare.sh BASELINE_SLUICE [records (200000)] [rate (10000)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BASELINE="${1:?usage: bench/process/compare.sh BASELINE_SLUICE [records] [rate]}"
RECORDS="${2:-200000}"
RATE="${3:-10000}"
[[ -x "$BASELINE" ]] || { echo "bench: baseline binary $BASELINE not found" >&2; exit 2; }
# shellcheck source=live.sh
source "$ROOT/bench/process/live.sh"
CURRENT="$SLUICE"

declare -A drain p99
for side in baseline current; do drain[$side]=""; p99[$side]=""; done
binary_of() { [[ $1 == baseline ]] && echo "$BASELINE" || echo "$CURRENT"; }
# Each build judges by its own contract: the baseline's rules file is in its tree
# (BASELINE is <tree>/build/sluice), the rules may have changed since.
BASELINE_RULES="${BASELINE_RULES:-$(cd "$(dirname "$BASELINE")/.." && pwd)/contract/rules.yaml}"
EXTRA_ARGS="${SLUICE_BENCH_PROCESS_ARGS:-}"
args_of() {
  [[ $1 == baseline ]] && echo "$EXTRA_ARGS --rules $BASELINE_RULES" || echo "$EXTRA_ARGS --rules $ROOT/contract/rules.yaml"
}

echo "warm-up: one drain run each (not counted)" >&2
for side in baseline current; do
  SLUICE=$(binary_of "$side") SLUICE_BENCH_PROCESS_ARGS=$(args_of "$side") \
    sustained_run "w$side" >/dev/null
done
for round in 1 2 3; do
  for side in baseline current; do
    SLUICE=$(binary_of "$side")
    SLUICE_BENCH_PROCESS_ARGS=$(args_of "$side")
    read -r rate rss < <(sustained_run "r$round$side")
    live_run "$RATE" 30
    echo "round $round $side: drain $rate rows/s (RSS $rss MB); at $RATE/s $(live_line)"
    drain[$side]+="$rate "
    p99[$side]+="${LIVE_P99:-99999} "
  done
done
SLUICE="$CURRENT"
for side in baseline current; do
  d=$(tr ' ' '\n' <<<"${drain[$side]}" | grep . | median)
  l=$(tr ' ' '\n' <<<"${p99[$side]}" | grep . | median)
  printf '%-8s drain median %s rows/s (runs %s), p99 at %s/s median %s ms (runs %s)\n' \
    "$side" "$d" "${drain[$side]% }" "$RATE" "$l" "${p99[$side]% }"
  eval "med_drain_$side=$d med_p99_$side=$l"
done
awk -v a="$med_drain_current" -v b="$med_drain_baseline" -v c="$med_p99_current" \
  -v d="$med_p99_baseline" 'BEGIN { printf "current / baseline: drain %.3fx, p99 %.3fx\n", a / b, c / d }'
