"""Interoperability of `sluice registry` with the Confluent Python client.

Starts the real `sluice registry` binary on a free port against the real Kafka
(127.0.0.1:9092, or SLUICE_KAFKA_BOOTSTRAP) with a topic unique to this run, then
serializes and deserializes users with confluent-kafka's AvroSerializer and
AvroDeserializer through it, and drives the rest of the Confluent REST API with
SchemaRegistryClient: subjects, versions, soft deletes (permanent delete is refused
with 501), global and per-subject compatibility config, and the compatibility check.
Each test uses its own subjects (uuid suffix). The binary is $SLUICE_BIN (default: build/sluice).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.conftest import free_port
from tests.integration.registry.registry_process import start_registry

pytestmark = pytest.mark.usefixtures("stack")

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = (ROOT / "contract" / "user.avsc").read_text()
BOOTSTRAP = os.environ.get("SLUICE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


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


# ---- the rest of the Confluent REST API, through the Confluent client ----------------


def record_schema(*fields: Mapping[str, object]) -> Schema:
    """A small Avro record schema (its own name, so it never collides with the contract)."""
    record = {"type": "record", "name": "Probe", "fields": [dict(f) for f in fields]}
    return Schema(json.dumps(record), "AVRO")


NAME = {"name": "name", "type": "string"}
AGE_STRING = {"name": "age", "type": "string"}
AGE_INT = {"name": "age", "type": "int", "default": 0}
AGE_BOOL = {"name": "age", "type": "boolean", "default": False}
NICK = {"name": "nick", "type": ["null", "string"], "default": None}
NICK_NO_DEFAULT = {"name": "nick", "type": "string"}


def unique_subject(kind: str) -> str:
    return f"it.{kind}.{uuid.uuid4().hex[:12]}-value"


def fresh_client(registry_url: str) -> SchemaRegistryClient:
    """A client with empty caches: what it returns is what the registry answers now."""
    return SchemaRegistryClient({"url": registry_url})


def field_names(schema: Schema) -> list[str]:
    assert schema.schema_str is not None
    return [f["name"] for f in json.loads(schema.schema_str)["fields"]]


def refused(call: Callable[[], object]) -> SchemaRegistryError:
    """The registry's error for a call that must fail."""
    with pytest.raises(SchemaRegistryError) as error:
        call()
    return error.value


def test_registered_subjects_are_listed_and_a_soft_deleted_one_only_with_deleted(
    registry_url: str,
) -> None:
    client = fresh_client(registry_url)
    kept, dropped = unique_subject("kept"), unique_subject("dropped")
    client.register_schema(kept, record_schema(NAME))
    client.register_schema(dropped, record_schema(NAME))
    subjects = client.get_subjects()
    assert {kept, dropped} <= set(subjects)
    assert subjects == sorted(subjects) and len(subjects) == len(set(subjects))

    assert client.delete_subject(dropped) == [1]

    listed = fresh_client(registry_url).get_subjects()
    assert kept in listed and dropped not in listed
    assert {kept, dropped} <= set(fresh_client(registry_url).get_subjects(deleted=True))


def test_versions_count_from_one_and_get_version_returns_each_with_its_id(
    registry_url: str,
) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("versions")
    schemas = [record_schema(NAME), record_schema(NAME, NICK), record_schema(NAME, NICK, AGE_INT)]
    ids = [client.register_schema(subject, schema) for schema in schemas]
    assert len(set(ids)) == 3
    # Registering a schema the subject already has returns its id, no new version.
    assert client.register_schema(subject, schemas[0]) == ids[0]

    reader = fresh_client(registry_url)
    assert reader.get_versions(subject) == [1, 2, 3]
    for version, (schema_id, expected) in enumerate(zip(ids, [1, 2, 3], strict=True), start=1):
        got = reader.get_version(subject, version)
        assert (got.subject, got.version, got.schema_id) == (subject, version, schema_id)
        assert len(field_names(got.schema)) == expected
    latest = reader.get_version(subject, "latest")
    assert (latest.version, latest.schema_id) == (3, ids[2])
    assert field_names(latest.schema) == ["name", "nick", "age"]
    newest = fresh_client(registry_url).get_latest_version(subject)
    assert (newest.version, newest.schema_id) == (3, ids[2])
    # The id also resolves on its own, to the same schema.
    assert (
        fresh_client(registry_url).get_schema(ids[1]).schema_str
        == reader.get_version(subject, 2).schema.schema_str
    )

    missing = refused(lambda: reader.get_version(subject, 4))
    assert (missing.http_status_code, missing.error_code) == (404, 40402)
    unknown = refused(lambda: reader.get_versions(unique_subject("never")))
    assert (unknown.http_status_code, unknown.error_code) == (404, 40401)


