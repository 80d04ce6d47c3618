"""The logic behind sluice's Airflow DAGs (airflow/dags): batch planning by data interval,
health checks, the deferrable wait for the processor's commits, `sluice verify` and the
data-quality summary. The DAG files only wire these together."""

USERS_ASSET_NAME = "sluice.users"
