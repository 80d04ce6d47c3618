"""`sluice produce` against the real Kafka and registry: what lands on the topic is
exactly what `sluice gen` prints for the same seed, decodable by Confluent's own client."""

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.endpoints import BOOTSTRAP, REGISTRY, SLUICE_FLAGS
from tests.kafka_helpers import consume_all, fresh_topic

pytestmark = pytest.mark.usefixtures("stack")


def test_produced_avro_equals_gen_output_and_matches_the_manifest(
    sluice_bin: Path, tmp_path: Path
) -> None:
    topic, count, seed = fresh_topic("produce"), 100_000, 2024
    manifest_path = tmp_path / "run.json"
    result = subprocess.run(
        [
            str(sluice_bin),
            "produce",
            *SLUICE_FLAGS,
            "--topic",
            topic,
            "--seed",
            str(seed),
            "--count",
            str(count),
            "--bad-ratio",
            "0.05",
            "--manifest",
            str(manifest_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads(manifest_path.read_text())

    expected_lines = subprocess.run(
        [
            str(sluice_bin),
            "gen",
            "--seed",
            str(seed),
            "--count",
            str(count),
            "--bad-ratio",
            "0.05",
            "--with-kind",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    expected = [json.loads(line) for line in expected_lines]
    kinds = Counter(e.pop("_bad_kind") for e in expected)

    assert manifest["count"] == manifest["acknowledged"] == count
    assert manifest["good"] == kinds["none"]
    assert manifest["bad_by_kind"] == {k: v for k, v in kinds.items() if k != "none"}
    spans = [p["last_offset"] - p["first_offset"] + 1 for p in manifest["partitions"].values()]
    assert sum(spans) == count

    deserialize = AvroDeserializer(SchemaRegistryClient({"url": REGISTRY}))
    context = SerializationContext(topic, MessageField.VALUE)
    messages = consume_all(topic, count)
    assert len(messages) == count
    got = []
    for message in messages:
        record = deserialize(message.value(), context)
        assert message.key().decode() == (record["id"] or "")
        got.append(json.dumps(record, sort_keys=True))
    assert sorted(got) == sorted(json.dumps(e, sort_keys=True) for e in expected)


def test_json_format_produces_plain_json_lines(sluice_bin: Path) -> None:
    topic = fresh_topic("produce")
    result = subprocess.run(
        [
            str(sluice_bin),
            "produce",
            *SLUICE_FLAGS,
            "--topic",
            topic,
            "--format",
            "json",
            "--count",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = [json.loads(m.value()) for m in consume_all(topic, 50)]
    assert len(values) == 50
    assert all(set(v) >= {"id", "email", "dob"} for v in values)


def test_unreachable_registry_is_a_clear_error_naming_the_url(sluice_bin: Path) -> None:
    result = subprocess.run(
        [
            str(sluice_bin),
            "produce",
            "--topic",
            "users.raw",
            "--count",
            "1",
            "--bootstrap",
            BOOTSTRAP,
            "--registry",
            "http://127.0.0.1:1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "http://127.0.0.1:1" in result.stderr
