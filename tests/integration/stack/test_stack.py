"""The local stack that `sluice up` starts: real Kafka topics, the Cassandra schema,
PostgreSQL, idempotent restarts, and clear errors on a taken port or a dying engine."""

import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from cassandra.cluster import Cluster
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from tests.conftest import free_port
from tests.stack_control import REPO

pytestmark = pytest.mark.usefixtures("stack")

BOOTSTRAP = "127.0.0.1:9092"


def run(sluice: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(sluice), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_raw_and_dlq_topics_exist_with_their_partition_counts() -> None:
    topics = AdminClient({"bootstrap.servers": BOOTSTRAP}).list_topics(timeout=10).topics
    assert len(topics["users.raw"].partitions) == 6
    assert len(topics["users.dlq"].partitions) == 3


THIRTY_DAYS_MS = str(30 * 24 * 3600 * 1000)


def dlq_config(name: str) -> str:
    resource = ConfigResource("topic", "users.dlq")
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    return admin.describe_configs([resource])[resource].result(30)[name].value


def test_up_keeps_dead_letters_for_dlq_retention_and_restores_a_changed_retention(
    sluice_bin: Path,
) -> None:
    assert dlq_config("retention.ms") == THIRTY_DAYS_MS
    assert dlq_config("max.message.bytes") == "1114124"
    resource = ConfigResource("topic", "users.dlq", set_config={"retention.ms": "3600000"})
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.alter_configs([resource])[resource].result(30)
    assert dlq_config("retention.ms") == "3600000"
    result = run(sluice_bin, "up")
    assert result.returncode == 0, result.stderr
    assert dlq_config("retention.ms") == THIRTY_DAYS_MS
    assert dlq_config("max.message.bytes") == "1114124"


def test_a_bad_dlq_retention_is_refused_naming_the_setting(sluice_bin: Path) -> None:
    result = run(sluice_bin, "status", "--dlq-retention", "30 days")
    assert result.returncode == 2
    assert "dlq_retention" in result.stderr or "--dlq-retention" in result.stderr
    assert "'30 days' is not a retention" in result.stderr


def test_cassandra_runs_with_the_commit_log_sync_mode_of_the_setting() -> None:
    # `up` wrote Cassandra's own default for the running stack (see test_engine_crashes.py
    # for what it loses to a SIGKILL, and the group mode that does not).
    config = (REPO / ".stack/conf/cassandra.yaml").read_text()
    assert re.search(r"^commitlog_sync: periodic$", config, re.M), config
    assert re.search(r"^commitlog_sync_period: 10000ms$", config, re.M)


def test_a_bad_commitlog_sync_mode_is_refused_naming_the_setting(sluice_bin: Path) -> None:
    result = run(sluice_bin, "status", "--cassandra-commitlog-sync", "sometimes")
    assert result.returncode == 2
    assert "--cassandra-commitlog-sync: 'sometimes' is not a commit log sync mode" in result.stderr


def test_a_record_produced_to_users_raw_is_consumed_back() -> None:
    key = str(uuid.uuid4()).encode()
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True})
    producer.produce("users.raw", key=key, value=b'{"probe": true}')
    assert producer.flush(10) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"stack-test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe(["users.raw"])
    found = False
    deadline = time.monotonic() + 60
    # The stack's own producer streams into users.raw too: scan everything until ours.
    while not found and time.monotonic() < deadline:
        for message in consumer.consume(1000, 0.5):
            if message.error() is None and message.key() == key:
                found = True
    consumer.close()
    assert found, "the produced record never came back"


def test_users_table_has_the_typed_columns_of_the_contract() -> None:
    session = Cluster(["127.0.0.1"]).connect()
    rows = session.execute(
        "SELECT column_name, type FROM system_schema.columns "
        "WHERE keyspace_name = 'sluice' AND table_name = 'users'"
    )
    types = {row.column_name: row.type for row in rows}
    assert types["id"] == "uuid"
    assert types["dob"] == "date"
    assert types["registered_date"] == "timestamp"
    for text_column in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "gender",
        "address",
        "postcode",
        "username",
        "picture",
    ):
        assert types[text_column] == "text", text_column
    assert types["source_offset"] == "bigint"


def pids(sluice_bin: Path) -> dict[str, int]:
    status = json.loads(run(sluice_bin, "status", "--output", "json").stdout)
    return {c["name"]: c["pid"] for c in status if c["running"]}


