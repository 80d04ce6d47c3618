"""Exact accounting on the real stack: `sluice verify` on a pipeline that keeps flowing, one
produce run reconciled by its manifest, several versions of one id (the newest wins,
whatever crashes and outages happen between them), and topics holding transaction markers."""

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.conftest import free_port
from tests.e2e.helpers import (
    BOOTSTRAP,
    Lane,
    await_session,
    committed_offsets,
    generate,
    metric,
    process_command,
    produce_json,
    run_processor_to_end,
    verify,
    wait_for_metric,
)
from tests.endpoints import SLUICE_FLAGS
from tests.stack_control import start_stack, stop_component

pytestmark = pytest.mark.usefixtures("stack")


def run_verify(sluice: Path, lane: Lane, *extra: str) -> tuple[int, dict]:
    """`sluice verify` on a lane, either verdict: (exit code, JSON report)."""
    report = verify(sluice, lane, None, *extra)
    return (0 if report["ok"] else 1), report


def produce_run(sluice: Path, lane: Lane, manifest: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(sluice),
            "produce",
            "--topic",
            lane.raw,
            "--manifest",
            str(manifest),
            "--metrics-port",
            "0",
            *SLUICE_FLAGS,
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def high_watermarks(topic: str) -> dict[int, int]:
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"marks-{uuid.uuid4()}",
            "isolation.level": "read_uncommitted",  # the log's end, not the last stable offset
        }
    )
    metadata = consumer.list_topics(topic, timeout=10)
    marks = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in metadata.topics[topic].partitions
    }
    consumer.close()
    return marks


