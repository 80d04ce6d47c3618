"""Health checks of what a batch needs: Kafka (metadata of the raw topic), the schema
registry (GET /subjects), Cassandra (a CQL OPTIONS round trip) and a processor (/health on
its metrics port). Every failure says what was asked, what answered and what to do."""

from __future__ import annotations

import json
import socket
import struct
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sluice_airflow.config import Settings

START_HINT = "is the stack up? `sluice status` shows it, `sluice up` starts it"


class UnhealthyError(RuntimeError):
    """At least one dependency of the pipeline is not healthy (all of them are named)."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def http_get(url: str, timeout_s: float) -> tuple[int, bytes]:
    """Status and body of GET `url` (an HTTP error status is returned, not raised)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{url} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()


def check_kafka(bootstrap: str, topic: str, timeout_s: float) -> CheckResult:
    """The broker answers metadata for `topic` and the topic has partitions."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    name = f"Kafka at {bootstrap}"
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    try:
        metadata = admin.list_topics(topic=topic, timeout=timeout_s)
    except KafkaException as e:
        return CheckResult(name, False, f"no answer within {timeout_s:.0f} s ({e}): {START_HINT}")
    found = metadata.topics.get(topic)
    if found is None or found.error is not None or not found.partitions:
        why = found.error if found is not None else "not listed"
        return CheckResult(
            name, False, f"topic {topic} is not usable ({why}): `sluice up` creates users.raw"
        )
    return CheckResult(name, True, f"topic {topic} has {len(found.partitions)} partitions")


def check_registry(url: str, timeout_s: float) -> CheckResult:
    """GET /subjects answers 200 with a JSON list."""
    name = f"schema registry at {url}"
    try:
        status, body = http_get(url.rstrip("/") + "/subjects", timeout_s)
    except (OSError, ValueError) as e:
        return CheckResult(name, False, f"GET /subjects failed ({e}): {START_HINT}")
    if status != 200:
        return CheckResult(
            name, False, f"GET /subjects answered {status}: see .stack/logs/registry.log"
        )
    try:
        subjects = json.loads(body)
    except json.JSONDecodeError:
        subjects = None
    if not isinstance(subjects, list):
        return CheckResult(
            name, False, "GET /subjects did not answer a JSON list: is it a registry?"
        )
    return CheckResult(name, True, f"{len(subjects)} subject(s)")


# A native-protocol v4 OPTIONS request (header only): version, flags, stream 0, opcode 5, length 0.
CQL_OPTIONS = struct.pack(">BBhBi", 0x04, 0, 0, 0x05, 0)
CQL_SUPPORTED = 0x06


def check_cassandra(host: str, port: int, timeout_s: float) -> CheckResult:
    """The node accepts a connection and answers OPTIONS with SUPPORTED."""
    name = f"Cassandra at {host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(CQL_OPTIONS)
            header = sock.recv(9)
    except OSError as e:
        return CheckResult(name, False, f"no CQL connection ({e}): {START_HINT}")
    if len(header) < 5 or header[0] & 0x80 == 0:
        return CheckResult(name, False, "the port does not speak the CQL native protocol")
    if header[4] != CQL_SUPPORTED:
        return CheckResult(
            name, False, f"OPTIONS answered opcode {header[4]:#x}: see .stack/logs/cassandra.log"
        )
    return CheckResult(name, True, f"CQL protocol v{header[0] & 0x7F} answers")


def check_processor(url: str, timeout_s: float) -> CheckResult:
    """The processor's /health answers {"status":"ok"}."""
    name = f"processor at {url}"
    hint = "start one (`sluice up` does unless start_pipeline = false, or run `sluice process`)"
    try:
        status, body = http_get(url.rstrip("/") + "/health", timeout_s)
    except (OSError, ValueError) as e:
        return CheckResult(name, False, f"GET /health failed ({e}): {hint}")
    try:
        answer = json.loads(body)
    except json.JSONDecodeError:
        answer = None
    if status != 200 or not isinstance(answer, dict) or answer.get("status") != "ok":
        return CheckResult(name, False, f"GET /health answered {status} {body[:200]!r}: {hint}")
    service = answer.get("service", "?")
    if service != "sluice-process":
        return CheckResult(name, False, f"the service there is {service}, not sluice-process")
    return CheckResult(name, True, f"up {answer.get('uptime_seconds', '?')} s")


def run_checks(settings: Settings) -> list[CheckResult]:
    """All four checks (each bounded by the health timeout)."""
    t = settings.health_timeout_s
    checks: list[Callable[[], CheckResult]] = [
        lambda: check_kafka(settings.bootstrap, settings.raw_topic, t),
        lambda: check_registry(settings.registry_url, t),
        lambda: check_cassandra(settings.cassandra_host, settings.cassandra_port, t),
        lambda: check_processor(settings.processor_url, t),
    ]
    return [check() for check in checks]


def require_healthy(results: list[CheckResult]) -> None:
    """Raises UnhealthyError naming every failed check."""
    failed = [r for r in results if not r.ok]
    if failed:
        lines = "\n".join(f"- {r.name}: {r.detail}" for r in failed)
        raise UnhealthyError(
            f"{len(failed)} of {len(results)} dependencies are unhealthy:\n{lines}"
        )
