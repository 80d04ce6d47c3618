#!/usr/bin/env bash
# The cost of `sluice process --pseudonymise` against the same processor storing values
# as received, in one run, both warmed up the same way: one untimed drain run each, then
# 3 rounds of a drain run each (N Avro records preloaded on a fresh topic, one processor
# drains them into a fresh keyspace; rows/s from its /metrics, see bench/process/live.sh),
# alternating. Prints each run, the medians and pseudonymised / plain.
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: bench/privacy/pseudonymise.sh [records (200000)] [fields (email,phone,last_name)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-200000}"
FIELDS="${2:-email,phone,last_name}"
# shellcheck source=../process/live.sh
source "$ROOT/bench/process/live.sh"
# The key is read from the environment, as in production (never a command-line value).
SLUICE_PSEUDONYM_KEY="bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export SLUICE_PSEUDONYM_KEY

args_of() { [[ $1 == plain ]] && echo "" || echo "--pseudonymise $FIELDS"; }
declare -A rates=([plain]="" [pseudonymised]="")

echo "warm-up: one drain run each (not counted)" >&2
for side in plain pseudonymised; do
  SLUICE_BENCH_PROCESS_ARGS=$(args_of "$side") sustained_run "w$side" >/dev/null
done
for round in 1 2 3; do
  for side in plain pseudonymised; do
    read -r rate rss < <(SLUICE_BENCH_PROCESS_ARGS=$(args_of "$side") sustained_run "$side$round")
    echo "round $round $side: $rate rows/s, peak RSS $rss MB"
    rates[$side]+="$rate "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | sed -n 2p; }
plain=$(median "${rates[plain]}")
pseudo=$(median "${rates[pseudonymised]}")
echo "median drain: plain $plain rows/s, --pseudonymise $FIELDS $pseudo rows/s"
awk -v a="$pseudo" -v b="$plain" 'BEGIN { printf "pseudonymised / plain: %.2f\n", a / b }'
