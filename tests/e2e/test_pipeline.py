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

from tests.e2e.helpers import (
    BOOTSTRAP,
    REGISTRY,
    RULE_OF_KIND,
    Lane,
    assert_exactly_once,
    generate,
    headers_of,
    process_command,
    produce_json,
    read_all,
    run_processor_to_end,
    stored_ids,
    verify,
)

pytestmark = pytest.mark.usefixtures("stack")


def test_every_record_lands_once_in_users_or_the_dlq_with_its_rule(
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

    ids = stored_ids(lane)
    assert len(ids) == len(set(ids)) == len(good)
    assert set(ids) == set(good)

    dead = read_all(lane.dlq)
    assert len(dead) == len(bad)
    expected = sorted(
        (json.dumps({k: v for k, v in u.items() if k != "_bad_kind"}), RULE_OF_KIND[u["_bad_kind"]])
        for u in bad
    )
    got = sorted((m.value().decode(), headers_of(m)["sluice.rule"]) for m in dead)
    assert got == expected
    sample = dead[0]
    assert headers_of(sample)["sluice.source.topic"] == lane.raw
    assert int(headers_of(sample)["sluice.source.offset"]) >= 0

    report = verify(sluice_bin, lane)
    assert report["ok"] and report["produced"] == 100_000
    assert report["stored"] == len(good) and report["dead_lettered"] == len(bad)
    assert report["dead_by_rule"] == dict(Counter(RULE_OF_KIND[u["_bad_kind"]] for u in bad))

    for user_id in random.Random(1).sample(sorted(good), 200):
        row = lane.session.execute(
            "SELECT first_name, email, dob, registered_date, source_topic "
            f"FROM {lane.keyspace}.users WHERE id = %s",
            (uuid.UUID(user_id),),
        ).one()
        user = good[user_id]
        assert row.first_name == user["first_name"]
        assert row.email == user["email"]
        assert str(row.dob) == user["dob"]
        assert row.registered_date.strftime("%Y-%m-%dT%H:%M:%S") == user["registered_date"][:19]
        assert row.source_topic == lane.raw


def test_verify_reports_a_missing_row(sluice_bin: Path, lane: Lane) -> None:
    users = generate(sluice_bin, seed=5150, count=2000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    run_processor_to_end(sluice_bin, lane)
    assert verify(sluice_bin, lane)["ok"]
    victim = next(u["id"] for u in users if u["_bad_kind"] == "none")
    lane.session.execute(f"DELETE FROM {lane.keyspace}.users WHERE id = %s", (uuid.UUID(victim),))
    report = verify(sluice_bin, lane, expect_ok=False)
    assert report["missing"] == 1


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=777, count=200_000, bad_ratio=0.05)
    produce_json(lane.raw, users)
    rng = random.Random(5)
    for _ in range(5):
        process = subprocess.Popen(
            process_command(sluice_bin, lane, "--max-in-flight", "500"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.5, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    run_processor_to_end(sluice_bin, lane)
    assert_exactly_once(lane, users)
    assert verify(sluice_bin, lane)["ok"]


def test_poison_pills_are_dead_lettered_with_their_decode_rule(
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
    expected_rules = {}
    for rule, values in pills.items():
        for i, value in enumerate(values):
            key = f"{rule}-{i}".encode()
            expected_rules[key] = rule
            producer.produce(lane.raw, key=key, value=value)
    for user, value in zip(good, valid_avro, strict=True):
        producer.produce(lane.raw, key=user["id"].encode(), value=value)
    assert producer.flush(60) == 0

    run_processor_to_end(sluice_bin, lane, "--max-value-bytes", "10000")

    dead = read_all(lane.dlq)
    got = {m.key(): headers_of(m)["sluice.rule"] for m in dead}
    assert got == expected_rules
    assert headers_of(next(m for m in dead if got[m.key()] == "decode.avro"))[
        "sluice.schema.id"
    ] == str(schema_id)
    assert set(stored_ids(lane)) == {u["id"] for u in good}


def test_records_of_an_older_and_a_newer_compatible_schema_both_land(
    sluice_bin: Path, lane: Lane, repo: Path
) -> None:
    registry = SchemaRegistryClient({"url": REGISTRY})
    old_text = (repo / "contract" / "user.avsc").read_text()
    new_schema = json.loads(old_text)
    new_schema["fields"].append(
        {"name": "loyalty_tier", "type": ["null", "string"], "default": None}
    )
    subject = f"{lane.raw}-value"
    old = AvroSerializer(registry, old_text, conf={"auto.register.schemas": True})
    new = AvroSerializer(registry, json.dumps(new_schema), conf={"auto.register.schemas": True})
    context = SerializationContext(lane.raw, MessageField.VALUE)
    users = generate(sluice_bin, seed=31, count=200, bad_ratio=0)
    producer = Producer({"bootstrap.servers": BOOTSTRAP})
    for i, user in enumerate(users):
        record = {k: v for k, v in user.items() if k != "_bad_kind"}
        if i % 2:
            record["loyalty_tier"] = "gold"
            value = new(record, context)
        else:
            value = old(record, context)
        producer.produce(lane.raw, key=user["id"].encode(), value=value)
    assert producer.flush(30) == 0
    versions = requests.get(f"{REGISTRY}/subjects/{subject}/versions", timeout=5).json()
    assert len(versions) == 2

    run_processor_to_end(sluice_bin, lane)
    assert set(stored_ids(lane)) == {u["id"] for u in users}
    assert read_all(lane.dlq) == []
