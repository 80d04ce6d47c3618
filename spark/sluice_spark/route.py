"""One micro-batch from raw Kafka records to rows and dead letters: decode (decode.py),
validate (contract.py), type, and split, like src/pipeline/route.cc. The batch is cached
once and every later step reads the cache."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sluice_spark import contract as contract_mod
from sluice_spark import decode

RAW_COLUMNS = ("key", "value", "topic", "partition", "offset", "ts_ms")


def raw_records(batch: DataFrame) -> DataFrame:
    return batch.select(
        "key",
        "value",
        "topic",
        "partition",
        "offset",
        F.unix_millis(F.col("timestamp")).alias("ts_ms"),
    )


def _literal_failure(rows: DataFrame, rule: str, reason: str, fields: tuple[str, ...]) -> DataFrame:
    return rows.select(
        *RAW_COLUMNS,
        decode.SCHEMA_ID,
        F.lit(rule).alias(decode.FAIL_RULE),
        F.lit(reason).alias(decode.FAIL_REASON),
        *[F.lit(None).cast("string").alias(f) for f in fields],
    )


def decode_records(
    framed: DataFrame,
    schemas: dict[int, tuple[dict[str, Any] | None, str, str]],
    fields: tuple[str, ...],
) -> DataFrame:
    """Every framed record decoded: fail_rule/fail_reason (null when decoded) + fields."""
    nothing = [F.lit(None).cast("string").alias(f) for f in fields]
    parts = [
        framed.where(F.col("kind").isin("empty", "oversize", "magic")).select(
            *RAW_COLUMNS,
            decode.SCHEMA_ID,
            F.concat(F.lit("decode."), F.col("kind")).alias(decode.FAIL_RULE),
            F.col("frame_reason").alias(decode.FAIL_REASON),
            *nothing,
        )
    ]
    json_udf = decode.json_decoder(fields)
    parts.append(
        framed.where(F.col("kind") == "json")
        .withColumn("_json", json_udf(F.col("value")))
        .select(
            *RAW_COLUMNS,
            decode.SCHEMA_ID,
            *[F.col(f"_json.{c}").alias(c) for c in (decode.FAIL_RULE, decode.FAIL_REASON)],
            *[F.col(f"_json.`{f}`").alias(f) for f in fields],
        )
    )
    for schema_id, (schema, rule, reason) in sorted(schemas.items()):
        rows = framed.where((F.col("kind") == "avro") & (F.col(decode.SCHEMA_ID) == schema_id))
        if schema is None:
            parts.append(_literal_failure(rows, rule, reason, fields))
        else:
            decoded = decode.decode_avro_rows(rows, schema_id, schema, fields)
            parts.append(
                decoded.select(
                    *RAW_COLUMNS, decode.SCHEMA_ID, decode.FAIL_RULE, decode.FAIL_REASON, *fields
                )
            )
    union = functools.reduce(lambda a, b: a.unionByName(b), parts)
    utf8_rule, utf8_reason = decode.utf8_failure(fields)
    ok = F.col(decode.FAIL_RULE).isNull()
    return union.select(
        *RAW_COLUMNS,
        decode.SCHEMA_ID,
        F.when(ok, utf8_rule).otherwise(F.col(decode.FAIL_RULE)).alias(decode.FAIL_RULE),
        F.when(ok, utf8_reason).otherwise(F.col(decode.FAIL_REASON)).alias(decode.FAIL_REASON),
        *fields,
    )


def _violation_text(violations: Column) -> tuple[Column, Column, Column]:
    rules = F.concat_ws(",", F.transform(violations, lambda v: v["rule"]))
    fields = F.concat_ws(",", F.transform(violations, lambda v: v["field"]))
    reasons = F.concat_ws(
        "; ", F.transform(violations, lambda v: F.concat(v["field"], F.lit(": "), v["reason"]))
    )
    return rules, fields, reasons


def route(
    decoded: DataFrame,
    contract: contract_mod.Contract,
    wall_clock_ms: Column,
    letter_headers: Callable[[], Column],
) -> DataFrame:
    """Every record judged: `rule` null for a valid record (with typed `_dob_days` and
    `_registered_ms`), else the letter's rule/field/reason and its `headers`."""
    fields = contract.fields
    judged_at = F.when(F.col("ts_ms") >= 0, F.col("ts_ms")).otherwise(wall_clock_ms)
    checked = decoded.withColumn(
        "violations",
        F.when(
            F.col(decode.FAIL_RULE).isNull(),
            contract_mod.violations_column(contract, {f: F.col(f) for f in fields}, judged_at),
        ),
    )
    checked = checked.withColumn("_dob_days", contract_mod.date_days(F.col("dob"))).withColumn(
        "_registered_ms", contract_mod.timestamp_ms(F.col("registered_date"))
    )
    rules, names, reasons = _violation_text(F.col("violations"))
    passed = F.col(decode.FAIL_RULE).isNull() & (F.size("violations") == 0)
    untyped = passed & (F.col("_dob_days").isNull() | F.col("_registered_ms").isNull())
    checked = checked.select(
        "*",
        F.when(F.col(decode.FAIL_RULE).isNotNull(), F.col(decode.FAIL_RULE))
        .when(untyped, F.lit("type.convert"))
        .when(~passed, rules)
        .alias("rule"),
        F.when(F.col(decode.FAIL_RULE).isNotNull() | untyped, F.lit(""))
        .when(~passed, names)
        .alias("field"),
        F.when(F.col(decode.FAIL_RULE).isNotNull(), F.col(decode.FAIL_REASON))
        .when(untyped, F.lit("dob or registered_date cannot be typed"))
        .when(~passed, reasons)
        .alias("reason"),
    ).drop("violations")
    return checked.withColumn("headers", F.when(F.col("rule").isNotNull(), letter_headers()))
