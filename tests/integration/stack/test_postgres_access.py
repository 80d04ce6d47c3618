"""The stack's PostgreSQL lets in only who holds a password or is the OS user running it:
no `trust` anywhere (a local user that reached the superuser could run programs through
`COPY ... TO PROGRAM`), the socket in a 0700 folder of the state, not /tmp."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.usefixtures("stack")

PG_PORT = os.environ.get("SLUICE_TEST_POSTGRES_PORT", "5433")
PSQL = "/usr/lib/postgresql/15/bin/psql"
STACK = Path(os.environ.get("SLUICE_TEST_STATE_DIR", REPO / ".stack"))
SOCKET_DIR = STACK / "run" / "postgres"


def psql(
    host: str, role: str, password: str | None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [PSQL, "-h", host, "-p", PG_PORT, "-U", role, "-d", "postgres", "-X", "-tA", "-w",
         "-c", "SELECT current_user"],
        capture_output=True, text=True, timeout=30, check=False, env=env, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def superuser_password() -> str:
    return (STACK / "airflow" / "secrets" / "pg_superuser_password").read_text()


def test_superuser_over_tcp_needs_its_generated_password() -> None:
    refused = psql("127.0.0.1", "postgres", None)
    assert refused.returncode != 0 and "password" in refused.stderr, refused.stderr
    wrong = psql("127.0.0.1", "postgres", "not-the-password")
    assert wrong.returncode != 0, "a wrong password must not log in"
    assert "password authentication failed" in wrong.stderr, wrong.stderr
    right = psql("127.0.0.1", "postgres", superuser_password())
    assert right.returncode == 0, right.stderr
    assert right.stdout.strip() == "postgres"


def test_secret_files_are_readable_by_their_owner_only() -> None:
    for name in ("pg_superuser_password", "pg_password"):
        mode = (STACK / "airflow" / "secrets" / name).stat().st_mode
        assert stat.S_IMODE(mode) == 0o600, f"{name} is {oct(stat.S_IMODE(mode))}"


def test_the_socket_lives_in_a_private_folder_of_the_state_and_not_in_tmp() -> None:
    assert not Path(f"/tmp/.s.PGSQL.{PG_PORT}").exists(), "a socket in /tmp reaches every user"
    assert (SOCKET_DIR / f".s.PGSQL.{PG_PORT}").is_socket()
    mode = stat.S_IMODE(SOCKET_DIR.stat().st_mode)
    assert mode == 0o700, f"{SOCKET_DIR} is {oct(mode)}"


def test_another_local_user_cannot_reach_the_socket() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run psql as another local user")
    # `nobody` cannot enter the socket's folder; over TCP it has no password to give.
    through_socket = psql(str(SOCKET_DIR), "postgres", None, user="nobody")
    assert through_socket.returncode != 0
    assert "Permission denied" in through_socket.stderr or "No such file" in through_socket.stderr
    over_tcp = psql("127.0.0.1", "postgres", None, user="nobody")
    assert over_tcp.returncode != 0 and "password" in over_tcp.stderr, over_tcp.stderr


def test_the_stacks_log_and_pid_files_are_readable_by_their_owner_only() -> None:
    for folder in (STACK / "logs", STACK / "run"):
        for file in folder.glob("*"):
            if file.suffix not in (".log", ".pid") or not file.is_file():
                continue
            mode = stat.S_IMODE(file.stat().st_mode)
            assert mode & 0o077 == 0, f"{file} is {oct(mode)}"
