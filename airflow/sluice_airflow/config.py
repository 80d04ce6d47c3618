"""Settings of the sluice DAGs. Each setting comes from the run's configuration (`dag_run.conf`
key "settings", e.g. {"settings": {"batch_size": 5000}}), else the Airflow Variable
`sluice_settings` (a JSON object, e.g. {"batch_size": 5000}), else its SLUICE_* environment
variable, else its default. A run's configuration may also hold "first_try": {task_id:
{settings}}: settings for that task's first try only (a failure drill, e.g. an unreachable
bootstrap for produce_batch's first try, to see what its retry does).

Secrets are never settings: the Cassandra password stays in the environment variable that
`cassandra_password_env` names and only reaches the `sluice` child process's environment."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIABLE = "sluice_settings"
DEFAULT_SCHEDULE = "*/10 * * * *"
KAFKA_CONN_ID = "sluice_kafka"
# Users reserved per second of interval start: a batch may hold at most this many.
MAX_BATCH = 1_000_000


def _default_state_dir(environ: Mapping[str, str]) -> str:
    home = environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return str(Path(home) / "sluice-state")


@dataclass(frozen=True)
class Settings:
    """Where the stack is and how big a batch is; safe to log (holds no secret)."""

    sluice_bin: str = str(REPO_ROOT / "build" / "sluice")
    schema_file: str = str(REPO_ROOT / "contract" / "user.avsc")
    bootstrap: str = "127.0.0.1:9092"
    registry_url: str = "http://127.0.0.1:8081"
    cassandra_host: str = "127.0.0.1"
    cassandra_port: int = 9042
    cassandra_user: str = ""
    cassandra_password_env: str = "SLUICE_CQL_PASSWORD"
    keyspace: str = "sluice"
    raw_topic: str = "users.raw"
    dlq_topic: str = "users.dlq"
    group_id: str = "sluice-processor"
    processor_url: str = "http://127.0.0.1:9470"
    state_dir: str = ""
    batch_size: int = 10000
    seed: int = 1729
    bad_ratio: float = 0.05
    produce_format: str = "avro"
    commit_timeout_s: float = 300.0
    verify_timeout_s: float = 30.0
    command_timeout_s: float = 600.0
    health_timeout_s: float = 5.0
    api_url: str = "http://127.0.0.1:8080"
    api_results: int = 100


class SettingsError(ValueError):
    """A setting has a value the DAGs cannot use; the message names it and where it came from."""


def env_name(setting: str) -> str:
    """The environment variable of a setting (SLUICE_<NAME>, bootstrap as `sluice` spells it)."""
    special = {
        "bootstrap": "SLUICE_KAFKA_BOOTSTRAP",
        "state_dir": "SLUICE_AIRFLOW_STATE",
        "sluice_bin": "SLUICE_BIN",
    }
    return special.get(setting, f"SLUICE_{setting.upper()}")


def _convert(name: str, kind: type, value: object, origin: str) -> object:
    try:
        if kind is int and not isinstance(value, bool):
            return int(str(value))
        if kind is float and not isinstance(value, bool):
            return float(str(value))
        if kind is str and isinstance(value, str):
            return value
    except ValueError:
        pass
    raise SettingsError(f"setting {name} from {origin}: {value!r} is not a {kind.__name__}")


def _check(s: Settings) -> Settings:
    if not 1 <= s.batch_size <= MAX_BATCH:
        raise SettingsError(f"batch_size {s.batch_size} must be from 1 to {MAX_BATCH}")
    if not 0.0 <= s.bad_ratio <= 1.0:
        raise SettingsError(f"bad_ratio {s.bad_ratio} must be from 0 to 1")
    if not 0 <= s.seed < 2**64:
        raise SettingsError(f"seed {s.seed} must be from 0 to 2^64-1")
    if s.produce_format not in ("avro", "json"):
        raise SettingsError(f"produce_format {s.produce_format!r} must be avro or json")
    if not 1 <= s.api_results <= 5000:
        raise SettingsError(f"api_results {s.api_results} must be from 1 to 5000")
    for name in ("commit_timeout_s", "verify_timeout_s", "command_timeout_s", "health_timeout_s"):
        if getattr(s, name) <= 0:
            raise SettingsError(f"{name} must be more than 0 seconds")
    return s


def load_settings(
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from `overrides` (the Variable's JSON), then the environment, then defaults."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise SettingsError(f"Variable {VARIABLE}: unknown setting(s) {', '.join(unknown)}")
    values: dict[str, object] = {}
    for name, field in known.items():
        kind = type(field.default)
        if name in overrides:
            values[name] = _convert(name, kind, overrides[name], f"Variable {VARIABLE}")
        elif env_name(name) in environ:
            values[name] = _convert(name, kind, environ[env_name(name)], env_name(name))
    if not values.get("state_dir"):
        values["state_dir"] = _default_state_dir(environ)
    return _check(Settings(**values))  # type: ignore[arg-type]


def parse_variable(text: str | None) -> dict[str, object]:
    """The Variable's JSON object (None or empty: no overrides)."""
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise SettingsError(f"Variable {VARIABLE} is not JSON: {e}") from e
    if not isinstance(value, dict):
        raise SettingsError(
            f"Variable {VARIABLE} must be a JSON object, not {type(value).__name__}"
        )
    return value


