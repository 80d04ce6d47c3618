"""Decoding raw Kafka values into the contract's fields, as the C++ processor does
(src/pipeline/decode.cc), so both processors give every record the same verdict:

- empty or null -> `decode.empty`; larger than --max-value-bytes -> `decode.oversize`;
- a value whose first non-blank byte is `{` is JSON: it must be UTF-8 (`decode.utf8`) and
  an object whose contract fields are strings or null (`decode.json`); duplicate keys
  behave as in the C++ (a later string replaces, a later null does not clear);
- anything else is Confluent Avro: magic byte 0 and a 4-byte schema id (`decode.magic`),
  a writer schema the registry knows (`decode.schema_id`), read with `from_avro` in
  PERMISSIVE mode with the writer's own schema and mapped onto the contract's fields by
  name (a field of another type than string is absent), with nothing left over
  (`decode.avro`), and every text field valid UTF-8 (`decode.utf8`).

Avro values are decoded by Spark (`from_avro`), one schema id at a time; JSON values,
rare in this pipeline (replays, the Airflow DAG), by a Python UDF that mirrors simdjson's
strictness, because Spark's JSON reader turns a number into a string silently."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.avro.functions import from_avro, to_avro

from sluice_spark.registry import RegistryClient, RegistryUnavailable

log = logging.getLogger("sluice_spark.decode")

FAIL_RULE = "fail_rule"
FAIL_REASON = "fail_reason"
SCHEMA_ID = "schema_id"


def framing_columns(value: Column, max_value_bytes: int) -> tuple[Column, Column, Column]:
    """(kind, schema id, failure reason) of a raw value, before any schema is looked at.
    kind is one of empty, oversize, avro, json, magic."""
    size = F.length(value)
    first = F.substring(value, 1, 1)
    blank_then_brace = F.decode(value, "ISO-8859-1").rlike(r"\A[ \t\r\n]*\{")
    kind = (
        F.when(value.isNull() | (size == 0), F.lit("empty"))
        .when(size > max_value_bytes, F.lit("oversize"))
        .when((first == F.lit(b"\x00")) & (size >= 5), F.lit("avro"))
        .when((first != F.lit(b"\x00")) & blank_then_brace, F.lit("json"))
        .otherwise(F.lit("magic"))
    )
    raw_id = F.conv(F.hex(F.substring(value, 2, 4)), 16, 10).cast("long")
    schema_id = F.when(
        kind == "avro",
        F.when(raw_id >= 2**31, raw_id - 2**32).otherwise(raw_id).cast("int"),
    )
    reason = (
        F.when(kind == "empty", F.lit("empty or null value"))
        .when(
            kind == "oversize",
            F.format_string(f"value of %d bytes exceeds {max_value_bytes} bytes", size),
        )
        .when(
            (kind == "magic") & (first == F.lit(b"\x00")),
            F.format_string("only %d bytes: no schema id", size),
        )
        .when(
            kind == "magic",
            F.concat(
                F.lit("first byte is 0x"),
                F.lower(F.hex(first)),
                F.lit(", not the Confluent magic byte 0"),
            ),
        )
    )
    return kind, schema_id, reason


# --- JSON ----------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON: {name} is not JSON")


def decode_json_value(value: bytes | bytearray, fields: Sequence[str]) -> tuple[Any, ...]:
    """(fail_rule, fail_reason, *field values) for one JSON value, like model::parse_json."""
    blank = (None,) * len(fields)
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return ("decode.utf8", "JSON value is not valid UTF-8", *blank)
    try:
        pairs = json.loads(text, object_pairs_hook=list, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        return ("decode.json", f"invalid JSON: {e}", *blank)
    if not isinstance(pairs, list) or (pairs and not isinstance(pairs[0], tuple)):
        return ("decode.json", "JSON value is not an object", *blank)
    found: dict[str, str] = {}
    wanted = set(fields)
    for key, item in pairs:
        if key not in wanted or item is None:
            continue
        if not isinstance(item, str):
            return ("decode.json", f"field '{key}' is not a string", *blank)
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return ("decode.json", f"invalid JSON: field '{key}' holds a lone surrogate", *blank)
        found[key] = item
    return (None, None, *(found.get(f) for f in fields))


def decoded_schema(fields: Sequence[str]) -> T.StructType:
    return T.StructType(
        [T.StructField(FAIL_RULE, T.StringType()), T.StructField(FAIL_REASON, T.StringType())]
        + [T.StructField(f, T.StringType()) for f in fields]
    )


def json_decoder(fields: Sequence[str]) -> Callable[[Column], Column]:
    names = tuple(fields)

    def decode(value: bytes | bytearray | None) -> tuple[Any, ...]:
        if value is None:
            return ("decode.empty", "empty or null value", *((None,) * len(names)))
        return decode_json_value(value, names)

    return F.udf(decode, decoded_schema(names))


# --- Avro ----------------------------------------------------------------------------


def _is_string(avro_type: Any) -> bool:
    if avro_type == "string":
        return True
    return isinstance(avro_type, dict) and avro_type.get("type") == "string"


def string_path(avro_type: Any) -> str | None:
    """How Spark's from_avro exposes a field's string value: "" for the field itself,
    "memberN" for the string branch of a multi-branch union, None when there is none."""
    if _is_string(avro_type):
        return ""
    if not isinstance(avro_type, list):
        return None
    branches = [
        b
        for b in avro_type
        if b != "null" and not (isinstance(b, dict) and b.get("type") == "null")
    ]
    for index, branch in enumerate(branches):
        if _is_string(branch):
            return "" if len(branches) == 1 else f"member{index}"
    return None


class AvroSchemas:
    """Writer schemas by id, checked once: usable, or the dead-letter rule and reason."""

    def __init__(self, registry: RegistryClient, parse_check: Callable[[str], str | None]) -> None:
        self._registry = registry
        self._parse_check = parse_check  # returns the parser's complaint, or None

    def resolve(self, schema_id: int) -> tuple[dict[str, Any] | None, str, str]:
        """(parsed record schema, rule, reason); rule empty when the schema is usable.
        Raises RegistryUnavailable when the registry did not answer definitely."""
        answer = self._registry.schema(schema_id)
        if answer.schema is None:
            return None, "decode.schema_id", f"schema id {schema_id}: {answer.problem}"
        complaint = self._parse_check(answer.schema)
        if complaint is not None:
            reason = f"schema id {schema_id}: schema {schema_id} is not valid Avro: {complaint}"
            return None, "decode.schema_id", reason
        parsed = json.loads(answer.schema)
        if not isinstance(parsed, dict) or parsed.get("type") != "record":
            return None, "decode.avro", f"schema {schema_id} is not a record"
        return parsed, "", ""


def wait_for_schemas(
    schemas: AvroSchemas, ids: Sequence[int], on_wait: Callable[[str], None]
) -> dict[int, tuple[dict[str, Any] | None, str, str]]:
    """Resolves every id, holding (with backoff) while the registry is unavailable: a
    record that cannot be judged is never dead-lettered."""
    resolved: dict[int, tuple[dict[str, Any] | None, str, str]] = {}
    delay = 0.2
    for schema_id in ids:
        while True:
            try:
                resolved[schema_id] = schemas.resolve(schema_id)
                break
            except RegistryUnavailable as e:
                on_wait(str(e))
                log.warning("registry unavailable, holding the batch %.1f s: %s", delay, e)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
    return resolved


class AvroReader:
    """The column expressions that decode the rows of one writer schema, built once per
    schema id and reused by every batch (building them costs py4j round trips)."""

    def __init__(self, schema_id: int, schema: dict[str, Any], fields: Sequence[str]) -> None:
        text = json.dumps(schema)
        payload = F.expr("substring(value, 6)")
        record = from_avro(payload, text, {"mode": "PERMISSIVE"})
        self.first: list[Column] = [
            F.col("*"),
            record.alias("_rec"),
        ]
        # from_avro ignores bytes after the record: re-encoding the decoded record with the
        # same schema gives the record's own length, which must be the whole payload.
        rest = F.when(
            F.col("_rec").isNotNull(),
            F.length(payload) - F.length(to_avro(F.col("_rec"), text)),
        )
        paths = {f["name"]: string_path(f["type"]) for f in schema.get("fields", [])}
        columns = []
        for name in fields:
            path = paths.get(name)
            if path is None:
                columns.append(F.lit(None).cast("string").alias(name))
            else:
                ref = f"_rec.`{name}`" + (f".{path}" if path else "")
                columns.append(F.col(ref).alias(name))
        rule = (
            F.when(F.col("_rec").isNull(), F.lit("decode.avro"))
            .when(rest != 0, F.lit("decode.avro"))
            .otherwise(F.lit(None).cast("string"))
        )
        reason = F.when(
            F.col("_rec").isNull(), F.lit(f"malformed Avro for schema {schema_id}")
        ).when(
            rest != 0,
            F.format_string(f"%d trailing bytes after the record (schema {schema_id})", rest),
        )
        self.second = [rule.alias(FAIL_RULE), reason.alias(FAIL_REASON), *columns]

    def decode(self, rows: DataFrame, keep: Sequence[str]) -> DataFrame:
        """Rows of this schema id: `keep` columns, fail_rule/fail_reason and the fields."""
        return rows.select(*self.first).select(*keep, *self.second)


def utf8_failure(fields: Sequence[str]) -> tuple[Column, Column]:
    """The first contract field that is not valid UTF-8 (Spark re-encodes malformed bytes
    as U+FFFD, so a field that does not survive the round trip was malformed)."""
    rule: Column = F.lit(None).cast("string")
    reason: Column = F.lit(None).cast("string")
    for name in reversed(fields):
        bad = F.col(name).isNotNull() & (
            F.encode(F.col(name), "UTF-8") != F.col(name).cast("binary")
        )
        rule = F.when(bad, F.lit("decode.utf8")).otherwise(rule)
        reason = F.when(bad, F.lit(f"field '{name}' is not valid UTF-8")).otherwise(reason)
    return rule, reason
