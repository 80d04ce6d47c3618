"""The two sinks of a micro-batch, with exactly the C++ processor's output:

- rows: `sluice.users` upserts with the same typed cells (the `--pseudonymise` fields as
  their pseudonyms, pseudonym.py) and lineage columns, and the same Cassandra write
  timestamp, `max(record ms, 0) * 1000 + offset mod 1,000,000` (see the
  README, "Which version wins"), given per row through the connector's `writetime` option;
- dead letters: `users.dlq` records with the original key and bytes and the headers
  `sluice.rule`, `sluice.field`, `sluice.reason`, source topic/partition/offset, contract
  version and schema id; a letter larger than the topic allows is cut the same way, with
  `sluice.truncated`, `sluice.original.bytes` and `sluice.original.sha256`.

Both writes are retried with backoff when the engine fails (a dependency fault is never
the data's fault); a batch is acknowledged to the checkpoint only after both succeeded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sluice_spark import pseudonym

log = logging.getLogger("sluice_spark.sinks")

# What a letter costs a batch beyond its bytes (route.cc's letter_bytes): the record's own
# varints and attributes, and each header's lengths.
RECORD_OVERHEAD = 256
HEADER_OVERHEAD = 16

T = TypeVar("T")


def write_timestamp_us(ts_ms: Column, offset: Column) -> Column:
    return F.greatest(ts_ms, F.lit(0)).cast("long") * 1000 + offset % 1_000_000


def typed_rows(
    valid: DataFrame,
    fields: tuple[str, ...],
    dob_days: Column,
    registered_ms: Column,
    contract_version: int,
    pseudonymisation: pseudonym.Pseudonymisation | None = None,
) -> DataFrame:
    """Valid records as `sluice.users` rows plus the `writetime_us` column; the chosen
    fields pseudonymised when `pseudonymisation` is given."""
    stored = pseudonym.field_columns(pseudonymisation, fields)
    cells = [stored[f] for f in fields if f not in ("dob", "registered_date")]
    return valid.select(
        *cells,
        F.date_add(F.lit("1970-01-01").cast("date"), dob_days).alias("dob"),
        F.timestamp_millis(registered_ms).alias("registered_date"),
        F.lit(contract_version).alias("contract_version"),
        F.col("schema_id"),
        F.col("topic").alias("source_topic"),
        F.col("partition").alias("source_partition"),
        F.col("offset").alias("source_offset"),
        F.when(F.col("ts_ms") >= 0, F.timestamp_millis(F.col("ts_ms"))).alias("produced_at"),
        pseudonym.key_id_column(pseudonymisation),
        write_timestamp_us(F.col("ts_ms"), F.col("offset")).alias("writetime_us"),
    )


def letter_headers(contract_version: int) -> Column:
    """The headers of a letter whose `rule`, `field` and `reason` columns are set."""

    def header(name: str, value: Column) -> Column:
        return F.struct(F.lit(name).alias("key"), value.cast("binary").alias("value"))

    headers = F.array(
        header("sluice.rule", F.col("rule")),
        header("sluice.field", F.col("field")),
        header("sluice.reason", F.col("reason")),
        header("sluice.source.topic", F.col("topic")),
        header("sluice.source.partition", F.col("partition").cast("string")),
        header("sluice.source.offset", F.col("offset").cast("string")),
        header("sluice.contract.version", F.lit(str(contract_version))),
        header("sluice.schema.id", F.col("schema_id").cast("string")),
    )
    return F.filter(headers, lambda h: h["value"].isNotNull())


def _headers_bytes(headers: Column) -> Column:
    return F.aggregate(
        headers,
        F.lit(0).cast("long"),
        lambda acc, h: acc + HEADER_OVERHEAD + F.length(h["key"]) + F.length(h["value"]),
    )


def letter_size() -> Column:
    """What a letter (key, value, headers columns) costs the dead-letter topic's limit."""
    key_bytes = F.coalesce(F.length("key"), F.lit(0))
    value_bytes = F.coalesce(F.length("value"), F.lit(0))
    return RECORD_OVERHEAD + key_bytes + value_bytes + _headers_bytes(F.col("headers"))


