"""Tests of the contract compiler (sluice_spark/contract.py): every rule case file of
contract/cases/ gives the C++ engine's verdicts through violations_column on a local
SparkSession, with ANSI mode on and off; date_days / timestamp_ms agree with the C++
parsers (pinned values of src/rules/tests and a line-for-line Python port); the loader's
errors name file, field and rule; the email / url patterns equal those of rules.h."""

from __future__ import annotations

import pathlib
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType
from sluice_spark import contract as c

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "contract" / "rules.yaml"
CASES_DIR = REPO_ROOT / "contract" / "cases"
JUNE_2026_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z
Record = tuple[int, Mapping[str, str | None]]  # a Kafka timestamp (ms) and field values


@dataclass(frozen=True)
class Case:
    file: str
    name: str
    timestamp_ms: int
    values: dict[str, str | None]
    expected: tuple[str, ...]


@pytest.fixture(scope="module")
def contract() -> c.Contract:
    return c.load_contract(RULES)


@contextmanager
def ansi(spark: SparkSession, enabled: bool) -> Iterator[None]:
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", str(enabled).lower())
    try:
        yield
    finally:
        spark.conf.set("spark.sql.ansi.enabled", before or "false")


# --- Case files ----------------------------------------------------------------------


def _as_map(value: c.YamlValue) -> c.YamlMap:
    assert isinstance(value, c.YamlMap), value
    return value


def _case(file: str, now_ms: int, base: dict[str, str | None], node: c.YamlMap) -> Case:
    name = node.get("name")
    assert isinstance(name, str)
    values = dict(base)
    overrides = node.get("set")
    for key, value in _as_map(overrides).pairs if overrides is not None else ():
        assert key is not None and (value is None or isinstance(value, str)), name
        values[key] = value
    expect = node.get("expect")
    if isinstance(expect, c.YamlList):
        expected = tuple(str(r) for r in expect.items)
    else:
        assert expect == "valid", name
        expected = ()
    return Case(file, name, now_ms, values, expected)


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASES_DIR.iterdir()):
        if path.name == "README.md":
            continue
        assert path.suffix == ".yaml", f"{path} is not run"
        doc = _as_map(c.read_yaml(path.read_text(encoding="utf-8")))
        now = doc.get("now")
        assert isinstance(now, str)
        now_ms = c.parse_timestamp_ms(now)
        assert now_ms is not None
        pairs = _as_map(doc.get("base")).pairs
        base: dict[str, str | None] = {k: v for k, v in pairs if k and isinstance(v, str)}
        assert len(base) == len(pairs)
        items = doc.get("cases")
        assert isinstance(items, c.YamlList)
        cases += [_case(path.name, now_ms, base, _as_map(item)) for item in items.items]
    return cases


def records_frame(spark: SparkSession, fields: Sequence[str], rows: Sequence[Record]) -> DataFrame:
    """One row per record: its timestamp (ms) and one string column per field."""
    schema = StructType(
        [StructField("ts", LongType())] + [StructField(f, StringType()) for f in fields]
    )
    data = [(ts, *(values.get(f) for f in fields)) for ts, values in rows]
    return spark.createDataFrame(data, schema)


def verdicts(
    spark: SparkSession, contract: c.Contract, rows: Sequence[Record]
) -> list[list[tuple[str, str, str]]]:
    """violations_column of each record, as (rule, field, reason) lists, in input order."""
    frame = records_frame(spark, contract.fields, rows)
    column = c.violations_column(contract, {f: F.col(f) for f in contract.fields}, F.col("ts"))
    return [
        [(v.rule, v.field, v.reason) for v in row.v]
        for row in frame.select(column.alias("v")).collect()
    ]


def rule_lists(
    spark: SparkSession, contract: c.Contract, rows: Sequence[Record]
) -> list[list[str]]:
    return [[rule for rule, _, _ in v] for v in verdicts(spark, contract, rows)]


CASES = load_cases()


