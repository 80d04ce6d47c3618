"""Shared fixtures for the Python-side integration tests: where the sluice binary and
the local stack are. The stack itself is started by `sluice up` (./dev test does it)."""

import os
import random
import socket
from pathlib import Path

import pytest

from tests.endpoints import BOOTSTRAP, CASSANDRA_PORT

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sluice_bin() -> Path:
    path = Path(os.environ.get("SLUICE_BIN", REPO / "build" / "sluice"))
    if not path.exists():
        pytest.fail(f"sluice binary not found at {path}: build first (./dev build)")
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


_handed_out_ports: set[int] = set()


def free_port() -> int:
    """A port that is free now, below the kernel's ephemeral range (32768-60999).

    An ephemeral port that is free when the test picks it can be taken seconds later as the
    local end of some process's outgoing connection, before the engine the test starts has
    bound it; ports below that range are only ever taken by listeners.
    """
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20000, 32000)
        if port in _handed_out_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out_ports.add(port)
        return port
    raise RuntimeError("no free port between 20000 and 32000 after 1000 tries")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def stack() -> None:
    """Fails the test clearly when the local stack is not up (use with usefixtures)."""
    kafka_port = int(BOOTSTRAP.rsplit(":", 1)[1])
    missing = [
        name
        for name, port in (("kafka", kafka_port), ("cassandra", CASSANDRA_PORT))
        if not port_open(port)
    ]
    if missing:
        pytest.fail(f"the local stack is not up ({', '.join(missing)}): run `build/sluice up`")
