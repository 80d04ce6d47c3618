"""Running the `sluice` binary from a task: argv never holds a secret (checked), the
Cassandra password reaches the child only through its environment, output is captured
and failures raise with the command's last stderr lines."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sluice_airflow.config import Settings, cassandra_password

log = logging.getLogger(__name__)


class SluiceCommandError(RuntimeError):
    """`sluice` could not be run, timed out or exited with an unexpected code."""


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def cassandra_flags(settings: Settings) -> list[str]:
    """Connection flags of the verbs that talk to Cassandra (no password: see module doc)."""
    flags = [
        "--cassandra-host",
        settings.cassandra_host,
        "--cassandra-port",
        str(settings.cassandra_port),
    ]
    if settings.cassandra_user:
        flags += ["--cassandra-user", settings.cassandra_user]
        flags += ["--cassandra-password-env", settings.cassandra_password_env]
    return flags


def check_no_secret(argv: Sequence[str], settings: Settings) -> None:
    """Refuses a command line that would show a secret to `ps` and to the task log."""
    secret = cassandra_password(settings)
    if secret and any(secret in arg for arg in argv):
        raise SluiceCommandError("refusing to run sluice with a secret on its command line")


def tail(text: str, lines: int = 15) -> str:
    """The last lines of a command's output, for an error message."""
    return "\n".join(text.strip().splitlines()[-lines:])


def run_sluice(
    settings: Settings,
    args: Sequence[str],
    *,
    timeout_s: float,
    ok_codes: Sequence[int] = (0,),
) -> CommandResult:
    """Runs `sluice ARGS`; raises SluiceCommandError unless it exits with one of `ok_codes`."""
    argv = [settings.sluice_bin, *args]
    check_no_secret(argv, settings)
    if not os.access(settings.sluice_bin, os.X_OK):
        raise SluiceCommandError(
            f"sluice binary {settings.sluice_bin} is missing or not executable: build it "
            "(./dev build) or set sluice_bin (Variable sluice_settings) or SLUICE_BIN"
        )
    log.info("running %s", shlex.join(argv))
    started = time.monotonic()
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, check=False, env=os.environ
        )
    except subprocess.TimeoutExpired as e:
        raise SluiceCommandError(
            f"{shlex.join(argv)} did not finish within {timeout_s:.0f} s"
        ) from e
    result = CommandResult(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
    if result.returncode not in ok_codes:
        raise SluiceCommandError(
            f"{shlex.join(argv[:2])} exited with {result.returncode} "
            f"after {result.seconds:.1f} s:\n{tail(result.stderr) or '(no output)'}"
        )
    return result