def test_case_files_are_all_run() -> None:
    assert {case.file for case in CASES} >= {
        "identity.yaml",
        "dates_and_places.yaml",
        "text_hygiene.yaml",
    }
    assert len(CASES) >= 120


def test_every_case_gets_the_cpp_verdict_with_ansi_on_and_off(
    spark: SparkSession, contract: c.Contract
) -> None:
    rows = [(case.timestamp_ms, case.values) for case in CASES]
    results = {}
    for enabled in (True, False):
        with ansi(spark, enabled):
            results[enabled] = rule_lists(spark, contract, rows)
    assert results[True] == results[False]
    failures = [
        f"{case.file}: {case.name}: got {got}, expected {list(case.expected)}"
        for case, got in zip(CASES, results[False], strict=True)
        if tuple(got) != case.expected
    ]
    assert not failures, "\n".join(failures)


def test_every_rule_id_is_broken_by_some_case(contract: c.Contract) -> None:
    broken = {rule for case in CASES for rule in case.expected}
    assert [r for r in contract.rule_ids if r not in broken] == []
    assert broken <= set(contract.rule_ids)


def test_violations_carry_field_and_the_cpp_reason_text(
    spark: SparkSession, contract: c.Contract
) -> None:
    base = next(case for case in CASES if case.file == "identity.yaml").values
    record = dict(base, id="nope", email=None, phone="12", dob="2999-01-01", gender="x")
    [got] = verdicts(spark, contract, [(JUNE_2026_MS, record)])
    assert got == [
        ("id.uuid", "id", "not a UUID (8-4-4-4-12 hex)"),
        ("email.required", "email", "missing or blank"),
        ("phone.format", "phone", r"does not match ^\+?[0-9(][0-9 ().-]{5,22}[0-9]$"),
        ("gender.enum", "gender", "not one of male, female"),
        ("dob.range", "dob", "outside 1900-01-01..today"),
    ]


# --- The contract file and the C++ sources it must agree with ---------------------------


def test_contract_header_fields_and_rule_ids(contract: c.Contract) -> None:
    assert contract.name == "sluice.v1.User"
    assert contract.version == 2
    assert len(contract.rule_ids) == 41  # 28 of version 1 + 12 `.control` + id.nil
    assert contract.rule_ids[:4] == ("id.required", "id.control", "id.uuid", "id.nil")
    assert [ch.kind for ch in contract.checks_of("registered_date")] == [
        c.Kind.REQUIRED,
        c.Kind.NO_CONTROL,
        c.Kind.TIMESTAMP,
        c.Kind.TIMESTAMP_RANGE,
    ]


def _cpp_string(header: str, name: str) -> str:
    found = re.search(name + r'\s*=\s*R"\((.*?)\)";', header, re.DOTALL)
    assert found, f"{name} not found in rules.h"
    return found.group(1)


def test_email_and_url_patterns_equal_those_of_rules_h() -> None:
    header = (REPO_ROOT / "src" / "rules" / "rules.h").read_text(encoding="utf-8")
    assert c.EMAIL_PATTERN == _cpp_string(header, "email_pattern")
    assert c.URL_PATTERN == _cpp_string(header, "url_pattern")


def test_fields_are_in_the_cpp_schema_order(contract: c.Contract) -> None:
    # The C++ reports violations in schema order, violations_column in file order.
    header = (REPO_ROOT / "src" / "model" / "user.h").read_text(encoding="utf-8")
    found = re.search(r"field_names = \{(.*?)\};", header, re.DOTALL)
    assert found
    assert contract.fields == tuple(re.findall(r'"(\w+)"', found.group(1)))


# --- Semantics beyond the case files ---------------------------------------------------

NAME_RULES = """contract: c
version: 1
fields:
  first_name:
    - {rule: first_name.required, check: required}
    - {rule: first_name.control, check: no_control}
    - {rule: first_name.max_length, check: max_length, max: 5}
  email:
    - {rule: email.format, check: email}
  address:
    - {rule: address.control, check: no_control}
    - {rule: address.required, check: required}
  dob:
    - {rule: dob.range, check: date_range, min: '1969-12-31', max: today}
  registered_date:
    - {rule: registered_date.range, check: timestamp_range, min: '1969-12-31T23:59:59Z', max: now}
"""


