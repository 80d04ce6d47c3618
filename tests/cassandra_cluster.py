"""A throwaway two-node Cassandra cluster for the CQL client's cluster tests, beside the
stack's own Cassandra: nodes on 127.0.0.2 and 127.0.0.3 (loopback aliases, so the same
ports as the stack's node on 127.0.0.1), PasswordAuthenticator on, and client TLS
offered as optional (plain and TLS clients on the same port) with a self-signed
certificate made by keytool. Everything lives under .stack/test-cluster (ignored)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOSTS = ("127.0.0.2", "127.0.0.3")
CQL_PORT = 9042
HEAP_MIB = 512  # per node; the memtables get half of it on the heap and as much off it
STORE_PASSWORD = "sluice-test"
USER = "cassandra"
PASSWORD = "cassandra"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@dataclass
class Node:
    host: str
    jmx_port: int
    root: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.root / "node.log"


@dataclass
class ScratchCluster:
    root: Path
    nodes: list[Node] = field(default_factory=list)
    ca_file: Path = Path()

    def contact_points(self) -> str:
        return ",".join(n.host for n in self.nodes)

    def start(self, node: Node, timeout: float = 240.0) -> None:
        node.root.mkdir(parents=True, exist_ok=True)
        log = open(node.log, "ab")  # noqa: SIM115 - the child keeps writing to it
        node.process = subprocess.Popen(
            java_command(node, self.root), stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                raise RuntimeError(
                    f"test Cassandra {node.host} exited; last lines of {node.log}:\n"
                    + tail(node.log)
                )
            if port_open(node.host, CQL_PORT) and accepts_login(node.host):
                return
            time.sleep(1)
        raise RuntimeError(
            f"test Cassandra {node.host} not ready in {timeout:.0f} s; see {node.log}\n"
            + tail(node.log)
        )

    def stop(self, node: Node, hard: bool = False) -> None:
        if node.process is None or node.process.poll() is not None:
            return
        node.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            node.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()

    def stop_all(self) -> None:
        for node in self.nodes:
            self.stop(node)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def accepts_login(host: str) -> bool:
    """True once the node serves CQL and the default superuser exists."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    only_this_node = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([host]))
    cluster = Cluster(
        [host],
        port=CQL_PORT,
        auth_provider=PlainTextAuthProvider(USER, PASSWORD),
        execution_profiles={EXEC_PROFILE_DEFAULT: only_this_node},
        connect_timeout=5,
        protocol_version=4,
    )
    try:
        cluster.connect().execute("SELECT release_version FROM system.local")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False
    finally:
        cluster.shutdown()


