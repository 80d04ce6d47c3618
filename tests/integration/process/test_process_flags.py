"""`sluice process` refuses bad tuning values before touching Kafka or Cassandra, with a
message naming the flag and its allowed range."""

from __future__ import annotations

import os
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


PSEUDONYM_KEY = "a-pseudonym-key-of-some-length"


def assert_refused(
    sluice_bin: Path,
    flags: list[str],
    message: str,
    unset: str,
    extra: dict[str, str] | None = None,
) -> None:
    """`sluice process FLAGS` exits 2 before connecting, saying `message`, with the
    environment variable `unset` removed and `extra` added."""
    env = {k: v for k, v in os.environ.items() if k != unset} | (extra or {})
    run = subprocess.run(
        [str(sluice_bin), "process", *flags, "--metrics-port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert run.returncode == 2, run.stderr
    assert message in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("flags", "environment", "message"),
    [
        (["--pseudonymise", "email,dob"], {}, "'dob' is a typed date/timestamp column"),
        (["--pseudonymise", "id"], {}, "'id' is the row key"),
        (["--pseudonymise", "email,emial"], {}, "unknown field 'emial'"),
        (["--pseudonymise", "email,,phone"], {}, "empty field name"),
        (["--pseudonym-key-file", "/tmp/k"], {}, "--pseudonym-key-file given without"),
        (["--pseudonym-key-id", "k1"], {}, "--pseudonym-key-id given without"),
        (
            ["--pseudonymise", "email", "--pseudonym-key-env", "K", "--pseudonym-key-file", "/k"],
            {},
            "both given",
        ),
        (["--pseudonymise", "email"], {}, "SLUICE_PSEUDONYM_KEY is not set"),
        (
            ["--pseudonymise", "email", "--pseudonym-key-file", "/nonexistent/k"],
            {},
            "/nonexistent/k",
        ),
        (
            ["--pseudonymise", "email", "--pseudonym-key-id", "has space"],
            {"SLUICE_PSEUDONYM_KEY": PSEUDONYM_KEY},
            "--pseudonym-key-id 'has space'",
        ),
    ],
)
def test_a_bad_pseudonymisation_setting_is_refused_naming_it(
    sluice_bin: Path, flags: list[str], environment: dict[str, str], message: str
) -> None:
    assert_refused(sluice_bin, flags, message, unset="SLUICE_PSEUDONYM_KEY", extra=environment)


def test_a_short_pseudonym_key_is_refused_by_length_without_echoing_it(sluice_bin: Path) -> None:
    env = os.environ | {"MY_KEY": "short-secret"}
    run = subprocess.run(
        [str(sluice_bin), "process", "--pseudonymise", "email", "--pseudonym-key-env", "MY_KEY"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert run.returncode == 2, run.stderr
    assert "environment variable MY_KEY has 12 bytes; at least 16 are needed" in run.stderr
    assert "short-secret" not in run.stderr + run.stdout


def test_an_empty_pseudonymise_list_is_refused_not_taken_as_off(sluice_bin: Path) -> None:
    run = subprocess.run(
        [str(sluice_bin), "process", "--pseudonymise", "", "--metrics-port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode != 0
    assert "--pseudonymise: no field named" in run.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--cassandra-user", "sluice"],
            "--cassandra-user sluice: set the password in $SLUICE_CQL_PASSWORD "
            "(--cassandra-password-env) or give --cassandra-password-file",
        ),
        (
            ["--cassandra-user", "sluice", "--cassandra-password-file", "/nonexistent/pw"],
            "--cassandra-password-file /nonexistent/pw: cannot read the file",
        ),
        (
            ["--cassandra-password-file", "/nonexistent/pw"],
            "--cassandra-password-file: give the user too (--cassandra-user)",
        ),
    ],
)
def test_a_cassandra_login_without_a_usable_password_is_refused_naming_the_flags(
    sluice_bin: Path, flags: list[str], message: str
) -> None:
    assert_refused(sluice_bin, flags, message, unset="SLUICE_CQL_PASSWORD")


def test_a_cassandra_password_file_is_accepted_and_never_echoed(
    sluice_bin: Path, tmp_path: Path
) -> None:
    """The stack's Cassandra asks for no password (AllowAllAuthenticator): with the user
    and a readable password file the verb connects and answers; the password is nowhere
    in its output (tests/e2e/test_secure_stack.py logs in with it for real)."""
    secret = tmp_path / "cql.password"
    secret.write_text("canary-cql-password\n")
    run = subprocess.run(
        [
            str(sluice_bin),
            "query",
            "--cassandra-user",
            "sluice",
            "--cassandra-password-file",
            str(secret),
            "--count",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "canary-cql-password" not in run.stdout + run.stderr
