#!/usr/bin/env bash
# What Cassandra's group commit (`cassandra_commitlog_sync`, the stack's default: a write
# is acknowledged once its commit log is synced) costs the processor against periodic
# (acknowledged before the sync; a killed Cassandra loses those writes). For each round
# and mode: restart Cassandra with that mode (`sluice down --only cassandra`, then
# `sluice up --cassandra-commitlog-sync MODE`), one untimed drain run, then one timed
# drain run (bench/process/live.sh: N Avro records preloaded, one processor, rows/s from
# its /metrics). Prints each run, the medians and group / periodic; leaves Cassandra in
# group mode.
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: bench/cassandra/commitlog_sync.sh [records (100000)] [rounds (3)] [extra `up` flags]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-100000}"
ROUNDS="${2:-3}"
UP_FLAGS="${3:-}"
# shellcheck source=../process/live.sh
source "$ROOT/bench/process/live.sh"

restart_cassandra() {  # restart_cassandra MODE
  "$SLUICE" down --only cassandra >/dev/null 2>&1
  # shellcheck disable=SC2086  # UP_FLAGS is a list of flags
  "$SLUICE" up --no-install --cassandra-commitlog-sync "$1" $UP_FLAGS >/dev/null 2>&1 ||
    { echo "bench: sluice up --cassandra-commitlog-sync $1 failed (.stack/logs/cassandra.log)" >&2; exit 1; }
}
trap 'restart_cassandra group; cleanup' EXIT

declare -A rates=([group]="" [periodic]="")
for round in $(seq "$ROUNDS"); do
  for mode in periodic group; do
    restart_cassandra "$mode"
    sustained_run "w$mode$round" >/dev/null  # warm-up after the restart, not counted
    read -r rate rss < <(sustained_run "$mode$round")
    echo "round $round $mode: $rate rows/s, peak RSS $rss MB"
    rates[$mode]+="$rate "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
group=$(median "${rates[group]}")
periodic=$(median "${rates[periodic]}")
echo "median drain: periodic $periodic rows/s, group $group rows/s"
awk -v a="$group" -v b="$periodic" 'BEGIN { printf "group / periodic: %.2f\n", a / b }'