def test_second_up_finds_everything_running_and_changes_nothing(sluice_bin: Path) -> None:
    before = pids(sluice_bin)
    result = run(sluice_bin, "up")
    assert result.returncode == 0, result.stderr
    assert "kafka already running" in result.stderr
    assert "cassandra already running" in result.stderr
    assert "created topic" not in result.stderr
    # The very same processes: nothing was restarted, nothing started twice.
    assert pids(sluice_bin) == before
    assert {"postgres", "kafka", "cassandra", "registry"} <= before.keys()


def test_status_reports_each_engine_running_with_pid_and_memory(sluice_bin: Path) -> None:
    result = run(sluice_bin, "status", "--output", "json")
    components = {c["name"]: c for c in json.loads(result.stdout)}
    for name in ("postgres", "kafka", "cassandra", "registry", "process", "produce"):
        assert components[name]["running"], name
        assert components[name]["pid"] > 0
        assert components[name]["rss_kib"] > 0


def test_taken_port_is_named_with_its_holder(sluice_bin: Path, tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        result = run(
            sluice_bin,
            "up",
            "--no-install",
            "--state-dir",
            str(tmp_path),
            "--postgres-port",
            str(port),
        )
    assert result.returncode != 0
    assert f"port {port} for postgres is already taken by pid" in result.stderr
    assert "python" in result.stderr


def test_bad_port_value_is_rejected_naming_the_flag(sluice_bin: Path) -> None:
    result = run(sluice_bin, "status", "--kafka-port", "70000")
    assert result.returncode == 2
    assert "--kafka_port" in result.stderr or "--kafka-port" in result.stderr
    assert "70000" in result.stderr


def test_engine_dying_at_start_fails_up_with_its_log_tail(sluice_bin: Path, repo: Path) -> None:
    # Under the repo rather than /tmp: PostgreSQL runs as the postgres user, which cannot
    # enter pytest's private temporary folders.
    (repo / ".stack").mkdir(exist_ok=True)
    tmp_path = Path(tempfile.mkdtemp(prefix="test-crash-", dir=repo / ".stack"))
    tmp_path.chmod(0o755)
    ports = {
        name: free_port()
        for name in (
            "postgres",
            "kafka",
            "kafka-controller",
            "cassandra",
            "cassandra-storage",
            "cassandra-jmx",
            "registry",
        )
    }
    args = ["--state-dir", str(tmp_path)]
    for name, port in ports.items():
        args += [f"--{name}-port", str(port)]
    try:
        # A 1 MB heap is too small for the JVM: Cassandra dies at once.
        result = run(sluice_bin, "up", "--no-install", *args, "--cassandra-heap", "1m")
        assert result.returncode != 0
        assert "cassandra exited during start-up" in result.stderr
        assert "heap" in result.stderr.lower()
    finally:
        down = run(sluice_bin, "down", "--purge", *args)
        assert down.returncode == 0, down.stderr
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_down_then_up_keeps_topics_rows_and_schema_ids(sluice_bin: Path) -> None:
    topic = f"restart-probe-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(30)
    row_id = uuid.uuid4()
    cluster = Cluster(["127.0.0.1"])
    cluster.connect().execute(
        "INSERT INTO sluice.users (id, first_name) VALUES (%s, %s)", (row_id, "Persistent")
    )
    cluster.shutdown()

    registry = "http://127.0.0.1:8081"
    schema_id = requests.get(
        f"{registry}/subjects/users.raw-value/versions/latest", timeout=5
    ).json()["id"]

    assert run(sluice_bin, "down").returncode == 0
    up = run(sluice_bin, "up", "--no-install")
    assert up.returncode == 0, up.stderr

    topics = AdminClient({"bootstrap.servers": BOOTSTRAP}).list_topics(timeout=10).topics
    assert len(topics[topic].partitions) == 2
    cluster = Cluster(["127.0.0.1"])
    row = (
        cluster.connect()
        .execute("SELECT first_name FROM sluice.users WHERE id = %s", (row_id,))
        .one()
    )
    cluster.shutdown()
    assert row is not None and row.first_name == "Persistent"
    latest = requests.get(f"{registry}/subjects/users.raw-value/versions/latest", timeout=5).json()
    assert latest["id"] == schema_id
