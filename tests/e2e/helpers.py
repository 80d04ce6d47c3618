"""Helpers for end-to-end tests: a fresh topic pair and Cassandra keyspace per test (a
"lane"), so runs never see each other's data, and running `sluice process`."""

import json
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cassandra.cluster import Cluster, Session
from cassandra.policies import ConstantReconnectionPolicy
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.endpoints import BOOTSTRAP, CASSANDRA_PORT, REGISTRY, SLUICE_FLAGS

__all__ = ["BOOTSTRAP", "REGISTRY", "CASSANDRA_PORT"]

# The rule id each injected defect of `sluice gen --bad-ratio` must be dead-lettered with.
RULE_OF_KIND = {
    "bad_uuid": "id.uuid",
    "bad_email": "email.format",
    "future_dob": "dob.range",
    "missing_email": "email.required",
    "empty_first_name": "first_name.required",
    "long_last_name": "last_name.max_length",
    "bad_dob_format": "dob.format",
    "bad_picture_url": "picture.url",
    "bad_gender": "gender.enum",
    "future_registration": "registered_date.not_future",
    "bad_phone": "phone.format",
    "bad_username": "username.format",
    "bad_registered_format": "registered_date.format",
    "bad_postcode": "postcode.format",
}


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
    # Reconnect every second: tests stop Cassandra, and the driver's default exponential
    # backoff would leave the session without a host long after Cassandra is back.
    cluster = Cluster(
        ["127.0.0.1"], port=CASSANDRA_PORT, reconnection_policy=ConstantReconnectionPolicy(1.0)
    )
    session = cluster.connect()
    keyspace = f"e2e_{tag}"
    for statement in users_ddl(repo, keyspace):
        session.execute(statement, timeout=60)
    return Lane(raw, dlq, keyspace, f"e2e-{tag}", session)


def drop_lane(lane: Lane) -> None:
    lane.session.execute(f"DROP KEYSPACE IF EXISTS {lane.keyspace}", timeout=60)
    AdminClient({"bootstrap.servers": BOOTSTRAP}).delete_topics([lane.raw, lane.dlq])
    lane.session.cluster.shutdown()


def lane_flags(lane: Lane) -> list[str]:
    """The flags that point process and verify at a lane's topics, group and keyspace."""
    return [
        "--topic",
        lane.raw,
        "--dlq-topic",
        lane.dlq,
        "--group",
        lane.group,
        "--keyspace",
        lane.keyspace,
    ]


def process_command(sluice: Path, lane: Lane, *extra: str, metrics_port: int = 0) -> list[str]:
    return [
        str(sluice),
        "process",
        *lane_flags(lane),
        "--metrics-port",
        str(metrics_port),
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


def generate(sluice: Path, seed: int, count: int, bad_ratio: float) -> list[dict]:
    out = subprocess.run(
        [
            str(sluice),
            "gen",
            "--seed",
            str(seed),
            "--count",
            str(count),
            "--bad-ratio",
            str(bad_ratio),
            "--with-kind",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def produce_json(topic: str, users: list[dict]) -> None:
    producer = Producer(
        {"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True, "linger.ms": 20}
    )
    for user in users:
        value = {k: v for k, v in user.items() if k != "_bad_kind"}
        while True:
            try:
                producer.produce(
                    topic, key=(user["id"] or "").encode(), value=json.dumps(value).encode()
                )
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.5)
        producer.poll(0)
    assert producer.flush(60) == 0


def read_all(topic: str) -> list:
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"reader-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )
    consumer.subscribe([topic])
    messages, idle_since = [], time.monotonic()
    while time.monotonic() - idle_since < 5:
        batch = consumer.consume(1000, 0.5)
        if batch:
            idle_since = time.monotonic()
            messages.extend(m for m in batch if m.error() is None)
    consumer.close()
    return messages


def headers_of(message: Message) -> dict[str, str]:
    return {k: v.decode() for k, v in (message.headers() or [])}


def stored_ids(lane: Lane) -> list[str]:
    rows = lane.session.execute(f"SELECT id FROM {lane.keyspace}.users", timeout=120)
    return [str(row.id) for row in rows]


def verify(sluice: Path, lane: Lane, expect_ok: bool | None = True) -> dict:
    """Runs `sluice verify --output json`; expect_ok None accepts either verdict."""
    result = subprocess.run(
        [
            str(sluice),
            "verify",
            *lane_flags(lane),
            "--output",
            "json",
            "--bootstrap",
            BOOTSTRAP,
            "--cassandra-port",
            str(CASSANDRA_PORT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    allowed = {0, 1} if expect_ok is None else {0 if expect_ok else 1}
    assert result.returncode in allowed, result.stdout + result.stderr
    return json.loads(result.stdout)


def assert_exactly_once(lane: Lane, users: list[dict]) -> None:
    """Each valid user is once in `users`; each bad one is in the DLQ (by source position,
    since a dead letter may be re-sent after a crash)."""
    good = {u["id"] for u in users if u["_bad_kind"] == "none"}
    bad = [u for u in users if u["_bad_kind"] != "none"]
    ids = stored_ids(lane)
    assert len(ids) == len(set(ids)) == len(good)
    assert set(ids) == good
    positions = {
        (headers_of(m)["sluice.source.partition"], headers_of(m)["sluice.source.offset"])
        for m in read_all(lane.dlq)
    }
    assert len(positions) == len(bad)
