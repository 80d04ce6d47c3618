"""`sluice up --secure` on its own ports and state folder (beside the shared stack):
the pipeline runs through it end to end and `verify` balances; each engine refuses a
plaintext connection, a wrong password and a client that does not trust the stack's CA;
no generated password appears on a command line, in a log or on a metrics page."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from confluent_kafka import KafkaException, Producer

from tests.conftest import REPO, free_port

pytestmark = pytest.mark.usefixtures("stack")  # the shared stack's jars, venvs and Java

STATE = REPO / ".stack" / "test-secure"
USER = "sluice"


@dataclass
class SecureStack:
    sluice: Path
    flags: list[str]  # the stack flags `up`/`down` were given
    ports: dict[str, int]

    @property
    def secrets(self) -> Path:
        return STATE / "secrets"

    @property
    def ca(self) -> Path:
        return STATE / "tls" / "ca.pem"

    def password(self, name: str) -> str:
        return (self.secrets / f"{name}.password").read_text().strip()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports['kafka']}"

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['registry']}"

    def kafka_flags(self, ca: Path | None = None) -> list[str]:
        """sluice's Kafka flags for this stack (PLAIN inside TLS: see src/stack/secure.h)."""
        return [
            "--bootstrap",
            self.bootstrap,
            "--kafka-security-protocol",
            "sasl_ssl",
            "--kafka-sasl-mechanism",
            "PLAIN",
            "--kafka-user",
            USER,
            "--kafka-password-file",
            str(self.secrets / "kafka.password"),
            "--kafka-ca",
            str(ca or self.ca),
        ]

    def registry_flags(self) -> list[str]:
        return [
            "--registry",
            self.registry_url,
            "--registry-user",
            USER,
            "--registry-password-file",
            str(self.secrets / "registry.password"),
        ]

    def cassandra_flags(self, ca: Path | None = None) -> list[str]:
        return [
            "--cassandra-port",
            str(self.ports["cassandra"]),
            "--cassandra-user",
            USER,
            "--cassandra-tls-ca",
            str(ca or self.ca),
        ]

    def client_flags(self, *, kafka_ca: Path | None = None) -> list[str]:
        return [*self.kafka_flags(kafka_ca), *self.registry_flags(), *self.cassandra_flags()]

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLUICE_CQL_PASSWORD": self.password("cassandra")}


PORT_FLAGS = {
    "--kafka-port": "kafka",
    "--kafka-controller-port": "controller",
    "--cassandra-port": "cassandra",
    "--cassandra-storage-port": "storage",
    "--cassandra-jmx-port": "jmx",
    "--registry-port": "registry",
    "--postgres-port": "postgres",
    "--process-metrics-port": "metrics",
    "--ui-port": "ui",
    "--spark-metrics-port": "spark",
}


def stack_flags(ports: dict[str, int]) -> list[str]:
    port_flags = [part for flag, name in PORT_FLAGS.items() for part in (flag, str(ports[name]))]
    return [
        *port_flags,
        "--state-dir",
        str(STATE),
        "--cache-dir",
        str(REPO / ".stack" / "lib"),
        "--airflow",
        "false",
        "--processor",
        "both",
        "--produce-rate",
        "20",
        "--kafka-heap",
        "512m",
        "--cassandra-heap",
        "1g",
    ]


