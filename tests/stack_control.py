"""Stopping one engine of the local stack and bringing it back, for tests of outages
(broker down, Cassandra down). Uses `sluice down --only NAME` and `sluice up`, so the
engine restarts with its data exactly as an operator would do it."""

import subprocess
import time
from pathlib import Path

from tests.endpoints import UP_FLAGS

REPO = Path(__file__).resolve().parent.parent


def stop_component(sluice: Path, name: str) -> None:
    result = subprocess.run(
        [str(sluice), "down", "--only", name, *UP_FLAGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"stopping {name}: {result.stderr[-2000:]}"


def start_stack(sluice: Path) -> None:
    result = subprocess.run(
        [str(sluice), "up", "--no-install", *UP_FLAGS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"sluice up: {result.stderr[-2000:]}"


def take_down_for(sluice: Path, name: str, seconds: float) -> None:
    """Stops `name`, waits `seconds`, starts it again (also when waiting is interrupted)."""
    stop_component(sluice, name)
    try:
        time.sleep(seconds)
    finally:
        start_stack(sluice)
