#!/usr/bin/env bash
# The cost of `sluice verify`: time to reconcile N records (default 1,000,000) on the
# stack, against the issue's goal of 10 s for a million. A fresh 6-partition raw topic gets
# N Avro records (5% with defects), one processor drains them into a fresh keyspace and
# dead-letter topic, then `sluice verify` runs 3 times; the median wall time is reported
# (the drain time beside it for context). Every run must pass (exit 0).
# Needs the stack up (`sluice up --start-pipeline false` keeps the machine quiet).
# Usage: bench/verify/run.sh [records]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE:-$ROOT/build/sluice}"
RECORDS="${1:-1000000}"
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
STAMP="$(date +%s)"
RAW="bench.verify.$STAMP.raw" DLQ="bench.verify.$STAMP.dlq" KEYSPACE="bench_verify_$STAMP"
GROUP="bench-verify-$STAMP"
cleanup() {
  drop_keyspace "$KEYSPACE" || true
  delete_topics "$RAW"
  delete_topics "$DLQ"
}
trap cleanup EXIT

new_topic "$RAW" 6
new_topic "$DLQ" 3
new_keyspace "$KEYSPACE"
echo "producing $RECORDS records into $RAW" >&2
"$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic "$RAW" --format avro --seed 7 \
  --bad-ratio 0.05 --count "$RECORDS" --metrics-port 0 >/dev/null 2>&1
echo "draining them with one processor" >&2
start=$(date +%s.%N)
"$SLUICE" process --bootstrap "$BOOTSTRAP" --topic "$RAW" --dlq-topic "$DLQ" --group "$GROUP" \
  --keyspace "$KEYSPACE" --metrics-port 0 --stop-at-end --idle-exit 3 >/dev/null 2>&1
drain=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

times=()
for run in 1 2 3; do
  start=$(date +%s.%N)
  "$SLUICE" verify --bootstrap "$BOOTSTRAP" --topic "$RAW" --dlq-topic "$DLQ" --group "$GROUP" \
    --keyspace "$KEYSPACE" --output json >"/tmp/bench-verify-$STAMP.json" 2>/dev/null || {
    echo "bench: verify run $run did not pass" >&2
    cat "/tmp/bench-verify-$STAMP.json" >&2
    exit 1
  }
  times+=("$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')")
done
produced=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["produced"])' \
  "/tmp/bench-verify-$STAMP.json")
rm -f "/tmp/bench-verify-$STAMP.json"
med=$(printf '%s\n' "${times[@]}" | median)
printf '%-44s %s\n' "records reconciled" "$produced"
printf '%-44s %s s\n' "processor drain (context)" "$drain"
printf '%-44s %s s (runs %s)\n' "sluice verify, median of 3" "$med" "${times[*]}"
awk -v t="$med" -v n="$produced" 'BEGIN { printf "%-44s %.0f records/s (goal: 1,000,000 in < 10 s)\n", "verify rate", n / t }'
