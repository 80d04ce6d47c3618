"""WaitCommittedOperator: waits, deferred to the triggerer, until the processor's group has
committed past the offsets of the batch an upstream task produced (its XCom, see
produce.ProducedBatch.to_xcom). Returns at once when that is already so."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator, Context

from sluice_airflow.config import Settings, task_settings
from sluice_airflow.offsets import make_admin, read_committed, remaining
from sluice_airflow.triggers import CommittedOffsetsTrigger


class CommitTimeoutError(RuntimeError):
    """The processor did not commit past a batch in time."""


def timeout_message(settings: Settings, batch: dict[str, Any], event: dict[str, Any]) -> str:
    """What a person reads when the wait timed out."""
    error = f"; last error: {event['last_error']}" if event.get("last_error") else ""
    return (
        f"group {settings.group_id} has not committed past {event.get('behind')} offset(s) "
        f"of batch {batch['key']} on {batch['topic']} within {settings.commit_timeout_s:.0f} s"
        f"{error}. Is a processor running (`sluice status`, {settings.processor_url}/health)? "
        f"Its backlog is sluice_process_consumer_lag on {settings.processor_url}/metrics."
    )


class WaitCommittedOperator(BaseOperator):
    """Deferrable: frees its worker slot while the triggerer polls the committed offsets."""

    def __init__(
        self, *, batch_task_id: str = "produce_batch", poll_interval_s: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.batch_task_id = batch_task_id
        self.poll_interval_s = poll_interval_s

    def _batch(self, context: Context) -> dict[str, Any]:
        batch = context["ti"].xcom_pull(task_ids=self.batch_task_id)
        if not isinstance(batch, dict) or "spans" not in batch:
            raise ValueError(f"task {self.batch_task_id} returned no batch: {batch!r}")
        return batch

    def execute(self, context: Context) -> dict[str, Any]:
        settings = task_settings()
        batch = self._batch(context)
        partitions = [span[0] for span in batch["spans"]]
        admin = make_admin(settings.bootstrap)
        committed = read_committed(
            admin, settings.group_id, batch["topic"], partitions, settings.health_timeout_s
        )
        behind = remaining(batch["spans"], committed)
        if behind == 0:
            now = time.time()
            return {"status": "committed", "behind": 0, "waited_s": 0.0, "committed_at": now}
        self.log.info("batch %s: %d offset(s) not yet committed; deferring", batch["key"], behind)
        trigger = CommittedOffsetsTrigger(
            bootstrap=settings.bootstrap,
            group_id=settings.group_id,
            topic=batch["topic"],
            spans=batch["spans"],
            deadline=time.time() + settings.commit_timeout_s,
            poll_interval_s=self.poll_interval_s,
        )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=settings.commit_timeout_s + 60),
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resumed by the trigger's event: fails (and is retried) unless it was committed."""
        if event.get("status") != "committed":
            raise CommitTimeoutError(timeout_message(task_settings(), self._batch(context), event))
        self.log.info("committed after %.1f s", event.get("waited_s", 0.0))
        return event
