"""A deferrable wait, run by the triggerer instead of a worker slot: polls the processor's
committed offsets until its consumer group is past every offset span of a batch, or until
an absolute deadline (so a triggerer restart does not extend it)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent
from confluent_kafka import KafkaException

from sluice_airflow.offsets import make_admin, read_committed, remaining

# Errors a poll may meet while the broker is away; others are bugs and end the trigger.
TRANSIENT = (KafkaException, RuntimeError, TimeoutError, OSError)


class CommittedOffsetsTrigger(BaseTrigger):
    """Fires {"status": "committed"} once `group_id` committed past `spans` of `topic`, or
    {"status": "timeout", "behind": N, "last_error": ...} at `deadline` (epoch seconds)."""

    def __init__(
        self,
        *,
        bootstrap: str,
        group_id: str,
        topic: str,
        spans: list[list[int]],
        deadline: float,
        poll_interval_s: float = 1.0,
        request_timeout_s: float = 10.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.topic = topic
        self.spans = [list(span) for span in spans]
        self.deadline = float(deadline)
        self.poll_interval_s = float(poll_interval_s)
        self.request_timeout_s = float(request_timeout_s)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bootstrap": self.bootstrap,
                "group_id": self.group_id,
                "topic": self.topic,
                "spans": self.spans,
                "deadline": self.deadline,
                "poll_interval_s": self.poll_interval_s,
                "request_timeout_s": self.request_timeout_s,
            },
        )

    def _poll(self, admin: Any) -> int:
        partitions = [span[0] for span in self.spans]
        committed = read_committed(
            admin, self.group_id, self.topic, partitions, self.request_timeout_s
        )
        return remaining(self.spans, committed)

    def _event(self, status: str, behind: int, started: float, error: str | None) -> TriggerEvent:
        now = time.time()
        payload = {
            "status": status,
            "behind": behind,
            "waited_s": round(now - started, 3),
            "committed_at": now,
            "last_error": error,
        }
        return TriggerEvent(payload)  # type: ignore[no-untyped-call]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        started = time.time()
        behind = remaining(self.spans, {})
        error: str | None = None
        admin = await asyncio.to_thread(make_admin, self.bootstrap)
        next_report = started + 10
        while True:
            try:
                behind = await asyncio.to_thread(self._poll, admin)
                error = None
            except TRANSIENT as e:  # reported in the timeout event if it lasts
                error = f"{type(e).__name__}: {e}"
                self.log.warning("reading committed offsets of %s: %s", self.group_id, error)
            if behind == 0 and error is None:
                yield self._event("committed", 0, started, None)
                return
            if time.time() >= self.deadline:
                yield self._event("timeout", behind, started, error)
                return
            if time.time() >= next_report:
                self.log.info("group %s: %d offset(s) to go", self.group_id, behind)
                next_report = time.time() + 10
            await asyncio.sleep(self.poll_interval_s)
