"""Settings: the Variable `sluice_settings` wins over SLUICE_* environment variables, which
win over defaults; bad values are refused by name. Secrets: the Cassandra password never
reaches a command line (refused if it would), reaches the child through its environment,
and is registered with Airflow's log masker."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from sluice_airflow import config
from sluice_airflow.config import (
    Settings,
    SettingsError,
    ensure_kafka_connection,
    load_settings,
    parse_variable,
    schedule,
    task_settings,
)
from sluice_airflow.sluice_cli import SluiceCommandError, cassandra_flags, run_sluice
from sluice_airflow.verify import verify_args


def test_defaults_match_the_stack() -> None:
    s = load_settings(environ={"AIRFLOW_HOME": "/af"})
    assert (s.bootstrap, s.registry_url, s.processor_url) == (
        "127.0.0.1:9092",
        "http://127.0.0.1:8081",
        "http://127.0.0.1:9470",
    )
    assert (s.cassandra_host, s.cassandra_port, s.group_id) == (
        "127.0.0.1",
        9042,
        "sluice-processor",
    )
    assert s.batch_size == 10000
    assert s.state_dir == "/af/sluice-state"
    assert s.sluice_bin.endswith("build/sluice") and s.schema_file.endswith("contract/user.avsc")
    assert schedule({}) == "*/10 * * * *"
    assert schedule({"SLUICE_SCHEDULE": "*/5 * * * *"}) == "*/5 * * * *"


def test_variable_over_environment_over_default() -> None:
    env = {"SLUICE_BATCH_SIZE": "2000", "SLUICE_KAFKA_BOOTSTRAP": "k:1", "SLUICE_BIN": "/b"}
    s = load_settings(parse_variable('{"batch_size": 500}'), environ=env)
    assert (s.batch_size, s.bootstrap, s.sluice_bin) == (500, "k:1", "/b")
    assert load_settings(None, environ=env).batch_size == 2000


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ('{"batch_sise": 5}', "unknown setting\\(s\\) batch_sise"),
        ('{"batch_size": "many"}', "batch_size from Variable sluice_settings"),
        ('{"batch_size": 0}', "batch_size 0 must be from 1"),
        ('{"bad_ratio": 2}', "bad_ratio"),
        ('{"produce_format": "xml"}', "avro or json"),
        ("[1]", "must be a JSON object"),
        ("{", "is not JSON"),
    ],
)
def test_bad_settings_are_named(variable: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(parse_variable(variable), environ={})


def test_kafka_connection_defaults_to_the_bootstrap_unless_set() -> None:
    env = {"SLUICE_KAFKA_BOOTSTRAP": "127.0.0.1:19092"}
    assert ensure_kafka_connection(env) == "sluice_kafka"
    assert '"bootstrap.servers": "127.0.0.1:19092"' in env["AIRFLOW_CONN_SLUICE_KAFKA"]
    env["AIRFLOW_CONN_SLUICE_KAFKA"] = "kafka://launcher"
    ensure_kafka_connection(env)
    assert env["AIRFLOW_CONN_SLUICE_KAFKA"] == "kafka://launcher"


CANARY = "canary-Pw-7f3a9"


def test_password_never_on_a_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_CQL_PASSWORD", CANARY)
    s = load_settings({"cassandra_user": "app"}, environ={})
    flags = cassandra_flags(s)
    assert flags[-4:] == [
        "--cassandra-user",
        "app",
        "--cassandra-password-env",
        "SLUICE_CQL_PASSWORD",
    ]
    assert CANARY not in " ".join(verify_args(s, "/m.json"))
    with pytest.raises(SluiceCommandError, match="secret on its command line"):
        run_sluice(s, ["cql", "-e", CANARY], timeout_s=5)


def test_password_reaches_the_child_through_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_CQL_PASSWORD", CANARY)
    child = tmp_path / "sluice"
    check = f"print(os.environ.get('SLUICE_CQL_PASSWORD') == '{CANARY}')"
    child.write_text(f"#!{sys.executable}\nimport os\n{check}\n")
    child.chmod(0o755)
    s = Settings(sluice_bin=str(child), cassandra_user="app")
    assert run_sluice(s, ["verify"], timeout_s=10).stdout.strip() == "True"


def test_task_settings_register_the_password_with_the_masker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    monkeypatch.setenv("SLUICE_CQL_PASSWORD", CANARY)
    s = task_settings(read_variable=lambda: '{"batch_size": 100}')
    assert s.batch_size == 100
    assert CANARY not in str(redact(f"connecting with {CANARY}"))
    assert CANARY not in repr(s)  # settings hold no secret
    assert config.cassandra_password(s) == CANARY


def test_run_configuration_wins_over_the_variable() -> None:
    overrides = {"settings": {"batch_size": 300, "raw_topic": "lane-raw"}}
    s = task_settings(
        read_variable=lambda: '{"batch_size": 100, "keyspace": "ks"}',
        read_run=lambda: config.run_overrides(overrides, "produce_batch", 1),
    )
    assert (s.batch_size, s.raw_topic, s.keyspace) == (300, "lane-raw", "ks")


def test_first_try_settings_apply_to_that_task_and_try_only() -> None:
    conf = {
        "settings": {"bootstrap": "127.0.0.1:9092"},
        "first_try": {"produce_batch": {"bootstrap": "127.0.0.1:1"}},
    }
    assert config.run_overrides(conf, "produce_batch", 1)["bootstrap"] == "127.0.0.1:1"
    assert config.run_overrides(conf, "produce_batch", 2)["bootstrap"] == "127.0.0.1:9092"
    assert config.run_overrides(conf, "check_health", 1)["bootstrap"] == "127.0.0.1:9092"
    assert config.run_overrides(None, "produce_batch", 1) == {}


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"setings": {}}, "unknown key(s) setings"),
        ({"settings": {"batch_sise": 1}}, "unknown setting(s) batch_sise"),
        ({"settings": [1]}, "must be a JSON object"),
        ({"first_try": {"produce_batch": {"nope": 1}}}, "first_try.produce_batch"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_bad_run_configuration_is_refused_by_name(conf: object, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        config.run_overrides(conf, "produce_batch", 1)


def test_outside_a_task_there_is_no_run_configuration() -> None:
    assert config.current_run_overrides() == {}
