"""Interoperability of `sluice registry` with the Confluent Python client.

Starts the real `sluice registry` binary on a free port against the real Kafka
(127.0.0.1:9092, or SLUICE_KAFKA_BOOTSTRAP) with a topic unique to this run, then
serializes and deserializes users with confluent-kafka's AvroSerializer and
AvroDeserializer through it. The binary is $SLUICE_BIN (default: build/sluice).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

pytestmark = pytest.mark.usefixtures("stack")

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = (ROOT / "contract" / "user.avsc").read_text()
BOOTSTRAP = os.environ.get("SLUICE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(port: int, topic: str, log: Path) -> subprocess.Popen[bytes]:
    binary = os.environ.get("SLUICE_BIN", str(ROOT / "build" / "sluice"))
    args = [binary, "registry", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--bootstrap", BOOTSTRAP, "--topic", topic]
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"sluice registry exited with {proc.returncode}: {log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/subjects", timeout=2) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"sluice registry not ready on {url} after 60 s: {log.read_text()}")


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    topic = f"_schemas.it.{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("registry") / "registry.log"
    proc = start_registry(port, topic, log)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def user(n: int) -> dict[str, str | None]:
    return {
        "id": str(uuid.UUID(int=n)),
        "first_name": f"Ada{n}",
        "last_name": "Lovelace",
        "email": f"ada{n}@example.org",
        "phone": "+44 20 7946 0000",
        "gender": "female",
        "dob": "1815-12-10",
        "address": "12 St James's Square, London, England, United Kingdom",
        "postcode": "SW1Y 4JH",
        "username": f"ada{n}",
        "registered_date": "2024-01-02T03:04:05Z",
        "picture": None,
    }


def test_avro_serializer_and_deserializer_round_trip(registry_url: str) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    subject_topic = f"users.it.{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(subject_topic, MessageField.VALUE)
    serializer = AvroSerializer(client, CONTRACT, conf={"auto.register.schemas": True})
    deserializer = AvroDeserializer(client)

    records = [user(n) for n in range(1, 6)]
    payloads = [serializer(r, ctx) for r in records]

    # Confluent wire format: magic byte 0, then the id our registry gave the schema.
    latest_url = f"{registry_url}/subjects/{subject_topic}-value/versions/latest"
    with urllib.request.urlopen(latest_url) as answer:
        latest = json.load(answer)
    for payload in payloads:
        assert payload[0] == 0
        assert struct.unpack(">I", payload[1:5])[0] == latest["id"]

    # A fresh client (empty cache) fetches the writer schema by id from our registry.
    fresh = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
    assert [fresh(p, ctx) for p in payloads] == records
    assert [deserializer(p, ctx) for p in payloads] == records


def test_old_data_reads_with_evolved_reader_schema(registry_url: str) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    subject_topic = f"users.evo.{uuid.uuid4().hex[:8]}"
    ctx = SerializationContext(subject_topic, MessageField.VALUE)
    v1_payload = AvroSerializer(client, CONTRACT)(user(7), ctx)

    evolved = json.loads(CONTRACT)
    evolved["fields"].append({"name": "nickname", "type": ["null", "string"], "default": None})
    v2 = json.dumps(evolved)
    v2_payload = AvroSerializer(client, v2)(dict(user(8), nickname="ada"), ctx)
    v1_id = struct.unpack(">I", v1_payload[1:5])[0]
    v2_id = struct.unpack(">I", v2_payload[1:5])[0]
    assert v2_id != v1_id

    reader = AvroDeserializer(client, v2)
    assert reader(v1_payload, ctx)["nickname"] is None
    assert reader(v2_payload, ctx)["nickname"] == "ada"


def test_incompatible_schema_is_refused_with_409(registry_url: str) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    subject = f"users.bad.{uuid.uuid4().hex[:8]}-value"
    client.register_schema(subject, Schema(CONTRACT, "AVRO"))
    broken = json.loads(CONTRACT)
    broken["fields"][3]["type"] = ["null", "int"]  # email: string -> int
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(json.dumps(broken), "AVRO"))
    assert refused.value.http_status_code == 409
    assert refused.value.error_code == 409
