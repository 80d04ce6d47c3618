"""randomuser_to_kafka: the ancestor's flow done right. Fetch a page of users from the
randomuser-compatible API (`sluice api`), map each onto the contract's flat fields (the UUID
as its string), and send them as JSON keyed by id to the raw topic with the Kafka provider's
ProduceToTopicOperator; a failed delivery fails the task. The page's seed derives from the
run's data interval (or run_after), so a re-run sends the same users."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
from airflow.providers.apache.kafka.operators.produce import ProduceToTopicOperator
from airflow.sdk import DAG, task
from sluice_airflow import DAG_DEFAULT_ARGS, randomuser
from sluice_airflow.config import ensure_kafka_connection, task_settings
from sluice_airflow.interval import interval_key
from sluice_airflow.stream import interval_start

with DAG(
    dag_id="randomuser_to_kafka",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DAG_DEFAULT_ARGS,
    tags=["sluice"],
    doc_md=__doc__,
):

    @task(multiple_outputs=True, execution_timeout=timedelta(minutes=2))
    def fetch_users(
        data_interval_start: datetime | None = None, dag_run: Any = None
    ) -> dict[str, Any]:
        settings = task_settings()
        start = interval_start(data_interval_start, getattr(dag_run, "run_after", None))
        seed = f"sluice-{interval_key(start)}"
        users = randomuser.fetch_users(settings.api_url, settings.api_results, seed)
        records = [randomuser.to_contract(user) for user in users]
        return {"topic": settings.raw_topic, "seed": seed, "records": records}

    fetched = fetch_users()
    ProduceToTopicOperator(
        task_id="produce_users",
        kafka_config_id=ensure_kafka_connection(),
        topic=fetched["topic"],
        producer_function=randomuser.messages,
        producer_function_args=[fetched["records"]],
        delivery_callback="sluice_airflow.randomuser.delivery_report",
        synchronous=False,
        execution_timeout=timedelta(minutes=5),
    )
