"""sluice's CQL session against a real two-node cluster with PasswordAuthenticator and
optional TLS (tests/cassandra_cluster.py): the C++ checks live in
src/cql/tests/cluster_test.cc; this module starts the cluster, runs them, and for the
restart check stops and restarts a node while the session writes."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cassandra_cluster import (
    CQL_PORT,
    PASSWORD,
    USER,
    ScratchCluster,
    node_holding_role,
    start_cluster,
)

pytestmark = pytest.mark.usefixtures("stack")  # the stack's jars and Java


@pytest.fixture(scope="module")
def cluster() -> Iterator[ScratchCluster]:
    started = start_cluster()
    try:
        yield started
    finally:
        started.stop_all()


@pytest.fixture(scope="module")
def cluster_tests(sluice_bin: Path) -> Path:
    path = sluice_bin.parent / "src" / "cql" / "cql_cluster_tests"
    if not path.exists():
        pytest.fail(f"{path} is missing: build first (./dev build)")
    return path


def cluster_env(cluster: ScratchCluster, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SLUICE_TEST_CLUSTER": cluster.contact_points(),
        "SLUICE_TEST_CLUSTER_USER": USER,
        "SLUICE_TEST_CLUSTER_PASSWORD": PASSWORD,
        "SLUICE_TEST_CLUSTER_CA": str(cluster.ca_file),
        **extra,
    }


@pytest.mark.parametrize(
    "check",
    [
        "RightPasswordConnectsAndDiscoversBothNodes",
        "WrongPasswordIsRefusedWithTheServersMessage",
        "MissingCredentialsSayWhatToGive",
        "TlsWithTheClusterCertificateConnectsAndRoundTrips",
        "TlsWithAnUntrustedCertificateIsRefused",
        "Lz4CompressedSessionRoundTripsLargeValues",
        "SchemaChangeEventsReachTheListener",
    ],
)
def test_session_on_the_cluster(cluster: ScratchCluster, cluster_tests: Path, check: str) -> None:
    run = subprocess.run(
        [str(cluster_tests), f"--gtest_filter=Cluster.{check}"],
        env=cluster_env(cluster),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "[  PASSED  ] 1 test" in run.stdout, run.stdout


def owners_by_the_python_driver(cluster: ScratchCluster, keyspace: str, keys: range) -> Counter:
    """How many of `keys` (int partition keys) each node owns, by the Python driver's
    own token map: an independent witness of the C++ client's routing."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    client = Cluster(
        [n.host for n in cluster.nodes],
        port=CQL_PORT,
        auth_provider=PlainTextAuthProvider(USER, PASSWORD),
        protocol_version=4,
    )
    try:
        client.connect()
        client.refresh_schema_metadata()
        owners: Counter = Counter()
        for key in keys:
            replicas = client.metadata.get_replicas(keyspace, struct.pack(">i", key))
            assert len(replicas) == 1, (key, replicas)
            owners[replicas[0].address] += 1
        return owners
    finally:
        client.shutdown()