def node_holding_role(cluster: ScratchCluster, role: str) -> Node:
    """The node that stores `role` in system_auth (replication factor 1 by default): the
    worst one to lose, since the other can then only answer from its caches."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy

    client = Cluster(
        [n.host for n in cluster.nodes],
        port=CQL_PORT,
        execution_profiles={
            EXEC_PROFILE_DEFAULT: ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
        },
        auth_provider=PlainTextAuthProvider(USER, PASSWORD),
        protocol_version=4,
    )
    try:
        client.connect()
        metadata = client.metadata
        # the routing key of a text partition key is its UTF-8 bytes
        hosts = {r.address for r in metadata.get_replicas("system_auth", role.encode())}
    finally:
        client.shutdown()
    for node in cluster.nodes:
        if node.host in hosts:
            return node
    raise RuntimeError(f"no node of {cluster.contact_points()} holds role {role!r}: {hosts}")


def make_certificate(root: Path) -> tuple[Path, Path]:
    """A self-signed certificate naming both node addresses: a JKS keystore for the
    nodes and its PEM certificate for clients to trust."""
    keystore, pem = root / "keystore.jks", root / "ca.pem"
    if keystore.exists() and pem.exists():
        return keystore, pem
    keystore.unlink(missing_ok=True)
    san = ",".join(f"IP:{h}" for h in HOSTS)
    common = ["-keystore", str(keystore), "-storepass", STORE_PASSWORD]
    subprocess.run(
        ["keytool", "-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048"]
        + ["-dname", "CN=sluice-test-cluster", "-ext", f"SAN={san}", "-validity", "30"]
        + ["-storetype", "JKS", "-keypass", STORE_PASSWORD]
        + common,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["keytool", "-exportcert", "-rfc", "-alias", "node", "-file", str(pem)] + common,
        check=True,
        capture_output=True,
    )
    return keystore, pem


def write_config(node: Node, keystore: Path) -> Path:
    template = (REPO / "stack/cassandra/cassandra.yaml.in").read_text()
    text = (
        template.replace("@HOST@:@STORAGE_PORT@", f"{HOSTS[0]}:7000")
        .replace("@HOST@", node.host)
        .replace("@STORAGE_PORT@", "7000")
        .replace("@CQL_PORT@", str(CQL_PORT))
        .replace("@AUTHENTICATOR@", "PasswordAuthenticator")
        .replace("@CLIENT_ENCRYPTION@", "")  # this cluster's own TLS settings follow
        .replace("@DATA_DIR@", str(node.root / "data"))
        .replace("@MEMTABLE_HEAP_MIB@", str(HEAP_MIB // 2))
        .replace("@MEMTABLE_OFFHEAP_MIB@", str(HEAP_MIB))
        .replace("@COMMITLOG_SYNC@", "group")
        .replace("@COMMITLOG_SYNC_TIMING@", "commitlog_sync_group_window: 15ms")
        .replace("cluster_name: sluice", "cluster_name: sluice-test")
    )
    text += (
        "\nclient_encryption_options:\n"
        "  enabled: true\n"
        "  optional: true\n"
        f"  keystore: {keystore}\n"
        f"  keystore_password: {STORE_PASSWORD}\n"
        "  require_client_auth: false\n"
    )
    # With one of two nodes down, a role lookup whose system_auth replica is the missing
    # node fails ("Unable to perform authorization of super-user permission"): the
    # restart test is about the client, so every node keeps what it looked up for the
    # length of a test run instead of the default two seconds.
    text += "roles_validity: 1h\npermissions_validity: 1h\ncredentials_validity: 1h\n"
    path = node.root / "cassandra.yaml"
    path.write_text(text)
    return path


def java_command(node: Node, root: Path) -> list[str]:
    lib = REPO / ".stack/lib/cassandra"
    jamm = next(lib.glob("jamm-*.jar"), None)
    if jamm is None:
        raise RuntimeError(f"no jamm jar in {lib}: run `sluice up` first")
    options = [
        line
        for line in (REPO / "stack/cassandra/jvm17.options")
        .read_text()
        .replace("@JMX_PORT@", str(node.jmx_port))
        .splitlines()
        if line and not line.startswith("#")
    ]
    keystore, _ = make_certificate(root)
    config = write_config(node, keystore)
    java = shutil.which("java") or "java"
    return [
        java,
        f"-Xms{HEAP_MIB}m",
        f"-Xmx{HEAP_MIB}m",
        *options,
        f"-javaagent:{jamm}",
        f"-Dcassandra.config=file://{config}",
        f"-Dcassandra.storagedir={node.root / 'data'}",
        f"-Dcassandra.logdir={node.root}",
        f"-Dlogback.configurationFile={REPO / 'stack/cassandra/logback.xml'}",
        "-Dcassandra.superuser_setup_delay_ms=0",
        "-Dcassandra.ring_delay_ms=3000",
        "-cp",
        f"{lib}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]


def start_cluster() -> ScratchCluster:
    root = REPO / ".stack/test-cluster"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _, pem = make_certificate(root)
    cluster = ScratchCluster(root=root, ca_file=pem)
    for i, host in enumerate(HOSTS):
        if port_open(host, CQL_PORT):
            raise RuntimeError(
                f"{host}:{CQL_PORT} is taken: stop whatever listens there "
                "(a test cluster left over? `pkill -f test-cluster`)"
            )
        cluster.nodes.append(Node(host=host, jmx_port=7299 + 100 * i, root=root / f"node{i + 1}"))
    try:
        for node in cluster.nodes:  # one after the other: the second joins the first
            cluster.start(node)
    except Exception:
        cluster.stop_all()
        raise
    return cluster