def test_soft_deleting_the_latest_version_hides_it_and_latest_falls_back(
    registry_url: str,
) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("delversion")
    first = client.register_schema(subject, record_schema(NAME))
    second = client.register_schema(subject, record_schema(NAME, NICK))

    assert client.delete_version(subject, 2) == 2

    reader = fresh_client(registry_url)
    assert reader.get_versions(subject) == [1]
    assert reader.get_versions(subject, deleted=True) == [1, 2]
    gone = refused(lambda: reader.get_version(subject, 2))
    assert (gone.http_status_code, gone.error_code) == (404, 40402)
    latest = reader.get_version(subject, "latest")
    assert (latest.version, latest.schema_id) == (1, first)
    # Data written with the deleted version must stay readable: its id still resolves.
    assert field_names(reader.get_schema(second)) == ["name", "nick"]
    # A version number is never reused.
    third = client.register_schema(subject, record_schema(NAME, AGE_INT))
    assert fresh_client(registry_url).get_version(subject, "latest").version == 3
    assert third not in (first, second)

    again = refused(lambda: fresh_client(registry_url).delete_version(subject, 2))
    assert (again.http_status_code, again.error_code) == (404, 40402)


def test_soft_deleting_a_subject_returns_its_versions_and_hides_the_subject(
    registry_url: str,
) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("delsubject")
    ids = [
        client.register_schema(subject, record_schema(NAME)),
        client.register_schema(subject, record_schema(NAME, NICK)),
    ]

    assert client.delete_subject(subject) == [1, 2]

    reader = fresh_client(registry_url)
    assert subject not in reader.get_subjects()
    for call in (
        lambda: reader.get_versions(subject),
        lambda: reader.get_version(subject, "latest"),
        lambda: reader.get_version(subject, 1),
        lambda: reader.delete_subject(subject),
    ):
        error = refused(call)
        assert (error.http_status_code, error.error_code) == (404, 40401)
    assert reader.get_versions(subject, deleted=True) == [1, 2]
    for schema_id in ids:  # old data stays readable
        assert reader.get_schema(schema_id).schema_str is not None
    # Registering again brings the subject back, with a new version number.
    client.register_schema(subject, record_schema(NAME, AGE_INT))
    assert fresh_client(registry_url).get_versions(subject) == [3]


def test_permanent_delete_is_refused_with_501_and_deletes_nothing(registry_url: str) -> None:
    # src/registry/service.cc: soft delete only, so schema ids are never reused.
    client = fresh_client(registry_url)
    subject = unique_subject("permanent")
    client.register_schema(subject, record_schema(NAME))
    client.register_schema(subject, record_schema(NAME, NICK))
    client.delete_version(subject, 2)

    for call in (
        lambda: client.delete_version(subject, 2, permanent=True),
        lambda: client.delete_version(subject, 1, permanent=True),
        lambda: client.delete_subject(subject, permanent=True),
    ):
        error = refused(call)
        assert (error.http_status_code, error.error_code) == (501, 50101)

    reader = fresh_client(registry_url)
    assert subject in reader.get_subjects()
    assert reader.get_versions(subject) == [1]
    assert reader.get_versions(subject, deleted=True) == [1, 2]


def test_global_compatibility_defaults_to_backward_and_can_be_changed(registry_url: str) -> None:
    client = fresh_client(registry_url)
    assert client.get_compatibility() == "BACKWARD"
    try:
        assert client.set_compatibility(level="FULL") == {"compatibility": "FULL"}
        assert fresh_client(registry_url).get_compatibility() == "FULL"
        config = fresh_client(registry_url).get_config()
        assert config.compatibility_level is not None
        assert config.compatibility_level.value == "FULL"
    finally:
        client.set_compatibility(level="BACKWARD")
    assert fresh_client(registry_url).get_compatibility() == "BACKWARD"


