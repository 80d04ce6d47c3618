"""`sluice dlq purge --older-than`: old dead letters are deleted after their receipts are
written to `<dlq>.purged`, so `sluice verify` still balances (their records count as
purged, never missing); the cut follows the letters' timestamps; a dry run changes
nothing; letters deleted without a receipt are named by verify; a bad --older-than and a
missing topic are refused by name."""

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.e2e.helpers import (
    BOOTSTRAP,
    Lane,
    drop_lane,
    generate,
    make_lane,
    produce_json,
    read_all,
    run_processor_to_end,
    verify,
)

pytestmark = pytest.mark.usefixtures("stack")


@pytest.fixture
def lane(repo: Path) -> Iterator[Lane]:
    created = make_lane(repo)
    yield created
    drop_lane(created)
    AdminClient({"bootstrap.servers": BOOTSTRAP}).delete_topics([f"{created.dlq}.purged"])


def purge(
    sluice: Path, topic: str, *args: str, expect_code: int = 0
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(sluice), "dlq", "purge", "--topic", topic, "--bootstrap", BOOTSTRAP, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == expect_code, result.stdout + result.stderr[-3000:]
    return result


def watermarks(topic: str) -> dict[int, tuple[int, int]]:
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"marks-{time.time_ns()}"})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30, cached=False)
            for p in sorted(partitions)
        }
    finally:
        consumer.close()


def topic_exists(topic: str) -> bool:
    return topic in AdminClient({"bootstrap.servers": BOOTSTRAP}).list_topics(timeout=30).topics


def add_letters(sluice: Path, lane: Lane, seed: int) -> list[dict]:
    """Produces a batch with invalid records and processes it to the end."""
    users = generate(sluice, seed=seed, count=1500, bad_ratio=0.2)
    produce_json(lane.raw, users)
    run_processor_to_end(sluice, lane)
    return users


def test_purged_letters_are_accounted_as_purged_and_verify_stays_exact(
    sluice_bin: Path, lane: Lane
) -> None:
    users = add_letters(sluice_bin, lane, seed=71)
    first = len(read_all(lane.dlq))
    assert first == sum(u["_bad_kind"] != "none" for u in users) > 0
    time.sleep(3)

    # A dry run names what it would purge and changes nothing.
    before = watermarks(lane.dlq)
    dry = purge(sluice_bin, lane.dlq, "--older-than", "2s", "--dry-run")
    assert f"dry run: {first} letter(s) of {lane.dlq} older than 2s would be purged" in dry.stdout
    for p, (low, high) in before.items():
        if high > low:
            assert f"partition {p}: offsets {low}..{high - 1} ({high - low} letters)" in dry.stdout
    assert watermarks(lane.dlq) == before
    assert not topic_exists(f"{lane.dlq}.purged")

    done = purge(sluice_bin, lane.dlq, "--older-than", "2s")
    assert re.search(
        rf"^purged {first} letters from {re.escape(lane.dlq)} partitions [0-9, ]+; "
        rf"receipts in {re.escape(lane.dlq)}\.purged$",
        done.stdout,
        re.MULTILINE,
    ), done.stdout
    assert all(low == high for low, high in watermarks(lane.dlq).values())
    report = verify(sluice_bin, lane)
    assert (report["purged"], report["dead_lettered"], report["missing"]) == (first, 0, 0)
    assert report["dead_letters_removed_without_receipt"] == []
    assert report["stored"] + report["superseded"] + report["purged"] == report["produced"]

    # Receipts name positions and counts, never a record's key, value or reason.
    receipts = read_all(f"{lane.dlq}.purged")
    assert receipts
    emails = {u["email"] for u in users if u.get("email")}
    for receipt in receipts:
        assert re.fullmatch(rf"{re.escape(lane.dlq)}/\d+/\d+/\d+", receipt.key().decode())
        value = json.loads(receipt.value())
        assert value["dlq_topic"] == lane.dlq and value["older_than"] == "2s"
        assert "reason" not in receipt.value().decode()
        assert not any(e in receipt.value().decode() for e in emails)
    assert sum(json.loads(r.value())["positions"] for r in receipts) == first

    # Newer letters: a purge by their age takes the older batch only, cut at the first
    # letter of the newer one.
    second_users = add_letters(sluice_bin, lane, seed=72)
    second = sum(u["_bad_kind"] != "none" for u in second_users)
    start_of_third = {p: high for p, (_, high) in watermarks(lane.dlq).items()}
    time.sleep(8)
    third_users = add_letters(sluice_bin, lane, seed=73)
    third = sum(u["_bad_kind"] != "none" for u in third_users)
    letters = read_all_from(lane.dlq)
    second_newest = max(ts for p, o, ts in letters if o < start_of_third[p])
    third_oldest = min(ts for p, o, ts in letters if o >= start_of_third[p])
    assert third_oldest - second_newest > 8000
    older_than = round(time.time() - (second_newest + third_oldest) / 2000)
    assert purge(sluice_bin, lane.dlq, "--older-than", "1h").stdout.startswith("nothing to purge")
    done = purge(sluice_bin, lane.dlq, "--older-than", f"{older_than}s")
    assert f"purged {second} letters from {lane.dlq}" in done.stdout
    assert {p: low for p, (low, _) in watermarks(lane.dlq).items()} == start_of_third
    report = verify(sluice_bin, lane)
    assert (report["purged"], report["dead_lettered"], report["missing"]) == (
        first + second,
        third,
        0,
    )