@pytest.fixture(scope="module")
def secure(sluice_bin: Path) -> Iterator[SecureStack]:
    names = ["kafka", "controller", "cassandra", "storage", "jmx", "registry", "postgres"]
    names += ["ui", "spark"]
    ports = {name: free_port() for name in names}
    ports["metrics"] = free_port()
    while ports["metrics"] + 1 in ports.values() or not _free(ports["metrics"] + 1):
        ports["metrics"] = free_port()  # the producer's metrics take the next port
    flags = stack_flags(ports)
    subprocess.run([str(sluice_bin), "down", "--purge", *flags], capture_output=True, check=False)
    STATE.mkdir(parents=True, exist_ok=True)
    # The Spark venv `up` checks for: the shared stack's (this profile runs no Spark).
    spark = STATE / "spark"
    if not spark.exists():
        spark.symlink_to(REPO / ".stack" / "spark", target_is_directory=True)
    started = subprocess.run(
        [str(sluice_bin), "up", "--secure", *flags],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield SecureStack(sluice_bin, flags, ports)
    finally:
        subprocess.run([str(sluice_bin), "down", *flags], capture_output=True, check=False)


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_verb(
    secure: SecureStack, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(secure.sluice), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=secure.env(),
        check=False,
    )


def verify_report(secure: SecureStack, *extra: str) -> tuple[int, dict]:
    result = run_verb(secure, "verify", *secure.client_flags(), "--output", "json", *extra)
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_secured_pipeline_stores_or_dead_letters_every_record_and_verify_balances(
    secure: SecureStack, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    produced = run_verb(
        secure,
        "produce",
        *secure.kafka_flags(),
        *secure.registry_flags(),
        "--schema",
        str(REPO / "contract" / "user.avsc"),
        "--count",
        "2000",
        "--bad-ratio",
        "0.2",
        "--seed",
        "2027",
        "--manifest",
        str(manifest),
    )
    assert produced.returncode == 0, produced.stderr
    deadline = time.monotonic() + 120
    while True:
        code, report = verify_report(secure, "--manifest", str(manifest))
        if code == 0 or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert code == 0 and report["ok"], report
    assert report["missing"] == 0, report
    stored, dead = report["stored"], report["dead_lettered"]
    assert report["produced"] == 2000 and stored + dead + report["superseded"] == 2000, report
    assert 250 <= dead <= 550, report  # 20% injected defects, some of them harmless
    # And the whole topic (the launcher's own producer too) balances.
    code, whole = verify_report(secure)
    assert code == 0 and whole["missing"] == 0 and whole["unexpected_rows"] == 0, whole


def test_the_spark_job_runs_on_the_secured_stack_and_its_side_balances(
    secure: SecureStack,
) -> None:
    """`up --processor both`: the Spark job beside the C++ one, logging in to Kafka with
    SCRAM-SHA-512 (a JAAS file), to Cassandra over TLS and to the registry."""
    spark_side = ["--group", "sluice-spark", "--keyspace", "sluice_spark"]
    spark_side += ["--dlq-topic", "users.dlq.spark"]
    deadline = time.monotonic() + 240
    while True:
        code, report = verify_report(secure, *spark_side)
        if (code == 0 and report["stored"] > 0) or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert code == 0 and report["ok"] and report["missing"] == 0, report
    assert report["stored"] > 0 and report["dead_lettered"] > 0, report
    with urllib.request.urlopen(
        f"http://127.0.0.1:{secure.ports['spark']}/metrics", timeout=10
    ) as response:
        assert "sluice_process_written_total" in response.read().decode()


def kafka_metadata_error(conf: dict[str, str]) -> str:
    """'' when a metadata request succeeds with `conf`, else what went wrong (the errors
    the client reported, which poll() hands over once the request has failed)."""
    errors: list[str] = []
    client = Producer({**conf, "error_cb": lambda e: errors.append(str(e))})
    try:
        client.list_topics(timeout=8)
        return ""
    except KafkaException as exc:
        client.poll(1)
        return "; ".join(errors) or str(exc)


def test_kafka_takes_scram_and_refuses_plaintext_a_wrong_password_and_an_untrusted_ca(
    secure: SecureStack, tmp_path: Path
) -> None:
    right = {
        "bootstrap.servers": secure.bootstrap,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",  # this client's librdkafka is 2.16: SCRAM works
        "sasl.username": USER,
        "sasl.password": secure.password("kafka"),
        "ssl.ca.location": str(secure.ca),
    }
    assert kafka_metadata_error(right) == ""
    assert kafka_metadata_error({**right, "sasl.mechanisms": "PLAIN"}) == ""
    wrong = kafka_metadata_error({**right, "sasl.password": "not-" + secure.password("kafka")})
    assert "Authentication failed" in wrong, wrong
    wrong_plain = kafka_metadata_error(
        {**right, "sasl.mechanisms": "PLAIN", "sasl.password": "guess"}
    )
    assert "Authentication failed" in wrong_plain, wrong_plain
    plaintext = kafka_metadata_error({"bootstrap.servers": secure.bootstrap})
    assert plaintext, "a plaintext client got metadata from the secured broker"
    other_ca = make_other_ca(tmp_path)
    untrusted = kafka_metadata_error({**right, "ssl.ca.location": str(other_ca)})
    assert "certificate verify failed" in untrusted, untrusted
    # Through sluice's own CLI: a CA that did not sign the broker is refused by name.
    result = run_verb(secure, "verify", *secure.client_flags(kafka_ca=other_ca), timeout=120)
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower(), result.stderr


def make_other_ca(root: Path) -> Path:
    key, cert = root / "other-key.pem", root / "other-ca.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=not-sluice"]
            + ["-keyout", str(key), "-out", str(cert), "-days", "2"],
            capture_output=True,
            check=True,
        )
    return cert


def cassandra_session(secure: SecureStack, user: str, password: str, ca: Path | None):  # noqa: ANN201
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    options: dict = {"auth_provider": PlainTextAuthProvider(user, password)}
    if ca is not None:
        options["ssl_context"] = ssl.create_default_context(cafile=str(ca))
        options["ssl_options"] = {"server_hostname": "127.0.0.1"}
    cluster = Cluster(
        ["127.0.0.1"],
        port=secure.ports["cassandra"],
        connect_timeout=5,
        protocol_version=5,
        **options,
    )
    return cluster, cluster.connect()


def cassandra_refusal(secure: SecureStack, user: str, password: str, ca: Path | None) -> str:
    from cassandra.cluster import NoHostAvailable

    try:
        cluster, _ = cassandra_session(secure, user, password, ca)
    except NoHostAvailable as exc:
        return str(exc)
    cluster.shutdown()
    return ""