def judge(spark: SparkSession, text: str, records: Sequence[Record]) -> list[list[str]]:
    return rule_lists(spark, c.parse_contract(text, "inline"), records)


def test_required_blank_is_exactly_ascii_white_space(spark: SparkSession) -> None:
    values = [
        "\t",
        "\r\n",
        " \x0b\x0c ",
        "",
        "\x00",
        "\x1c",
        "\x1f",
        "\u00a0",
        "\u2028",
        "\u3000",
        "\u0085",
    ]
    got = judge(spark, NAME_RULES, [(0, {"first_name": v}) for v in values])
    required, control = ["first_name.required"], ["first_name.control"]
    # \x1c..\x1f are white space to Python's str.isspace, not to C's isspace.
    assert got == [required] * 4 + [control] * 3 + [[]] * 4


def test_lengths_count_code_points(spark: SparkSession) -> None:
    values = ["😀" * 5, "😀" * 6, "e\u0301" * 2 + "a", "e\u0301" * 3, "山田太郎ë"]
    got = judge(spark, NAME_RULES, [(0, {"first_name": v}) for v in values])
    assert got == [[], ["first_name.max_length"], [], ["first_name.max_length"], []]


def test_absent_field_reports_required_only_when_it_is_the_first_check(
    spark: SparkSession,
) -> None:
    got = judge(spark, NAME_RULES, [(0, {}), (0, {"address": ""}), (0, {"email": "x"})])
    # address lists no_control before required: absent, it is skipped like the C++ does.
    assert got == [
        ["first_name.required"],
        ["first_name.required", "address.required"],
        ["first_name.required", "email.format"],
    ]


def test_range_check_alone_fails_unparsable_values(spark: SparkSession) -> None:
    records = [(0, {"first_name": "a", "dob": v}) for v in ("1969-12-31", "1969-02-30", "x")]
    assert judge(spark, NAME_RULES, records) == [[], ["dob.range"], ["dob.range"]]


def test_now_and_today_floor_the_record_timestamp(
    spark: SparkSession, contract: c.Contract
) -> None:
    point_7 = JUNE_2026_MS + 700
    records: list[Record] = [
        (point_7, {"registered_date": "2026-06-01T00:00:00Z"}),
        (point_7, {"registered_date": "2026-06-01T00:00:00.500Z"}),  # after the floored now
        (JUNE_2026_MS - 1, {"dob": "2026-06-01"}),  # still May 31st in UTC
        (JUNE_2026_MS, {"dob": "2026-06-01"}),
    ]
    got = [
        [r for r in v if r in ("registered_date.not_future", "dob.range")]
        for v in rule_lists(spark, contract, records)
    ]
    assert got == [[], ["registered_date.not_future"], ["dob.range"], []]


def test_pre_epoch_timestamps_floor_not_truncate(spark: SparkSession) -> None:
    base: dict[str, str | None] = {"first_name": "a"}
    records = [
        (-1000, dict(base, dob="1969-12-31")),
        (-1000, dict(base, dob="1970-01-01")),
        (-1, dict(base, dob="1970-01-01")),  # truncation would make today 1970-01-01
        (-1, dict(base, registered_date="1969-12-31T23:59:59Z")),
        (-1, dict(base, registered_date="1970-01-01T00:00:00Z")),  # now is -1000 ms
        (-999, dict(base, registered_date="1969-12-31T23:59:59.001Z")),
        (1999, dict(base, registered_date="1970-01-01T00:00:01.999Z")),
    ]
    got = judge(spark, NAME_RULES, records)
    assert got == [
        [],
        ["dob.range"],
        ["dob.range"],
        [],
        ["registered_date.range"],
        ["registered_date.range"],
        ["registered_date.range"],
    ]


