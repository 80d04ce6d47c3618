"""Unit tests of the Spark job's decoding steps that need no Kafka, registry or Avro jar:
framing of raw values, the JSON decoder's strictness (it must agree with the C++
processor's simdjson-based one), how writer-schema fields map onto the contract, and the
UTF-8 check of decoded fields."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sluice_spark import decode

FIELDS = ("id", "first_name", "email")


def frame(spark: SparkSession, values: list[bytes | None], max_bytes: int = 100) -> list[tuple]:
    df = spark.createDataFrame([(v,) for v in values], "value binary")
    kind, schema_id, reason = decode.framing_columns(F.col("value"), max_bytes)
    rows = df.select(kind.alias("k"), schema_id.alias("s"), reason.alias("r")).collect()
    return [(r["k"], r["s"], r["r"]) for r in rows]


def test_framing_sorts_values_like_the_cpp_decoder(spark: SparkSession) -> None:
    got = frame(
        spark,
        [
            None,
            b"",
            b"x" * 101,
            b"\x00\x00\x00\x00\x07rest",
            b"\x00\x80\x00\x00\x01",
            b' \t\r\n{"id": 1}',
            b"\x01abc",
            b"\x00abc",
            b"\n[1]",
        ],
    )
    assert got == [
        ("empty", None, "empty or null value"),
        ("empty", None, "empty or null value"),
        ("oversize", None, "value of 101 bytes exceeds 100 bytes"),
        ("avro", 7, None),
        # The 4 id bytes are a signed big-endian int, as the C++ reads them.
        ("avro", -2147483647, None),
        ("json", None, None),
        ("magic", None, "first byte is 0x01, not the Confluent magic byte 0"),
        ("magic", None, "only 4 bytes: no schema id"),
        ("magic", None, "first byte is 0x0a, not the Confluent magic byte 0"),
    ]


def test_json_object_with_string_fields_decodes_and_ignores_unknown_keys() -> None:
    value = b'{"id": "a", "email": null, "other": 5, "first_name": "Zo\\u00eb"}'
    assert decode.decode_json_value(value, FIELDS) == (None, None, "a", "Zoë", None)


def test_json_non_string_contract_field_is_decode_json_naming_the_field() -> None:
    rule, reason, *_ = decode.decode_json_value(b'{"id": 5}', FIELDS)
    assert (rule, reason) == ("decode.json", "field 'id' is not a string")


def test_json_duplicate_keys_behave_like_the_cpp_loop() -> None:
    # A later string replaces; a later null does not clear; a later number is an error.
    assert decode.decode_json_value(b'{"id": "a", "id": "b"}', FIELDS)[2] == "b"
    assert decode.decode_json_value(b'{"id": "a", "id": null}', FIELDS)[2] == "a"
    assert decode.decode_json_value(b'{"id": "a", "id": 1}', FIELDS)[0] == "decode.json"


def test_json_that_is_not_an_object_or_not_json_is_decode_json() -> None:
    for value in (b"[1, 2]", b"{this is not json", b'{"id": NaN}', b'{"id": "a"} x', b'"id"'):
        assert decode.decode_json_value(value, FIELDS)[0] == "decode.json", value


def test_json_with_invalid_utf8_is_decode_utf8() -> None:
    rule, reason, *_ = decode.decode_json_value(b'{"id": "\xff\xfe"}', FIELDS)
    assert (rule, reason) == ("decode.utf8", "JSON value is not valid UTF-8")


def test_json_raw_control_character_in_a_string_is_rejected_like_simdjson() -> None:
    assert decode.decode_json_value(b'{"id": "a\nb"}', FIELDS)[0] == "decode.json"


def test_json_lone_surrogate_escape_is_decode_json() -> None:
    assert decode.decode_json_value(b'{"id": "\\ud800"}', FIELDS)[0] == "decode.json"


def test_string_path_finds_the_string_branch_of_each_avro_field_type() -> None:
    assert decode.string_path("string") == ""
    assert decode.string_path(["null", "string"]) == ""
    assert decode.string_path({"type": "string", "avro.java.string": "String"}) == ""
    assert decode.string_path(["null", "int", "string"]) == "member1"
    assert decode.string_path(["string", "int"]) == "member0"
    assert decode.string_path("int") is None
    assert decode.string_path(["null", "bytes"]) is None
    assert decode.string_path({"type": "record", "name": "R", "fields": []}) is None


def test_utf8_failure_names_the_first_malformed_field_in_contract_order(
    spark: SparkSession,
) -> None:
    df = spark.createDataFrame(
        [(b"ok", b"\xff", b"\xc3"), (b"ok", b"fine", b"\xc3\xa9"), (None, None, None)],
        "id binary, first_name binary, email binary",
    ).select(*[F.col(f).cast("string").alias(f) for f in FIELDS])
    rule, reason = decode.utf8_failure(FIELDS)
    got = [(r[0], r[1]) for r in df.select(rule, reason).collect()]
    assert got == [
        ("decode.utf8", "field 'first_name' is not valid UTF-8"),
        (None, None),
        (None, None),
    ]
