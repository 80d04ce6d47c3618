# Helpers for the processor benchmarks (sourced by run.sh and latency.sh, not run): start
# a processor on its own topic, group and keyspace, run the producer at a rate into it and
# read what the processor's /metrics and stop log say; Cassandra alone at the same rate.
# Expects ROOT to be set; SLUICE_BIN and SLUICE_BENCH_CEILING override the binaries.
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
CEILING="${SLUICE_BENCH_CEILING:-$ROOT/build/bench/sluice_bench_cql_inserts}"
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
STAMP=$(date +%s)  # names this run's topics, groups and keyspaces
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

sample_seconds() {  # sample_seconds PORT: once a second, the end-to-end histogram's cumulative buckets as "le=count ..."
  while :; do
    curl -sf "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '/^sluice_process_end_to_end_seconds_bucket/ {
      match($1, /le="[^"]*"/); printf "%s=%s ", substr($1, RSTART + 4, RLENGTH - 5), $2 } END { print "" }'
    sleep 1
  done
}
slow_seconds() {  # slow_seconds FILE LIMIT_MS -> the worst one-second p99 and how many seconds were over LIMIT_MS
  awk -v limit="$2" 'NF == 0 { next }
    { n = NF; for (i = 1; i <= n; i++) { split($i, kv, "="); le[i] = kv[1]; now[i] = kv[2] }
      if (have && now[n] - prev[n] >= 100) {  # a second with at least 100 records written
        total = now[n] - prev[n]; seconds++; ms = -1
        for (i = 1; i <= n && ms < 0; i++) if (now[i] - prev[i] >= 0.99 * total) ms = (le[i] == "+Inf") ? 1e9 : le[i] * 1000
        if (ms > worst) worst = ms
        if (ms > limit) slow++ }
      for (i = 1; i <= n; i++) prev[i] = now[i]; have = 1 }
    END { if (!seconds) { print "no second with 100 records written"; exit }
      printf "worst second p99 <= %s ms, %d of %d seconds over %d ms\n",
        (worst >= 1e9) ? "inf" : worst, slow, seconds, limit }' "$1"
}
# Drain runs: RECORDS Avro records preloaded on a fresh topic, one processor drains them.
sustained_run() {  # sustained_run RUN -> "rate peak_rss_mb" (RECORDS records)
  local name="$STAMP-$1" keyspace="bench_${STAMP}_$1" port
  port=$(free_port)
  new_keyspace "$keyspace"
  new_topic "bench.process.$name.raw" 6
  new_topic "bench.process.$name.dlq" 3
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic "bench.process.$name.raw" --format avro \
    --seed 42 --count "$RECORDS" >/dev/null 2>&1
  local pid
  pid=$(start_processor "$name" "$keyspace" "$port")
  PIDS+=("$pid")
  local result
  result=$(watch_drain "$port" "$pid" "$1")
  drop_keyspace "$keyspace"
  echo "$result"
}

# watch_drain PORT PID RUN -> "rate peak_rss_mb": waits until the processor at PORT has
# written RECORDS rows (rate from its first row to its last), then stops it.
watch_drain() {
  local port=$1 pid=$2 first="" first_written=0 last written=0 rss=0 peak=0
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
  ((written >= RECORDS)) || { echo "bench: run $3 wrote $written of $RECORDS" >&2; exit 1; }
  awk -v n="$((written - first_written))" -v a="$first" -v b="$last" -v m="$peak" \
    'BEGIN { printf "%.0f %d\n", n / (b - a), m }'
}

# Live runs: a fresh processor, then `sluice produce --rate` for DURATION s into it, as
# in production (the producer shares the machine). Leaves in LIVE_* what it saw: the
# producer's achieved rate and ack latency, the processor's end-to-end summary and p99,
# rows per Cassandra request, the machine's idle CPU in the middle of the run, and the p99
# second by second (the worst second, and how many were over 50 ms: a burst or a spread).
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
  sample_seconds "$port" >"/tmp/$name.seconds" &
  local sampler=$!
  PIDS+=("$sampler")
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
  kill "$sampler" 2>/dev/null || true
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
  LIVE_SECONDS=$(slow_seconds "/tmp/$name.seconds" 50)
}
live_line() {  # live_line -> what the last live_run saw, on one line
  echo "$LIVE_SUMMARY (producer's own ack: $LIVE_ACK; $LIVE_ROWS_PER_REQUEST rows per" \
    "Cassandra request; machine idle $LIVE_IDLE%; $LIVE_SECONDS)"
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
