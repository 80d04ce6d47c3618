"""Helpers for end-to-end tests: a fresh topic pair and Cassandra keyspace per test (a
"lane"), so runs never see each other's data, and running `sluice process`."""

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from cassandra.cluster import Cluster, Session
from confluent_kafka.admin import AdminClient, NewTopic

from tests.endpoints import BOOTSTRAP, CASSANDRA_PORT, REGISTRY, SLUICE_FLAGS

__all__ = ["BOOTSTRAP", "REGISTRY"]


@dataclass
class Lane:
    raw: str
    dlq: str
    keyspace: str
    group: str
    session: Session


def users_ddl(repo: Path, keyspace: str) -> list[str]:
    text = (repo / "contract" / "cassandra.cql").read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith("--")]
    statements = [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
    return [
        s.replace("sluice.", f"{keyspace}.").replace("EXISTS sluice", f"EXISTS {keyspace}")
        for s in statements
    ]


def make_lane(repo: Path) -> Lane:
    tag = uuid.uuid4().hex[:10]
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    raw, dlq = f"e2e-{tag}-raw", f"e2e-{tag}-dlq"
    futures = admin.create_topics([NewTopic(raw, 6, 1), NewTopic(dlq, 3, 1)])
    for future in futures.values():
        future.result(30)
    cluster = Cluster(["127.0.0.1"], port=CASSANDRA_PORT)
    session = cluster.connect()
    keyspace = f"e2e_{tag}"
    for statement in users_ddl(repo, keyspace):
        session.execute(statement, timeout=60)
    return Lane(raw, dlq, keyspace, f"e2e-{tag}", session)


def drop_lane(lane: Lane) -> None:
    lane.session.execute(f"DROP KEYSPACE IF EXISTS {lane.keyspace}", timeout=60)
    AdminClient({"bootstrap.servers": BOOTSTRAP}).delete_topics([lane.raw, lane.dlq])
    lane.session.cluster.shutdown()


def process_command(sluice: Path, lane: Lane, *extra: str) -> list[str]:
    return [
        str(sluice),
        "process",
        "--topic",
        lane.raw,
        "--dlq-topic",
        lane.dlq,
        "--group",
        lane.group,
        "--keyspace",
        lane.keyspace,
        "--metrics-port",
        "0",
        *SLUICE_FLAGS,
        "--cassandra-port",
        str(CASSANDRA_PORT),
        *extra,
    ]


def run_processor_to_end(sluice: Path, lane: Lane, *extra: str) -> subprocess.CompletedProcess[str]:
    command = process_command(sluice, lane, "--stop-at-end", "--idle-exit", "4", *extra)
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result
