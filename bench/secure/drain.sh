#!/usr/bin/env bash
# The throughput cost of `sluice up --secure`: the processor's drain rate on a secured
# stack (Kafka SASL_SSL, Cassandra TLS + password, registry basic auth) against a plain
# one, same binary, same engine sizes, in one run. Starts both stacks on side ports
# (state in .stack/bench-plain and .stack/bench-secure, the shared stack may stay up),
# loads N Avro records (no defects) into each one's users.raw, then: one untimed drain
# each, and 5 rounds of a timed drain each, alternating; each drain is a fresh consumer
# group reading users.raw from the start into the stack's own table (rows/s from the
# processor's /metrics, first row to last). Prints each run, the medians and the ratio.
# Usage: bench/secure/drain.sh [records (100000)]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RECORDS="${1:-100000}"
# shellcheck source=../process/live.sh
source "$ROOT/bench/process/live.sh"

declare -A FLAGS CLIENT CQL ENV_CQL
side_flags() {  # side_flags SIDE BASE_PORT: the stack flags of one side
  local b=$2
  echo "--state-dir $ROOT/.stack/bench-$1 --cache-dir $ROOT/.stack/lib --airflow false" \
    "--ui false --start-pipeline false --kafka-heap 1g --cassandra-heap 2g" \
    "--kafka-port $b --kafka-controller-port $((b + 1)) --cassandra-port $((b + 2))" \
    "--cassandra-storage-port $((b + 3)) --cassandra-jmx-port $((b + 4))" \
    "--registry-port $((b + 5)) --postgres-port $((b + 6)) --process-metrics-port $((b + 7))"
}
FLAGS[plain]=$(side_flags plain 23100)
FLAGS[secure]="--secure $(side_flags secure 23200)"
secrets="$ROOT/.stack/bench-secure/secrets"
ca="$ROOT/.stack/bench-secure/tls/ca.pem"
CLIENT[plain]="--bootstrap 127.0.0.1:23100 --registry http://127.0.0.1:23105"
CLIENT[secure]="--bootstrap 127.0.0.1:23200 --registry http://127.0.0.1:23205 \
--kafka-security-protocol sasl_ssl --kafka-sasl-mechanism PLAIN --kafka-user sluice \
--kafka-password-file $secrets/kafka.password --kafka-ca $ca --registry-user sluice \
--registry-password-file $secrets/registry.password"
CQL[plain]="--cassandra-port 23102"
CQL[secure]="--cassandra-port 23202 --cassandra-user sluice --cassandra-tls-ca $ca"

stop_stacks() {  # replaces live.sh's cleanup, which drops keyspaces on the shared stack
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for side in plain secure; do
    # shellcheck disable=SC2086
    "$SLUICE" down ${FLAGS[$side]} >/dev/null 2>&1 || true
  done
}
trap stop_stacks EXIT

for side in plain secure; do
  mkdir -p "$ROOT/.stack/bench-$side"
  [[ -e "$ROOT/.stack/bench-$side/spark" ]] || ln -s "$ROOT/.stack/spark" "$ROOT/.stack/bench-$side/spark"
  echo "starting the $side stack" >&2
  # shellcheck disable=SC2086
  "$SLUICE" up ${FLAGS[$side]} >"/tmp/bench-secure-up-$side.log" 2>&1 ||
    { tail -20 "/tmp/bench-secure-up-$side.log" >&2; exit 1; }
done
ENV_CQL[plain]=""
ENV_CQL[secure]="SLUICE_CQL_PASSWORD=$(cat "$secrets/cassandra.password")"

for side in plain secure; do
  echo "loading $RECORDS records into the $side stack's users.raw" >&2
  # shellcheck disable=SC2086
  "$SLUICE" produce ${CLIENT[$side]} --schema "$ROOT/contract/user.avsc" --seed 42 \
    --bad-ratio 0 --count "$RECORDS" >/dev/null 2>"/tmp/bench-secure-produce-$side.log" ||
    { tail -5 "/tmp/bench-secure-produce-$side.log" >&2; exit 1; }
done

drain() {  # drain SIDE RUN -> rows/s
  local port pid rate rss
  port=$(free_port)
  # shellcheck disable=SC2086
  env ${ENV_CQL[$1]} "$SLUICE" process ${CLIENT[$1]} ${CQL[$1]} \
    --group "bench-secure-$STAMP-$2" --rules "$ROOT/contract/rules.yaml" \
    --metrics-port "$port" >/dev/null 2>"/tmp/bench-secure-$1-$2.log" &
  pid=$!
  PIDS+=("$pid")
  read -r rate rss < <(watch_drain "$port" "$pid" "$1 $2")
  echo "$rate"
}

declare -A rates=([plain]="" [secure]="")
echo "warm-up: one drain each (not counted)" >&2
for side in plain secure; do drain "$side" "w$side" >/dev/null; done
for round in 1 2 3 4 5; do
  for side in plain secure; do
    rate=$(drain "$side" "$side$round")
    echo "round $round $side: $rate rows/s"
    rates[$side]+="$rate "
  done
done
plain=$(tr ' ' '\n' <<<"${rates[plain]}" | grep . | median)
secure=$(tr ' ' '\n' <<<"${rates[secure]}" | grep . | median)
echo "median drain: plain $plain rows/s, secure $secure rows/s"
awk -v a="$secure" -v b="$plain" 'BEGIN { printf "secure / plain: %.2f\n", a / b }'
