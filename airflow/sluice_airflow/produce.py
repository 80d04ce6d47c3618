"""Producing one interval's batch with `sluice produce`. The run writes its manifest next to
the interval's path and it is published there only when every record was acknowledged, so
a retry after a failure sends the same users again (same ids: the later copies win, same
content) and a finished interval is found by its manifest and not produced again."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from sluice_airflow.config import Settings
from sluice_airflow.interval import BatchPlan
from sluice_airflow.manifest import Manifest, finished_manifest, mismatch, publish
from sluice_airflow.sluice_cli import run_sluice, tail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProducedBatch:
    plan: BatchPlan
    manifest: Manifest
    reused: bool  # the interval was already done: nothing was sent
    seconds: float

    def to_xcom(self) -> dict[str, object]:
        """What downstream tasks need (no secret, small)."""
        return {
            "key": self.plan.key,
            "manifest_path": self.manifest.path,
            "topic": self.manifest.topic,
            "spans": self.manifest.spans(),
            "count": self.manifest.count,
            "seed": self.manifest.seed,
            "start_index": self.manifest.start_index,
            "reused": self.reused,
            "produce_seconds": round(self.seconds, 3),
            "finished_at": time.time(),
        }


def produce_args(settings: Settings, plan: BatchPlan, manifest_out: str) -> list[str]:
    """The `sluice produce` arguments of a batch."""
    return [
        "produce",
        "--bootstrap",
        settings.bootstrap,
        "--topic",
        settings.raw_topic,
        "--registry",
        settings.registry_url,
        "--schema",
        settings.schema_file,
        "--format",
        settings.produce_format,
        "--seed",
        str(plan.seed),
        "--start-index",
        str(plan.start_index),
        "--count",
        str(plan.count),
        "--bad-ratio",
        repr(settings.bad_ratio),
        "--manifest",
        manifest_out,
        "--metrics-port",
        "0",
    ]


def reuse(plan: BatchPlan, manifest: Manifest) -> ProducedBatch:
    """The batch of an interval that is already done."""
    log.info(
        "interval %s is done (manifest %s, run %s, %d records): not producing it again",
        plan.key,
        manifest.path,
        manifest.run_id,
        manifest.count,
    )
    differs = mismatch(manifest, plan)
    if differs:
        log.warning("the finished batch differs from today's settings: %s", differs)
    return ProducedBatch(plan, manifest, reused=True, seconds=0.0)


def produce_batch(settings: Settings, plan: BatchPlan) -> ProducedBatch:
    """Produces `plan`'s batch unless its interval is done; returns its manifest."""
    done = finished_manifest(plan)
    if done:
        return reuse(plan, done)
    Path(plan.manifest_path).parent.mkdir(parents=True, exist_ok=True)
    partial = plan.manifest_path + ".partial"
    if os.path.exists(partial):
        os.remove(partial)  # from a failed attempt: that run is sent again, whole
    log.info(
        "interval %s: producing %d users (seed %d, indexes %d..%d) to %s",
        plan.key,
        plan.count,
        plan.seed,
        plan.start_index,
        plan.end_index - 1,
        settings.raw_topic,
    )
    result = run_sluice(
        settings, produce_args(settings, plan, partial), timeout_s=settings.command_timeout_s
    )
    log.info("sluice produce: %s", tail(result.stderr, 3))
    manifest = publish(partial, plan)
    log.info("manifest %s: partitions %s", manifest.path, manifest.spans())
    return ProducedBatch(plan, manifest, reused=False, seconds=result.seconds)