def test_cassandra_requires_tls_and_the_stack_role_and_retired_the_default_one(
    secure: SecureStack, tmp_path: Path
) -> None:
    password = secure.password("cassandra")
    cluster, session = cassandra_session(secure, USER, password, secure.ca)
    try:
        rows = list(session.execute("SELECT address, ssl_enabled FROM system_views.clients"))
        assert rows and all(row.ssl_enabled for row in rows), rows
        assert session.execute("SELECT count(*) FROM sluice.users").one()[0] > 0
    finally:
        cluster.shutdown()
    assert "Bad credentials" in cassandra_refusal(secure, USER, "guess", secure.ca)
    default = cassandra_refusal(secure, "cassandra", "cassandra", secure.ca)
    assert "Bad credentials" in default or "not allowed to log in" in default, default
    assert cassandra_refusal(secure, USER, password, None), "plaintext CQL was accepted"
    untrusted = cassandra_refusal(secure, USER, password, make_other_ca(tmp_path))
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted or "certificate" in untrusted, untrusted
    result = run_verb(
        secure, "query", *secure.cassandra_flags(make_other_ca(tmp_path)), "--count", timeout=120
    )
    assert result.returncode != 0
    assert "certificate" in result.stderr.lower(), result.stderr


def registry_status(secure: SecureStack, credentials: str | None) -> int:
    request = urllib.request.Request(secure.registry_url + "/subjects")
    if credentials is not None:
        request.add_header("Authorization", "Basic " + b64encode(credentials.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert "users.raw-value" in response.read().decode()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_registry_answers_only_with_the_stack_credentials(secure: SecureStack) -> None:
    assert registry_status(secure, None) == 401
    assert registry_status(secure, f"{USER}:guess") == 401
    assert registry_status(secure, f"{USER}:{secure.password('registry')}") == 200


def test_console_reads_kafka_the_registry_and_cassandra_of_the_secured_stack(
    secure: SecureStack,
) -> None:
    api = f"http://127.0.0.1:{secure.ports['ui']}/api/v1"
    topics = [t["name"] for t in requests.get(f"{api}/topics", timeout=20).json()["topics"]]
    assert "users.raw" in topics and "users.dlq" in topics, topics
    registry = requests.get(f"{api}/registry", timeout=20).json()
    assert "users.raw-value" in json.dumps(registry), registry
    session = requests.Session()
    token = session.get(f"{api}/session", timeout=10).json()["csrf_token"]
    started = session.post(f"{api}/verify", headers={"X-CSRF-Token": token}, timeout=10)
    assert started.status_code in (202, 409), started.text
    deadline = time.monotonic() + 120
    state = {}
    while time.monotonic() < deadline:
        state = requests.get(f"{api}/verify", timeout=10).json()
        if state["state"] in ("done", "failed"):
            break
        time.sleep(2)
    assert state["state"] == "done" and state["report"]["ok"] is True, state
    assert state["report"]["stored"] > 0, state


def test_no_generated_password_is_on_a_command_line_in_a_log_or_on_a_metrics_page(
    secure: SecureStack,
) -> None:
    secrets = {
        name: secure.password(name) for name in ("kafka", "kafka-broker", "cassandra", "registry")
    }
    places: dict[str, str] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                places[f"{proc}/cmdline"] = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
    for log in (STATE / "logs").rglob("*"):
        if log.is_file():
            places[str(log)] = log.read_text(errors="replace")
    for port in (
        secure.ports["metrics"],
        secure.ports["metrics"] + 1,
        secure.ports["registry"],
        secure.ports["ui"],
        secure.ports["spark"],
    ):
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            places[url] = response.read().decode()
    assert len(places) > 20
    leaks = [
        (name, place)
        for name, value in secrets.items()
        for place, text in places.items()
        if value in text
    ]
    assert leaks == []
    properties = STATE / "conf" / "kafka.properties"  # holds the broker's password
    assert secrets["kafka-broker"] in properties.read_text()
    assert properties.stat().st_mode & 0o077 == 0
    assert (STATE / "secrets").stat().st_mode & 0o077 == 0


def test_a_stack_made_secure_is_not_started_plain(secure: SecureStack) -> None:
    result = subprocess.run(
        [str(secure.sluice), "up", *secure.flags], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "was made secure" in result.stderr and "down --purge" in result.stderr, result.stderr


def test_secure_refuses_the_parts_that_cannot_use_it_yet_naming_the_flags(
    sluice_bin: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [
            str(sluice_bin),
            "up",
            "--secure",
            "--state-dir",
            str(tmp_path / "state"),
            "--spark-cluster",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    refusal = result.stderr
    assert "--airflow false" in refusal and "--spark-cluster false" in refusal, refusal
    assert not (tmp_path / "state" / "data" / "kafka").exists()
    shutil.rmtree(tmp_path / "state", ignore_errors=True)