PLAIN_RULES = """contract: c
version: 1
fields:
  id: [{rule: r.required, check: required}]
  first_name: [{rule: r.control, check: no_control}]
  last_name: [{rule: r.uuid, check: uuid}]
  email: [{rule: r.nil, check: uuid_identity}]
  phone: [{rule: r.length, check: max_length, max: 3}]
"""


def _cpp_is_uuid(text: str, digit: str = "0123456789abcdefABCDEF") -> bool:
    raw = text.encode()
    dashes = (8, 13, 18, 23)
    return len(raw) == 36 and all(
        (b == 0x2D) if i in dashes else chr(b) in digit for i, b in enumerate(raw)
    )


def _cpp_fails(text: str) -> list[str]:
    """What the C++ helpers (blank, has_control_char, is_uuid, is_nil_or_max_uuid,
    code_points) say of one value under PLAIN_RULES."""
    fails = {
        "r.required": all(ch in " \t\n\x0b\x0c\r" for ch in text),
        "r.control": any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text),
        "r.uuid": not _cpp_is_uuid(text),
        "r.nil": _cpp_is_uuid(text, "0") or _cpp_is_uuid(text, "fF"),
        "r.length": len(text) > 3,
    }
    return [rule for rule, failed in fails.items() if failed]


def plain_corpus() -> list[str]:
    rng = random.Random(7)
    pieces = list("0fFaG- \t\n\x0b\x0c\r\x00\x1c\x1f\x7f\x80\u0085\u00a0\u2028😀é\u3000")
    uuids = [
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
        "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab",
    ]
    texts = pieces + uuids
    for _ in range(600):
        texts.append("".join(rng.choices(pieces, k=rng.randint(0, 5))))
        chars = list(rng.choice(uuids))
        chars[rng.randrange(36)] = rng.choice(pieces)
        texts.append("".join(chars))
    return texts


def test_plain_checks_match_the_cpp_helpers(spark: SparkSession) -> None:
    texts = plain_corpus()
    fields = ("id", "first_name", "last_name", "email", "phone")
    got = judge(spark, PLAIN_RULES, [(0, dict.fromkeys(fields, t)) for t in texts])
    wrong = [(t, g) for t, g in zip(texts, got, strict=True) if g != _cpp_fails(t)]
    assert wrong == []


def test_violations_column_needs_a_column_per_field(contract: c.Contract) -> None:
    with pytest.raises(c.ContractError, match="picture"):
        c.violations_column(contract, {f: F.col(f) for f in contract.fields[:-1]}, F.lit(0))


# --- date_days / timestamp_ms ---------------------------------------------------------