def airflow_variable() -> str | None:
    """The raw Variable `sluice_settings` (only inside a running task)."""
    from airflow.sdk import Variable

    value = Variable.get(VARIABLE, default=None)
    return None if value is None else str(value)


RUN_KEYS = ("settings", "first_try")


def _settings_object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where} must be a JSON object, not {type(value).__name__}")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise SettingsError(f"{where}: unknown setting(s) {', '.join(map(str, unknown))}")
    return dict(value)


def run_overrides(conf: object, task_id: str, try_number: int) -> dict[str, object]:
    """The settings a run's configuration gives one try of one task (see the module doc)."""
    if not conf:
        return {}
    if not isinstance(conf, Mapping):
        raise SettingsError(f"the run's configuration must be a JSON object, not {conf!r}")
    unknown = sorted(set(conf) - set(RUN_KEYS))
    if unknown:
        raise SettingsError(
            f"the run's configuration: unknown key(s) {', '.join(map(str, unknown))} "
            f"(known: {', '.join(RUN_KEYS)})"
        )
    merged = _settings_object(conf.get("settings") or {}, "the run's configuration settings")
    first = conf.get("first_try") or {}
    if not isinstance(first, Mapping):
        raise SettingsError("the run's configuration first_try must map task ids to settings")
    if try_number == 1 and task_id in first:
        merged |= _settings_object(first[task_id], f"first_try.{task_id}")
    return merged


def current_run_overrides() -> dict[str, object]:
    """run_overrides of the running task (none outside a task)."""
    from airflow.sdk import get_current_context

    try:
        context = get_current_context()
    except RuntimeError:  # not inside a task: no run, no configuration
        return {}
    dag_run, ti = context.get("dag_run"), context.get("ti")
    conf = getattr(dag_run, "conf", None)
    return run_overrides(conf, getattr(ti, "task_id", ""), int(getattr(ti, "try_number", 1) or 1))


def task_settings(
    read_variable: Callable[[], str | None] = airflow_variable,
    read_run: Callable[[], Mapping[str, object]] = current_run_overrides,
) -> Settings:
    """The settings a task runs with; registers the secrets it may meet with the log masker."""
    settings = load_settings({**parse_variable(read_variable()), **read_run()})
    mask_secrets(settings)
    return settings


def schedule(environ: Mapping[str, str] | None = None) -> str:
    """The cron schedule of sluice_user_stream (parse time: environment only)."""
    environ = os.environ if environ is None else environ
    return environ.get("SLUICE_SCHEDULE", DEFAULT_SCHEDULE).strip() or DEFAULT_SCHEDULE


def cassandra_password(settings: Settings) -> str | None:
    """The Cassandra password from its environment variable (never stored anywhere)."""
    return os.environ.get(settings.cassandra_password_env) or None


def mask_secrets(settings: Settings) -> None:
    """Tells Airflow's log masker about every secret a task can see."""
    secret = cassandra_password(settings)
    if secret:
        from airflow.sdk.log import mask_secret

        mask_secret(secret, settings.cassandra_password_env)


def ensure_kafka_connection(environ: MutableMapping[str, str] | None = None) -> str:
    """Defines the Kafka connection `sluice_kafka` from SLUICE_KAFKA_BOOTSTRAP unless the
    launcher already did (AIRFLOW_CONN_SLUICE_KAFKA); returns its id."""
    target = os.environ if environ is None else environ
    variable = f"AIRFLOW_CONN_{KAFKA_CONN_ID.upper()}"
    if variable not in target:
        bootstrap = target.get(env_name("bootstrap"), Settings.bootstrap)
        extra = kafka_client_config(bootstrap)
        target[variable] = json.dumps({"conn_type": "kafka", "extra": extra})
    return KAFKA_CONN_ID


def kafka_client_config(bootstrap: str) -> dict[str, object]:
    """librdkafka settings of the DAGs' producers: idempotent, every replica acknowledges, a
    failed delivery reported within 30 s."""
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "message.timeout.ms": 30000,
        "compression.type": "lz4",
    }
