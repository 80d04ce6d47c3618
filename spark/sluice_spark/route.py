"""One micro-batch from raw Kafka records to rows and dead letters: decode (decode.py),
validate (contract.py), type, and split, like src/pipeline/route.cc.

The column expressions are built once (Router) and reused by every batch: building the
contract's expressions costs thousands of py4j calls, and a batch-specific value inside
them (such as the wall clock) would make Spark generate and compile their code again for
every batch. So the batch's own values (`judged_at`) are columns of the cached input."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from sluice_spark import contract as contract_mod
from sluice_spark import decode

# judged_at: the instant the time rules use (the record's timestamp, or the batch's clock
# for a record without one, as the C++ processor does).
RAW_COLUMNS = ("key", "value", "topic", "partition", "offset", "ts_ms", "judged_at")


def raw_records(batch: DataFrame, wall_clock_ms: int) -> DataFrame:
    ts_ms = F.unix_millis(F.col("timestamp"))
    return batch.select(
        "key",
        "value",
        "topic",
        "partition",
        "offset",
        ts_ms.alias("ts_ms"),
        F.when(ts_ms >= 0, ts_ms).otherwise(F.lit(wall_clock_ms)).alias("judged_at"),
    )


def _violation_text(violations: Column) -> tuple[Column, Column, Column]:
    rules = F.concat_ws(",", F.transform(violations, lambda v: v["rule"]))
    fields = F.concat_ws(",", F.transform(violations, lambda v: v["field"]))
    reasons = F.concat_ws(
        "; ", F.transform(violations, lambda v: F.concat(v["field"], F.lit(": "), v["reason"]))
    )
    return rules, fields, reasons


class Router:
    """Decodes and judges batches with expressions built once."""

    def __init__(
        self, contract: contract_mod.Contract, letter_headers: Callable[[], Column]
    ) -> None:
        self.contract = contract
        self.fields = contract.fields
        self._json_udf = decode.json_decoder(self.fields)
        self._readers: dict[int, decode.AvroReader] = {}
        self._judge = self._judge_columns(letter_headers)

    def decode(
        self,
        framed: DataFrame,
        schemas: dict[int, tuple[dict[str, Any] | None, str, str]],
        has_json: bool,
    ) -> DataFrame:
        """Every framed record decoded: fail_rule/fail_reason (null when decoded) + fields.
        The JSON decoder (a Python UDF, which costs seconds a batch even on no rows) is in
        the plan only when the batch holds JSON values."""
        fields = self.fields
        keep = [*RAW_COLUMNS, decode.SCHEMA_ID]
        nothing = [F.lit(None).cast("string").alias(f) for f in fields]
        parts = [
            framed.where(F.col("kind").isin("empty", "oversize", "magic")).select(
                *keep,
                F.concat(F.lit("decode."), F.col("kind")).alias(decode.FAIL_RULE),
                F.col("frame_reason").alias(decode.FAIL_REASON),
                *nothing,
            )
        ]
        if has_json:
            parts.append(
                framed.where(F.col("kind") == "json")
                .withColumn("_json", self._json_udf(F.col("value")))
                .select(
                    *keep,
                    *[F.col(f"_json.{c}").alias(c) for c in (decode.FAIL_RULE, decode.FAIL_REASON)],
                    *[F.col(f"_json.`{f}`").alias(f) for f in fields],
                )
            )
        for schema_id, (schema, rule, reason) in sorted(schemas.items()):
            rows = framed.where((F.col("kind") == "avro") & (F.col(decode.SCHEMA_ID) == schema_id))
            if schema is None:
                parts.append(
                    rows.select(
                        *keep,
                        F.lit(rule).alias(decode.FAIL_RULE),
                        F.lit(reason).alias(decode.FAIL_REASON),
                        *nothing,
                    )
                )
                continue
            if schema_id not in self._readers:
                self._readers[schema_id] = decode.AvroReader(schema_id, schema, fields)
            parts.append(self._readers[schema_id].decode(rows, keep))
        union = functools.reduce(lambda a, b: a.unionByName(b), parts)
        utf8_rule, utf8_reason = decode.utf8_failure(fields)
        ok = F.col(decode.FAIL_RULE).isNull()
        return union.select(
            *keep,
            F.when(ok, utf8_rule).otherwise(F.col(decode.FAIL_RULE)).alias(decode.FAIL_RULE),
            F.when(ok, utf8_reason).otherwise(F.col(decode.FAIL_REASON)).alias(decode.FAIL_REASON),
            *fields,
        )

    def judge(self, decoded: DataFrame) -> DataFrame:
        """Every record judged: `rule` null for a valid record (with typed `_dob_days` and
        `_registered_ms`), else the letter's rule/field/reason and its `headers`."""
        first, second, third = self._judge
        return decoded.select(*first).select(*second).select(*third)

    def _judge_columns(
        self, letter_headers: Callable[[], Column]
    ) -> tuple[list[Column], list[Column], list[Column]]:
        fields = self.fields
        violations = F.when(
            F.col(decode.FAIL_RULE).isNull(),
            contract_mod.violations_column(
                self.contract, {f: F.col(f) for f in fields}, F.col("judged_at")
            ),
        )
        first = [
            F.col("*"),
            violations.alias("violations"),
            contract_mod.date_days(F.col("dob")).alias("_dob_days"),
            contract_mod.timestamp_ms(F.col("registered_date")).alias("_registered_ms"),
        ]
        rules, names, reasons = _violation_text(F.col("violations"))
        failed = F.col(decode.FAIL_RULE).isNotNull()
        passed = ~failed & (F.size("violations") == 0)
        untyped = passed & (F.col("_dob_days").isNull() | F.col("_registered_ms").isNull())
        second = [
            *[F.col(c) for c in (*RAW_COLUMNS, decode.SCHEMA_ID, *fields)],
            F.col("_dob_days"),
            F.col("_registered_ms"),
            F.when(failed, F.col(decode.FAIL_RULE))
            .when(untyped, F.lit("type.convert"))
            .when(~passed, rules)
            .alias("rule"),
            F.when(failed | untyped, F.lit("")).when(~passed, names).alias("field"),
            F.when(failed, F.col(decode.FAIL_REASON))
            .when(untyped, F.lit("dob or registered_date cannot be typed"))
            .when(~passed, reasons)
            .alias("reason"),
        ]
        third = [
            F.col("*"),
            F.when(F.col("rule").isNotNull(), letter_headers()).alias("headers"),
        ]
        return first, second, third
