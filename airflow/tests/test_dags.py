"""Both DAGs import through a DagBag with no errors and are wired as designed: tasks,
dependencies, catchup, max_active_runs, retries with a delay on every task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.apache.kafka.operators.produce import ProduceToTopicOperator
from airflow.sdk import CronDataIntervalTimetable
from sluice_airflow import USERS_ASSET_NAME
from sluice_airflow.operators import WaitCommittedOperator

from tests.conftest import AIRFLOW_DIR


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(AIRFLOW_DIR / "dags"))


def upstream(dagbag: DagBag, dag_id: str) -> dict[str, set[str]]:
    dag = dagbag.dags[dag_id]
    return {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}


def test_both_dags_import_without_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"sluice_user_stream", "randomuser_to_kafka"}


def test_user_stream_tasks_and_dependencies(dagbag: DagBag) -> None:
    assert upstream(dagbag, "sluice_user_stream") == {
        "check_health": set(),
        "produce_batch": {"check_health"},
        "wait_committed": {"produce_batch"},
        "verify_batch": {"produce_batch", "wait_committed"},
        "quality_summary": {"produce_batch", "wait_committed", "verify_batch"},
    }


def test_user_stream_schedule_and_run_limits(dagbag: DagBag) -> None:
    dag = dagbag.dags["sluice_user_stream"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "*/10 * * * *"


def test_wait_is_deferrable_and_summary_emits_the_asset(dagbag: DagBag) -> None:
    dag = dagbag.dags["sluice_user_stream"]
    assert isinstance(dag.get_task("wait_committed"), WaitCommittedOperator)
    assert hasattr(WaitCommittedOperator, "execute_complete")
    outlets = dag.get_task("quality_summary").outlets
    assert [a.name for a in outlets] == [USERS_ASSET_NAME]


@pytest.mark.parametrize("dag_id", ["sluice_user_stream", "randomuser_to_kafka"])
def test_every_task_retries_after_a_delay(dagbag: DagBag, dag_id: str) -> None:
    for task in dagbag.dags[dag_id].tasks:
        assert (task.retries or 0) >= 1, task.task_id
        assert task.retry_delay is not None, task.task_id
        assert task.retry_delay >= timedelta(seconds=10), task.task_id
        assert task.execution_timeout is not None, task.task_id


def test_randomuser_tasks_and_producer(dagbag: DagBag) -> None:
    dag = dagbag.dags["randomuser_to_kafka"]
    assert dag.catchup is False and dag.max_active_runs == 1
    assert upstream(dagbag, "randomuser_to_kafka") == {
        "fetch_users": set(),
        "produce_users": {"fetch_users"},
    }
    produce = dag.get_task("produce_users")
    assert isinstance(produce, ProduceToTopicOperator)
    assert produce.kafka_config_id == "sluice_kafka"
    assert produce.delivery_callback.__name__ == "delivery_report"  # raises, never just logs
