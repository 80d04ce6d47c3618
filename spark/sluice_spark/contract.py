"""The validation contract (contract/rules.yaml) compiled into Spark SQL columns.

load_contract parses the rules file as the C++ engine does (src/rules/engine.cc) and
violations_column turns it into one column expression per record: the array of broken
rules, in field order, at most one per field (its first failing check), empty when the
record is valid. Everything is built from pyspark.sql.functions (no Python UDF), and the
result does not depend on spark.sql.ansi.enabled: a date or timestamp is checked by one
strict regex (calendar included), and its digits are cast and passed to make_date only
in the CASE WHEN branch that the match guards, so nothing can raise.

Semantics mirrored from the C++ engine: `required` is "present and not only SPACE / TAB /
LF / VT / FF / CR"; an absent field reports its `required` rule when that is its first
check and is otherwise skipped; lengths count code points (Spark's length() does); `now`
is the record's Kafka timestamp floored to a whole second (floor, also before 1970), and
`today` is its UTC date; regexes match as RE2::FullMatch (see regex.py).
"""

from __future__ import annotations

import enum
import pathlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped, unused-ignore]
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from sluice_spark import regex

# The patterns behind the `email` and `url` checks: copies of email_pattern and
# url_pattern in src/rules/rules.h (a test fails when they drift apart).
EMAIL_PATTERN = (
    r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)
URL_PATTERN = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][^\s]*)?$"
)

VIOLATION_TYPE = StructType(
    [
        StructField("rule", StringType()),
        StructField("field", StringType()),
        StructField("reason", StringType()),
    ]
)
VIOLATIONS_TYPE = ArrayType(VIOLATION_TYPE)

MS_PER_SECOND = 1000
MS_PER_DAY = 86_400_000
DAYS_PER_ERA = 146_097  # days in 400 Gregorian years

# Shapes as java.util.regex (rlike); \A..\z, and [0-9] is ASCII only in Java.
BLANK = r"\A[\t\n\x0B\f\r ]*\z"
CONTROL = r"[\x00-\x1F\x7F]"
UUID = r"\A[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\z"
NIL_OR_MAX_UUID = r"\A(?:0{8}-0{4}-0{4}-0{4}-0{12}|[Ff]{8}-[Ff]{4}-[Ff]{4}-[Ff]{4}-[Ff]{12})\z"
# A real calendar day "YYYY-MM-DD" (years 0000..9999, proleptic Gregorian leap years:
# divisible by 4 and not by 100, or by 400) as one regex, so one rlike decides a date.
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
_CALENDAR_DAY = f"(?:[0-9]{{4}}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME_OF_DAY = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
DATE = rf"\A{_CALENDAR_DAY}\z"
TIMESTAMP = rf"\A{_CALENDAR_DAY}T{_TIME_OF_DAY}Z\z"


class ContractError(ValueError):
    """A malformed rules file; the message names the file, the field and the rule."""


class Kind(enum.StrEnum):
    REQUIRED = "required"
    UUID = "uuid"
    EMAIL = "email"
    REGEX = "regex"
    ENUM = "enum"
    MAX_LENGTH = "max_length"
    DATE = "date"
    TIMESTAMP = "timestamp"
    DATE_RANGE = "date_range"
    TIMESTAMP_RANGE = "timestamp_range"
    URL = "url"
    NO_CONTROL = "no_control"
    UUID_IDENTITY = "uuid_identity"


@dataclass(frozen=True)
class Check:
    """One compiled check. Range bounds are days (date_range) or ms (timestamp_range);
    a bound of None is `today` / `now`, i.e. taken from the record's timestamp."""

    rule: str
    field: str
    kind: Kind
    reason: str
    pattern: str = ""  # the RE2 pattern (regex, email, url)
    java_pattern: str = ""  # its translation for rlike
    values: tuple[str, ...] = ()
    max_length: int = 0
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class Contract:
    name: str  # "sluice.v1.User"
    version: int
    fields: tuple[str, ...]  # field names in file order
    rule_ids: tuple[str, ...]  # every rule id in file order
    checks: tuple[tuple[Check, ...], ...]  # each field's checks, aligned with `fields`

    def checks_of(self, field: str) -> tuple[Check, ...]:
        return self.checks[self.fields.index(field)]


# --- Pure Python ports of rules::parse_date_days / parse_timestamp_ms (bounds, tests) ---


