"""`sluice cql` against the stack's Cassandra, as the CQL interop and type tests run it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.endpoints import CASSANDRA_PORT


def sluice_cql(
    sluice: Path, keyspace: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Runs `sluice cql --keyspace KEYSPACE ARGS...`; with `check`, asserts it succeeded."""
    result = subprocess.run(
        [str(sluice), "cql", "--port", str(CASSANDRA_PORT), "--keyspace", keyspace, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result
