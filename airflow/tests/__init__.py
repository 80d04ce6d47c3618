"""Unit tests of sluice_airflow and the DAGs."""
