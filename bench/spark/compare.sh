#!/usr/bin/env bash
# The C++ processor (`sluice process`) beside the Spark job (`sluice spark`), same stack,
# same input, one run, both warmed up the same way (one drain run each, not counted), then
# ROUNDS rounds of, for each processor on fresh topics, group and keyspace:
#   drain: RECORDS Avro records preloaded, the processor drains them: rows/s (first row
#          to last), peak resident memory (the whole process tree: the Spark job is a
#          Python driver plus its JVM), CPU seconds per 10,000 records (user+system of the
#          tree, from /proc);
#   live:  `sluice produce --rate LIVE` for 30 s into a running processor: rows/s written
#          while the producer runs (the sustained live rate when LIVE is above capacity);
#   latency: `sluice produce --rate HALF` for 30 s: end-to-end p50/p99 (Kafka timestamp to
#          Cassandra ack) from each processor's own sluice_process_end_to_end_seconds
#          histogram, interpolated within buckets the same way for both.
# Prints each run, the medians as one table and the ratios (C++ / Spark, throughput per
# core: both get the whole machine, so per core = per machine here).
# Needs the stack up without the pipeline: `sluice up --start-pipeline false`.
# Usage: bench/spark/compare.sh [records (200000)] [live rate (20000)] [half rate] [rounds (3)]
# Spark settings to try: SLUICE_BENCH_SPARK_ARGS="--trigger-ms 200 --max-offsets-per-trigger 50000"
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-200000}"
LIVE="${2:-20000}"
HALF="${3:-}"
ROUNDS="${4:-3}"
# shellcheck source=../process/live.sh
source "$ROOT/bench/process/live.sh"
SPARK_ARGS="${SLUICE_BENCH_SPARK_ARGS:---trigger-ms 250 --shuffle-partitions 2 --max-offsets-per-trigger 20000}"

