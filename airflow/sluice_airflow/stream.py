"""The tasks of sluice_user_stream as plain functions (airflow/dags/sluice_user_stream.py
wraps them): check_health -> produce_batch -> wait_committed (operators.py) -> verify_batch
-> quality_summary. Each reads its settings when it runs; XComs hold no secret."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sluice_airflow import metrics
from sluice_airflow.config import Settings, task_settings
from sluice_airflow.health import require_healthy, run_checks
from sluice_airflow.interval import plan_batch
from sluice_airflow.manifest import load_manifest
from sluice_airflow.produce import produce_batch
from sluice_airflow.quality import format_summary, summarize
from sluice_airflow.verify import report_from_json, require_balanced, run_verify

log = logging.getLogger(__name__)


def check_health(settings: Settings | None = None) -> dict[str, str]:
    """Fails, naming every unhealthy dependency and what to do, unless all four answer."""
    settings = settings or task_settings()
    results = run_checks(settings)
    for r in results:
        log.info("%s %s: %s", "ok  " if r.ok else "FAIL", r.name, r.detail)
    require_healthy(results)
    return {r.name: r.detail for r in results}


def interval_start(data_interval_start: datetime | None, run_after: datetime | None) -> datetime:
    """The instant a run's batch is keyed by: its data interval's start, or for a manual run
    without a logical date, when it was asked to run."""
    start = data_interval_start or run_after
    if start is None:
        raise ValueError("the run has neither a data interval nor a run_after time")
    return start


def scrape_latency(settings: Settings) -> list[list[object]] | None:
    """The processor's latency buckets now (None, with a warning, if it has no metrics)."""
    try:
        return metrics.encode(metrics.scrape(settings.processor_url, settings.health_timeout_s))
    except (OSError, ValueError) as e:
        log.warning("no latency from %s/metrics: %s", settings.processor_url, e)
        return None


def produce(data_interval_start: datetime | None, run_after: datetime | None) -> dict[str, Any]:
    """Produces the interval's batch (or finds it done); returns its XCom."""
    settings = task_settings()
    start = interval_start(data_interval_start, run_after)
    plan = plan_batch(
        start, seed=settings.seed, batch_size=settings.batch_size, state_dir=settings.state_dir
    )
    before = scrape_latency(settings)
    batch = produce_batch(settings, plan).to_xcom()
    batch["latency_before"] = before
    return batch


def verify(batch: dict[str, Any]) -> dict[str, Any]:
    """`sluice verify --manifest` of the batch; fails naming the records unless it balances."""
    settings = task_settings()
    data = run_verify(settings, batch["manifest_path"])
    report = report_from_json(data)
    log.info(
        "verify: %s",
        ", ".join(f"{k} {v}" for k, v in report.counts.items()),
    )
    require_balanced(report, batch_count=int(batch["count"]))
    return data


def quality_summary(
    batch: dict[str, Any], commit: dict[str, Any] | None, verified: dict[str, Any]
) -> dict[str, Any]:
    """The batch's data-quality summary (logged and returned)."""
    settings = task_settings()
    window = None
    before = batch.get("latency_before")
    after = scrape_latency(settings)
    if before is not None and after is not None:
        window = metrics.difference(metrics.decode(after), metrics.decode(before))
    report = report_from_json(verified)
    summary = summarize(report, load_manifest(batch["manifest_path"]), batch, commit, window)
    log.info("data quality:\n%s", format_summary(summary))
    return summary
