"""Secrets stay secret: a registry password given in the --registry URL or through
--registry-user and its environment variable reaches the registry (basic auth) but no
dead-letter reason, log line, metrics page or command line; a secret librdkafka property
on the command line is refused before anything connects."""

from __future__ import annotations

import os
import struct
import subprocess
import time
from pathlib import Path

import pytest
import requests
from confluent_kafka import Producer

from tests.conftest import free_port
from tests.e2e.helpers import (
    BOOTSTRAP,
    CASSANDRA_PORT,
    Lane,
    generate,
    headers_of,
    json_key,
    json_value,
    lane_flags,
    read_all,
)
from tests.endpoints import REGISTRY

pytestmark = pytest.mark.usefixtures("stack")

UNKNOWN_SCHEMA_ID = 987_654


def registry_with(userinfo: str) -> str:
    scheme, rest = REGISTRY.split("://", 1)
    return f"{scheme}://{userinfo}@{rest}"


def produce_one_good_and_one_unknown_schema(topic: str, sluice: Path, seed: int) -> None:
    """A valid JSON user and an Avro-framed value naming a schema id the registry lacks
    (its dead letter's reason quotes the registry's answer, and so its URL)."""
    good = next(u for u in generate(sluice, seed=seed, count=20, bad_ratio=0) if u["id"])
    producer = Producer({"bootstrap.servers": BOOTSTRAP})
    producer.produce(topic, key=json_key(good), value=json_value(good))
    framed = b"\x00" + struct.pack(">i", UNKNOWN_SCHEMA_ID) + b"\x02\x00"
    producer.produce(topic, key=b"unknown-schema", value=framed)
    assert producer.flush(30) == 0


def process(sluice: Path, lane: Lane, registry: str, *extra: str) -> list[str]:
    return [
        str(sluice), "process", *lane_flags(lane), "--bootstrap", BOOTSTRAP,
        "--registry", registry, "--cassandra-port", str(CASSANDRA_PORT), *extra,
    ]  # fmt: skip


def assert_no_canary(canary: str, where: str, text: str | bytes) -> None:
    found = canary.encode() in text if isinstance(text, bytes) else canary in text
    assert not found, f"the registry password is in {where}"


def dead_letter_texts(lane: Lane) -> list[bytes]:
    texts = []
    for m in read_all(lane.dlq):
        texts.append(m.value() or b"")
        texts.extend(f"{k}={v}".encode() for k, v in headers_of(m).items())
    return texts


def test_a_registry_password_in_the_url_is_used_but_never_printed_or_dead_lettered(
    sluice_bin: Path, lane: Lane
) -> None:
    canary = "CanaryUrl7f3a9"
    produce_one_good_and_one_unknown_schema(lane.raw, sluice_bin, seed=71)
    run = subprocess.run(
        process(sluice_bin, lane, registry_with(f"ops:{canary}"), "--stop-at-end",
                "--idle-exit", "4", "--metrics-port", "0"),
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert "holds a password" in run.stderr and "***@" in run.stderr, run.stderr[-2000:]
    assert_no_canary(canary, "the processor's output", run.stdout + run.stderr)
    letters = dead_letter_texts(lane)
    reasons = [t for t in letters if t.startswith(b"sluice.reason=")]
    assert any(b"HTTP 404" in r or b"40403" in r for r in reasons), reasons
    for text in letters:
        assert_no_canary(canary, "a dead letter", text)


def test_a_registry_password_from_the_environment_stays_off_argv_logs_and_metrics(
    sluice_bin: Path, lane: Lane
) -> None:
    canary = "CanaryEnv51c2e"
    produce_one_good_and_one_unknown_schema(lane.raw, sluice_bin, seed=72)
    port = free_port()
    env = {**os.environ, "SLUICE_REGISTRY_PASSWORD": canary}
    proc = subprocess.Popen(
        process(sluice_bin, lane, REGISTRY, "--registry-user", "ops", "--metrics-port", str(port)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert_no_canary(canary, "/proc/PID/cmdline", cmdline)
        deadline = time.monotonic() + 120
        metrics = ""
        while time.monotonic() < deadline:
            try:
                metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except requests.ConnectionError:
                metrics = ""
            if 'rule="decode.schema_id"' in metrics:
                break
            time.sleep(1)
        assert 'rule="decode.schema_id"' in metrics, "the unknown schema id was not dead-lettered"
        assert_no_canary(canary, "/metrics", metrics)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=60)
    assert_no_canary(canary, "the processor's output", out + err)
    for text in dead_letter_texts(lane):
        assert_no_canary(canary, "a dead letter", text)


def test_a_secret_librdkafka_property_on_the_command_line_is_refused_naming_the_safe_flag(
    sluice_bin: Path,
) -> None:
    for verb in (["process"], ["produce", "--count", "1"], ["dlq", "counts"], ["verify"]):
        run = subprocess.run(
            [str(sluice_bin), *verb, "--bootstrap", BOOTSTRAP, "-X", "sasl.password=hunter2"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert run.returncode != 0, verb
        assert "--kafka-password-env" in run.stderr, (verb, run.stderr)
        assert "hunter2" not in run.stderr + run.stdout, verb


def test_a_kafka_user_without_its_password_is_refused_naming_the_variable(
    sluice_bin: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SLUICE_KAFKA_PASSWORD"}
    run = subprocess.run(
        [str(sluice_bin), "dlq", "counts", "--bootstrap", BOOTSTRAP, "--kafka-user", "ops"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert run.returncode != 0
    assert "$SLUICE_KAFKA_PASSWORD" in run.stderr and "--kafka-password-file" in run.stderr
