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
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
CEILING="${SLUICE_BENCH_CEILING:-$ROOT/build/bench/sluice_bench_cql_inserts}"
RECORDS="${1:-200000}"
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
STAMP=$(date +%s)
for bin in "$SLUICE" "$CEILING"; do
  [[ -x "$bin" ]] || { echo "bench: $bin not built (run ./dev setup)" >&2; exit 2; }
done
PIDS=()
cleanup() {  # stop processors, drop this run's keyspaces and topics
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  local keyspaces
  keyspaces=$("$SLUICE" cql -e "SELECT keyspace_name FROM system_schema.keyspaces" \
    --output json 2>/dev/null | sed -n "s/.*\"\(bench_${STAMP}_[a-z0-9_]*\)\".*/\1/p")
  for k in $keyspaces; do drop_keyspace "$k" 2>/dev/null || true; done
  delete_topics "bench\.process\.$STAMP-.*"
}
trap cleanup EXIT

metric() {  # metric PORT NAME -> value (0 when absent)
  curl -sf "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v n="$2" '$1 == n { v = $2 } END { printf "%.0f\n", v + 0 }'
}
now() { date +%s.%N; }
idle_percent() {  # idle_percent FROM TO: idle share of all CPUs between FROM and TO s from now
  sleep "$1"
  local a b
  a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep "$(($2 - $1))"
  b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f\n", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}
stop_and_wait() {  # stop_and_wait PID: SIGTERM, then wait for it to finish its last log line
  kill -TERM "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
}

start_processor() {  # start_processor NAME KEYSPACE PORT -> pid (stderr to /tmp/<NAME>.log)
  "$SLUICE" process --topic "bench.process.$1.raw" --dlq-topic "bench.process.$1.dlq" \
    --group "bench-process-$1" --keyspace "$2" --metrics-port "$3" ${SLUICE_BENCH_PROCESS_ARGS:-} >/dev/null 2>"/tmp/$1.log" &
  echo $!
}

sustained_run() {  # sustained_run RUN -> "rate peak_rss_mb"
  local name="$STAMP-$1" keyspace="bench_${STAMP}_$1" port
  port=$(free_port)
  new_keyspace "$keyspace"
  new_topic "bench.process.$name.raw" 6
  new_topic "bench.process.$name.dlq" 3
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic "bench.process.$name.raw" --format avro \
    --seed 42 --count "$RECORDS" >/dev/null 2>&1
  local pid first="" last written=0 rss=0 peak=0
  pid=$(start_processor "$name" "$keyspace" "$port")
  PIDS+=("$pid")
  local deadline=$((SECONDS + 600))
  while ((written < RECORDS && SECONDS < deadline)); do
    sleep 0.2
    written=$(metric "$port" sluice_process_written_total)
    [[ -z "$first" && $written -gt 0 ]] && { first=$(now); first_written=$written; }
    rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status" 2>/dev/null || echo 0)
    ((rss > peak)) && peak=$rss
  done
  last=$(now)
  stop_and_wait "$pid"
  drop_keyspace "$keyspace"
  ((written >= RECORDS)) || { echo "bench: run $1 wrote $written of $RECORDS" >&2; exit 1; }
  awk -v n="$((written - first_written))" -v a="$first" -v b="$last" -v m="$peak" \
    'BEGIN { printf "%.0f %d\n", n / (b - a), m }'
}

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

# Live runs: a fresh processor, then `sluice produce --rate` for DURATION s into it, as
# in production (the producer shares the machine). Leaves in LIVE_* what it saw: the
# producer's achieved rate and ack latency, the processor's end-to-end summary and p99,
# rows per Cassandra request, the machine's idle CPU in the middle of the run.
live_run() {  # live_run RATE DURATION
  local rate=$1 duration=$2 run=$RANDOM port pid  # run: a fresh group, topic and keyspace
  local name="$STAMP-live-$1-$run" keyspace="bench_${STAMP}_live_${1}_${run}"
  port=$(free_port)
  new_keyspace "$keyspace"
  new_topic "bench.process.$name.raw" 6
  new_topic "bench.process.$name.dlq" 3
  pid=$(start_processor "$name" "$keyspace" "$port")
  PIDS+=("$pid")
  sleep 6  # group join and first assignment
  idle_percent $((duration / 3)) $((duration * 2 / 3)) >"/tmp/$name.idle" &
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic "bench.process.$name.raw" \
    --format avro --seed 7 --rate "$rate" --duration "$duration" 2>"/tmp/$name.produce" >/dev/null
  wait $!
  local sent=$((rate * duration))
  for _ in $(seq 120); do
    (($(metric "$port" sluice_process_written_total) >= sent - rate)) && break
    sleep 0.5
  done
  sleep 2
  local rows requests
  rows=$(metric "$port" sluice_process_written_total)
  requests=$(metric "$port" sluice_process_cassandra_requests_total)
  stop_and_wait "$pid"
  drop_keyspace "$keyspace"
  delete_topics "bench\.process\.$name\..*"
  LIVE_ACHIEVED=$(sed -n 's/^done: .*(\([0-9]*\)\/s)$/\1/p' "/tmp/$name.produce")
  LIVE_ACK=$(sed -n 's/^ack latency \(p50 [0-9.]* ms p99 [0-9.]* ms\).*/\1/p' "/tmp/$name.produce")
  LIVE_SUMMARY=$(sed -n 's/.*end-to-end latency \(p50 .*\)$/\1/p' "/tmp/$name.log")
  LIVE_P99=$(sed -n 's/.*end-to-end latency p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' \
    "/tmp/$name.log")
  LIVE_ROWS_PER_REQUEST=$((rows / (requests > 0 ? requests : 1)))
  LIVE_IDLE=$(cat "/tmp/$name.idle")
}
live_line() {  # live_line -> what the last live_run saw, on one line
  echo "$LIVE_SUMMARY (producer's own ack: $LIVE_ACK; $LIVE_ROWS_PER_REQUEST rows per" \
    "Cassandra request; machine idle $LIVE_IDLE%)"
}
latency_run() {  # latency_run RATE -> "p50 .. ms p99 .. ms (...)"
  live_run "$1" 30
  live_line
}
median_latency_run() {  # median_latency_run RATE -> the median run by p99 of 3, and all 3 p99s
  local runs=() p99s=()
  for _ in 1 2 3; do
    live_run "$1" 30
    runs+=("${LIVE_P99:-99999} $(live_line)")
    p99s+=("${LIVE_P99:-?}")
  done
  printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p | cut -d' ' -f2-
  echo "  p99 of the 3 runs: ${p99s[0]} / ${p99s[1]} / ${p99s[2]} ms"
}
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
# Cassandra's own latency at a rate, the floor under the processor's: the CQL client alone
# writing the same rows due at that rate, batched per node as the processor batches them
# (up to 32 rows, a row waiting at most 2 ms), for 25 s on a fresh keyspace.
engine_latency_run() {  # engine_latency_run RATE -> "p50 .. ms p99 .. ms"
  local keyspace="bench_${STAMP}_engine_$1"
  new_keyspace "$keyspace"
  "$CEILING" --keyspace "$keyspace" --count $(($1 * 25)) --batch 32 --window 32 --rate "$1" \
    --linger-ms 2 | sed -n 's/.*\(p50 [0-9.]* ms p99 [0-9.]* ms\)$/\1/p'
  drop_keyspace "$keyspace"
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
