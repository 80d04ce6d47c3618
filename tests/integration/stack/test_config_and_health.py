"""What README promises about the services' endpoints and the stack's configuration.

Endpoints: every long-running service (the stack's `sluice process` and `sluice produce`,
the schema registry, and a `sluice api` started here) answers `/health` with 200 and
`{"status":"ok","service":"sluice-<name>","uptime_seconds":N,...}` (src/web/server.cc),
`/metrics` with Prometheus text holding its own metric names, and an unknown path with a
404 that leaves it serving.

Configuration: "defaults, then a `key = value` file (`--config`), then `SLUICE_*`
environment variables, then flags". `sluice status --output json` prints each
component's resolved port and log path without starting or stopping anything, so it is
the observable; every run points --state-dir at a temporary folder (nothing there runs,
so status exits 3) and never touches the running stack's `.stack`."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.endpoints import UP_FLAGS

# --- Prometheus text exposition format (version 0.0.4) -------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
_SAMPLE = re.compile(
    rf"^(?P<name>{_NAME})(?:\{{(?P<labels>(?:{_LABEL})(?:,(?:{_LABEL}))*,?)?\}})?"
    r" (?P<value>\S+)(?: -?\d+)?$"
)
_TYPE = re.compile(rf"^# TYPE (?P<name>{_NAME}) (?P<type>counter|gauge|histogram|summary|untyped)$")
_HELP = re.compile(rf"^# HELP (?P<name>{_NAME}) .*$")
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}


def _number(text: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    return float(text)  # raises ValueError on anything else


def parse_prometheus(text: str) -> dict[str, str]:
    """Checks that `text` is Prometheus text format: every line a HELP, a TYPE or a sample
    whose value is a number, every sample of a family declared by a TYPE line before it,
    histogram buckets cumulative and ending at +Inf with _count equal to that bucket.
    Returns each family's name and type."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families: dict[str, str] = {}
    buckets: dict[tuple[str, str], list[tuple[float, float]]] = {}
    counts: dict[tuple[str, str], float] = {}
    for number, line in enumerate(text.splitlines(), 1):
        where = f"line {number}: {line!r}"
        if line.startswith("#"):
            typed = _TYPE.match(line)
            if typed:
                assert typed["name"] not in families, f"{where}: family declared twice"
                families[typed["name"]] = typed["type"]
            else:
                assert _HELP.match(line), f"{where}: a comment that is neither HELP nor TYPE"
            continue
        sample = _SAMPLE.match(line)
        assert sample, f"{where}: not a sample line"
        try:
            value = _number(sample["value"])
        except ValueError:
            pytest.fail(f"{where}: value is not a number")
        name, labels = sample["name"], sample["labels"] or ""
        family = next(
            (
                name.removesuffix(suffix)
                for kind_suffixes in _SUFFIXES.values()
                for suffix in kind_suffixes
                if suffix and name.endswith(suffix) and name.removesuffix(suffix) in families
            ),
            name,
        )
        assert family in families, f"{where}: sample of a family with no TYPE line before it"
        kind = families[family]
        if kind in ("counter", "histogram"):
            assert value >= 0 or math.isnan(value), f"{where}: a {kind} below 0"
        if kind == "histogram" and name == family + "_bucket":
            le = re.search(r'le="([^"]*)"', labels)
            assert le, f"{where}: a bucket without le"
            rest = re.sub(r',?le="[^"]*"', "", labels)
            buckets.setdefault((family, rest), []).append((_number(le[1]), value))
        if kind == "histogram" and name == family + "_count":
            counts[(family, labels)] = value
    for (family, rest), series in buckets.items():
        bounds = [bound for bound, _ in series]
        assert bounds == sorted(bounds) and bounds[-1] == math.inf, f"{family}: buckets {bounds}"
        cumulative = [count for _, count in series]
        assert cumulative == sorted(cumulative), f"{family}: buckets not cumulative {cumulative}"
        assert counts.get((family, rest)) == cumulative[-1], f"{family}: _count != +Inf bucket"
    return families


# --- the services --------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    name: str  # as /health names it: sluice-<name>
    base: str
    own_metrics: tuple[str, ...]  # families only this service exposes
    foreign_prefixes: tuple[str, ...]  # metric prefixes of the other services


