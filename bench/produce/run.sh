#!/usr/bin/env bash
# `sluice produce` against Kafka's own org.apache.kafka.tools.ProducerPerformance, same
# run, same broker, same payloads: both send the same generated users as JSON (the file
# is written by `sluice gen`), acks=all, idempotence on, lz4, linger 5 ms, 1 MB batches,
# to fresh 6-partition topics. Each pair runs 3 times; medians and their ratio are
# printed, plus sluice's Avro (registry) rate for reference.
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: bench/produce/run.sh [records per run]   (default 500000)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
BOOTSTRAP="${SLUICE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}"
REGISTRY="${SLUICE_REGISTRY_URL:-http://127.0.0.1:8081}"
RECORDS="${1:-500000}"
KAFKA_CP="$ROOT/.stack/lib/kafka/*"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[[ -x "$SLUICE" ]] || { echo "bench: $SLUICE not built (run ./dev setup)" >&2; exit 2; }
ls "$ROOT"/.stack/lib/kafka/kafka-tools-*.jar >/dev/null 2>&1 ||
  { echo "bench: Kafka jars missing in .stack/lib/kafka (run sluice up)" >&2; exit 2; }

new_topic() {  # new_topic NAME
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
    --create --topic "$1" --partitions 6 --replication-factor 1 >/dev/null 2>&1
}

# Payloads: the same users sluice produces with --seed 42, one JSON object per line.
"$SLUICE" gen --seed 42 --count 100000 >"$WORK/users.jsonl"
avg_bytes=$(awk '{ n += length($0) } END { printf "%.0f", n / NR }' "$WORK/users.jsonl")
echo "payload: generated users as JSON, average ${avg_bytes} bytes; ${RECORDS} records per run" >&2

run_sluice() {  # run_sluice FORMAT TOPIC -> records/s
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --registry "$REGISTRY" --topic "$2" \
    --format "$1" --seed 42 --count "$RECORDS" --compression lz4 --linger-ms 5 \
    --batch-size 1048576 2>&1 >/dev/null |
    sed -n 's/^done: .*(\([0-9]*\)\/s)$/\1/p'
}

run_java() {  # run_java TOPIC -> records/s
  java -cp "$KAFKA_CP" org.apache.kafka.tools.ProducerPerformance --topic "$1" \
    --num-records "$RECORDS" --throughput -1 --payload-file "$WORK/users.jsonl" \
    --producer-props "bootstrap.servers=$BOOTSTRAP" acks=all enable.idempotence=true \
    compression.type=lz4 linger.ms=5 batch.size=1048576 2>/dev/null |
    awk -F', ' '/records sent/ { split($2, a, " "); printf "%.0f\n", a[1] }' | tail -1
}

median() { sort -g | sed -n 2p; }
stamp=$(date +%s)
sluice_json=() java_json=() sluice_avro=()
for run in 1 2 3; do
  for kind in java sluice-json sluice-avro; do
    topic="bench.produce.$stamp.$run.$kind"
    new_topic "$topic"
    case "$kind" in
      java) rate=$(run_java "$topic"); java_json+=("$rate") ;;
      sluice-json) rate=$(run_sluice json "$topic"); sluice_json+=("$rate") ;;
      sluice-avro) rate=$(run_sluice avro "$topic"); sluice_avro+=("$rate") ;;
    esac
    [[ -n "$rate" ]] || { echo "bench: run $run of $kind printed no rate" >&2; exit 1; }
    echo "run $run $kind: $rate records/s" >&2
  done
done
j=$(printf '%s\n' "${java_json[@]}" | median)
s=$(printf '%s\n' "${sluice_json[@]}" | median)
a=$(printf '%s\n' "${sluice_avro[@]}" | median)
echo "ProducerPerformance (JSON payloads): $j records/s (median of 3)"
echo "sluice produce --format json:        $s records/s (median of 3)"
echo "sluice produce --format avro:        $a records/s (median of 3, includes generation + Avro encoding)"
awk -v s="$s" -v j="$j" 'BEGIN { printf "ratio sluice/ProducerPerformance: %.2fx\n", s / j }'