tree_pids() {  # tree_pids PID -> PID and all its descendants
  local all=("$1") i=0
  while ((i < ${#all[@]})); do
    mapfile -t kids < <(pgrep -P "${all[$i]}" || true)
    all+=("${kids[@]}")
    i=$((i + 1))
  done
  echo "${all[@]}"
}
tree_rss_mb() {  # tree_rss_mb PID
  local total=0 p kb
  for p in $(tree_pids "$1"); do
    # A zombie has no VmRSS line; a process gone has no status file.
    kb=$(awk '/VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}
tree_cpu_seconds() {  # tree_cpu_seconds PID: user+system of the tree (its children reaped included)
  local ticks=0 p t
  for p in $(tree_pids "$1"); do
    t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || true)
    ticks=$((ticks + ${t:-0}))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f\n", t / hz }'
}
start_side() {  # start_side SIDE NAME KEYSPACE PORT -> pid
  local side=$1 name=$2 keyspace=$3 port=$4
  if [[ $side == cpp ]]; then
    "$SLUICE" process --topic "bench.process.$name.raw" --dlq-topic "bench.process.$name.dlq" \
      --group "bench-process-$name" --keyspace "$keyspace" --metrics-port "$port" \
      >/dev/null 2>"/tmp/$name.log" &
  else
    setsid "$SLUICE" spark --topic "bench.process.$name.raw" --dlq-topic "bench.process.$name.dlq" \
      --group "bench-process-$name" --keyspace "$keyspace" --metrics-port "$port" \
      --checkpoint "/tmp/bench-spark-$name" --master "local[*]" $SPARK_ARGS \
      >/dev/null 2>"/tmp/$name.log" &
  fi
  echo $!
}
quantile() {  # quantile PORT Q -> ms, from the end-to-end histogram (linear within a bucket)
  curl -sf "http://127.0.0.1:$1/metrics" | awk -v q="$2" '
    /^sluice_process_end_to_end_seconds_bucket/ {
      match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5)
      n++; bound[n] = (le == "+Inf") ? -1 : le; count[n] = $2 }
    END { total = count[n]; if (!total) { print "nan"; exit }
      want = q * total; prev_b = 0; prev_c = 0
      for (i = 1; i <= n; i++) {
        if (count[i] >= want) {
          if (bound[i] < 0) { printf "%.0f\n", prev_b * 1000; exit }
          f = (count[i] > prev_c) ? (want - prev_c) / (count[i] - prev_c) : 1
          printf "%.0f\n", (prev_b + f * (bound[i] - prev_b)) * 1000; exit }
        prev_b = bound[i]; prev_c = count[i] } }'
}
wait_written() {  # wait_written PORT N TIMEOUT_S
  local deadline=$((SECONDS + $3))
  while (($(metric "$1" sluice_process_written_total || true) < $2 && SECONDS < deadline)); do sleep 0.2; done
}
stop_side() {  # stop_side PID
  kill -TERM "$1" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  pkill -KILL -s "$1" 2>/dev/null || true
}

drain_run() {  # drain_run SIDE RUN -> "rows/s peak_rss_mb cpu_s_per_10k"
  local side=$1 name="$STAMP-$2" keyspace="bench_${STAMP}_$2" port pid
  port=$(free_port)
  new_keyspace "$keyspace"
  new_topic "bench.process.$name.raw" 6
  new_topic "bench.process.$name.dlq" 3
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic "bench.process.$name.raw" --format avro \
    --seed 42 --count "$RECORDS" --bad-ratio 0.05 >/dev/null 2>&1
  pid=$(start_side "$side" "$name" "$keyspace" "$port")
  PIDS+=("$pid")
  local first="" first_written=0 written=0 peak=0 rss deadline=$((SECONDS + 900))
  local expected=$((RECORDS * 95 / 100 - RECORDS / 100))  # valid records, with slack
  while ((written < expected && SECONDS < deadline)); do
    sleep 0.2
    written=$(metric "$port" sluice_process_written_total || true)
    [[ -z "$first" && $written -gt 0 ]] && { first=$(now); first_written=$written; }
    rss=$(tree_rss_mb "$pid")
    ((rss > peak)) && peak=$rss
  done
  local last cpu
  last=$(now)
  sleep 1
  written=$(metric "$port" sluice_process_written_total || true)
  cpu=$(tree_cpu_seconds "$pid")
  stop_side "$pid"
  drop_keyspace "$keyspace"
  delete_topics "bench\.process\.$name\..*"
  ((written >= expected)) || { echo "bench: $side run $2 wrote $written of ~$expected" >&2; exit 1; }
  awk -v n="$((written - first_written))" -v a="$first" -v b="$last" -v m="$peak" \
    -v c="$cpu" -v r="$RECORDS" \
    'BEGIN { printf "%.0f %d %.2f\n", (b > a ? n / (b - a) : 0), m, c / (r / 10000) }'
}

live_side() {  # live_side SIDE RUN RATE [drain] -> "rows/s_while_producing p50_ms p99_ms"
  local side=$1 name="$STAMP-$2" keyspace="bench_${STAMP}_$2" rate=$3 drain=${4:-} port pid
  port=$(free_port)
  new_keyspace "$keyspace"
  new_topic "bench.process.$name.raw" 6
  new_topic "bench.process.$name.dlq" 3
  pid=$(start_side "$side" "$name" "$keyspace" "$port")
  PIDS+=("$pid")
  local deadline=$((SECONDS + 120))
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 || ((SECONDS > deadline)); do
    sleep 0.5
  done
  sleep 5  # group join / first (empty) batches
  local start_written start end written
  start_written=$(metric "$port" sluice_process_written_total || true)
  start=$(now)
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic "bench.process.$name.raw" \
    --format avro --seed 7 --rate "$rate" --duration 30 >/dev/null 2>&1
  end=$(now)
  written=$(metric "$port" sluice_process_written_total || true)
  # Latency runs wait until the processor wrote (nearly) everything sent, so that every
  # record's latency is in the histogram; rate runs stop at once.
  [[ -n $drain ]] && wait_written "$port" $((rate * 30 * 95 / 100 - rate)) 300
  local p50 p99
  p50=$(quantile "$port" 0.5)
  p99=$(quantile "$port" 0.99)
  stop_side "$pid"
  drop_keyspace "$keyspace"
  delete_topics "bench\.process\.$name\..*"
  awk -v n="$((written - start_written))" -v a="$start" -v b="$end" -v p="$p50" -v q="$p99" \
    'BEGIN { printf "%.0f %s %s\n", n / (b - a), p, q }'
}

echo "warm-up: one drain run each (not counted)" >&2
for side in cpp spark; do drain_run "$side" "w$side" >/dev/null; done
declare -A drain rss cpu live p50 p99
for round in $(seq "$ROUNDS"); do
  for side in cpp spark; do
    read -r d m c < <(drain_run "$side" "d$round$side")
    read -r l _ _ < <(live_side "$side" "l$round$side" "$LIVE")
    drain[$side]+="$d "; rss[$side]+="$m "; cpu[$side]+="$c "; live[$side]+="$l "
    echo "round $round $side: drain $d rows/s, peak RSS $m MB, $c CPU s per 10k; live $l rows/s at $LIVE/s offered" >&2
  done
  half=${HALF:-$(awk -v s="${live[spark]##* }" 'BEGIN { s = s + 0; printf "%d\n", (s > 0 ? s / 2 : 500) }')}
  for side in cpp spark; do
    read -r _ a b < <(live_side "$side" "h$round$side" "$half" drain)
    p50[$side]+="$a "; p99[$side]+="$b "
    echo "round $round $side: at $half/s end-to-end p50 $a ms p99 $b ms" >&2
  done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
printf '\n%-8s %14s %14s %12s %12s %14s %12s\n' processor "drain rows/s" "live rows/s" \
  "p50 ms" "p99 ms" "peak RSS MB" "CPU s/10k"
for side in cpp spark; do
  printf '%-8s %14s %14s %12s %12s %14s %12s\n' "$side" "$(med "${drain[$side]}")" \
    "$(med "${live[$side]}")" "$(med "${p50[$side]}")" "$(med "${p99[$side]}")" \
    "$(med "${rss[$side]}")" "$(med "${cpu[$side]}")"
done
awk -v dc="$(med "${drain[cpp]}")" -v ds="$(med "${drain[spark]}")" \
  -v pc="$(med "${p99[cpp]}")" -v ps="$(med "${p99[spark]}")" \
  -v cc="$(med "${cpu[cpp]}")" -v cs="$(med "${cpu[spark]}")" 'BEGIN {
    printf "C++ / Spark: drain throughput %.1fx, CPU per record %.2fx; p99 C++ = 1/%.0f of Spark\n",
      dc / ds, cc / cs, (pc > 0 ? ps / pc : 0) }'
echo "(medians of $ROUNDS rounds; $RECORDS records preloaded; live $LIVE/s offered; Spark: $SPARK_ARGS)"