def read_all_from(topic: str) -> list[tuple[int, int, int]]:
    """(partition, offset, timestamp ms) of every record of `topic` from its log start."""
    marks = watermarks(topic)
    consumer = Consumer(
        {
            "bootstrap.servers": BOOTSTRAP,
            "group.id": f"r-{time.time_ns()}",
            "enable.auto.commit": False,
        }
    )
    left = {p: high for p, (low, high) in marks.items() if high > low}
    consumer.assign([TopicPartition(topic, p, marks[p][0]) for p in left])
    out: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 120
    try:
        while left:
            assert time.monotonic() < deadline, f"{topic}: not read to {left}"
            for m in consumer.consume(1000, 0.5):
                if m.error() is None and m.partition() in left:
                    out.append((m.partition(), m.offset(), m.timestamp()[1]))
                    if m.offset() + 1 >= left[m.partition()]:
                        del left[m.partition()]
    finally:
        consumer.close()
    return out


def test_letters_deleted_without_a_receipt_are_named_by_verify(
    sluice_bin: Path, lane: Lane
) -> None:
    add_letters(sluice_bin, lane, seed=74)
    marks = watermarks(lane.dlq)
    partition = next(p for p, (low, high) in marks.items() if high - low >= 2)
    # As Kafka retention would: delete the first two letters of one partition, no receipt.
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    for future in admin.delete_records([TopicPartition(lane.dlq, partition, 2)]).values():
        future.result(30)
    report = verify(sluice_bin, lane, False)
    assert report["missing"] == 2 and report["purged"] == 0
    assert report["dead_letters_removed_without_receipt"] == [
        {"partition": partition, "first_offset": 0, "last_offset": 1}
    ]


def test_a_bad_older_than_is_refused_naming_it(sluice_bin: Path) -> None:
    result = purge(sluice_bin, "users.dlq", "--older-than", "7x", expect_code=2)
    assert "--older-than: '7x' is not a duration" in result.stderr


def test_purging_a_missing_topic_names_it(sluice_bin: Path) -> None:
    topic = f"no-such-dlq-{uuid.uuid4().hex[:10]}"
    result = purge(sluice_bin, topic, "--older-than", "1s", expect_code=2)
    assert f"dead-letter topic {topic} does not exist" in result.stderr
    assert not topic_exists(f"{topic}.purged")
