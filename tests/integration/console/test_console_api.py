"""The console's JSON API (`sluice ui`, started by `sluice up` on :9000) against the real
stack: every endpoint, the bad parameters named in API.md, and the request guard (CSRF,
foreign Origin and Host, the token beyond loopback). A second console is started on a
free port where a test needs other settings."""

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from tests.conftest import free_port
from tests.endpoints import BOOTSTRAP

T = TypeVar("T")

UI = os.environ.get("SLUICE_TEST_UI", "http://127.0.0.1:9000")
API = f"{UI}/api/v1"


@pytest.fixture
def session() -> requests.Session:
    """A browser-like session: the session cookie and its CSRF token on every POST."""
    s = requests.Session()
    answer = s.get(f"{API}/session", timeout=10)
    assert answer.status_code == 200
    s.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return s


def wait_for(predicate: Callable[[], T], timeout: float = 60, every: float = 1.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def test_page_and_bundle_are_served_from_the_binary_without_any_external_url() -> None:
    page = requests.get(f"{UI}/", timeout=10)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "/app.js" in page.text
    script = requests.get(f"{UI}/app.js", timeout=10)
    assert script.status_code == 200 and len(script.content) > 10_000
    for text in (page.text, script.text):
        assert "cdn." not in text and "googleapis" not in text and "unpkg" not in text


def test_cluster_names_the_broker_the_controller_and_the_cluster_id() -> None:
    cluster = requests.get(f"{API}/cluster", timeout=10).json()
    assert cluster["cluster_id"]
    assert [b["port"] for b in cluster["brokers"]] == [int(BOOTSTRAP.rsplit(":", 1)[1])]
    assert cluster["controller_id"] == cluster["brokers"][0]["id"]


def test_topics_list_the_raw_topic_with_its_partitions_and_counts_matching_watermarks() -> None:
    topics = {t["name"]: t for t in requests.get(f"{API}/topics", timeout=20).json()["topics"]}
    raw = topics["users.raw"]
    assert raw["partitions"] == 6 and raw["replication_factor"] == 1
    assert raw["under_replicated_partitions"] == 0 and raw["in_sync_replicas"] == 1
    assert raw["messages"] > 0 and raw["size_bytes"] > 0
    assert topics["__consumer_offsets"]["internal"] is True
    detail = requests.get(f"{API}/topics/users.raw", timeout=20).json()
    assert [p["partition"] for p in detail["partition_details"]] == list(range(6))
    assert all(p["messages"] == p["high"] - p["low"] for p in detail["partition_details"])
    configs = {c["name"]: c for c in detail["configs"]}
    assert "retention.ms" in configs and "cleanup.policy" in configs


def test_an_unknown_topic_is_a_404_naming_the_topic() -> None:
    for path in ("topics/no.such.topic", "topics/no.such.topic/messages"):
        answer = requests.get(f"{API}/{path}", timeout=10)
        assert answer.status_code == 404, path
        assert answer.json()["parameter"] == "topic" and "no.such.topic" in answer.json()["error"]


def test_newest_messages_are_decoded_through_the_registry_with_paging_offsets() -> None:
    answer = requests.get(f"{API}/topics/users.raw/messages?partition=0&newest=5", timeout=30)
    page = answer.json()
    assert answer.status_code == 200 and len(page["messages"]) == 5
    offsets = [m["offset"] for m in page["messages"]]
    assert offsets == list(range(page["high"] - 5, page["high"]))
    good = [m for m in page["messages"] if m["value_format"] == "avro"]
    assert good, page["messages"]
    assert good[0]["schema_id"] >= 1 and "email" in good[0]["value"]
    assert page["prev_offset"] == page["high"] - 10 and page["next_offset"] is None
    older = requests.get(
        f"{API}/topics/users.raw/messages?partition=0&offset={page['prev_offset']}&limit=5",
        timeout=30,
    ).json()
    assert [m["offset"] for m in older["messages"]] == list(
        range(page["high"] - 10, page["high"] - 5)
    )


def test_from_a_timestamp_the_browser_starts_at_the_first_record_at_or_after_it() -> None:
    recent = requests.get(
        f"{API}/topics/users.raw/messages?partition=1&newest=20", timeout=30
    ).json()["messages"]
    pivot = recent[10]["timestamp_ms"]
    page = requests.get(
        f"{API}/topics/users.raw/messages?partition=1&timestamp={pivot}&limit=3", timeout=30
    ).json()
    assert page["messages"][0]["timestamp_ms"] >= pivot
    assert page["messages"][0]["offset"] <= recent[10]["offset"]


@pytest.mark.parametrize(
    ("query", "parameter", "status"),
    [
        ("partition=99", "partition", 404),
        ("partition=0&offset=999999999999", "offset", 400),
        ("offset=5", "partition", 400),
        ("partition=0&limit=501", "limit", 400),
        ("partition=x", "partition", 400),
        ("partition=0&offset=1&newest=2", "offset", 400),
    ],
)
def test_bad_browse_parameters_are_4xx_naming_the_parameter(
    query: str, parameter: str, status: int
) -> None:
    answer = requests.get(f"{API}/topics/users.raw/messages?{query}", timeout=10)
    assert answer.status_code == status, answer.text
    assert answer.json()["parameter"] == parameter


def test_undecodable_values_are_shown_as_hex_with_a_note(session: requests.Session) -> None:
    topic = f"console-bytes-{uuid.uuid4().hex[:8]}"
    assert session.post(f"{API}/topics", json={"name": topic}, timeout=20).status_code == 201
    producer = Producer({"bootstrap.servers": BOOTSTRAP})
    producer.produce(topic, value=b"\xff\x00\x01", key=b"k", headers=[("h", b"v")])
    producer.produce(topic, value=b"\x00\x00\x00\x7f\xff\x02", key=b"k2")  # unknown schema id
    producer.produce(topic, value=b'{"id": "x", "n": 1}')
    producer.flush(10)
    try:
        page = requests.get(f"{API}/topics/{topic}/messages?partition=0&offset=0", timeout=30)
        messages = page.json()["messages"]
        assert [m["value_format"] for m in messages] == ["hex", "hex", "json"]
        assert messages[0]["value_hex"] == "ff0001" and "not UTF-8" in messages[0]["note"]
        assert messages[0]["headers"] == [{"key": "h", "value": "v"}]
        assert messages[1]["schema_id"] == 0x7FFF and "32767" in messages[1]["note"]
        assert messages[2]["value"] == {"id": "x", "n": 1}
    finally:
        session.post(f"{API}/topics/{topic}/delete", timeout=20)


def test_a_search_needs_a_bound_and_then_reports_progress_and_matches() -> None:
    unbounded = requests.get(f"{API}/topics/users.raw/search?q=example.com", timeout=10)
    assert unbounded.status_code == 400 and unbounded.json()["parameter"] == "max_scan"
    newest = requests.get(f"{API}/topics/users.raw/messages?partition=2&newest=1", timeout=30)
    email = newest.json()["messages"][0]["value"]["email"] or "example"
    started = requests.get(
        f"{API}/topics/users.raw/search?q={email.upper()}&max_scan=600", timeout=10
    )
    assert started.status_code == 202
    search_id = started.json()["search_id"]

    def finished() -> dict | None:  # type: ignore[type-arg]
        status = requests.get(f"{API}/searches/{search_id}", timeout=10).json()
        return status if status["state"] != "running" else None

    status = wait_for(finished, timeout=60)
    assert status and status["state"] == "done", status
    assert 0 < status["scanned"] <= 600
    assert any(email in json.dumps(m["value"]) for m in status["matches"])


def test_groups_show_the_processor_with_members_assignments_and_lag() -> None:
    groups = {g["group_id"]: g for g in requests.get(f"{API}/groups", timeout=20).json()["groups"]}
    assert groups["sluice-processor"]["members"] >= 1
    detail = requests.get(f"{API}/groups/sluice-processor", timeout=30).json()
    assigned = sorted(a["partition"] for m in detail["members"] for a in m["assignments"])
    assert assigned == list(range(6))
    raw = [o for o in detail["offsets"] if o["topic"] == "users.raw"]
    assert len(raw) == 6
    assert all(o["lag"] == o["high"] - o["committed"] for o in raw)
    assert detail["total_lag"] == sum(o["lag"] for o in detail["offsets"])
    assert requests.get(f"{API}/groups/no-such-group", timeout=20).status_code == 404


def test_resetting_a_stopped_groups_offsets_moves_its_commits_and_an_active_group_is_refused(
    session: requests.Session,
) -> None:
    group = f"console-reset-{uuid.uuid4().hex[:8]}"
    answer = session.post(
        f"{API}/groups/{group}/reset", json={"topic": "users.raw", "to": "earliest"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    detail = requests.get(f"{API}/groups/{group}", timeout=30).json()
    raw = {o["partition"]: o for o in detail["offsets"] if o["topic"] == "users.raw"}
    extent = requests.get(f"{API}/topics/users.raw", timeout=20).json()["partition_details"]
    assert {p: o["committed"] for p, o in raw.items()} == {p["partition"]: p["low"] for p in extent}
    latest = session.post(
        f"{API}/groups/{group}/reset", json={"topic": "users.raw", "to": "latest"}, timeout=30
    )
    assert all(o["committed"] >= raw[o["partition"]]["committed"] for o in latest.json()["offsets"])
    busy = session.post(
        f"{API}/groups/sluice-processor/reset",
        json={"topic": "users.raw", "to": "earliest"},
        timeout=30,
    )
    assert busy.status_code == 409 and "active member" in busy.json()["error"]
    bad = session.post(
        f"{API}/groups/{group}/reset", json={"topic": "users.raw", "to": "yesterday"}, timeout=10
    )
    assert bad.status_code == 400 and bad.json()["parameter"] == "to"


def test_creating_and_deleting_a_topic_is_seen_by_an_independent_kafka_client(
    session: requests.Session,
) -> None:
    topic = f"console-made-{uuid.uuid4().hex[:8]}"
    created = session.post(
        f"{API}/topics",
        json={"name": topic, "partitions": 3, "configs": {"cleanup.policy": "compact"}},
        timeout=20,
    )
    assert created.status_code == 201, created.text
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    metadata = admin.list_topics(timeout=10)
    assert len(metadata.topics[topic].partitions) == 3
    again = session.post(f"{API}/topics", json={"name": topic}, timeout=20)
    assert again.status_code == 409
    assert session.post(f"{API}/topics", json={"name": "bad name!"}, timeout=20).status_code == 400
    assert session.post(f"{API}/topics/{topic}/delete", timeout=20).status_code == 200
    gone = wait_for(lambda: topic not in admin.list_topics(timeout=10).topics, timeout=30)
    assert gone


def test_posts_without_the_csrf_token_or_from_a_foreign_origin_are_refused(
    session: requests.Session,
) -> None:
    bare = requests.post(f"{API}/topics", json={"name": "never-created"}, timeout=10)
    assert bare.status_code == 403 and "CSRF" in bare.json()["error"]
    foreign = session.post(
        f"{API}/topics",
        json={"name": "never-created"},
        headers={"Origin": "http://evil.example"},
        timeout=10,
    )
    assert foreign.status_code == 403 and "Origin" in foreign.json()["error"]
    stolen = requests.post(
        f"{API}/dlq/replay",
        json={"rule": "*", "dry_run": True},
        headers={"X-CSRF-Token": session.headers["X-CSRF-Token"]},
        timeout=10,
    )
    assert stolen.status_code == 403  # the token without its session cookie
    rebinding = requests.get(f"{API}/topics", headers={"Host": "attacker.example:9000"}, timeout=10)
    assert rebinding.status_code == 403
    topics = [t["name"] for t in requests.get(f"{API}/topics", timeout=20).json()["topics"]]
    assert "never-created" not in topics


def test_the_registry_view_lists_subjects_and_versions_with_the_schema_as_json() -> None:
    registry = requests.get(f"{API}/registry", timeout=20).json()
    subjects = {s["subject"]: s for s in registry["subjects"]}
    assert "users.raw-value" in subjects and subjects["users.raw-value"]["versions"]
    version = subjects["users.raw-value"]["versions"][-1]
    schema = requests.get(
        f"{API}/registry/subjects/users.raw-value/versions/{version}", timeout=10
    ).json()
    assert schema["schema"]["type"] == "record"
    assert any(f["name"] == "email" for f in schema["schema"]["fields"])
    missing = requests.get(f"{API}/registry/subjects/nope-value/versions/1", timeout=10)
    assert missing.status_code == 404
    bad = requests.get(f"{API}/registry/subjects/users.raw-value/versions/first", timeout=10)
    assert bad.status_code == 400 and bad.json()["parameter"] == "version"


def test_the_flow_reports_live_rates_for_the_running_processor_and_producer() -> None:
    def moving() -> dict | None:  # type: ignore[type-arg]
        flow = requests.get(f"{API}/flow?seconds=30", timeout=10).json()
        cpp = next(p for p in flow["processors"] if p["name"] == "cpp")
        if cpp["running"] and cpp["samples"] and cpp["samples"][-1]["consumed"] > 0:
            return flow
        return None

    flow = wait_for(moving, timeout=30)
    assert flow, "the C++ processor's consumed rate never rose above 0"
    cpp = next(p for p in flow["processors"] if p["name"] == "cpp")
    rates = [s["consumed"] for s in cpp["samples"]]
    assert 10 < sum(rates) / len(rates) < 500  # the stack streams 50 users/s
    assert flow["producer"]["running"] is True
    spark = next(p for p in flow["processors"] if p["name"] == "spark")
    assert spark["running"] is False and "9472" in spark["reason"]
    assert requests.get(f"{API}/flow?seconds=0", timeout=10).status_code == 400


def test_dead_letters_are_grouped_by_rule_and_a_dry_run_replay_counts_without_sending(
    session: requests.Session,
) -> None:
    dlq = requests.get(f"{API}/dlq?samples=2", timeout=60).json()
    assert dlq["records"] > 0 and dlq["by_rule"]
    rule, count = max(dlq["by_rule"].items(), key=lambda kv: kv[1])
    sample = dlq["samples"][rule][0]
    assert rule in sample["rules"] and sample["reason"] and sample["source_topic"] == "users.raw"
    before = requests.get(f"{API}/topics/users.raw", timeout=20).json()["messages"]
    dry = session.post(f"{API}/dlq/replay", json={"rule": rule, "dry_run": True}, timeout=60)
    assert dry.status_code == 200 and dry.json()["matched"] >= count and dry.json()["sent"] == 0
    after = requests.get(f"{API}/topics/users.raw", timeout=20).json()["messages"]
    assert after - before < dry.json()["matched"]  # nothing was replayed (the stream adds ~50/s)
    missing_rule = session.post(f"{API}/dlq/replay", json={"dry_run": True}, timeout=10)
    assert missing_rule.status_code == 400 and missing_rule.json()["parameter"] == "rule"


def test_cassandra_shows_the_row_count_the_latest_users_and_a_lookup_by_id() -> None:
    overview = requests.get(f"{API}/cassandra?latest=3", timeout=60).json()
    assert overview["rows"] > 0 and len(overview["latest"]) == 3
    user = overview["latest"][0]
    found = requests.get(f"{API}/cassandra/users/{user['id']}", timeout=20).json()
    assert found["found"] is True and found["row"]["email"] == user["email"]
    unknown = requests.get(f"{API}/cassandra/users/{uuid.uuid4()}", timeout=20).json()
    assert unknown == {"found": False, "row": None}
    bad = requests.get(f"{API}/cassandra/users/not-a-uuid", timeout=20)
    assert bad.status_code == 400 and bad.json()["parameter"] == "id"


def test_verify_runs_from_the_console_and_reports_exact_accounting(
    session: requests.Session,
) -> None:
    started = session.post(f"{API}/verify", timeout=10)
    assert started.status_code in (202, 409)

    def done() -> dict | None:  # type: ignore[type-arg]
        state = requests.get(f"{API}/verify", timeout=10).json()
        return state if state["state"] in ("done", "failed") else None

    state = wait_for(done, timeout=120, every=2)
    assert state and state["state"] == "done", state
    report = state["report"]
    assert report["ok"] is True, report
    assert report["produced"] == report["stored"] + report["superseded"] + report["dead_lettered"]
    assert sum(report["dead_by_rule"].values()) >= report["dead_lettered"]


def test_status_reports_every_component_of_the_stack() -> None:
    components = {
        c["name"]: c for c in requests.get(f"{API}/status", timeout=10).json()["components"]
    }
    for name in ("kafka", "cassandra", "registry", "process", "ui"):
        assert components[name]["running"] is True, name
    assert components["ui"]["port"] == int(UI.rsplit(":", 1)[1])


def test_airflow_runs_are_listed_or_the_reason_they_are_not() -> None:
    airflow = requests.get(f"{API}/airflow", timeout=60).json()
    if airflow["available"]:
        assert {d["dag_id"] for d in airflow["dags"]} == {
            "sluice_user_stream",
            "randomuser_to_kafka",
        }
        assert all(d["http_status"] == 200 for d in airflow["dags"])
    else:
        assert "Airflow" in airflow["reason"]
    assert "password" not in json.dumps(airflow).lower()


@pytest.fixture
def second_console(sluice_bin: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`sluice ui` bound to all interfaces with a token file, on a free port."""
    port = free_port()
    token = uuid.uuid4().hex
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    process = subprocess.Popen(
        [
            str(sluice_bin),
            "ui",
            "--bind",
            "0.0.0.0",
            "--port",
            str(port),
            "--token-file",
            str(token_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        up = wait_for(lambda: _answers(f"{url}/health"), timeout=20, every=0.2)
        assert up, "the second console did not start"
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode == 0
    assert token not in (process.stderr.read() if process.stderr else b"").decode()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_beyond_loopback_every_request_needs_the_token(second_console: tuple[str, str]) -> None:
    url, token = second_console
    assert requests.get(f"{url}/api/v1/topics", timeout=10).status_code == 401
    to_login = requests.get(f"{url}/", allow_redirects=False, timeout=10)
    assert to_login.status_code == 303 and to_login.headers["Location"] == "/login"
    wrong = requests.get(
        f"{url}/api/v1/topics", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert wrong.status_code == 401
    ok = requests.get(
        f"{url}/api/v1/topics", headers={"Authorization": f"Bearer {token}"}, timeout=20
    )
    assert ok.status_code == 200
    browser = requests.Session()
    login = browser.post(f"{url}/login", data={"token": token}, allow_redirects=False, timeout=10)
    assert login.status_code == 303 and token not in login.headers["Set-Cookie"]
    assert browser.get(f"{url}/api/v1/cluster", timeout=20).status_code == 200


def test_binding_beyond_loopback_without_a_token_is_refused_naming_the_fix(
    sluice_bin: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SLUICE_UI_TOKEN"}
    run = subprocess.run(
        [str(sluice_bin), "ui", "--bind", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert run.returncode != 0
    assert "SLUICE_UI_TOKEN" in run.stderr and "--token-file" in run.stderr


def test_a_taken_port_is_reported_with_the_port(sluice_bin: Path) -> None:
    run = subprocess.run(
        [str(sluice_bin), "ui", "--port", UI.rsplit(":", 1)[1]],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode != 0 and UI.rsplit(":", 1)[1] in run.stderr


def test_registry_and_kafka_secrets_come_from_the_environment_and_are_never_shown(
    sluice_bin: Path,
) -> None:
    canary = "ui-canary-" + uuid.uuid4().hex
    port = free_port()
    env = os.environ | {"UI_REGISTRY_PASSWORD": canary}
    process = subprocess.Popen(
        [str(sluice_bin), "ui", "--port", str(port), "--registry-user", "console",
         "--registry-password-env", "UI_REGISTRY_PASSWORD"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _answers(f"{url}/health"), timeout=20, every=0.2)
        registry = requests.get(f"{url}/api/v1/registry", timeout=20)
        assert registry.status_code == 200, registry.text
        assert registry.json()["url"].startswith("http://***@")
        assert "users.raw-value" in {s["subject"] for s in registry.json()["subjects"]}
        for path in ("/api/v1/registry", "/api/v1/flow", "/metrics"):
            answer = requests.get(f"{url}{path}", timeout=20)
            assert answer.status_code == 200 and canary not in answer.text, path
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert canary.encode() not in cmdline
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert canary not in (process.stderr.read() if process.stderr else b"").decode()

    refused = subprocess.run(
        [str(sluice_bin), "ui", "--port", str(free_port()), "-X", f"sasl.password={canary}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert refused.returncode != 0 and "--kafka-password" in refused.stderr
    assert canary not in refused.stderr
