"""sluice_user_stream: every interval (SLUICE_SCHEDULE, default every 10 minutes) produce a
batch of generated users keyed by the interval, wait (deferred) until the processor has
committed past it, reconcile it with `sluice verify --manifest`, and publish a data-quality
summary as an XCom and an event on the asset `sluice.users`. The logic is in sluice_airflow."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, CronDataIntervalTimetable, task
from sluice_airflow import DAG_DEFAULT_ARGS, USERS_ASSET_NAME, stream
from sluice_airflow.config import schedule
from sluice_airflow.operators import WaitCommittedOperator

USERS = Asset(name=USERS_ASSET_NAME)

with DAG(
    dag_id="sluice_user_stream",
    schedule=CronDataIntervalTimetable(schedule(), timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DAG_DEFAULT_ARGS,
    tags=["sluice"],
    doc_md=__doc__,
):

    @task(execution_timeout=timedelta(minutes=2))
    def check_health() -> dict[str, str]:
        return stream.check_health()

    @task(execution_timeout=timedelta(minutes=15))
    def produce_batch(
        data_interval_start: datetime | None = None, dag_run: Any = None
    ) -> dict[str, Any]:
        return stream.produce(data_interval_start, getattr(dag_run, "run_after", None))

    @task(execution_timeout=timedelta(minutes=15))
    def verify_batch(batch: dict[str, Any]) -> dict[str, Any]:
        return stream.verify(batch)

    @task(outlets=[USERS], execution_timeout=timedelta(minutes=2))
    def quality_summary(
        batch: dict[str, Any],
        commit: dict[str, Any],
        verified: dict[str, Any],
        outlet_events: Any = None,
    ) -> dict[str, Any]:
        summary = stream.quality_summary(batch, commit, verified)
        outlet_events[USERS].extra = summary
        return summary

    batch = produce_batch()
    wait = WaitCommittedOperator(  # a backstop above the trigger's own deadline
        task_id="wait_committed",
        batch_task_id="produce_batch",
        execution_timeout=timedelta(minutes=20),
    )
    verified = verify_batch(batch)
    check_health() >> batch >> wait >> verified
    quality_summary(batch, wait.output, verified)
