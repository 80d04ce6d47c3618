"""The deferrable wait: the trigger serializes to an importable class path and kwargs that
rebuild it (also through Airflow's own serialization), fires `committed` once the group is
past every span, keeps polling through broker errors, and fires `timeout` at its deadline.
The operator returns at once when already committed and defers otherwise."""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred
from airflow.serialization.serialized_objects import BaseSerialization
from sluice_airflow import offsets, operators, triggers
from sluice_airflow.config import Settings
from sluice_airflow.offsets import remaining
from sluice_airflow.triggers import CommittedOffsetsTrigger

SPANS = [[0, 100, 351], [3, 7, 258]]


def make(deadline: float | None = None) -> CommittedOffsetsTrigger:
    return CommittedOffsetsTrigger(
        bootstrap="127.0.0.1:9092",
        group_id="sluice-processor",
        topic="users.raw",
        spans=SPANS,
        deadline=deadline if deadline is not None else time.time() + 60,
        poll_interval_s=0.01,
    )


def rebuild(classpath: str, kwargs: dict[str, Any]) -> Any:
    module, name = classpath.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


def test_serialize_round_trip() -> None:
    trigger = make(deadline=1767225600.5)
    classpath, kwargs = trigger.serialize()
    assert classpath == "sluice_airflow.triggers.CommittedOffsetsTrigger"
    again = rebuild(classpath, kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert kwargs["spans"] == SPANS and kwargs["deadline"] == 1767225600.5


def test_serialize_survives_airflows_encoding() -> None:
    classpath, kwargs = make().serialize()
    encoded = BaseSerialization.serialize(kwargs)
    decoded = BaseSerialization.deserialize(encoded)
    assert rebuild(classpath, decoded).serialize() == (classpath, kwargs)


def test_remaining_counts_offsets_past_the_commit() -> None:
    assert remaining(SPANS, {}) == 251 + 251
    assert remaining(SPANS, {0: -1001, 3: 258}) == 251
    assert remaining(SPANS, {0: 200, 3: 300}) == 151
    assert remaining(SPANS, {0: 351, 3: 258}) == 0


def fake_offsets(monkeypatch: pytest.MonkeyPatch, answers: list[Any]) -> list[int]:
    """Makes read_committed answer from `answers` (an exception is raised); returns calls."""
    seen: list[int] = []

    def read(
        admin: Any, group: str, topic: str, parts: Sequence[int], t: float
    ) -> Mapping[int, int]:
        seen.append(1)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    monkeypatch.setattr(triggers, "read_committed", read)
    monkeypatch.setattr(triggers, "make_admin", lambda bootstrap: object())
    return seen


async def first_event(trigger: CommittedOffsetsTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("no event")


def test_fires_committed_after_the_group_catches_up(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_offsets(
        monkeypatch,
        [{0: 100}, RuntimeError("broker away"), {0: 351, 3: 200}, {0: 351, 3: 258}],
    )
    event = asyncio.run(first_event(make()))
    assert event["status"] == "committed" and event["behind"] == 0
    assert len(calls) == 4


def test_fires_timeout_with_the_backlog_and_last_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_offsets(monkeypatch, [{0: 300, 3: 258}, TimeoutError("no answer")])
    event = asyncio.run(first_event(make(deadline=time.time() + 0.2)))
    assert event["status"] == "timeout"
    assert event["behind"] == 51
    assert "no answer" in event["last_error"]


class FakeTI:
    def __init__(self, batch: dict[str, Any]) -> None:
        self.batch = batch

    def xcom_pull(self, task_ids: str) -> dict[str, Any]:
        assert task_ids == "produce_batch"
        return self.batch


BATCH = {"key": "20261203T101000Z", "topic": "users.raw", "spans": SPANS}


def operator(monkeypatch: pytest.MonkeyPatch, committed: dict[int, int]) -> Any:
    monkeypatch.setattr(operators, "task_settings", lambda: Settings())
    monkeypatch.setattr(operators, "make_admin", lambda bootstrap: object())
    monkeypatch.setattr(operators, "read_committed", lambda *a: committed)
    return operators.WaitCommittedOperator(task_id="wait_committed")


def test_operator_returns_at_once_when_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    op = operator(monkeypatch, {0: 351, 3: 258})
    result = op.execute({"ti": FakeTI(BATCH)})
    assert result["status"] == "committed"


def test_operator_defers_to_the_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    op = operator(monkeypatch, {0: 351})
    with pytest.raises(TaskDeferred) as deferred:
        op.execute({"ti": FakeTI(BATCH)})
    trigger = deferred.value.trigger
    assert isinstance(trigger, CommittedOffsetsTrigger)
    assert trigger.spans == SPANS and trigger.group_id == "sluice-processor"
    assert deferred.value.method_name == "execute_complete"


def test_timeout_event_fails_with_an_actionable_message(monkeypatch: pytest.MonkeyPatch) -> None:
    op = operator(monkeypatch, {})
    event = {"status": "timeout", "behind": 51, "last_error": None}
    with pytest.raises(operators.CommitTimeoutError, match="Is a processor running"):
        op.execute_complete({"ti": FakeTI(BATCH)}, event)


def test_offsets_module_reads_real_confluent_types() -> None:
    # read_committed builds its request from confluent_kafka's own classes
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    request = ConsumerGroupTopicPartitions("g", [TopicPartition("t", 0)])
    assert request.group_id == "g"
    assert offsets.make_admin("127.0.0.1:1") is not None
