#!/usr/bin/env bash
# `sluice produce` against Kafka's own org.apache.kafka.tools.ProducerPerformance, same
# run, same broker, acks=all, idempotence on, lz4, linger 5 ms, 1 MB batches, fresh
# 6-partition topics; 3 rounds, medians and ratios:
#   avro: sluice generating + Avro-encoding users (Confluent framing, ~250 bytes) vs
#         ProducerPerformance sending records of the same average size (--record-size);
#   json: both sending the very same generated users as JSON (a payload file written by
#         `sluice gen`, so the bytes and their compressibility are identical).
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: bench/produce/run.sh [records per run]   (default 1000000)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
REGISTRY="${SLUICE_REGISTRY_URL:-http://127.0.0.1:8081}"
RECORDS="${1:-1000000}"
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[[ -x "$SLUICE" ]] || { echo "bench: $SLUICE not built (run ./dev setup)" >&2; exit 2; }
ls "$ROOT"/.stack/lib/kafka/kafka-tools-*.jar >/dev/null 2>&1 ||
  { echo "bench: Kafka jars missing in .stack/lib/kafka (run sluice up)" >&2; exit 2; }


# Payloads: the same users sluice produces with --seed 42, one JSON object per line.
"$SLUICE" gen --seed 42 --count 100000 >"$WORK/users.jsonl"
avg_bytes=$(awk '{ n += length($0) } END { printf "%.0f", n / NR }' "$WORK/users.jsonl")
avro_bytes=$("$SLUICE" gen --seed 42 --count 100000 --format avro | wc -c)
avro_bytes=$(( avro_bytes / 100000 + 5 ))  # + magic byte and schema id
echo "payloads: JSON average ${avg_bytes} bytes, Avro average ${avro_bytes} bytes; ${RECORDS} records per run" >&2

run_sluice() {  # run_sluice FORMAT TOPIC -> records/s
  "$SLUICE" produce --bootstrap "$BOOTSTRAP" --registry "$REGISTRY" --topic "$2" \
    --format "$1" --seed 42 --count "$RECORDS" --compression lz4 --linger-ms 5 \
    --batch-size 1048576 2>&1 >/dev/null |
    sed -n 's/^done: .*(\([0-9]*\)\/s)$/\1/p'
}

run_java() {  # run_java TOPIC PAYLOAD-ARGS... -> records/s
  local topic=$1
  shift
  java -cp "$KAFKA_CP" org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$RECORDS" --throughput -1 "$@" \
    --producer-props "bootstrap.servers=$BOOTSTRAP" acks=all enable.idempotence=true \
    compression.type=lz4 linger.ms=5 batch.size=1048576 2>/dev/null |
    awk -F', ' '/records sent/ { split($2, a, " "); printf "%.0f\n", a[1] }' | tail -1
}

stamp=$(date +%s)
declare -A rates
for run in 1 2 3; do
  for kind in java-avro-size sluice-avro java-json sluice-json; do
    topic="bench.produce.$stamp.$run.$kind"
    new_topic "$topic" 6
    case "$kind" in
      java-avro-size) rate=$(run_java "$topic" --record-size "$avro_bytes") ;;
      sluice-avro) rate=$(run_sluice avro "$topic") ;;
      java-json) rate=$(run_java "$topic" --payload-file "$WORK/users.jsonl") ;;
      sluice-json) rate=$(run_sluice json "$topic") ;;
    esac
    [[ -n "$rate" ]] || { echo "bench: run $run of $kind printed no rate" >&2; exit 1; }
    echo "run $run $kind: $rate records/s" >&2
    rates[$kind]+="$rate"$'\n'
  done
  delete_topics "bench\.produce\.$stamp\.$run\..*"
done
m() { printf '%s' "${rates[$1]}" | median; }
ja=$(m java-avro-size) sa=$(m sluice-avro) jj=$(m java-json) sj=$(m sluice-json)
echo "medians of 3, $RECORDS records each:"
echo "  ProducerPerformance, ${avro_bytes}-byte records:       $ja records/s"
echo "  sluice produce --format avro (generates + encodes): $sa records/s"
echo "  ProducerPerformance, the generated users as JSON:   $jj records/s"
echo "  sluice produce --format json (the same users):      $sj records/s"
awk -v a="$sa" -v b="$ja" -v c="$sj" -v d="$jj" \
  'BEGIN { printf "  ratios sluice/ProducerPerformance: avro %.2fx, json %.2fx (goal >= 0.90)\n", a / b, c / d }'
