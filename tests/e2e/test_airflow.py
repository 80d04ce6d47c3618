"""Apache Airflow against the real stack (issue 17): the Airflow that `sluice up` runs
(api-server, scheduler, dag-processor, triggerer on PostgreSQL), the DAGs of airflow/dags, real
Kafka, registry, Cassandra and a `sluice process` per lane.

Each test gives its runs their own lane (topics, keyspace, group, processor, manifest folder)
through the run's configuration ({"settings": {...}}), so tests never see each other's data
nor the stack's own pipeline. `airflow dags test` runs first, while the DAGs are paused; the
REST tests then unpause them with the Variable `sluice_settings` pointed at a parking lane, so
that the scheduled run unpausing starts lands there too; afterwards the DAGs are paused again
and the Variable restored.
"""

import hashlib
import json
import os
import random
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.conftest import free_port
from tests.e2e.helpers import (
    Lane,
    committed_offsets,
    drop_lane,
    high_watermarks,
    make_lane,
    process_command,
    stored_ids,
    verify,
)

REPO = Path(__file__).resolve().parents[2]
STACK = Path(os.environ.get("SLUICE_TEST_STATE_DIR", REPO / ".stack"))
AIRFLOW_STATE = STACK / "airflow"
AIRFLOW_URL = os.environ.get("SLUICE_TEST_AIRFLOW_URL", "http://127.0.0.1:8082")
PG_PORT = os.environ.get("SLUICE_TEST_POSTGRES_PORT", "5433")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
STREAM = "sluice_user_stream"
RANDOMUSER = "randomuser_to_kafka"
VARIABLE = "sluice_settings"

pytestmark = pytest.mark.usefixtures("stack")


# --- Airflow's REST API -------------------------------------------------------------------


