"""End to end on the real stack: generated users through Kafka, `sluice process`, into
Cassandra and the dead-letter topic, with exact accounting of every record."""

import json
import random
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.conftest import free_port
from tests.e2e.helpers import (
    BOOTSTRAP,
    REGISTRY,
    RULE_OF_KIND,
    Expect,
    Lane,
    RawRecord,
    assert_exactly_once,
    assert_lane_holds,
    assert_topic_empty,
    committed_offsets,
    generate,
    high_watermarks,
    metric,
    process_command,
    produce_json,
    read_raw,
    run_processor_to_end,
    verify,
)

pytestmark = pytest.mark.usefixtures("stack")


def test_every_record_lands_once_as_an_identical_row_or_a_dead_letter_with_its_rule(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=4242, count=100_000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    run = run_processor_to_end(sluice_bin, lane)

    good = {u["id"]: u for u in users if u["_bad_kind"] == "none"}
    # A backlog goes to Cassandra as batches, not one request per row.
    counts = re.search(r"written (\d+) in (\d+) Cassandra", run.stderr)
    assert counts, run.stderr[-2000:]
    written, requests = int(counts[1]), int(counts[2])
    assert written == len(good)
    assert requests * 8 <= written, f"{written} rows took {requests} requests"
    # The latency is split where it is spent: a backlog waited in Kafka, not in Cassandra.
    split = re.search(
        r"p99 ([\d.]+) ms \(of which Kafka to processor p99 ([\d.]+) ms, "
        r"processor to Cassandra p99 ([\d.]+) ms\)",
        run.stderr,
    )
    assert split, run.stderr[-2000:]
    in_kafka, in_cassandra = float(split[2]), float(split[3])
    assert 0 < in_cassandra < in_kafka, split[0]
    bad = [u for u in users if u["_bad_kind"] != "none"]
    assert {u["_bad_kind"] for u in bad} == set(RULE_OF_KIND), "every injected kind is exercised"

    # Every row in every column, every dead letter with all its headers, against the raw
    # record at its position; no processor crashed, so no letter may be repeated.
    assert_exactly_once(lane, users, processor_crashed=False)

    report = verify(sluice_bin, lane)
    assert report["ok"] and report["produced"] == 100_000
    assert report["stored"] == len(good) and report["dead_lettered"] == len(bad)
    assert report["dead_by_rule"] == dict(Counter(RULE_OF_KIND[u["_bad_kind"]] for u in bad))


def test_verify_reports_a_missing_row(sluice_bin: Path, lane: Lane) -> None:
    users = generate(sluice_bin, seed=5150, count=2000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    run_processor_to_end(sluice_bin, lane)
    assert verify(sluice_bin, lane)["ok"]
    victim = next(u["id"] for u in users if u["_bad_kind"] == "none")
    lane.session.execute(f"DELETE FROM {lane.keyspace}.users WHERE id = %s", (uuid.UUID(victim),))
    report = verify(sluice_bin, lane, expect_ok=False)
    assert report["missing"] == 1


def test_five_sigkills_each_mid_work_lose_and_duplicate_nothing(
    sluice_bin: Path, lane: Lane
) -> None:
    """Each of five instances is killed only once it owns partitions, has consumed more than
    the last one and holds records in flight; each kill must leave uncommitted work that the
    next instance reads again."""
    users = generate(sluice_bin, seed=777, count=200_000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    consumed_before_kills = 0
    for kill in range(5):
        port = free_port()
        process = subprocess.Popen(
            process_command(
                sluice_bin,
                lane,
                "--max-in-flight",
                "500",
                "--session-timeout-ms",
                "6000",
                metrics_port=port,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 90
            consumed, in_flight = 0.0, 0.0
            while time.monotonic() < deadline and not (consumed > 3000 and in_flight > 0):
                time.sleep(0.05)
                consumed = metric(port, "sluice_process_consumed_total") or 0.0
                in_flight = metric(port, "sluice_process_in_flight") or 0.0
            assert consumed > 3000 and in_flight > 0, (kill, consumed, in_flight)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        consumed_before_kills += int(consumed)
        committed = committed_offsets(lane.group, lane.raw)
        marks = high_watermarks(lane.raw)
        assert all(committed[p] < marks[p] for p in marks), (kill, committed, marks)
    final = run_processor_to_end(sluice_bin, lane)
    match = re.search(r"stopped: consumed (\d+)", final.stderr)
    assert match, final.stderr[-2000:]
    # Records consumed by a killed instance and not committed were read again.
    assert consumed_before_kills + int(match.group(1)) > len(users)
    resent = assert_exactly_once(lane, users, processor_crashed=True)
    print(f"{resent} dead letter(s) re-sent after the kills")
    assert verify(sluice_bin, lane)["ok"]


def test_poison_pills_are_dead_lettered_once_each_with_their_decode_rule_and_bytes(
    sluice_bin: Path, lane: Lane, repo: Path
) -> None:
    registry = SchemaRegistryClient({"url": REGISTRY})
    schema_text = (repo / "contract" / "user.avsc").read_text()
    serializer = AvroSerializer(registry, schema_text)
    context = SerializationContext(lane.raw, MessageField.VALUE)
    good = generate(sluice_bin, seed=99, count=300, bad_ratio=0)
    valid_avro = [
        serializer({k: v for k, v in u.items() if k != "_bad_kind"}, context) for u in good
    ]
    schema_id = int.from_bytes(valid_avro[0][1:5], "big")
    assert schema_id == registry.get_latest_version(f"{lane.raw}-value").schema_id
    rng = random.Random(9)
    pills: dict[str, list[bytes | None]] = {
        "decode.magic": [bytes([1]) + rng.randbytes(40) for _ in range(100)],
        "decode.schema_id": [b"\x00\x00\x0f\x42\x40" + v[5:] for v in valid_avro[:100]],
        "decode.avro": [v[: len(v) // 2] for v in valid_avro[:100]],
        "decode.empty": [b""] * 50 + [None] * 50,
        "decode.utf8": [b'{"id": "\xff\xfe"}'] * 100,
        "decode.json": [b"{this is not json"] * 100,
        "decode.oversize": [b"{" + b" " * 20_000 + b"}"] * 100,
    }
    producer = Producer({"bootstrap.servers": BOOTSTRAP})
    sent: dict[bytes, tuple[bytes | None, Expect]] = {}  # by key, unique
    for rule, values in pills.items():
        for i, value in enumerate(values):
            sent[f"{rule}-{i}".encode()] = (value, Expect(rule=rule))
    for user, value in zip(good, valid_avro, strict=True):
        record = {k: v for k, v in user.items() if k != "_bad_kind"}
        sent[user["id"].encode()] = (value, Expect(user=record, schema_id=schema_id))
    for key, (value, _) in sent.items():
        producer.produce(lane.raw, key=key, value=value)
    assert producer.flush(60) == 0

    run_processor_to_end(sluice_bin, lane, "--max-value-bytes", "10000")

    raw = read_raw(lane.raw)
    assert Counter((r.key, r.value) for r in raw) == Counter(
        (key, value) for key, (value, _) in sent.items()
    ), "the raw topic holds exactly what was produced"

    def expect(record: RawRecord) -> Expect:
        assert record.key is not None and sent[record.key][0] == record.value
        return sent[record.key][1]

    # One letter per pill (rule, headers, key and bytes), one exact row per valid record.
    assert_lane_holds(lane, raw, expect, letters_may_repeat=False)


def test_records_of_an_older_and_a_newer_reordered_schema_land_with_every_value_in_place(
    sluice_bin: Path, lane: Lane, repo: Path
) -> None:
    registry = SchemaRegistryClient({"url": REGISTRY})
    old_text = (repo / "contract" / "user.avsc").read_text()
    new_schema = json.loads(old_text)
    # The newer schema moves email before first_name and adds a field in the middle: a
    # reader that decoded by position instead of by name would swap or shift values.
    by_name = {f["name"]: f for f in new_schema["fields"]}
    order = ["id", "email", "first_name", "last_name", "phone", "gender", "loyalty_tier"]
    order += [n for n in by_name if n not in order]
    by_name["loyalty_tier"] = {"name": "loyalty_tier", "type": ["null", "string"], "default": None}
    new_schema["fields"] = [by_name[n] for n in order]
    subject = f"{lane.raw}-value"
    old = AvroSerializer(registry, old_text, conf={"auto.register.schemas": True})
    new = AvroSerializer(registry, json.dumps(new_schema), conf={"auto.register.schemas": True})
    context = SerializationContext(lane.raw, MessageField.VALUE)
    users = generate(sluice_bin, seed=31, count=200, bad_ratio=0)
    producer = Producer({"bootstrap.servers": BOOTSTRAP})
    sent: dict[bytes, tuple[bytes, dict[str, str], bool]] = {}  # key: value, record, newer?
    for i, user in enumerate(users):
        record = {k: v for k, v in user.items() if k != "_bad_kind"}
        newer = i % 2 == 1
        value = new(record | {"loyalty_tier": "gold"}, context) if newer else old(record, context)
        sent[user["id"].encode()] = (value, record, newer)
        producer.produce(lane.raw, key=user["id"].encode(), value=value)
    assert producer.flush(30) == 0
    versions = requests.get(f"{REGISTRY}/subjects/{subject}/versions", timeout=5).json()
    assert len(versions) == 2
    old_id = registry.get_version(subject, versions[0]).schema_id
    new_id = registry.get_version(subject, versions[1]).schema_id
    assert old_id != new_id
    registered = json.loads(registry.get_version(subject, versions[1]).schema.schema_str)
    assert [f["name"] for f in registered["fields"]] == order, "the registry kept the order"

    run_processor_to_end(sluice_bin, lane)

    raw = read_raw(lane.raw)
    assert Counter((r.key, r.value) for r in raw) == Counter((k, v[0]) for k, v in sent.items())

    def expect(record: RawRecord) -> Expect:
        value, user, newer = sent[record.key or b""]
        assert record.value == value
        return Expect(user=user, schema_id=new_id if newer else old_id)

    # Each row holds every value that was sent, whichever schema wrote it, with its id.
    assert_lane_holds(lane, raw, expect, letters_may_repeat=False)
    assert_topic_empty(lane.dlq)
