"""Unit tests of the Spark job's plumbing: flags and their error messages, which jars go
on the classpath, the Kafka group's offsets from a progress report, dead-letter headers
and cutting, and the write timestamp (the C++ processor's formula)."""

from __future__ import annotations

import hashlib
import pathlib

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sluice_spark import config, jars, kafka_group, sinks


def test_flags_override_defaults_and_bad_values_are_named(tmp_path: pathlib.Path) -> None:
    parsed = config.parse_args(["--topic", "t", "--master", "spark://127.0.0.1:7077"])
    assert (parsed.topic, parsed.master, parsed.group) == (
        "t",
        "spark://127.0.0.1:7077",
        "sluice-spark",
    )
    with pytest.raises(SystemExit):
        config.parse_args(["--master", "yarn"])
    with pytest.raises(config.ConfigError, match="--rules: no such file"):
        config.parse_args(["--rules", str(tmp_path / "missing.yaml")])


def test_bad_master_message_names_the_flag_and_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        config.parse_args(["--master", "yarn"])
    assert "--master must be local, local[N], local[*] or spark://HOST:PORT, got 'yarn'" in (
        capsys.readouterr().err
    )


def test_jars_pyspark_ships_are_left_out_by_artifact_name(tmp_path: pathlib.Path) -> None:
    for name in (
        "spark-sql-kafka-0-10_2.12-3.5.7.jar",
        "scala-library-2.12.19.jar",
        "kafka-clients-3.4.1.jar",
        "slf4j-api-1.7.36.jar",
    ):
        (tmp_path / name).write_bytes(b"")
    chosen = sorted(pathlib.Path(j).name for j in jars.extra_jars(tmp_path))
    assert chosen == ["kafka-clients-3.4.1.jar", "spark-sql-kafka-0-10_2.12-3.5.7.jar"]
    assert jars.artifact_name("java-driver-shaded-guava-25.1-jre-graal-sub-1.jar") == (
        "java-driver-shaded-guava"
    )


def test_missing_jars_say_what_to_run(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `sluice up`"):
        jars.extra_jars(tmp_path)


def test_end_offsets_come_from_the_progress_report_of_the_right_topic() -> None:
    report = '{"users.raw": {"0": 10, "2": 7}, "other": {"0": 99}}'
    assert kafka_group.end_offsets_of(report, "users.raw") == {0: 10, 2: 7}
    assert kafka_group.end_offsets_of(None, "users.raw") == {}
    assert kafka_group.starting_offsets_json("t", {1: 5, 0: 3}) == '{"t": {"0": 3, "1": 5}}'


def test_write_timestamp_is_record_ms_times_1000_plus_offset_mod_a_million(
    spark: SparkSession,
) -> None:
    df = spark.createDataFrame(
        [(1_700_000_000_123, 5), (1_700_000_000_123, 3_000_001), (-1, 7)], "ts long, o long"
    )
    got = [r[0] for r in df.select(sinks.write_timestamp_us(F.col("ts"), F.col("o"))).collect()]
    assert got == [1_700_000_000_123_005, 1_700_000_000_123_001, 7]


def letters_frame(spark: SparkSession, value: bytes, schema_id: int | None) -> list:
    df = spark.createDataFrame(
        [(b"k", value, "e.raw", 2, 41, "id.uuid,email.format", "id,email", "id: bad", schema_id)],
        "key binary, value binary, topic string, partition int, offset long, rule string, "
        "field string, reason string, schema_id int",
    ).withColumn("headers", sinks.letter_headers(2))
    return df.collect()


def test_letter_headers_are_those_of_the_cpp_processor(spark: SparkSession) -> None:
    (row,) = letters_frame(spark, b"v", 3)
    headers = {h["key"]: bytes(h["value"]).decode() for h in row["headers"]}
    assert headers == {
        "sluice.rule": "id.uuid,email.format",
        "sluice.field": "id,email",
        "sluice.reason": "id: bad",
        "sluice.source.topic": "e.raw",
        "sluice.source.partition": "2",
        "sluice.source.offset": "41",
        "sluice.contract.version": "2",
        "sluice.schema.id": "3",
    }
    (json_row,) = letters_frame(spark, b"v", None)
    assert "sluice.schema.id" not in {h["key"] for h in json_row["headers"]}


def test_a_letter_too_large_is_cut_to_fit_with_size_and_digest(spark: SparkSession) -> None:
    value = bytes(range(256)) * 40  # 10,240 bytes
    df = spark.createDataFrame(
        [(b"k", value, "e.raw", 0, 1, "decode.oversize", "", "too big", None)],
        "key binary, value binary, topic string, partition int, offset long, rule string, "
        "field string, reason string, schema_id int",
    ).withColumn("headers", sinks.letter_headers(2))
    (cut,) = sinks.fit_letters(df, 4096).collect()
    headers = {h["key"]: bytes(h["value"]).decode() for h in cut["headers"]}
    assert cut["truncated"]
    assert headers["sluice.truncated"] == "true"
    assert headers["sluice.original.bytes"] == str(len(value))
    assert headers["sluice.original.sha256"] == hashlib.sha256(value).hexdigest()
    assert bytes(cut["value"]) == value[: len(cut["value"])]
    size = 256 + 1 + len(cut["value"]) + sum(16 + len(k) + len(v) for k, v in headers.items())
    assert 4096 - 64 < size <= 4096
    (kept,) = sinks.fit_letters(df, 1_000_000).collect()
    assert not kept["truncated"] and bytes(kept["value"]) == value


def test_a_cure_less_sink_failure_is_not_retried() -> None:
    calls: list[int] = []

    def refuse() -> None:
        calls.append(1)
        raise RuntimeError("boom\nCaused by: com.datastax...servererrors.SyntaxError: line 1")

    with pytest.raises(sinks.SinkFailed, match="SyntaxError"):
        sinks.with_retries("writing rows", refuse, lambda: None, lambda: False)
    assert len(calls) == 1


def test_a_failing_sink_is_retried_until_it_answers() -> None:
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("Caused by: java.net.ConnectException: Connection refused")
        return "ok"

    retried: list[int] = []
    assert sinks.with_retries("x", flaky, lambda: retried.append(1), lambda: False) == "ok"
    assert len(retried) == 2