PINNED_DATES = {
    "1970-01-01": 0,
    "1970-01-02": 1,
    "1969-12-31": -1,
    "2000-03-01": 11017,
    "1900-01-01": -25567,
    "0000-01-01": -719528,
    "0000-02-29": -719469,  # year 0 is a leap year (proleptic Gregorian)
    "9999-12-31": 2932896,
    "2000-02-29": 11016,
}
BAD_DATES = [
    "2023-02-29", "2023-04-31", "2023-00-10", "2023-1-1", "20230101", "2023-01-01 ",
    "abcd-ef-gh", "", "1900-02-29", "2023-13-01", "2023-12-00", "2023-12-32", "+023-01-01",
    "-023-01-01", " 2023-01-01", "2023-01-01\n", "２０２３-01-01", "2023-01-0١", "2023/01/01",
    "2023-01-01T00:00:00Z", "1990-02-28\x00",
]  # fmt: skip
PINNED_TIMESTAMPS = {
    "1970-01-01T00:00:00Z": 0,
    "1970-01-01T00:00:01.5Z": 1500,
    "2015-06-01T12:30:45.123Z": 1433161845123,
    "2015-06-01T12:30:45.123999Z": 1433161845123,
    "2015-06-01T12:30:45.123456789Z": 1433161845123,  # nine digits, cut not rounded
    "1970-01-01T00:00:00.05Z": 50,
    "1969-12-31T23:59:59.999Z": -1,
    "0000-01-01T00:00:00Z": -62167219200000,
    "9999-12-31T23:59:59.999Z": 253402300799999,
    "2026-06-01T00:00:00Z": JUNE_2026_MS,
}
BAD_TIMESTAMPS = [
    "2015-06-01T12:30:45", "2015-06-01 12:30:45Z", "2015-06-01T12:60:00Z",
    "2015-06-01T12:30:45.Z", "2015-06-01T12:30:45.1234567890Z", "2015-06-01T12:30:45+01:00",
    "2015-06-01", "2015-06-01t12:30:45Z", "2015-06-01T12:30:45z", "2015-06-01T24:00:00Z",
    "2015-06-01T12:30:60Z", "2015-02-29T12:30:45Z", "2015-06-01T12:30:45ZZ",
    "2015-06-01T12:30:45.1.2Z", " 2015-06-01T12:30:45Z", "2015-06-01T12:30:45Z\n",
    "+2015-06-01T12:30:45Z", "2015-06-01T12:30:45.١Z", "2015-06-01T1:30:45Z",
    "2015-06-01T12:30:45.12 Z", "",
]  # fmt: skip


def test_python_ports_give_the_pinned_cpp_values() -> None:
    assert {t: c.parse_date_days(t) for t in PINNED_DATES} == PINNED_DATES
    assert [t for t in BAD_DATES if c.parse_date_days(t) is not None] == []
    assert {t: c.parse_timestamp_ms(t) for t in PINNED_TIMESTAMPS} == PINNED_TIMESTAMPS
    assert [t for t in BAD_TIMESTAMPS if c.parse_timestamp_ms(t) is not None] == []


def _mutations(rng: random.Random, valid: str, count: int) -> list[str]:
    alphabet = "0123456789-:TZtz. +\n\x0b١２é😀"
    out = []
    for _ in range(count):
        chars = list(valid)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(chars) + 1)
            op = rng.randrange(3)
            if op == 0 and i < len(chars):
                chars[i] = rng.choice(alphabet)
            elif op == 1:
                chars.insert(i, rng.choice(alphabet))
            elif i < len(chars):
                del chars[i]
        out.append("".join(chars))
    return out


def parser_corpus() -> list[str]:
    """Pinned and bad values, random real dates, and a few thousand near misses."""
    rng = random.Random(20260601)
    texts = [*PINNED_DATES, *BAD_DATES, *PINNED_TIMESTAMPS, *BAD_TIMESTAMPS]
    for _ in range(400):
        date = f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}"
        fraction = "." + "".join(rng.choices("0123456789", k=rng.randint(0, 11)))
        time = f"T{rng.randint(0, 25):02d}:{rng.randint(0, 60):02d}:{rng.randint(0, 60):02d}"
        stamp = date + time + (fraction if rng.random() < 0.7 else "") + "Z"
        texts += [date, stamp, *_mutations(rng, date, 2), *_mutations(rng, stamp, 3)]
    return texts


def parsed_by_spark(spark: SparkSession, texts: list[str]) -> list[tuple[int | None, int | None]]:
    frame = spark.createDataFrame([(t,) for t in texts], "t string")
    rows = frame.select(c.date_days(F.col("t")).alias("d"), c.timestamp_ms(F.col("t")).alias("ms"))
    return [(row.d, row.ms) for row in rows.collect()]


def test_date_days_and_timestamp_ms_match_the_cpp_parsers_with_ansi_on_and_off(
    spark: SparkSession,
) -> None:
    texts = parser_corpus()
    expected = [(c.parse_date_days(t), c.parse_timestamp_ms(t)) for t in texts]
    assert sum(d is not None for d, _ in expected) > 200
    assert sum(ms is not None for _, ms in expected) > 200
    for enabled in (True, False):
        with ansi(spark, enabled):
            got = parsed_by_spark(spark, texts)
        wrong = [(t, g, e) for t, g, e in zip(texts, got, expected, strict=True) if g != e]
        assert wrong == [], f"ansi={enabled}: {wrong[:10]}"


