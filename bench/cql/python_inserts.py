"""bench/cql reference: the same prepared inserts through the Python cassandra-driver's
execute_concurrent_with_args. Prints the same line as bench/cql/inserts.cc (latency is
not measured per request by execute_concurrent, so it prints throughput only)."""

import json
import sys
import time
import uuid
from datetime import date, datetime

from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args

UPSERT = (
    "INSERT INTO users (id, first_name, last_name, email, phone, gender, dob, address, "
    "postcode, username, registered_date, picture, contract_version, schema_id, "
    "source_topic, source_partition, source_offset, produced_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def row(user: dict, index: int) -> tuple:
    return (
        uuid.UUID(user["id"]),
        user["first_name"],
        user["last_name"],
        user["email"],
        user["phone"],
        user["gender"],
        date.fromisoformat(user["dob"]),
        user["address"],
        user["postcode"],
        user["username"],
        datetime.fromisoformat(user["registered_date"].replace("Z", "+00:00")),
        user["picture"],
        1,
        1,
        "users.raw",
        0,
        index,
        datetime.fromtimestamp(0),
    )


def main() -> int:
    if len(sys.argv) != 6:
        print(
            "usage: python_inserts.py USERS.jsonl HOST PORT KEYSPACE CONCURRENCY", file=sys.stderr
        )
        return 2
    path, host, port, keyspace, concurrency = sys.argv[1:]
    with open(path) as f:
        rows = [row(json.loads(line), i) for i, line in enumerate(f)]
    cluster = Cluster([host], port=int(port))
    session = cluster.connect(keyspace)
    upsert = session.prepare(UPSERT)
    started = time.perf_counter()
    results = execute_concurrent_with_args(
        session, upsert, rows, concurrency=int(concurrency), raise_on_first_error=False
    )
    seconds = time.perf_counter() - started
    failed = sum(1 for ok, _ in results if not ok)
    print(
        f"{len(rows) / seconds:.0f} rows/s ({len(rows)} rows in {seconds:.2f} s, {failed} failed)"
    )
    cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