def test_verify_passes_on_a_live_pipeline_and_names_a_row_deleted_while_data_flows(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    port = free_port()
    processor = subprocess.Popen(
        process_command(sluice_bin, lane, metrics_port=port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    producer = produce_run(
        sluice_bin,
        lane,
        tmp_path / "live.json",
        "--rate",
        "400",
        "--duration",
        "70",
        "--bad-ratio",
        "0.05",
        "--seed",
        "31",
    )
    try:
        assert wait_for_metric(port, "sluice_process_written_total", 2000, 60), "no rows written"
        reports = [run_verify(sluice_bin, lane) for _ in range(3)]
        for code, report in reports:
            assert code == 0 and report["ok"], report
            assert report["missing"] == 0 and report["not_yet_processed"] == 0
            assert (
                report["stored"] + report["dead_lettered"] + report["superseded"]
                == (report["produced"])
            )
        produced = [report["produced"] for _, report in reports]
        assert produced[0] < produced[1] < produced[2], "the snapshots did not move with the data"

        first_row = lane.session.execute(
            f"SELECT id, source_partition, source_offset FROM {lane.keyspace}.users LIMIT 1"
        ).one()
        lane.session.execute(f"DELETE FROM {lane.keyspace}.users WHERE id = %s", (first_row.id,))
        code, report = run_verify(sluice_bin, lane)
        assert code == 1 and not report["ok"]
        assert report["missing"] == 1
        assert report["missing_records"] == [
            {
                "id": str(first_row.id),
                "partition": first_row.source_partition,
                "offset": first_row.source_offset,
            }
        ]
        assert producer.poll() is None, "data must still be flowing during the check"
    finally:
        producer.kill()
        processor.send_signal(signal.SIGTERM)
        processor.wait(60)


def test_verify_with_a_manifest_reconciles_exactly_that_produce_run(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    run = produce_run(
        sluice_bin, lane, first, "--count", "3000", "--bad-ratio", "0.1", "--seed", "41"
    )
    assert run.wait(120) == 0, run.stderr.read() if run.stderr else ""
    run = produce_run(
        sluice_bin, lane, second, "--count", "2000", "--bad-ratio", "0.1", "--seed", "42"
    )
    assert run.wait(120) == 0, run.stderr.read() if run.stderr else ""
    run_processor_to_end(sluice_bin, lane)

    manifest = json.loads(first.read_text())
    code, report = run_verify(sluice_bin, lane, "--manifest", str(first))
    assert code == 0 and report["ok"], report
    assert report["produced"] == manifest["count"] == 3000
    assert report["stored"] == manifest["good"]
    assert report["dead_lettered"] == sum(manifest["bad_by_kind"].values())
    assert report["topic"] == lane.raw
    assert {int(p): s["end"] - 1 for p, s in report["snapshot"].items()} == {
        int(p): r["last_offset"] for p, r in manifest["partitions"].items()
    }

    # A row of the second run disappears: the first run still reconciles, the second
    # run and the whole topic do not.
    second_manifest = json.loads(second.read_text())
    partition, span = next(iter(second_manifest["partitions"].items()))
    victim = lane.session.execute(
        f"SELECT id FROM {lane.keyspace}.users WHERE source_partition = %s "
        "AND source_offset = %s ALLOW FILTERING",
        (int(partition), span["last_offset"]),
    ).one()
    if victim is None:  # the last record of that partition was a dead letter: take another
        victim = lane.session.execute(
            f"SELECT id FROM {lane.keyspace}.users WHERE source_partition = %s "
            "AND source_offset > %s LIMIT 1 ALLOW FILTERING",
            (int(partition), span["first_offset"]),
        ).one()
    lane.session.execute(f"DELETE FROM {lane.keyspace}.users WHERE id = %s", (victim.id,))
    assert run_verify(sluice_bin, lane, "--manifest", str(first))[0] == 0
    code, report = run_verify(sluice_bin, lane, "--manifest", str(second))
    assert code == 1 and [r["id"] for r in report["missing_records"]] == [str(victim.id)]
    code, report = run_verify(sluice_bin, lane)
    assert code == 1 and report["produced"] == 5000 and report["missing"] == 1


def test_verify_fails_naming_the_backlog_when_the_group_has_not_committed(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=61, count=300, bad_ratio=0.0)
    produce_json(lane.raw, users)
    started = time.monotonic()
    code, report = run_verify(sluice_bin, lane, "--timeout", "2")
    assert code == 1 and not report["ok"]
    assert report["not_yet_processed"] == 300
    assert time.monotonic() - started < 60


def versions_of(users: list[dict]) -> list[list[dict]]:
    """Three versions of each user: the last name and email change each time."""
    out = []
    for user in users:
        base = {k: v for k, v in user.items() if k != "_bad_kind"}
        out.append(
            [
                {
                    **base,
                    "last_name": f"Version{n}",
                    "email": f"v{n}.{base['username']}@example.com",
                    "_bad_kind": "none",
                }
                for n in (1, 2, 3)
            ]
        )
    return out


def test_the_last_version_of_each_id_is_stored_through_crashes_and_a_cassandra_restart(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=71, count=2000, bad_ratio=0.0)
    versions = versions_of(users)
    # Half the ids send their three versions back to back (one millisecond apart at most),
    # the other half in three rounds.
    back_to_back = [v for trio in versions[:1000] for v in trio]
    rounds = [[trio[n] for trio in versions[1000:]] for n in range(3)]
    produce_json(lane.raw, back_to_back + rounds[0] + rounds[1])

    port = free_port()
    command = process_command(
        sluice_bin,
        lane,
        "--max-in-flight",
        "50",
        "--cassandra-batch",
        "8",
        "--cassandra-window",
        "2",
        "--session-timeout-ms",
        "6000",
        metrics_port=port,
    )
    processor = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # A crash mid-work: what was not committed is written again by the next instance.
        deadline = time.monotonic() + 60
        while (metric(port, "sluice_process_written_total") or 0) < 300:
            assert time.monotonic() < deadline, "the first instance wrote nothing"
            time.sleep(0.02)
        processor.send_signal(signal.SIGKILL)
        processor.wait(30)
        assert sum(committed_offsets(lane.group, lane.raw).values()) < 4000, "killed too late"
        processor = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The last round arrives while Cassandra is down: its writes fail, wait behind
        # the retries of older versions, and are written after Cassandra is back.
        stop_component(sluice_bin, "cassandra")
        try:
            produce_json(lane.raw, rounds[2])
            assert wait_for_metric(port, "sluice_process_retries_total", 0, 90)
        finally:
            start_stack(sluice_bin)
        assert wait_for_metric(port, "sluice_process_written_total", 0, 120)
    finally:
        processor.send_signal(signal.SIGKILL)
        processor.wait(30)
    run_processor_to_end(sluice_bin, lane, "--cassandra-batch", "8")
    await_session(lane)  # the test's own driver session outlived the restart

    rows = {
        str(row.id): row
        for row in lane.session.execute(
            f"SELECT id, last_name, email, source_offset FROM {lane.keyspace}.users", timeout=120
        )
    }
    assert len(rows) == len(users)
    stale = [
        (user["id"], rows[user["id"]].last_name)
        for user in users
        if rows[user["id"]].last_name != "Version3"
        or rows[user["id"]].email != f"v3.{user['username']}@example.com"
    ]
    assert stale == [], f"{len(stale)} rows hold an older version, e.g. {stale[:5]}"
    code, report = run_verify(sluice_bin, lane)
    assert code == 0 and report["ok"], report
    assert report["produced"] == 6000
    assert report["stored"] == 2000 and report["superseded"] == 4000


def test_transaction_markers_and_aborted_records_are_not_counted_and_stop_at_end_returns(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=81, count=600, bad_ratio=0.0)
    committed, aborted = users[:500], users[500:]
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": f"tx-{uuid.uuid4()}"})
    producer.init_transactions(30)
    for batch, commit in ((committed[:250], True), (aborted, False), (committed[250:], True)):
        producer.begin_transaction()
        for user in batch:
            value = {k: v for k, v in user.items() if k != "_bad_kind"}
            producer.produce(lane.raw, key=user["id"].encode(), value=json.dumps(value).encode())
        assert producer.flush(30) == 0  # on the log: an abort would drop unsent records
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)
    # Every partition now ends with a transaction marker, which no record's offset reaches.
    assert sum(high_watermarks(lane.raw).values()) > len(users)

    started = time.monotonic()
    run_processor_to_end(sluice_bin, lane)
    assert time.monotonic() - started < 120
    ids = {str(row.id) for row in lane.session.execute(f"SELECT id FROM {lane.keyspace}.users")}
    assert ids == {u["id"] for u in committed}
    report = verify(sluice_bin, lane)
    assert report["produced"] == 500 and report["stored"] == 500


def test_verify_fails_naming_a_row_that_claims_another_ids_record_and_keeps_the_real_one(
    sluice_bin: Path, lane: Lane, tmp_path: Path
) -> None:
    manifest = tmp_path / "run.json"
    run = produce_run(
        sluice_bin, lane, manifest, "--count", "500", "--bad-ratio", "0", "--seed", "8"
    )
    assert run.wait(120) == 0, run.stderr.read() if run.stderr else ""
    run_processor_to_end(sluice_bin, lane)
    assert run_verify(sluice_bin, lane)[0] == 0
    real = lane.session.execute(
        f"SELECT id, source_partition, source_offset FROM {lane.keyspace}.users LIMIT 1"
    ).one()
    # A row of an id no record has, naming a real record's position (a bug that wrote
    # the wrong id, or a hand-made row): the position's record is still stored by its own
    # row, and the stray row is named.
    forged = uuid.uuid4()
    lane.session.execute(
        f"INSERT INTO {lane.keyspace}.users (id, first_name, source_topic, source_partition, "
        "source_offset) VALUES (%s, 'Nobody', %s, %s, %s)",
        (forged, lane.raw, real.source_partition, real.source_offset),
    )
    code, report = run_verify(sluice_bin, lane)
    assert code == 1 and not report["ok"], report
    assert report["unexpected_rows"] == 1 and report["missing"] == 0, report
    assert report["stored"] == 500, "the real record is still stored by its own row"
    assert report["unexpected_row_examples"] == [
        {"partition": real.source_partition, "offset": real.source_offset, "id": str(forged)}
    ]
    lane.session.execute(f"DELETE FROM {lane.keyspace}.users WHERE id = %s", (forged,))
    assert run_verify(sluice_bin, lane)[0] == 0
