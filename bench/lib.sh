# Helpers shared by the bench/<area>/run.sh scripts (sourced, not run). Expects ROOT
# and SLUICE to be set; BOOTSTRAP and PORT (Cassandra) default to the stack's.
BOOTSTRAP="${BOOTSTRAP:-${SLUICE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}}"
KAFKA_CP="$ROOT/.stack/lib/kafka/*"

median() {  # of the numbers on stdin, one a line (the lower middle one of an even count)
  sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

new_topic() {  # new_topic NAME PARTITIONS
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
    --create --topic "$1" --partitions "$2" --replication-factor 1 >/dev/null 2>&1
}

delete_topics() {  # delete_topics REGEX
  java -cp "$KAFKA_CP" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
    --delete --topic "$1" >/dev/null 2>&1 || true
}

new_keyspace() {  # new_keyspace NAME: contract/cassandra.cql with the keyspace renamed
  local ddl
  ddl=$(mktemp)
  sed -e "s/sluice\./$1./g" -e "s/EXISTS sluice/EXISTS $1/g" "$ROOT/contract/cassandra.cql" >"$ddl"
  "$SLUICE" cql --port "${PORT:-9042}" -f "$ddl" >/dev/null
  rm -f "$ddl"
}

drop_keyspace() { "$SLUICE" cql --port "${PORT:-9042}" -e "DROP KEYSPACE IF EXISTS $1" >/dev/null; }
