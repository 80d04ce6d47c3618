"""`sluice process` refuses bad tuning values before touching Kafka or Cassandra, with a
message naming the flag and its allowed range."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("flag", "value", "allowed"),
    [
        ("--cassandra-linger-ms", "-1", "from 0 to 1000"),
        ("--fetch-wait-ms", "5000", "from 0 to 1000"),
        ("--cassandra-batch", "0", "from 1 to 1000"),
        ("--cassandra-window", "0", "from 1 to 32000"),
        ("--max-in-flight", "0", "from 1 to 100000"),
        ("--commit-interval-ms", "-5", "from 0 to 60000"),
    ],
)
def test_an_out_of_range_tuning_value_is_refused_naming_the_flag(
    sluice_bin: Path, flag: str, value: str, allowed: str
) -> None:
    run = subprocess.run(
        [str(sluice_bin), "process", flag, value, "--metrics-port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2
    assert f"{flag}: '{value}' must be {allowed}" in run.stderr
