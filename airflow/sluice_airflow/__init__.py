"""The logic behind sluice's Airflow DAGs (airflow/dags): batch planning by data interval,
health checks, the deferrable wait for the processor's commits, `sluice verify` and the
data-quality summary. The DAG files only wire these together."""

from datetime import timedelta

USERS_ASSET_NAME = "sluice.users"

# What every sluice DAG task shares: retries with a delay (a failure is retried, never
# swallowed). Both DAG files take these, so the policy is written once.
DAG_DEFAULT_ARGS: dict[str, object] = {
    "owner": "sluice",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
}