class AirflowApi:
    """/api/v2 with a bearer token obtained with the generated admin password (read from its
    0600 file, sent in a request body only)."""

    def __init__(self, url: str, password_file: Path) -> None:
        self.url = url
        password = json.loads(password_file.read_text())["admin"]
        answer = requests.post(
            f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30
        )
        assert answer.status_code in (200, 201), f"token: {answer.status_code} {answer.text}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def call(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        answer = self.session.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
        assert answer.status_code in ok, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def text(self, path: str) -> str:
        answer = self.session.get(
            f"{self.url}/api/v2{path}", headers={"Accept": "application/json"}, timeout=30
        )
        return answer.text

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        run = self.call(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )
        return str(run["dag_run_id"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"))

    def task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return dict(
            self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}")
        )

    def log(self, dag_id: str, run_id: str, task_id: str, attempt: int) -> str:
        return self.text(
            f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
            f"/logs/{attempt}?full_content=true"
        )

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = self.get(
            f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
            f"/xcomEntries/{key}?deserialize=true&stringify=false"
        )
        value = entry["value"]
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value

    def wait(self, dag_id: str, run_id: str, timeout_s: float) -> dict[str, Any]:
        """The run once it finished; fails with its failed tasks' logs unless it succeeded."""
        deadline = time.monotonic() + timeout_s
        run = self.run(dag_id, run_id)
        while run["state"] not in ("success", "failed"):
            assert time.monotonic() < deadline, f"{run_id} still {run['state']} after {timeout_s} s"
            time.sleep(1)
            run = self.run(dag_id, run_id)
        if run["state"] != "success":
            tasks = self.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances")
            failed = [t for t in tasks["task_instances"] if t["state"] != "success"]
            logs = "\n".join(
                f"--- {t['task_id']} ({t['state']}):\n"
                + self.log(dag_id, run_id, t["task_id"], max(1, t["try_number"]))[-3000:]
                for t in failed
            )
            pytest.fail(f"{dag_id} run {run_id} ended {run['state']}:\n{logs}")
        return run


def wait_parsed(api: AirflowApi, dag_id: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while api.session.get(f"{api.url}/api/v2/dags/{dag_id}", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, f"Airflow has not parsed {dag_id} in {timeout_s} s"
        time.sleep(1)


@pytest.fixture(scope="module")
def api() -> AirflowApi:
    try:
        health = requests.get(f"{AIRFLOW_URL}/api/v2/monitor/health", timeout=10).json()
    except requests.RequestException as e:
        pytest.fail(f"Airflow is not up at {AIRFLOW_URL} ({e}): run `build/sluice up`")
    unhealthy = [k for k, v in health.items() if v.get("status") != "healthy"]
    assert not unhealthy, f"Airflow components not healthy: {unhealthy} ({health})"
    client = AirflowApi(
        AIRFLOW_URL, AIRFLOW_STATE / "secrets" / "simple_auth_manager_passwords.json"
    )
    for dag_id in (STREAM, RANDOMUSER):
        wait_parsed(client, dag_id)
    errors = client.get("/importErrors")
    assert errors["total_entries"] == 0, errors
    return client


# --- the stack's side -----------------------------------------------------------------------


def airflow_environment() -> dict[str, str]:
    """The environment `sluice up` gave the scheduler (paths of the secret files, no secret)."""
    pid = int((STACK / "run" / "airflow-scheduler.pid").read_text().split()[0])
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD" in env, "not the scheduler sluice up started"
    return env


def superuser_env() -> dict[str, str]:
    """The environment for psql/pg_dump as the postgres superuser over TCP: its generated
    password (scram-sha-256) from the 0600 secret file, through PGPASSWORD, never argv."""
    password = (STACK / "airflow" / "secrets" / "pg_superuser_password").read_text()
    return {**os.environ, "PGPASSWORD": password}


def airflow_sql(query: str) -> str:
    """A query on the airflow database as the postgres superuser (unaligned, tuples only)."""
    result = subprocess.run(
        [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d",
         "airflow", "-X", "-tA", "-c", query],
        capture_output=True, text=True, timeout=60, check=False, env=superuser_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@dataclass
class LaneRun:
    """A lane with its own processor and manifest folder: what a DAG run is pointed at."""

    lane: Lane
    processor_url: str
    state_dir: Path

    def settings(self, batch_size: int, **more: Any) -> dict[str, Any]:
        return {
            "keyspace": self.lane.keyspace,
            "raw_topic": self.lane.raw,
            "dlq_topic": self.lane.dlq,
            "group_id": self.lane.group,
            "processor_url": self.processor_url,
            "state_dir": str(self.state_dir),
            "batch_size": batch_size,
            **more,
        }


@contextmanager
def lane_processor(sluice: Path, lane: Lane, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            process_command(sluice, lane, metrics_port=port), stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with suppress(requests.RequestException):
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            assert process.poll() is None, f"sluice process exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "sluice process not healthy in 60 s"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def lane_run(sluice_bin: Path, lane: Lane, tmp_path: Path) -> Iterator[LaneRun]:
    with lane_processor(sluice_bin, lane, tmp_path / "process.log") as url:
        yield LaneRun(lane, url, tmp_path / "dag-state")


def wait_processed(lane: Lane, timeout_s: float = 60) -> None:
    """Until the lane's processor committed everything its raw topic holds."""
    deadline = time.monotonic() + timeout_s
    while True:
        marks = high_watermarks(lane.raw)
        done = committed_offsets(lane.group, lane.raw)
        if all(done.get(p, -1) >= high for p, high in marks.items() if high > 0):
            return
        assert time.monotonic() < deadline, f"not committed: {done} vs {marks}"
        time.sleep(0.5)


def verified_batch(sluice: Path, lane: Lane, batch: dict[str, Any]) -> dict[str, Any]:
    """`sluice verify --manifest` of a batch: it balances, every user accounted for."""
    report = verify(sluice, lane, True, "--manifest", batch["manifest_path"])
    assert report["ok"] is True
    assert report["produced"] == batch["count"]
    assert report["missing"] == 0 and report["in_both"] == 0
    assert report["stored"] + report["superseded"] + report["dead_lettered"] == batch["count"]
    return report


# --- `airflow dags test` (DAGs paused, the scheduler leaves these runs alone) ------------------


def unique_logical_date() -> datetime:
    """A past 10-minute boundary after the DAG's start date (2026-01-01) that no earlier test
    session used (likely): its own batch key."""
    minutes = 10 * random.randrange(40_000)
    return datetime(2026, 1, 2, tzinfo=UTC) + timedelta(minutes=minutes)


def dags_test(
    conf: dict[str, Any], logical_date: datetime, cwd: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = airflow_environment() | extra_env
    result = subprocess.run(
        [str(AIRFLOW_STATE / "venv" / "bin" / "airflow"), "dags", "test", "-c", json.dumps(conf),
         STREAM, logical_date.isoformat()],
        capture_output=True, text=True, timeout=240, env=env, cwd=cwd, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def dags_test_state(logical_date: datetime) -> tuple[str, str]:
    """State and run id of the newest run of STREAM at `logical_date` (from PostgreSQL:
    `dags test` exits 0 even when a task failed)."""
    row = airflow_sql(
        f"SELECT state, run_id FROM dag_run WHERE dag_id = '{STREAM}' "
        f"AND logical_date = '{logical_date.isoformat()}' ORDER BY id DESC LIMIT 1"
    )
    assert row, f"no dag_run at {logical_date.isoformat()}"
    state, run_id = row.split("|", 1)
    return state, run_id


def write_times(lane: Lane) -> dict[str, tuple[Any, int]]:
    """Every row's content and the write time of its first_name cell."""
    rows = lane.session.execute(
        f"SELECT id, first_name, last_name, email, source_partition, source_offset, "
        f"writetime(first_name) AS wt FROM {lane.keyspace}.users",
        timeout=120,
    )
    return {
        str(r.id): ((r.first_name, r.last_name, r.email, r.source_partition, r.source_offset), r.wt)
        for r in rows
    }


def test_dags_test_twice_for_one_date_adds_and_changes_nothing(
    api: AirflowApi, sluice_bin: Path, lane_run: LaneRun, tmp_path: Path
) -> None:
    date = unique_logical_date()
    conf = {"settings": lane_run.settings(2000)}
    first = dags_test(conf, date, tmp_path)
    state, run_id = dags_test_state(date)
    assert state == "success", first.stdout[-3000:] + first.stderr[-3000:]
    batch = api.xcom(STREAM, run_id, "produce_batch")
    key = batch["key"]
    # dags test of 12:00 gives the interval [11:50, 12:00): the batch is keyed by its start
    assert key == (date - timedelta(minutes=10)).strftime("%Y%m%dT%H%M%SZ")
    assert batch["count"] == 2000 and batch["reused"] is False
    report = verified_batch(sluice_bin, lane_run.lane, batch)
    rows_before = write_times(lane_run.lane)
    assert len(rows_before) == report["stored"]
    marks_before = high_watermarks(lane_run.lane.raw)
    assert sum(marks_before.values()) == 2000

    second = dags_test(conf, date, tmp_path)
    state, second_id = dags_test_state(date)
    assert state == "success", second.stdout[-3000:] + second.stderr[-3000:]
    assert api.xcom(STREAM, second_id, "produce_batch")["reused"] is True
    assert f"interval {key} is done" in second.stdout + second.stderr
    assert high_watermarks(lane_run.lane.raw) == marks_before, "the re-run sent records"
    wait_processed(lane_run.lane)
    rows_after = write_times(lane_run.lane)
    assert rows_after == rows_before, "the re-run added or rewrote rows"
    verified_batch(sluice_bin, lane_run.lane, batch)


def test_canary_password_appears_in_no_log_xcom_or_rendered_field(
    api: AirflowApi, sluice_bin: Path, lane_run: LaneRun, tmp_path: Path
) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    digest = hashlib.sha256(canary.encode()).hexdigest()
    seen = tmp_path / "seen"
    # A wrapper around sluice records (as a hash) that the password reached the child.
    wrapper = tmp_path / "sluice-wrapper"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'[ -n "$SLUICE_CQL_PASSWORD" ] && printf %s "$SLUICE_CQL_PASSWORD" | sha256sum >> {seen}\n'
        f'exec {sluice_bin.resolve()} "$@"\n'
    )
    wrapper.chmod(0o755)
    conf = {
        "settings": lane_run.settings(500, cassandra_user="sluice_canary", sluice_bin=str(wrapper))
    }
    date = unique_logical_date()
    started = time.time()
    result = dags_test(conf, date, tmp_path, SLUICE_CQL_PASSWORD=canary)
    state, run_id = dags_test_state(date)
    assert state == "success", result.stdout[-3000:] + result.stderr[-3000:]
    assert digest in seen.read_text(), "the password never reached sluice (the check is void)"

    # `dags test` runs the tasks in its own process: their logs are its output (checked for
    # the task lines, then for the canary); Airflow's own logs and log folder are checked too.
    output = result.stdout + result.stderr
    assert "[DAG TEST] end task task_id=verify_batch" in output
    assert canary not in output, "the canary is in the output of airflow dags test"
    logs = [AIRFLOW_STATE / "home" / "logs", *STACK.glob("logs/airflow-*.log")]
    files = [p for root in logs for p in ([root] if root.is_file() else root.rglob("*"))]
    recent = [p for p in files if p.is_file() and p.stat().st_mtime >= started - 5]
    leaked = [str(p) for p in recent if canary.encode() in p.read_bytes()]
    assert not leaked, f"the canary is in {leaked}"
    # XComs and rendered fields are in the metadata database: all of it, dumped.
    assert int(airflow_sql(f"SELECT count(*) FROM xcom WHERE run_id = '{run_id}'")) >= 4
    rendered = airflow_sql(
        f"SELECT count(*) FROM rendered_task_instance_fields WHERE run_id = '{run_id}'"
    )
    assert int(rendered) >= 4
    dump = subprocess.run(
        [str(PG_BIN / "pg_dump"), "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "airflow"],
        capture_output=True, timeout=120, check=True, env=superuser_env(),
    ).stdout  # fmt: skip
    assert run_id.encode() in dump
    assert canary.encode() not in dump, "the canary is in the Airflow database"


# --- the real scheduler, through the REST API ------------------------------------------------


def settle_and_pause(api: AirflowApi) -> None:
    """Lets the runs in progress finish while the DAGs are still unpaused (a paused DAG's
    runs are no longer scheduled, so waiting after pausing would wait for nothing), pauses
    both DAGs, then marks failed a run the cron may have started in between."""
    active_path = f"/dags/{STREAM}/dagRuns?state=running&state=queued"
    deadline = time.monotonic() + 120
    while api.get(active_path)["total_entries"] and time.monotonic() < deadline:
        time.sleep(1)
    api.set_paused(STREAM, True)
    api.set_paused(RANDOMUSER, True)
    for run in api.get(active_path)["dag_runs"]:
        api.call(
            "PATCH",
            f"/dags/{STREAM}/dagRuns/{quote(run['dag_run_id'], safe='')}",
            json={"state": "failed"},
        )


@pytest.fixture(scope="module")
def scheduled(
    api: AirflowApi, sluice_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowApi]:
    """Both DAGs unpaused, with the Variable pointing the scheduled run that unpausing starts
    at a parking lane (batch 500); afterwards paused again, runs finished, Variable restored."""
    folder = tmp_path_factory.mktemp("parking")
    parking = make_lane(REPO)
    previous = api.call("GET", f"/variables/{VARIABLE}", ok=(200, 404))
    with lane_processor(sluice_bin, parking, folder / "process.log") as url:
        settings = LaneRun(parking, url, folder / "dag-state").settings(500)
        body = {"key": VARIABLE, "value": json.dumps(settings)}
        if previous and "value" in previous:
            api.call("PATCH", f"/variables/{VARIABLE}", json=body)
        else:
            api.call("POST", "/variables", json=body, ok=(200, 201))
        try:
            api.set_paused(STREAM, False)
            api.set_paused(RANDOMUSER, False)
            yield api
        finally:
            settle_and_pause(api)
            if previous and "value" in previous:
                api.call(
                    "PATCH",
                    f"/variables/{VARIABLE}",
                    json={"key": VARIABLE, "value": previous["value"]},
                )
            else:
                api.call("DELETE", f"/variables/{VARIABLE}", ok=(200, 204))
    drop_lane(parking)


def test_rest_triggered_run_on_the_real_scheduler(
    scheduled: AirflowApi, sluice_bin: Path, lane_run: LaneRun
) -> None:
    api = scheduled
    asked = time.monotonic()
    run_id = api.trigger(STREAM, {"settings": lane_run.settings(10_000)})
    run = api.wait(STREAM, run_id, timeout_s=240)
    trigger_to_success = time.monotonic() - asked
    batch = api.xcom(STREAM, run_id, "produce_batch")
    assert batch["count"] == 10_000 and batch["reused"] is False
    assert batch["topic"] == lane_run.lane.raw
    report = verified_batch(sluice_bin, lane_run.lane, batch)
    assert len(set(stored_ids(lane_run.lane))) == report["stored"]
    summary = api.xcom(STREAM, run_id, "quality_summary")
    assert json.dumps(report["stored"]) in json.dumps(summary), summary

    started = datetime.fromisoformat(run["start_date"])
    verified = api.task(STREAM, run_id, "verify_batch")
    to_verified = datetime.fromisoformat(verified["end_date"]) - started
    to_end = datetime.fromisoformat(run["end_date"]) - started
    print(
        f"\nFIGURE run start -> verified batch of 10,000: {to_verified.total_seconds():.1f} s "
        f"(run start -> success {to_end.total_seconds():.1f} s, trigger -> success seen "
        f"{trigger_to_success:.1f} s)"
    )
    assert to_verified < timedelta(seconds=60)

    events = api.get("/assets/events?order_by=-timestamp&limit=50")["asset_events"]
    assert any(e.get("source_run_id") == run_id for e in events), "no event on sluice.users"

    # The run's metadata is in PostgreSQL (the airflow database, read as its superuser).
    row = airflow_sql(
        f"SELECT state, run_type, conf::text FROM dag_run WHERE dag_id = '{STREAM}' "
        f"AND run_id = '{run_id}'"
    )
    state, run_type, conf = row.split("|", 2)
    assert (state, run_type) == ("success", "manual")
    assert lane_run.lane.keyspace in conf
    tasks = airflow_sql(
        f"SELECT task_id, state FROM task_instance WHERE dag_id = '{STREAM}' "
        f"AND run_id = '{run_id}' ORDER BY task_id"
    ).splitlines()
    assert tasks == [
        "check_health|success",
        "produce_batch|success",
        "quality_summary|success",
        "verify_batch|success",
        "wait_committed|success",
    ]


def test_produce_fails_first_then_retry_sends_no_duplicates(
    scheduled: AirflowApi, sluice_bin: Path, lane_run: LaneRun
) -> None:
    api = scheduled
    closed = free_port()  # nothing listens there: the broker is unreachable for try 1
    conf = {
        "settings": lane_run.settings(2000),
        "first_try": {"produce_batch": {"bootstrap": f"127.0.0.1:{closed}"}},
    }
    run_id = api.trigger(STREAM, conf)
    api.wait(STREAM, run_id, timeout_s=200)
    produce = api.task(STREAM, run_id, "produce_batch")
    assert produce["try_number"] == 2, produce
    first_log = api.log(STREAM, run_id, "produce_batch", 1)
    assert f"127.0.0.1:{closed}" in first_log and "exited with" in first_log, first_log[-2000:]
    second_log = api.log(STREAM, run_id, "produce_batch", 2)
    assert "producing 2000 users" in second_log, second_log[-2000:]

    batch = api.xcom(STREAM, run_id, "produce_batch")
    assert sum(high_watermarks(lane_run.lane.raw).values()) == 2000, "records beyond the batch"
    report = verified_batch(sluice_bin, lane_run.lane, batch)
    ids = stored_ids(lane_run.lane)
    assert len(ids) == len(set(ids)) == report["stored"]
    whole = verify(sluice_bin, lane_run.lane, True)  # the whole lane, no manifest
    assert whole["produced"] == 2000 and whole["missing"] == 0


def test_randomuser_to_kafka_end_to_end(
    scheduled: AirflowApi, sluice_bin: Path, lane_run: LaneRun, tmp_path: Path
) -> None:
    api = scheduled
    port = free_port()
    with (tmp_path / "api.log").open("ab") as out:
        server = subprocess.Popen(
            [str(sluice_bin), "api", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=out,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            with suppress(requests.RequestException):
                if requests.get(f"{url}/api/?results=1", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline and server.poll() is None, "sluice api not up"
            time.sleep(0.2)
        conf = {"settings": {"raw_topic": lane_run.lane.raw, "api_url": url, "api_results": 100}}
        run_id = api.trigger(RANDOMUSER, conf)
        api.wait(RANDOMUSER, run_id, timeout_s=120)
    finally:
        server.terminate()
        server.wait(30)
    records = api.xcom(RANDOMUSER, run_id, "fetch_users", key="records")
    ids = {r["id"] for r in records}
    assert len(ids) == 100 and all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids)
    assert sum(high_watermarks(lane_run.lane.raw).values()) == 100
    wait_processed(lane_run.lane)
    assert ids <= set(stored_ids(lane_run.lane)), "users of the API are not in Cassandra"
    report = verify(sluice_bin, lane_run.lane, True)
    assert report["produced"] == 100 and report["stored"] == 100