def test_every_write_goes_to_the_node_the_python_driver_says_owns_its_key(
    cluster: ScratchCluster, cluster_tests: Path
) -> None:
    run = subprocess.run(
        [str(cluster_tests), "--gtest_filter=Cluster.EveryWriteGoesToTheReplicaOwningItsKey"],
        env=cluster_env(cluster),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    routed = Counter(
        {
            address.split(":")[0]: int(count)
            for address, count in re.findall(r"^routed (\S+) (\d+)$", run.stdout, re.M)
        }
    )
    assert sum(routed.values()) == 2000, run.stdout
    assert routed == owners_by_the_python_driver(cluster, "cql_routing", range(2000))


def wait_for_file(path: Path, timeout: float, writer: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if writer.poll() is not None:
            out, err = writer.communicate()
            pytest.fail(f"the writing session exited early:\n{out}{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path.name} did not appear in {timeout:.0f} s")
        time.sleep(0.2)


def test_node_restart_under_load_retries_idempotent_writes_and_fails_others_cleanly(
    cluster: ScratchCluster, cluster_tests: Path, tmp_path: Path
) -> None:
    writer = subprocess.Popen(
        [
            str(cluster_tests),
            "--gtest_filter=Cluster.NodeRestartUnderLoadRetriesIdempotentWritesAndFailsOthersCleanly",
        ],
        env=cluster_env(cluster, SLUICE_TEST_RESTART_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_file(tmp_path / "writing", 60, writer)
        time.sleep(2)  # under load
        node = node_holding_role(cluster, USER)  # the session's own login: the hard case
        cluster.stop(node)
        time.sleep(5)  # down for a while: idempotent writes wait, plain ones fail
        cluster.start(node)
        (tmp_path / "restarted").touch()
        out, err = writer.communicate(timeout=300)  # "nothing hangs"
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == 0, out + err
    summary = (tmp_path / "summary").read_text()
    print(summary)
    assert "plain writes failed cleanly" in summary


def test_frozen_node_is_marked_down_within_seconds_and_reads_move_on(
    cluster: ScratchCluster, cluster_tests: Path, tmp_path: Path
) -> None:
    reader = subprocess.Popen(
        [
            str(cluster_tests),
            "--gtest_filter=Cluster.FrozenNodeIsMarkedDownWithinSecondsAndReadsMoveToTheOtherNode",
        ],
        env=cluster_env(cluster, SLUICE_TEST_FREEZE_DIR=str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    node = cluster.nodes[-1]
    assert node.process is not None
    frozen = False
    try:
        wait_for_file(tmp_path / "reading", 60, reader)
        time.sleep(2)  # under load
        os.kill(node.process.pid, signal.SIGSTOP)  # no RST, no gossip: only silence
        frozen = True
        # Renamed into place: the reader never sees the file before its address.
        (tmp_path / "frozen.tmp").write_text(node.host)
        (tmp_path / "frozen.tmp").rename(tmp_path / "frozen")
        time.sleep(15)
        os.kill(node.process.pid, signal.SIGCONT)
        frozen = False
        (tmp_path / "thawed").touch()
        out, err = reader.communicate(timeout=180)
    finally:
        if frozen:
            os.kill(node.process.pid, signal.SIGCONT)
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, out + err
    print((tmp_path / "summary").read_text())


def other_ca(directory: Path) -> Path:
    """A self-signed certificate that did not sign the cluster's: trusting only it must
    fail the TLS handshake."""
    key, cert = directory / "other.key", directory / "other.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=not-the-cluster"]
        + ["-days", "1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert


def run_cql(args: list[str], password: str | None) -> subprocess.CompletedProcess[str]:
    """`sluice cql` with SLUICE_CQL_PASSWORD set to `password` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "SLUICE_CQL_PASSWORD"}
    if password is not None:
        env["SLUICE_CQL_PASSWORD"] = password
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


def test_sluice_cql_logs_in_over_tls_and_refuses_a_certificate_its_ca_did_not_sign(
    cluster: ScratchCluster, sluice_bin: Path, tmp_path: Path
) -> None:
    login = [str(sluice_bin), "cql", "--host", cluster.contact_points(), "--user", USER]
    options = ["--compression", "lz4", "--output", "json"]
    args = [*login, "--tls-ca", str(cluster.ca_file), *options]
    run = run_cql([*args, "-e", "SELECT cluster_name FROM system.local"], PASSWORD)
    assert run.returncode == 0, run.stderr
    assert "sluice-test" in run.stdout
    # The node says so too: every client connection it holds is TLS (the cluster offers
    # TLS as optional, so a client ignoring --tls-ca would connect in plaintext).
    clients = run_cql(
        [*args, "-e", "SELECT address, ssl_enabled, ssl_protocol FROM system_views.clients"],
        PASSWORD,
    )
    assert clients.returncode == 0, clients.stderr
    connections = [json.loads(line) for line in clients.stdout.splitlines() if line.strip()]
    assert connections, clients.stdout
    # (`--output json` prints every cell as its CQL text, a boolean as "true")
    assert all(c["ssl_enabled"] == "true" and c["ssl_protocol"] for c in connections), connections
    other = str(other_ca(tmp_path))
    untrusted = run_cql(
        [*login, "--tls-ca", other, *options, "-e", "SELECT 1 FROM system.local"], PASSWORD
    )
    assert untrusted.returncode != 0, untrusted.stdout
    assert "certificate" in untrusted.stderr, untrusted.stderr
    wrong = run_cql([*args, "-e", "SELECT cluster_name FROM system.local"], "wrong")
    assert wrong.returncode != 0
    assert "authentication as 'cassandra'" in wrong.stderr
    unset = run_cql([*args, "-e", "SELECT 1 FROM system.local"], None)
    assert unset.returncode != 0
    assert "SLUICE_CQL_PASSWORD" in unset.stderr
