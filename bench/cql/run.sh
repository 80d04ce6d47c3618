#!/usr/bin/env bash
# Prepared single-row inserts of user rows, `WINDOW` requests in flight, against the
# stack's Cassandra: sluice's CQL client (bench/cql/inserts.cc) beside the DataStax Java
# driver 4.17 (bench/cql/java) and the Python cassandra-driver's execute_concurrent
# (bench/cql/python_inserts.py). All three insert the same users (`sluice gen --seed 42`)
# with the same statement, each run into a fresh keyspace; 3 runs each, interleaved;
# medians and ratios. sluice and Java both make WARMUP untimed passes over the same rows
# first (default 2: the JVM's JIT compiles during them; WARMUP=0 gives the cold figure).
# Each client also reports its CPU time in the timed pass: on a small machine Cassandra
# and the client share the cores, so that, not rows/s alone, shows the client's own cost.
# Needs the stack up (`sluice up --start-pipeline false`).
# Usage: [WARMUP=n] bench/cql/run.sh [rows per run] [window]   (defaults 100000 256)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
OURS="${SLUICE_BENCH_INSERTS:-$ROOT/build/bench/sluice_bench_cql_inserts}"
PY="$ROOT/.venv-tests/bin/python"
ROWS="${1:-100000}"
WINDOW="${2:-256}"
WARMUP="${WARMUP:-2}"
PORT="${SLUICE_CASSANDRA_PORT:-9042}"
# shellcheck source=../lib.sh
source "$ROOT/bench/lib.sh"
JARS="$ROOT/.stack/bench/java-driver"
CLASSES="$ROOT/.stack/bench/java-classes"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for need in "$SLUICE" "$OURS" "$PY"; do
  [[ -x "$need" ]] || { echo "bench: $need missing (./dev setup; ./dev lint makes .venv-tests)" >&2; exit 2; }
done

SOURCE="$ROOT/bench/cql/java/src/main/java/dev/sluice/bench/InsertBench.java"
if [[ ! -f "$CLASSES/dev/sluice/bench/InsertBench.class" || "$SOURCE" -nt "$CLASSES/dev/sluice/bench/InsertBench.class" ]]; then
  if ! compgen -G "$JARS/java-driver-core-*.jar" >/dev/null; then
    echo "resolving the Java driver from Maven Central into $JARS" >&2
    mvn -q -B -f "$ROOT/bench/cql/java/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$JARS" >&2
  fi
  mkdir -p "$CLASSES"
  javac -cp "$JARS/*" -d "$CLASSES" \
    "$ROOT/bench/cql/java/src/main/java/dev/sluice/bench/InsertBench.java"
fi

"$SLUICE" gen --seed 42 --count "$ROWS" >"$WORK/users.jsonl"
DC=$("$SLUICE" cql --port "$PORT" -e "SELECT data_center FROM system.local" --output json |
  sed -n 's/.*"data_center":"\([^"]*\)".*/\1/p')
STAMP=$(date +%s)
run_client() {  # run_client NAME KEYSPACE -> the client's result line
  case "$1" in
    sluice) "$OURS" --port "$PORT" --keyspace "$2" --count "$ROWS" --seed 42 --window "$WINDOW" \
      --warmup "$WARMUP" ;;
    java) java -cp "$JARS/*:$CLASSES" dev.sluice.bench.InsertBench "$WORK/users.jsonl" \
      127.0.0.1 "$PORT" "$DC" "$2" "$WINDOW" "$WARMUP" ;;
    python) "$PY" "$ROOT/bench/cql/python_inserts.py" "$WORK/users.jsonl" 127.0.0.1 "$PORT" \
      "$2" "$WINDOW" ;;
  esac
}

declare -A lines
for run in 1 2 3; do
  for client in sluice java python; do
    keyspace="bench_cql_${STAMP}_${client}_$run"
    new_keyspace "$keyspace"
    line=$(run_client "$client" "$keyspace" | tail -1)
    drop_keyspace "$keyspace"
    echo "run $run $client: $line" >&2
    lines[$client]+="$line"$'\n'
  done
done

median_of() {  # median_of CLIENT FIELD_REGEX -> median of the captured number
  printf "%s" "${lines[$1]}" | sed -n "s/.*$2 \([0-9.]*\).*/\1/p" | median
}
rate() { printf '%s' "${lines[$1]}" | awk '{ print $1 }' | median; }
s=$(rate sluice) j=$(rate java) p=$(rate python)
s99=$(median_of sluice "p99") j99=$(median_of java "p99")
s50=$(median_of sluice "p50") j50=$(median_of java "p50")
echo "rows $ROWS per run, $WINDOW in flight, $WARMUP untimed warm-up passes each, medians of 3:"
echo "  sluice CQL client:          $s rows/s, p50 $s50 ms, p99 $s99 ms"
echo "  DataStax Java driver 4.17:  $j rows/s, p50 $j50 ms, p99 $j99 ms"
echo "  Python execute_concurrent:  $p rows/s"
awk -v s="$s" -v j="$j" -v p="$p" 'BEGIN { printf "  sluice / Java: %.2fx   sluice / Python: %.2fx\n", s / j, s / p }'
sc=$(median_of sluice "cpu") jc=$(median_of java "cpu")
echo "  client CPU in the timed pass (every thread): sluice $sc s, Java $jc s (Cassandra shares the cores)"