def stack_ports(sluice_bin: Path) -> dict[str, int]:
    """The ports the running stack's components listen on, as `sluice status` resolves
    them (exit 3 when one is down, e.g. Cassandra restarted by another test)."""
    result = subprocess.run(
        [str(sluice_bin), "status", "--output", "json", *UP_FLAGS],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode in (0, 3), result.stderr
    return {c["name"]: c["port"] for c in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def api_base(sluice_bin: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(sluice_bin), "api", "--port", str(port), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            requests.get(f"{base}/health", timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "sluice api never answered"
            time.sleep(0.05)
    yield base
    process.terminate()
    assert process.wait(10) == 0


@pytest.fixture(scope="module")
def services(sluice_bin: Path, api_base: str) -> dict[str, Service]:
    ports = stack_ports(sluice_bin)
    every = ("sluice_process_", "sluice_produce_", "sluice_registry_", "api_")
    return {
        service.name: service
        for service in (
            Service(
                "process",
                f"http://127.0.0.1:{ports['process']}",
                (
                    "sluice_process_consumed_total",
                    "sluice_process_valid_total",
                    "sluice_process_written_total",
                    "sluice_process_dead_lettered_total",
                    "sluice_process_in_flight",
                    "sluice_process_consumer_lag",
                    "sluice_process_end_to_end_seconds",
                    "sluice_process_kafka_delay_seconds",
                    "sluice_process_store_seconds",
                ),
                tuple(p for p in every if p != "sluice_process_"),
            ),
            Service(
                "produce",
                f"http://127.0.0.1:{ports['produce']}",
                ("sluice_produce_sent_total", "sluice_produce_acknowledged_total"),
                tuple(p for p in every if p != "sluice_produce_"),
            ),
            Service(
                "registry",
                f"http://127.0.0.1:{ports['registry']}",
                ("sluice_registry_requests_total",),
                tuple(p for p in every if p != "sluice_registry_"),
            ),
            Service(
                "api",
                api_base,
                ("api_users_served_total", "api_bad_requests_total"),
                tuple(p for p in every if p != "api_"),
            ),
        )
    }


SERVICES = ("process", "produce", "registry", "api")


@pytest.mark.usefixtures("stack")
@pytest.mark.parametrize("name", SERVICES)
def test_health_of_a_running_service_is_200_ok_naming_the_service(
    services: dict[str, Service], name: str
) -> None:
    response = requests.get(f"{services[name].base}/health", timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert body["service"] == f"sluice-{name}"
    assert isinstance(body["uptime_seconds"], int) and body["uptime_seconds"] >= 0
    if name == "registry":  # the registry adds what it holds (src/cli/registry.cc)
        assert body["topic"] == "_schemas"
        assert body["subjects"] >= 1 and body["schemas"] >= 1
        assert body["next_id"] > body["schemas"]  # ids start at 1


@pytest.mark.usefixtures("stack")
@pytest.mark.parametrize("name", SERVICES)
def test_metrics_of_a_running_service_are_prometheus_text_with_its_own_names(
    services: dict[str, Service], name: str
) -> None:
    service = services[name]
    # A request through the service's own routes first: the registry's request counter
    # exists once it has served one.
    warm_up = {"registry": "/subjects", "api": "/api/?results=1"}.get(name, "/health")
    assert requests.get(f"{service.base}{warm_up}", timeout=10).status_code == 200
    response = requests.get(f"{service.base}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = parse_prometheus(response.text)
    missing = [metric for metric in service.own_metrics if metric not in families]
    assert not missing, f"{name} lacks {missing}; it has {sorted(families)}"
    foreign = [f for f in families if f.startswith(service.foreign_prefixes)]
    assert not foreign, f"{name} exposes other services' metrics: {foreign}"
    assert families["http_requests_total"] == "counter"


@pytest.mark.usefixtures("stack")
@pytest.mark.parametrize("name", SERVICES)
def test_unknown_path_is_a_counted_404_and_the_service_keeps_serving(
    services: dict[str, Service], name: str
) -> None:
    base = services[name].base

    def not_found_count() -> float:
        text = requests.get(f"{base}/metrics", timeout=5).text
        found = re.search(r'^http_requests_total\{status="404"\} (\S+)$', text, re.MULTILINE)
        return float(found[1]) if found else 0.0

    before = not_found_count()
    for path in ("/no-such-path", "/healthz", "/metrics.json", "/%zz", "/" + "x" * 4000):
        response = requests.get(f"{base}{path}", timeout=5)
        assert response.status_code == 404, f"{name} {path[:40]}: {response.status_code}"
        assert response.json(), "the 404 has a JSON body saying why"
    assert requests.get(f"{base}/health", timeout=5).json()["status"] == "ok"
    assert not_found_count() >= before + 5


# --- configuration precedence ----------------------------------------------------------


def resolved_status(
    sluice_bin: Path,
    state_dir: Path,
    *args: str,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, dict], subprocess.CompletedProcess[str]]:
    """`sluice status --output json` with only the given SLUICE_* variables set (the
    runner's own are dropped), from the repository: each component's resolved status."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    result = subprocess.run(
        [str(sluice_bin), "status", "--output", "json", "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env=clean | (env or {}),
    )
    if result.returncode != 3:  # 3: resolved, and (rightly) nothing runs in state_dir
        return {}, result
    return {c["name"]: c for c in json.loads(result.stdout)}, result


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    file = tmp_path / "sluice.conf"
    file.write_text(
        "# a settings file as stack/sluice.conf.example describes\n"
        "kafka_port = 1111\n"
        "   registry_port=1112   # trailing comment\n"
        "\n"
    )
    return file


def test_without_file_env_or_flag_the_documented_default_ports_apply(
    sluice_bin: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.conf"
    empty.write_text("")  # an explicit empty file: a sluice.conf at the root is not read
    status, result = resolved_status(sluice_bin, tmp_path / "state", "--config", str(empty))
    assert status, result.stderr
    ports = {name: c["port"] for name, c in status.items()}
    assert ports == {
        "postgres": 5433,
        "kafka": 9092,
        "cassandra": 9042,
        "registry": 8081,
        "process": 9470,
        "produce": 9471,
        "ui": 9000,
    }
    assert not (tmp_path / "state").exists(), "status must not create the state folder"


@pytest.mark.parametrize(
    ("use_env", "use_flag", "expected"),
    [
        (False, False, 1111),  # the file over the default 9092
        (True, False, 2222),  # the environment over the file
        (True, True, 3333),  # the flag over both
        (False, True, 3333),  # the flag over the file
    ],
)
def test_kafka_port_comes_from_flag_then_environment_then_file(
    sluice_bin: Path,
    tmp_path: Path,
    settings_file: Path,
    use_env: bool,
    use_flag: bool,
    expected: int,
) -> None:
    args = ["--config", str(settings_file)] + (["--kafka-port", "3333"] if use_flag else [])
    env = {"SLUICE_KAFKA_PORT": "2222"} if use_env else {}
    status, result = resolved_status(sluice_bin, tmp_path / "state", *args, env=env)
    assert status, result.stderr
    assert status["kafka"]["port"] == expected
    # The other keys of each layer are untouched by the ones above it.
    assert status["registry"]["port"] == 1112
    assert status["cassandra"]["port"] == 9042


def test_state_dir_from_the_file_is_overridden_by_environment_and_flag(
    sluice_bin: Path, tmp_path: Path
) -> None:
    file = tmp_path / "paths.conf"
    file.write_text(f"state_dir = {tmp_path / 'from-file'}\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}

    def kafka_log(*args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [str(sluice_bin), "status", "--output", "json", "--config", str(file), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=clean | (env or {}),
        )
        assert result.returncode == 3, result.stderr
        return {c["name"]: c["log"] for c in json.loads(result.stdout)}["kafka"]

    assert kafka_log() == str(tmp_path / "from-file" / "logs" / "kafka.log")
    from_env = {"SLUICE_STATE_DIR": str(tmp_path / "from-env")}
    assert kafka_log(env=from_env) == str(tmp_path / "from-env" / "logs" / "kafka.log")
    flag = ["--state-dir", str(tmp_path / "from-flag")]
    assert kafka_log(*flag, env=from_env) == str(tmp_path / "from-flag" / "logs" / "kafka.log")


def test_bad_port_in_the_file_is_refused_naming_the_file_line_and_key(
    sluice_bin: Path, tmp_path: Path
) -> None:
    file = tmp_path / "bad.conf"
    file.write_text("registry_port = 1112\nkafka_port = ninety\n")
    status, result = resolved_status(sluice_bin, tmp_path / "state", "--config", str(file))
    assert result.returncode == 2 and not status
    assert f"{file}:2" in result.stderr
    assert "'ninety' is not a port (1-65535)" in result.stderr
    assert "kafka_port" in result.stderr, f"the message does not name the key: {result.stderr}"


def test_bad_port_in_the_environment_is_refused_naming_the_variable(
    sluice_bin: Path, tmp_path: Path, settings_file: Path
) -> None:
    status, result = resolved_status(
        sluice_bin,
        tmp_path / "state",
        "--config",
        str(settings_file),
        env={"SLUICE_KAFKA_PORT": "70000"},
    )
    assert result.returncode == 2 and not status
    assert "environment variable SLUICE_KAFKA_PORT: '70000' is not a port" in result.stderr


def test_bad_port_flag_is_refused_naming_the_flag_as_typed(
    sluice_bin: Path, tmp_path: Path, settings_file: Path
) -> None:
    status, result = resolved_status(
        sluice_bin, tmp_path / "state", "--config", str(settings_file), "--kafka-port", "0"
    )
    assert result.returncode == 2 and not status
    assert "--kafka-port: '0' is not a port (1-65535)" in result.stderr


def test_unknown_key_in_the_file_is_refused_listing_the_known_keys(
    sluice_bin: Path, tmp_path: Path
) -> None:
    file = tmp_path / "typo.conf"
    file.write_text("kafka_prot = 1111\n")
    status, result = resolved_status(sluice_bin, tmp_path / "state", "--config", str(file))
    assert result.returncode == 2 and not status
    assert f"{file}:1 (kafka_prot): unknown setting 'kafka_prot'" in result.stderr
    assert "kafka_port" in result.stderr


def test_unreadable_config_file_is_refused_naming_it(sluice_bin: Path, tmp_path: Path) -> None:
    missing = tmp_path / "absent.conf"
    status, result = resolved_status(sluice_bin, tmp_path / "state", "--config", str(missing))
    assert result.returncode == 2 and not status
    assert f"--config: cannot read '{missing}'" in result.stderr