def test_subject_compatibility_overrides_the_global_level_until_deleted(
    registry_url: str,
) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("config")
    client.register_schema(subject, record_schema(NAME, AGE_STRING))
    unset = refused(lambda: client.get_compatibility(subject))
    assert (unset.http_status_code, unset.error_code) == (404, 40408)

    incompatible = record_schema(NAME, AGE_INT)  # age: string -> int
    blocked = refused(lambda: client.register_schema(subject, incompatible))
    assert (blocked.http_status_code, blocked.error_code) == (409, 409)

    assert client.set_compatibility(subject, "NONE") == {"compatibility": "NONE"}
    assert fresh_client(registry_url).get_compatibility(subject) == "NONE"
    assert fresh_client(registry_url).get_compatibility() == "BACKWARD"  # global untouched
    # Under NONE the same change is accepted, as version 2.
    client.register_schema(subject, incompatible)
    assert fresh_client(registry_url).get_versions(subject) == [1, 2]

    deleted = client.delete_config(subject)
    assert deleted.compatibility_level is not None
    assert deleted.compatibility_level.value == "NONE"
    gone = refused(lambda: fresh_client(registry_url).get_compatibility(subject))
    assert gone.error_code == 40408
    # Back under the global BACKWARD level: int -> boolean is refused.
    back = refused(lambda: client.register_schema(subject, record_schema(NAME, AGE_BOOL)))
    assert (back.http_status_code, back.error_code) == (409, 409)


def test_unknown_compatibility_level_is_refused_with_422(registry_url: str) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("badlevel")
    for call in (
        lambda: client.set_compatibility(level="SIDEWAYS"),
        lambda: client.set_compatibility(subject, "SIDEWAYS"),
    ):
        error = refused(call)
        assert (error.http_status_code, error.error_code) == (422, 42203)
    assert fresh_client(registry_url).get_compatibility() == "BACKWARD"


def test_compatibility_check_answers_per_version_and_for_all_versions(
    registry_url: str,
) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("compat")
    client.register_schema(subject, record_schema(NAME, AGE_STRING))  # v1: age is a string
    client.register_schema(subject, record_schema(NAME))  # v2: age dropped (BACKWARD ok)
    versions_before = fresh_client(registry_url).get_versions(subject)

    # Adding an optional field reads every old version.
    compatible = record_schema(NAME, NICK)
    assert client.test_compatibility(subject, compatible) is True
    assert client.test_compatibility(subject, compatible, version=1) is True
    assert client.test_compatibility_all_versions(subject, compatible) is True

    # A required field without a default cannot read data written without it.
    required = record_schema(NAME, NICK_NO_DEFAULT)
    assert client.test_compatibility(subject, required) is False
    assert client.test_compatibility(subject, required, version=1) is False
    assert client.test_compatibility_all_versions(subject, required) is False

    # age as an int (with a default) reads v2 (no age) but not v1 (age a string).
    age_int = record_schema(NAME, AGE_INT)
    assert client.test_compatibility(subject, age_int, version="latest") is True
    assert client.test_compatibility(subject, age_int, version=2) is True
    assert client.test_compatibility(subject, age_int, version=1) is False
    assert client.test_compatibility_all_versions(subject, age_int) is False

    # Checking registers nothing.
    assert fresh_client(registry_url).get_versions(subject) == versions_before == [1, 2]

    missing = refused(lambda: client.test_compatibility(subject, compatible, version=9))
    assert (missing.http_status_code, missing.error_code) == (404, 40402)


def test_compatibility_check_against_a_new_subject_is_compatible(registry_url: str) -> None:
    client = fresh_client(registry_url)
    subject = unique_subject("compatnew")
    assert client.test_compatibility(subject, record_schema(NAME)) is True
    assert subject not in fresh_client(registry_url).get_subjects(deleted=True)


def test_invented_http_methods_fold_into_one_metrics_series_and_are_refused(
    registry_url: str,
) -> None:
    # Each invented method would otherwise add a permanent series to /metrics.
    host, port = registry_url.removeprefix("http://").split(":")
    for n in range(40):
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(f"BREW{n} /subjects HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert conn.recv(200).startswith(b"HTTP/1.1 4"), "an invented method is a 4xx"
    with urllib.request.urlopen(f"{registry_url}/metrics", timeout=5) as answer:
        metrics = answer.read().decode()
    methods = {
        line.split('method="', 1)[1].split('"', 1)[0]
        for line in metrics.splitlines()
        if line.startswith("sluice_registry_requests_total{")
    }
    assert not any(m.startswith("BREW") for m in methods), methods
    assert "other" in methods, methods