def test_date_days_and_timestamp_ms_types(spark: SparkSession) -> None:
    frame = spark.createDataFrame([("1970-01-01",), (None,)], "t string")
    typed = frame.select(c.date_days(F.col("t")).alias("d"), c.timestamp_ms(F.col("t")).alias("ms"))
    assert [f.dataType.simpleString() for f in typed.schema.fields] == ["int", "bigint"]
    assert [tuple(r) for r in typed.collect()] == [(0, None), (None, None)]


# --- Loader errors ---------------------------------------------------------------------

HEADER = "contract: c\nversion: 1\nfields:\n"


def load_error(tmp_path: pathlib.Path, body: str) -> str:
    path = tmp_path / "test.yaml"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(c.ContractError) as caught:
        c.load_contract(path)
    message = str(caught.value)
    assert "test.yaml" in message
    return message


def test_unknown_check_names_file_field_and_rule(tmp_path: pathlib.Path) -> None:
    message = load_error(tmp_path, "  email:\n    - {rule: email.odd, check: psychic}\n")
    assert "'email'" in message and "email.odd" in message and "psychic" in message


def test_missing_max_is_named(tmp_path: pathlib.Path) -> None:
    message = load_error(
        tmp_path, "  first_name:\n    - {rule: first_name.len, check: max_length}\n"
    )
    assert "first_name.len" in message and "missing key 'max'" in message


DOB = "  dob:\n    - {rule: dob.range, check: date_range, "
NAME = "  first_name:\n    - "


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (DOB + "min: '1900-01-01'}\n", "missing key 'max'"),
        (DOB + "min: '1900-02-30', max: today}\n", "min: '1900-02-30' is not"),
        (DOB + "min: now, max: today}\n", "min: 'now' is not"),
        ("  phone:\n    - {rule: phone.format, check: regex}\n", "missing key 'pattern'"),
        ("  gender:\n    - {rule: gender.enum, check: enum}\n", "missing list 'values'"),
        (NAME + "{rule: first_name.len, check: max_length, max: 12x}\n", "not a number"),
        (NAME + "{check: required}\n", "missing key 'rule'"),
        (NAME + "{rule: first_name.required}\n", "missing key 'check'"),
        ("  first_name: {rule: x, check: required}\n", "expected a list"),
    ],
)
def test_malformed_checks_are_named(tmp_path: pathlib.Path, body: str, expected: str) -> None:
    assert expected in load_error(tmp_path, body)


@pytest.mark.parametrize(
    "pattern",
    [r"\bword", "(?i)abc", "a(?=b)", r"\p{L}+", "[[:alpha:]]", "a**", "([0-9", r"(a)\1", "x{2,1}"],
)
def test_regex_outside_the_subset_is_rejected_naming_the_rule(
    tmp_path: pathlib.Path, pattern: str
) -> None:
    quoted = pattern.replace("'", "''")
    message = load_error(
        tmp_path, f"  phone:\n    - {{rule: phone.odd, check: regex, pattern: '{quoted}'}}\n"
    )
    assert "'phone'" in message and "phone.odd" in message and "regex" in message


def test_malformed_files_are_rejected(tmp_path: pathlib.Path) -> None:
    with pytest.raises(c.ContractError, match="cannot read"):
        c.load_contract(tmp_path / "absent.yaml")
    with pytest.raises(c.ContractError, match="not valid YAML"):
        c.parse_contract("fields: [", "x.yaml")
    with pytest.raises(c.ContractError, match="needs keys"):
        c.parse_contract("contract: c\nfields: {}\n", "x.yaml")
    with pytest.raises(c.ContractError, match="listed twice"):
        c.parse_contract(HEADER + "  a: []\n  a: []\n", "x.yaml")
