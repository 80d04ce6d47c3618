#!/usr/bin/env bash
# The processor end to end (Kafka -> sluice process -> Cassandra) beside Cassandra's own
# ceiling for the same rows (bench/cql/inserts.cc: sluice's CQL client upserting
# the same generated users with the same statement: single-row inserts 256 in flight, and
# 32-row batches per node, 32 in flight, as the processor sends them at load).
#   0. warm-up: one batched ceiling run and one processor run, not counted.
#   1. drain rate: N Avro records preloaded on a fresh 6-partition topic, one processor
#      drains them; rate = rows written / (last write - first write), from its /metrics;
#      peak resident memory sampled from /proc. 3 runs, alternating with 3 ceiling runs
#      on fresh keyspaces; medians and their ratio (the processor against Cassandra).
#   2. live sustained rate: the producer and the processor running together, as in
#      production; the highest rate (bisection, 30 s per step) that the producer reaches
#      while the processor keeps up (end-to-end p99 under 500 ms).
#   3. latency at half (3 runs, the median by p99) and a quarter of the live rate, and at
#      half the drain rate: `sluice produce --rate` for 30 s into a running processor; p50/p99 of Kafka
#      record timestamp -> Cassandra acknowledgement, split into Kafka -> processor and
#      processor -> Cassandra. Beside it, Cassandra's own latency at the same rate: the
#      CQL client alone writing the same rows, due at that rate and batched per node as
#      the processor does (the floor under the processor).
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: bench/process/run.sh [records per run (default 200000)] [one more latency rate]
# Extra processor flags (e.g. --max-in-flight 5000) via SLUICE_BENCH_PROCESS_ARGS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-200000}"
# shellcheck source=live.sh
source "$ROOT/bench/process/live.sh"

ceiling_run() {  # ceiling_run RUN [client flags] -> rows/s
  local keyspace="bench_${STAMP}_c$1"
  shift
  new_keyspace "$keyspace"
  "$CEILING" --keyspace "$keyspace" --count "$RECORDS" "$@" | awk '{ print $1 }'
  drop_keyspace "$keyspace"  # its memtable would otherwise weigh on the next runs
}

# Warm-up, not counted: right after `sluice up` the JVMs of Kafka and Cassandra are still
# compiling their hot paths and the first runs would measure that instead.
ceiling_run w --batch 32 --window 32 >/dev/null
sustained_run w >/dev/null
echo "warm-up done" >&2

rates=() peaks=() ceilings=() batched=()
for run in 1 2 3; do
  c=$(ceiling_run "$run"); ceilings+=("$c")
  echo "run $run ceiling (CQL client alone): $c rows/s" >&2
  # The same client sending what the processor sends: 32-row batches per node, 32 in flight.
  b=$(ceiling_run "${run}b" --batch 32 --window 32); batched+=("$b")
  echo "run $run ceiling (CQL client, 32-row batches): $b rows/s" >&2
  read -r r m < <(sustained_run "$run"); rates+=("$r"); peaks+=("$m")
  echo "run $run processor: $r records/s, peak RSS $m MB" >&2
done
rate=$(printf '%s\n' "${rates[@]}" | median)
ceiling=$(printf '%s\n' "${ceilings[@]}" | median)
ceiling_batched=$(printf '%s\n' "${batched[@]}" | median)
peak=$(printf '%s\n' "${peaks[@]}" | median)

# The live sustained rate: the highest rate that the producer and the processor, running
# together as in production, hold for 30 s with the processor keeping up: the producer
# reaches the rate and the end-to-end p99 stays under 500 ms (a backlog growing for 30 s
# shows as seconds). Bisection between 40% of the drain rate and the drain rate, 4 steps.
keeps_up() {  # keeps_up RATE: live_run, then success if the pipeline kept up
  live_run "$1" 30
  echo "live $1/s: producer $LIVE_ACHIEVED/s, end to end $LIVE_SUMMARY" >&2
  [[ -n "$LIVE_ACHIEVED" && -n "$LIVE_P99" ]] &&
    awk -v a="$LIVE_ACHIEVED" -v r="$1" -v p="$LIVE_P99" 'BEGIN { exit !(a >= 0.98 * r && p < 500) }'
}
live_sustained_rate() {  # live_sustained_rate DRAIN_RATE -> rate
  local low=$(($1 * 4 / 10)) high=$1 middle
  for _ in 1 2 3 4; do
    middle=$(((low + high) / 2))
    if keeps_up "$middle"; then low=$middle; else high=$middle; fi
  done
  echo "$low"
}
live=$(live_sustained_rate "$rate")
half=$((live / 2))
quarter=$((live / 4))
engine_half=$(engine_latency_run "$half")
latency_half=$(median_latency_run "$half")
engine_quarter=$(engine_latency_run "$quarter")
latency_quarter=$(latency_run "$quarter")
latency_half_drain=$(latency_run $((rate / 2)))
latency_extra=""
[[ -n "${2:-}" ]] && latency_extra="$(latency_run "$2"); Cassandra alone: $(engine_latency_run "$2")"

echo "processor sustained:      $rate records/s draining a backlog (median of 3, $RECORDS records each)"
echo "live sustained:           $live records/s with the producer running (kept up for 30 s)"
echo "CQL client alone:         $ceiling rows/s (median of 3)"
echo "CQL client, 32-row batches: $ceiling_batched rows/s (median of 3)"
awk -v r="$rate" -v c="$ceiling" 'BEGIN { printf "processor / ceiling:      %.2f (goal >= 0.70)\n", r / c }'
awk -v r="$rate" -v c="$ceiling_batched" \
  'BEGIN { printf "processor / batched ceiling: %.2f\n", r / c }'
echo "latency at $half records/s (half the live rate; the median run of 3 by p99; goal p99 < 50 ms):"
echo "  $latency_half"
echo "  Cassandra alone at $half rows/s, same batching: $engine_half"
echo "latency at $quarter records/s (quarter of the live rate): $latency_quarter"
echo "  Cassandra alone at $quarter rows/s, same batching: $engine_quarter"
echo "latency at $((rate / 2)) records/s (half the drain rate): $latency_half_drain"
[[ -n "$latency_extra" ]] && echo "latency at $2 records/s: $latency_extra"
echo "processor peak resident memory: $peak MB (median of 3 runs; goal < 150 MB)"
