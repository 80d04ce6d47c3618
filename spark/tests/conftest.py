"""Shared fixtures for the Spark job's tests: one small local SparkSession for the whole
test session (this machine has two cores), and `sluice_spark` importable from spark/."""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

SPARK_DIR = pathlib.Path(__file__).resolve().parents[1]
if str(SPARK_DIR) not in sys.path:
    sys.path.insert(0, str(SPARK_DIR))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = (
        SparkSession.builder.master("local[1]")
        .appName("sluice-spark-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
