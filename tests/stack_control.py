"""Stopping one engine of the local stack and bringing it back, for tests of outages
(broker down, Cassandra down). A clean stop uses `sluice down --only NAME`; a crash is a
SIGKILL of the engine's process (no controlled shutdown, no flush). Either way `sluice up`
restarts it with its data, exactly as an operator would."""

import json
import os
import signal
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


def start_stack(sluice: Path, *extra_flags: str) -> None:
    result = subprocess.run(
        [str(sluice), "up", "--no-install", *UP_FLAGS, *extra_flags],
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


def component_pid(sluice: Path, name: str) -> int:
    """The pid `sluice status` reports for a running component."""
    result = subprocess.run(
        [str(sluice), "status", "--output", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # status exits 3 when some component is stopped; its JSON lists every one anyway
    assert result.stdout.startswith("["), f"sluice status: {result.stderr[-2000:]}"
    running = {c["name"]: c["pid"] for c in json.loads(result.stdout) if c["running"]}
    assert name in running, f"{name} is not running: {sorted(running)}"
    return int(running[name])


def kill_for(sluice: Path, name: str, seconds: float, *up_flags: str) -> None:
    """SIGKILLs `name`, waits until its process is gone and `seconds` more, then starts
    it again with `up_flags` (also when waiting is interrupted)."""
    pid = component_pid(sluice, name)
    os.kill(pid, signal.SIGKILL)
    try:
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists():
            assert time.monotonic() < deadline, f"{name} (pid {pid}) outlived SIGKILL by 30 s"
            time.sleep(0.1)
        time.sleep(seconds)
    finally:
        start_stack(sluice, *up_flags)


def restart_with(sluice: Path, name: str, *up_flags: str) -> None:
    """Stops `name` cleanly and starts it again with `up_flags` (its other settings kept)."""
    stop_component(sluice, name)
    start_stack(sluice, *up_flags)
