"""HTTP basic auth on the `sluice registry` server.

Starts the real binary with `--auth-user` and the password in $SLUICE_REGISTRY_PASSWORD
on a free port against the real Kafka, with a topic unique to this run, then checks: no
or wrong credentials are answered 401 with a WWW-Authenticate challenge and a
Confluent-style body; the right ones register and read back a schema (with urllib, the
Confluent client and `sluice produce --registry-user`); /health stays open; the password
shows neither on the process's command line nor in its log nor in /metrics. Without the
password variable the verb exits non-zero naming it, before touching Kafka.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from tests.conftest import free_port
from tests.endpoints import BOOTSTRAP
from tests.integration.registry.registry_process import sluice_binary, start_registry
from tests.kafka_helpers import fresh_topic

ROOT = Path(__file__).resolve().parents[3]
USER = "registry-admin"
CHALLENGE = 'Basic realm="sluice registry"'
SCHEMA = json.dumps(
    {"type": "record", "name": "AuthProbe", "fields": [{"name": "name", "type": "string"}]}
)


@dataclass
class Registry:
    url: str
    password: str
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def call(
    url: str, user: str | None = None, password: str = "", body: object | None = None
) -> Answer:
    """One request; an HTTP error status is an answer, not an exception."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return Answer(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers.items()), error.read())


@pytest.fixture(scope="module")
def registry(stack: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    port, password = free_port(), secrets.token_hex(16)
    topic = f"_schemas.auth.{uuid.uuid4().hex[:12]}"
    log = tmp_path_factory.mktemp("registry-auth") / "registry.log"
    env = dict(os.environ, SLUICE_REGISTRY_PASSWORD=password)
    proc = start_registry(port, topic, log, ["--auth-user", USER], env)
    url = f"http://127.0.0.1:{port}"
    yield Registry(url, password, proc, log)
    proc.terminate()
    proc.wait(timeout=30)


def assert_refused(answer: Answer, reason: str) -> None:
    assert answer.status == 401, answer.body
    assert answer.headers.get("WWW-Authenticate") == CHALLENGE
    body = json.loads(answer.body)
    assert body["error_code"] == 401
    assert reason in body["message"]


def test_request_without_credentials_is_refused_401_with_challenge(registry: Registry) -> None:
    assert_refused(call(f"{registry.url}/subjects"), "missing")


def test_wrong_password_is_refused_401_without_echoing_it(registry: Registry) -> None:
    answer = call(f"{registry.url}/subjects", USER, "not-the-password")
    assert_refused(answer, "wrong")
    assert b"not-the-password" not in answer.body


def test_wrong_user_with_right_password_is_refused_401(registry: Registry) -> None:
    assert_refused(call(f"{registry.url}/subjects", "someone-else", registry.password), "wrong")


def test_right_credentials_register_and_read_back_a_schema(registry: Registry) -> None:
    subject = f"auth.{uuid.uuid4().hex[:12]}-value"
    versions = f"{registry.url}/subjects/{subject}/versions"
    registered = call(versions, USER, registry.password, {"schema": SCHEMA})
    assert registered.status == 200, registered.body
    schema_id = json.loads(registered.body)["id"]

    latest = call(f"{versions}/latest", USER, registry.password)
    assert latest.status == 200, latest.body
    assert json.loads(latest.body)["id"] == schema_id
    assert json.loads(json.loads(latest.body)["schema"]) == json.loads(SCHEMA)
    assert call(f"{versions}/latest").status == 401


def test_confluent_client_with_basic_auth_user_info_is_served(registry: Registry) -> None:
    subject = f"auth.confluent.{uuid.uuid4().hex[:12]}-value"
    client = SchemaRegistryClient(
        {"url": registry.url, "basic.auth.user.info": f"{USER}:{registry.password}"}
    )
    schema_id = client.register_schema(subject, Schema(SCHEMA, "AVRO"))
    assert client.get_latest_version(subject).schema_id == schema_id

    with pytest.raises(SchemaRegistryError) as refused:
        SchemaRegistryClient({"url": registry.url}).get_subjects()
    assert refused.value.http_status_code == 401


def test_sluice_produce_with_registry_user_registers_through_auth(
    registry: Registry, sluice_bin: Path
) -> None:
    topic = fresh_topic("registry-auth", partitions=1)
    result = subprocess.run(
        [str(sluice_bin), "produce", "--bootstrap", BOOTSTRAP, "--registry", registry.url]
        + ["--registry-user", USER, "--topic", topic, "--count", "3"]
        + ["--schema", str(ROOT / "contract" / "user.avsc")],
        env=dict(os.environ, SLUICE_REGISTRY_PASSWORD=registry.password),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    latest = call(f"{registry.url}/subjects/{topic}-value/versions/latest", USER, registry.password)
    assert latest.status == 200, latest.body


def test_health_answers_200_without_credentials(registry: Registry) -> None:
    answer = call(f"{registry.url}/health")
    assert answer.status == 200
    assert json.loads(answer.body)["status"] == "ok"


def test_password_is_not_on_the_command_line_in_the_log_or_in_metrics(
    registry: Registry,
) -> None:
    call(f"{registry.url}/subjects", USER, registry.password)  # accepted
    call(f"{registry.url}/subjects", USER, registry.password + "x")  # refused
    metrics = call(f"{registry.url}/metrics")
    assert metrics.status == 200
    text = metrics.body.decode()
    assert 'sluice_registry_auth_refused_total{reason="wrong"}' in text
    assert registry.password not in text and USER not in text

    cmdline = Path(f"/proc/{registry.proc.pid}/cmdline").read_bytes()
    assert USER.encode() in cmdline  # the right process
    assert registry.password.encode() not in cmdline
    log = registry.log.read_text()
    assert "refused a GET request (HTTP 401)" in log
    assert registry.password not in log


def test_auth_user_without_password_variable_exits_naming_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SLUICE_REGISTRY_PASSWORD"}
    result = subprocess.run(
        [sluice_binary(), "registry", "--port", str(free_port()), "--auth-user", USER],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "SLUICE_REGISTRY_PASSWORD" in result.stderr
    assert "--auth-password-file" in result.stderr