def fit_letters(letters: DataFrame, max_bytes: int) -> DataFrame:
    """Cuts letters larger than `max_bytes` (key, value, headers) to fit, saying so."""
    key_bytes = F.coalesce(F.length("key"), F.lit(0))
    value_bytes = F.coalesce(F.length("value"), F.lit(0))
    size = letter_size()
    cut_headers = F.concat(
        F.col("headers"),
        F.array(
            F.struct(F.lit("sluice.truncated").alias("key"), F.lit(b"true").alias("value")),
            F.struct(
                F.lit("sluice.original.bytes").alias("key"),
                value_bytes.cast("string").cast("binary").alias("value"),
            ),
            F.struct(
                F.lit("sluice.original.sha256").alias("key"),
                F.sha2(F.coalesce(F.col("value"), F.lit(b"")), 256).cast("binary").alias("value"),
            ),
        ),
    )
    fixed = RECORD_OVERHEAD + key_bytes + _headers_bytes(cut_headers)
    room = F.when(fixed < max_bytes, F.least(value_bytes, F.lit(max_bytes) - fixed)).otherwise(0)
    too_big = size > max_bytes
    return letters.select(
        "key",
        F.when(too_big, F.col("value").substr(F.lit(1), room.cast("int")))
        .otherwise(F.col("value"))
        .alias("value"),
        F.when(too_big, cut_headers).otherwise(F.col("headers")).alias("headers"),
        too_big.alias("truncated"),
    )


# Failures that no retry can cure: the statement, the table or the plan is wrong.
FATAL_MARKERS = ("SyntaxError", "InvalidQueryException", "AnalysisException",
                 "UnauthorizedException", "AuthenticationException")  # fmt: skip


class SinkFailed(RuntimeError):
    """A sink refused the batch for good (or the job is stopping); the batch is not
    acknowledged, so a restart re-reads it."""


def root_cause(error: BaseException) -> str:
    """The innermost `Caused by:` of a JVM error (py4j puts the whole stack in str())."""
    text = str(error)
    causes = [line for line in text.splitlines() if line.startswith("Caused by:")]
    line = causes[-1] if causes else (text.strip().splitlines() or [type(error).__name__])[0]
    return line.removeprefix("Caused by: ")[:500]


def with_retries(
    what: str, action: Callable[[], T], on_retry: Callable[[], None], stopping: Callable[[], bool]
) -> T:
    """Runs `action` until it succeeds, backing off up to 30 s: an engine that is down
    holds the batch (and the checkpoint) instead of losing or misfiling records. A
    failure no retry can cure, or a stop request, raises SinkFailed."""
    delay = 0.5
    attempt = 0
    while True:
        try:
            return action()
        except Exception as e:  # noqa: BLE001 - py4j wraps every JVM failure; classified below
            cause = root_cause(e)
            if any(marker in str(e) for marker in FATAL_MARKERS):
                raise SinkFailed(f"{what} failed for good: {cause}") from e
            attempt += 1
            on_retry()
            log.warning(
                "%s failed (attempt %d), retrying in %.1f s: %s", what, attempt, delay, cause
            )
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            if stopping():
                raise SinkFailed(f"{what}: stopped while retrying")
            time.sleep(0.2)
        delay = min(delay * 2, 30.0)


def write_rows(rows: DataFrame, keyspace: str) -> None:
    (
        rows.write.format("org.apache.spark.sql.cassandra")
        .options(keyspace=keyspace, table="users", writetime="writetime_us")
        .mode("append")
        .save()
    )


def write_letters(
    letters: DataFrame, bootstrap: str, topic: str, options: dict[str, str] | None = None
) -> None:
    (
        letters.select("key", "value", "headers")
        .write.format("kafka")
        .options(**(options or {}))
        .option("kafka.bootstrap.servers", bootstrap)
        .option("kafka.acks", "all")
        .option("kafka.enable.idempotence", "true")
        .option("topic", topic)
        .save()
    )
