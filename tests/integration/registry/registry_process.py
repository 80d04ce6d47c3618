"""Starting a `sluice registry` of its own for a test: the real binary on a free port
against the stack's Kafka, waited for on /health (open even when the registry asks for
credentials), its output in a log file the failure message quotes."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.endpoints import BOOTSTRAP

ROOT = Path(__file__).resolve().parents[3]


def sluice_binary() -> str:
    return os.environ.get("SLUICE_BIN", str(ROOT / "build" / "sluice"))


def start_registry(
    port: int,
    topic: str,
    log: Path,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """The registry on 127.0.0.1:`port` keeping its schemas in `topic`, once it answers."""
    args = [sluice_binary(), "registry", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--bootstrap", BOOTSTRAP, "--topic", topic, *extra_args]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=dict(env) if env else None
        )
    url = f"http://127.0.0.1:{port}/health"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"sluice registry exited with {proc.returncode}: {log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"sluice registry not ready on {url} after 60 s: {log.read_text()}")
