"""Running the Spark job (`sluice spark`) against a lane, and comparing two lanes' output
(the C++ processor's and the Spark job's) row by row and letter by letter."""

import os
import signal
import subprocess
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cassandra.query import SimpleStatement

from tests.e2e.helpers import USER_FIELDS, Lane, headers_of, lane_flags, read_all
from tests.endpoints import CASSANDRA_PORT, SLUICE_FLAGS

# The lineage and typed columns of `users` besides the contract's fields.
ROW_COLUMNS = (
    *USER_FIELDS,
    "contract_version",
    "schema_id",
    "source_topic",
    "source_partition",
    "source_offset",
    "produced_at",
    "pseudonym_key_id",
)


def spark_lane(lane: Lane, raw_topic: str) -> Lane:
    """A lane whose processor reads another lane's raw topic (its own sinks and group)."""
    return replace(lane, raw=raw_topic)


def spark_command(
    sluice: Path, lane: Lane, checkpoint: Path, *extra: str, metrics_port: int = 0
) -> list[str]:
    return [
        str(sluice),
        "spark",
        *lane_flags(lane),
        *SLUICE_FLAGS,
        "--cassandra-port",
        str(CASSANDRA_PORT),
        "--checkpoint",
        str(checkpoint),
        "--metrics-port",
        str(metrics_port),
        "--master",
        "local[2]",
        *extra,
    ]


def run_spark_to_end(
    sluice: Path, lane: Lane, checkpoint: Path, *extra: str, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    command = spark_command(sluice, lane, checkpoint, "--stop-at-end", "--idle-exit", "4", *extra)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def start_spark(
    sluice: Path, lane: Lane, checkpoint: Path, log: Path, *extra: str, metrics_port: int
) -> subprocess.Popen[bytes]:
    """The job in its own process group, so that a test can SIGKILL the driver's Python
    and its JVM together, as a machine losing the job would."""
    with log.open("ab") as out:
        return subprocess.Popen(
            spark_command(sluice, lane, checkpoint, *extra, metrics_port=metrics_port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    time.sleep(1)  # the JVM is in the group too: let the kernel reap it


@dataclass(frozen=True)
class Row:
    cells: tuple[Any, ...]
    writetime: int


def rows_with_writetime(lane: Lane) -> dict[str, Row]:
    """Every row of the lane, by id: all columns and the write time of `first_name` (the
    USING TIMESTAMP of the upsert that wrote it)."""
    columns = ", ".join(ROW_COLUMNS)
    statement = SimpleStatement(
        f"SELECT {columns}, writetime(first_name) AS wt FROM {lane.keyspace}.users",
        fetch_size=5000,
    )
    out = {}
    for row in lane.session.execute(statement, timeout=120):
        values = tuple(getattr(row, c) for c in ROW_COLUMNS)
        out[str(row.id)] = Row(values, row.wt)
    return out


@dataclass(frozen=True)
class Letter:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, str], ...]


def letters_by_source(lane: Lane) -> dict[tuple[str, int, int], list[Letter]]:
    """The lane's dead letters by the position of the record they stand for."""
    out: defaultdict[tuple[str, int, int], list[Letter]] = defaultdict(list)
    for message in read_all(lane.dlq):
        h = headers_of(message)
        source = (
            h.get("sluice.source.topic", "?"),
            int(h.get("sluice.source.partition", "-1")),
            int(h.get("sluice.source.offset", "-1")),
        )
        out[source].append(Letter(message.key(), message.value(), tuple(sorted(h.items()))))
    return dict(out)