def _leap(year: int) -> bool:
    return (year % 4 == 0 and year % 100 != 0) or year % 400 == 0


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(year: int, month: int, day: int) -> int:
    """H. Hinnant's days_from_civil, as in text_checks.cc (valid for years 0..9999)."""
    y = year - (1 if month <= 2 else 0)
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (month - 3 if month > 2 else month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * DAYS_PER_ERA + doe - 719_468


def _ascii_number(raw: bytes, start: int, count: int) -> int | None:
    part = raw[start : start + count]
    if len(part) != count or any(b < 0x30 or b > 0x39 for b in part):
        return None
    return int(part)


def _date_part(raw: bytes) -> int | None:
    year, month, day = (_ascii_number(raw, i, n) for i, n in ((0, 4), (5, 2), (8, 2)))
    if year is None or month is None or day is None or raw[4:5] != b"-" or raw[7:8] != b"-":
        return None
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    return _days_from_civil(year, month, day)


def parse_date_days(text: str) -> int | None:
    """rules::parse_date_days: "YYYY-MM-DD", a real calendar day, to days since 1970."""
    raw = text.encode("utf-8", "surrogatepass")
    return _date_part(raw) if len(raw) == 10 else None


def parse_timestamp_ms(text: str) -> int | None:
    """rules::parse_timestamp_ms: "YYYY-MM-DDTHH:MM:SS[.fraction]Z" to ms since 1970
    (1 to 9 fraction digits, cut after the third), a line-for-line port."""
    raw = text.encode("utf-8", "surrogatepass")
    days = _date_part(raw)
    hour, minute, second = (_ascii_number(raw, i, 2) for i in (11, 14, 17))
    if days is None or len(raw) < 20 or raw[10:11] != b"T" or raw[13:14] != b":":
        return None
    if raw[16:17] != b":" or raw[-1:] != b"Z":
        return None
    if hour is None or minute is None or second is None:
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    millis, pos = 0, 19
    if raw[pos] == ord("."):
        pos += 1
        first, scale = pos, 100
        while pos < len(raw) and 0x30 <= raw[pos] <= 0x39:
            millis += (raw[pos] - 0x30) * scale
            scale //= 10
            pos += 1
        if pos == first or pos - first > 9:
            return None
    if pos != len(raw) - 1:
        return None
    return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis


# --- Loading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class YamlMap:
    """A YAML mapping: its pairs in file order, keys as scalar text (None: not a scalar)."""

    pairs: tuple[tuple[str | None, YamlValue], ...]

    def get(self, key: str) -> YamlValue:
        return next((value for k, value in self.pairs if k == key), None)


@dataclass(frozen=True)
class YamlList:
    items: tuple[YamlValue, ...]


# A scalar is its text exactly as written (yaml-cpp's as<std::string>(): `2` stays "2",
# a date stays a string); None is null or absent.
YamlValue = str | YamlMap | YamlList | None
NULL_TAG = "tag:yaml.org,2002:null"


def _typed(node: Any) -> YamlValue:
    """A composed PyYAML node as a YamlValue."""
    if isinstance(node, yaml.MappingNode):
        return YamlMap(tuple((_key(k), _typed(v)) for k, v in node.value))
    if isinstance(node, yaml.SequenceNode):
        return YamlList(tuple(_typed(v) for v in node.value))
    if node is None or node.tag == NULL_TAG:
        return None
    return str(node.value)


def read_yaml(text: str) -> YamlValue:
    """YAML text with every scalar kept as its written text, as yaml-cpp reads it (the
    rule case files too); yaml.YAMLError when malformed."""
    return _typed(yaml.compose(text, Loader=yaml.SafeLoader))


def _key(node: Any) -> str | None:
    key = _typed(node)
    return key if isinstance(key, str) else None


@dataclass(frozen=True)
class _Where:
    origin: str
    field: str
    rule: str

    def error(self, what: str) -> ContractError:
        return ContractError(
            f"{self.origin}: field '{self.field}', rule '{self.rule or '?'}': {what}"
        )


def _scalar(node: YamlMap, key: str, where: _Where) -> str:
    text = node.get(key)
    if not isinstance(text, str):
        raise where.error(f"missing key '{key}'")
    return text


def _kind(node: YamlMap, where: _Where) -> Kind:
    name = _scalar(node, "check", where)
    try:
        return Kind(name)
    except ValueError:
        raise where.error(f"unknown check '{name}'") from None


def _translate(pattern: str, where: _Where) -> str:
    try:
        return regex.translate(pattern)
    except regex.RegexError as e:
        raise where.error(f"bad or unsupported regex '{pattern}': {e}") from None


def _bound(node: YamlMap, key: str, kind: Kind, where: _Where) -> int | None:
    text = _scalar(node, key, where)
    is_date = kind is Kind.DATE_RANGE
    if text == ("today" if is_date else "now"):
        return None
    value = parse_date_days(text) if is_date else parse_timestamp_ms(text)
    if value is None:
        shape = "a YYYY-MM-DD date" if is_date else "a YYYY-MM-DDTHH:MM:SS[.fff]Z timestamp"
        raise where.error(f"{key}: '{text}' is not {shape}")
    return value


def _enum_values(node: YamlMap, where: _Where) -> tuple[str, ...]:
    values = node.get("values")
    if not isinstance(values, YamlList):
        raise where.error("missing list 'values'")
    texts = tuple(v for v in values.items if isinstance(v, str))
    if len(texts) != len(values.items):
        raise where.error("'values' must be a list of strings")
    return texts


def _max_length(node: YamlMap, where: _Where) -> int:
    text = _scalar(node, "max", where)
    if not re.fullmatch(r"[0-9]+", text):
        raise where.error(f"max '{text}' is not a number")
    return int(text)


PLAIN_REASONS = {
    Kind.REQUIRED: "missing or blank",
    Kind.UUID: "not a UUID (8-4-4-4-12 hex)",
    Kind.EMAIL: "not an e-mail address",
    Kind.URL: "not an absolute http(s) URL",
    Kind.DATE: "not a YYYY-MM-DD calendar date",
    Kind.TIMESTAMP: "not a YYYY-MM-DDTHH:MM:SS[.fff]Z timestamp",
    Kind.NO_CONTROL: "contains a control character (U+0000..U+001F or U+007F)",
    Kind.UUID_IDENTITY: "nil or max UUID (names no entity)",
}
FIXED_PATTERNS = {Kind.EMAIL: EMAIL_PATTERN, Kind.URL: URL_PATTERN}


def _compile_check(node: YamlMap, where: _Where) -> Check:
    """One check as engine.cc's compile_check: the kind, its options, its reason text."""
    kind = _kind(node, where)
    rule, field = where.rule, where.field
    if kind is Kind.REGEX:
        pattern = _scalar(node, "pattern", where)
        java = _translate(pattern, where)
        return Check(rule, field, kind, f"does not match {pattern}", pattern, java)
    if kind in FIXED_PATTERNS:
        pattern = FIXED_PATTERNS[kind]
        java = _translate(pattern, where)
        return Check(rule, field, kind, PLAIN_REASONS[kind], pattern, java)
    if kind is Kind.ENUM:
        values = _enum_values(node, where)
        return Check(rule, field, kind, f"not one of {', '.join(values)}", values=values)
    if kind is Kind.MAX_LENGTH:
        most = _max_length(node, where)
        return Check(rule, field, kind, f"longer than {most} characters", max_length=most)
    if kind in (Kind.DATE_RANGE, Kind.TIMESTAMP_RANGE):
        low, high = _bound(node, "min", kind, where), _bound(node, "max", kind, where)
        reason = f"outside {_scalar(node, 'min', where)}..{_scalar(node, 'max', where)}"
        return Check(rule, field, kind, reason, low=low, high=high)
    return Check(rule, field, kind, PLAIN_REASONS[kind])


def _field_checks(field: str, node: YamlValue, origin: str) -> tuple[Check, ...]:
    where = _Where(origin, field, "")
    if not isinstance(node, YamlList):
        raise where.error("expected a list of checks")
    checks = []
    for item in node.items:
        if not isinstance(item, YamlMap):
            raise where.error("each check must be a map")
        rule = item.get("rule")
        if not isinstance(rule, str) or not rule:
            raise where.error("missing key 'rule'")
        checks.append(_compile_check(item, _Where(origin, field, rule)))
    return tuple(checks)


def _root(text: str, origin: str) -> tuple[str, str, YamlMap]:
    """The contract name, the version text and the `fields` map of a rules file."""
    try:
        root = read_yaml(text)
    except yaml.YAMLError as e:
        raise ContractError(f"{origin}: not valid YAML: {e}") from None
    if isinstance(root, YamlMap):
        name, version, fields = root.get("contract"), root.get("version"), root.get("fields")
        if isinstance(name, str) and isinstance(version, str) and isinstance(fields, YamlMap):
            return name, version, fields
    raise ContractError(f"{origin}: needs keys 'contract', 'version' and a 'fields' map")


def parse_contract(text: str, origin: str) -> Contract:
    """A contract from YAML text; `origin` names the source in error messages."""
    name, version, fields_map = _root(text, origin)
    if not re.fullmatch(r"[+-]?[0-9]+", version):
        raise ContractError(f"{origin}: version '{version}' is not an integer")
    fields: list[str] = []
    checks: list[tuple[Check, ...]] = []
    for field, value in fields_map.pairs:
        if field is None or field in fields:
            raise ContractError(f"{origin}: field '{field}': listed twice or not a name")
        fields.append(field)
        checks.append(_field_checks(field, value, origin))
    rule_ids = tuple(c.rule for field_checks in checks for c in field_checks)
    return Contract(name, int(version), tuple(fields), rule_ids, tuple(checks))


def load_contract(path: pathlib.Path) -> Contract:
    """Loads and compiles a rules file; ContractError naming file, field and rule when
    it is malformed (unknown check, missing option, regex outside the supported subset)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ContractError(f"cannot read rules file '{path}': {e}") from None
    return parse_contract(text, str(path))


# --- Dates and timestamps as columns ----------------------------------------------------


def _number(text: Column, start: int, count: int) -> Column:
    """The number spelled by `count` characters from 1-based `start`; only used where the
    strict regex has matched (ASCII digits there, so the cast cannot fail in ANSI mode)."""
    return F.substring(text, start, count).cast("int")


def _days(text: Column) -> Column:
    """Days since 1970-01-01 of the calendar day in the first 10 characters of a text
    that DATE or TIMESTAMP matched (so make_date cannot fail in ANSI mode)."""
    return F.unix_date(F.make_date(_number(text, 1, 4), _number(text, 6, 2), _number(text, 9, 2)))


def date_days(text: Column) -> Column:
    """ "YYYY-MM-DD" -> days since 1970-01-01 (IntegerType) exactly like
    rules::parse_date_days; null when invalid (or null)."""
    return F.when(text.rlike(DATE), _days(text)).cast("int")


def timestamp_ms(text: Column) -> Column:
    """ "YYYY-MM-DDTHH:MM:SS[.fraction]Z" -> ms since the epoch (LongType) like
    rules::parse_timestamp_ms: 1 to 9 fraction digits, cut (not rounded) to ms; null when
    invalid (or null)."""
    hour, minute, second = _number(text, 12, 2), _number(text, 15, 2), _number(text, 18, 2)
    millis = F.rpad(F.regexp_extract(text, r"\.([0-9]{1,3})", 1), 3, "0").cast("int")
    seconds = ((_days(text).cast("long") * 24 + hour) * 60 + minute) * 60 + second
    return F.when(text.rlike(TIMESTAMP), seconds * 1000 + millis).cast("long")


# --- The record clock -------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    """`now` (ms, floored to a whole second) and `today` (UTC days) of one record."""

    now_ms: Column
    today_days: Column

    @staticmethod
    def of(record_timestamp_ms: Column) -> Clock:
        ts = record_timestamp_ms.cast("long")
        now_ms = ts - F.pmod(ts, F.lit(MS_PER_SECOND))  # floor, also below zero
        day_start = ts - F.pmod(ts, F.lit(MS_PER_DAY))
        # An exact multiple of a day divided by it: the double quotient is exact.
        return Clock(now_ms, (day_start / F.lit(MS_PER_DAY)).cast("long"))


# --- One function per check kind: the Column that is true when the check fails ---------

FailsFn = Callable[[Check, Column, Clock], Column]


def fails_required(check: Check, value: Column, clock: Clock) -> Column:
    return value.rlike(BLANK)  # null (absent) is handled before any check


def fails_no_control(check: Check, value: Column, clock: Clock) -> Column:
    return value.rlike(CONTROL)


def fails_uuid(check: Check, value: Column, clock: Clock) -> Column:
    return ~value.rlike(UUID)


def fails_uuid_identity(check: Check, value: Column, clock: Clock) -> Column:
    return value.rlike(NIL_OR_MAX_UUID)


def _no_full_match(check: Check, value: Column) -> Column:
    """Not RE2::FullMatch(value, check.pattern), through the translated Java pattern."""
    return ~value.rlike(check.java_pattern)


def fails_regex(check: Check, value: Column, clock: Clock) -> Column:
    return _no_full_match(check, value)


def fails_email(check: Check, value: Column, clock: Clock) -> Column:
    return _no_full_match(check, value)  # check.pattern is EMAIL_PATTERN


def fails_url(check: Check, value: Column, clock: Clock) -> Column:
    return _no_full_match(check, value)  # check.pattern is URL_PATTERN


def fails_enum(check: Check, value: Column, clock: Clock) -> Column:
    return ~value.isin(list(check.values))


def fails_max_length(check: Check, value: Column, clock: Clock) -> Column:
    return F.length(value) > F.lit(check.max_length)  # code points, as the C++


def fails_date(check: Check, value: Column, clock: Clock) -> Column:
    return ~value.rlike(DATE)


def fails_timestamp(check: Check, value: Column, clock: Clock) -> Column:
    return ~value.rlike(TIMESTAMP)


def _outside(parsed: Column, low: Column, high: Column) -> Column:
    """True when `parsed` is null (unparsable) or outside [low, high]."""
    return ~F.coalesce((parsed >= low) & (parsed <= high), F.lit(False))


def fails_date_range(check: Check, value: Column, clock: Clock) -> Column:
    low = clock.today_days if check.low is None else F.lit(check.low)
    high = clock.today_days if check.high is None else F.lit(check.high)
    return _outside(date_days(value), low, high)


def fails_timestamp_range(check: Check, value: Column, clock: Clock) -> Column:
    low = clock.now_ms if check.low is None else F.lit(check.low)
    high = clock.now_ms if check.high is None else F.lit(check.high)
    return _outside(timestamp_ms(value), low, high)


FAILS: dict[Kind, FailsFn] = {
    Kind.REQUIRED: fails_required,
    Kind.NO_CONTROL: fails_no_control,
    Kind.UUID: fails_uuid,
    Kind.UUID_IDENTITY: fails_uuid_identity,
    Kind.EMAIL: fails_email,
    Kind.REGEX: fails_regex,
    Kind.URL: fails_url,
    Kind.ENUM: fails_enum,
    Kind.MAX_LENGTH: fails_max_length,
    Kind.DATE: fails_date,
    Kind.TIMESTAMP: fails_timestamp,
    Kind.DATE_RANGE: fails_date_range,
    Kind.TIMESTAMP_RANGE: fails_timestamp_range,
}


# --- Verdicts ---------------------------------------------------------------------------


def _violation(rule: str, field: str, reason: str) -> Column:
    return F.struct(
        F.lit(rule).alias("rule"), F.lit(field).alias("field"), F.lit(reason).alias("reason")
    )


def _failed_check(checks: tuple[Check, ...], first: int, value: Column, clock: Clock) -> Column:
    """The 1-based index (the field's checks numbered from `first`) of the field's first
    failing check, or 0 when none fails. An absent value fails `required` when that is
    the first check and skips the others, as the C++ loop does."""
    absent = first if checks[0].kind is Kind.REQUIRED else 0
    verdict = F.when(value.isNull(), F.lit(absent))
    for i, check in enumerate(checks):  # CASE WHEN stops at the first true branch
        verdict = verdict.when(FAILS[check.kind](check, value, clock), F.lit(first + i))
    return verdict.otherwise(F.lit(0))


def violations_column(
    contract: Contract, values: Mapping[str, Column], record_timestamp_ms: Column
) -> Column:
    """array<struct<rule, field, reason>>: the broken rules in field order, at most one
    per field; empty when valid. `values` maps each field to a string column (null =
    absent); `record_timestamp_ms` is the Kafka record timestamp in ms."""
    missing = [f for f in contract.fields if f not in values]
    if missing:
        raise ContractError(f"no column for contract field(s) {', '.join(missing)}")
    clock = Clock.of(record_timestamp_ms)
    # Each field picks its violation by index from one constant table (entry 0: none),
    # then the "none" entries are removed (array_except also drops duplicates; there are
    # none, each entry names another field). This keeps the generated code small, and
    # uses no lambda function (which would take the projection out of whole-stage codegen).
    checks = [ch for field_checks in contract.checks for ch in field_checks]
    none = _violation("", "", "")  # the entry for "this field passed"
    table = F.array(none, *[_violation(ch.rule, ch.field, ch.reason) for ch in checks])
    picked, first = [], 1
    for field, field_checks in zip(contract.fields, contract.checks, strict=True):
        if field_checks:
            index = _failed_check(field_checks, first, values[field].cast("string"), clock)
            picked.append(F.get(table, index))
        first += len(field_checks)
    if not picked:
        return F.array().cast(VIOLATIONS_TYPE)
    return F.array_except(F.array(*picked), F.array(none)).cast(VIOLATIONS_TYPE)
