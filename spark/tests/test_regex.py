"""Tests of the RE2 -> Java regex translation (sluice_spark/regex.py): the translated
patterns, the rejected constructs, and equivalence: for every pattern the contract uses
(its regex checks, email, url) and a few that exercise the rest of the subset, RE2's full
match (google-re2, as RE2::FullMatch in src/rules/engine.cc) and Spark's rlike on the
translation agree on thousands of generated strings and near misses."""

from __future__ import annotations

import pathlib
import random

import pytest
import re2  # type: ignore[import-untyped, unused-ignore]
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sluice_spark import contract as c
from sluice_spark import regex as rx

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES_DIR = REPO_ROOT / "contract" / "cases"

# Characters where RE2 and Java differ (line terminators, VT, NEL, U+2028, ...), outside
# ASCII, outside the BMP, and the punctuation the contract's patterns use.
TRICKY = [
    "\n", "\r", "\x0b", "\x0c", "\t", " ", "\x00", "\x7f", "\u0085", "\u00a0", "\u2028",
    "\u2029", "\u212a", "é", "ß", "İ", "😀", "e\u0301", "١", "２", "@", ".", "-", "_", "/", "?",
    "#", ":", "+", "(", ")", "%", "'", "[", "]", "\\", "^", "$", "{", "}", "|", "*", "a", "Z",
    "0", "9",
]  # fmt: skip
# Patterns beyond the contract's, covering the rest of the supported subset.
EXTRA_PATTERNS = [
    r"a.c",
    r"\s+x\S",
    r"[^\s]*",
    r"\d{2,4}|x",
    r"(ab|c)*d?",
    r"[]a-]+",
    r"[\x41-\x43\t]\x{1F600}?",
    r"\D\W\w",
    r"\.\+\?",
    "é😀+",
    r"^$",
    r"",
    r"\A[a-c]{3}\z",
    r"a{,2}",
    r"[\^\-\]\\]+",
    r"a{2,}?b??",
    r"x|",
    r"[^a-z]",
    r"[\d\s]{1,3}",
    r"^a|b$",
]


def re2_compile(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


def contract_patterns() -> list[str]:
    contract = c.load_contract(REPO_ROOT / "contract" / "rules.yaml")
    found = [ch.pattern for checks in contract.checks for ch in checks if ch.pattern]
    assert {c.EMAIL_PATTERN, c.URL_PATTERN} <= set(found)
    assert len(found) >= 5
    return list(dict.fromkeys(found))


CONTRACT_PATTERNS = contract_patterns()
PATTERNS = CONTRACT_PATTERNS + EXTRA_PATTERNS


# --- Generating strings from a pattern --------------------------------------------------


def _outside(node: rx.CharClass, rng: random.Random) -> str:
    """A character the (not negated) ranges do not hold, preferring tricky ones."""
    candidates = [ch for ch in TRICKY if len(ch) == 1 and not _holds(node.ranges, ord(ch))]
    return rng.choice(candidates) if candidates else "\u4e00"


def _holds(ranges: tuple[rx.Range, ...], code_point: int) -> bool:
    return any(lo <= code_point <= hi for lo, hi in ranges)


def _class_char(node: rx.CharClass, rng: random.Random) -> str:
    if node.negated:
        return _outside(rx.CharClass(node.ranges), rng)
    lo, hi = rng.choice(node.ranges)
    return chr(rng.choice([lo, hi, rng.randint(lo, hi)]))


def _count(node: rx.Repeat, rng: random.Random) -> int:
    high = node.high if node.high is not None else node.low + 4
    choices = [node.low, high, rng.randint(node.low, high), max(node.low - 1, 0), high + 1]
    return rng.choices(choices, weights=[3, 3, 4, 1, 1])[0]


def sample(node: rx.Node, rng: random.Random) -> str:
    """A string the pattern (usually) matches; lengths favour the repeat bounds, and now
    and then one repeat goes one below or above them."""
    if isinstance(node, rx.Literal):
        return chr(node.char)
    if isinstance(node, rx.CharClass):
        return _class_char(node, rng)
    if isinstance(node, rx.Anchor):
        return ""
    if isinstance(node, rx.Group):
        return sample(node.body, rng)
    if isinstance(node, rx.Repeat):
        return "".join(sample(node.item, rng) for _ in range(_count(node, rng)))
    if isinstance(node, rx.Concat):
        return "".join(sample(item, rng) for item in node.items)
    return sample(rng.choice(node.options), rng)


def near_miss(text: str, rng: random.Random) -> str:
    """One edit: a tricky character inserted, replaced or appended, or one deleted."""
    i = rng.randint(0, len(text))
    edit = rng.randrange(5)
    if edit == 0:
        return text[:i] + rng.choice(TRICKY) + text[i:]
    if edit == 1 and text:
        i = min(i, len(text) - 1)
        return text[:i] + rng.choice(TRICKY) + text[i + 1 :]
    if edit == 2 and text:
        i = min(i, len(text) - 1)
        return text[:i] + text[i + 1 :]
    if edit == 3:
        return text + rng.choice(["\n", "\r\n", "\x0b", " ", "\u2028", "\u0085"])
    return rng.choice(["", " ", "\n"]) + text


def case_values() -> list[str]:
    values: set[str] = set()
    for path in CASES_DIR.glob("*.yaml"):
        doc = c.read_yaml(path.read_text(encoding="utf-8"))
        assert isinstance(doc, c.YamlMap)
        values |= set(_scalars(doc))
    return sorted(values)


def _scalars(node: c.YamlValue) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, c.YamlMap):
        return [text for _, v in node.pairs for text in _scalars(v)]
    if isinstance(node, c.YamlList):
        return [text for v in node.items for text in _scalars(v)]
    return []


def corpus() -> list[str]:
    rng = random.Random(1234)
    texts = set(case_values()) | set(TRICKY) | {"", "\n", "a\n", "x\n"}
    for pattern in PATTERNS:
        tree = rx.parse(pattern)
        for _ in range(300):
            text = sample(tree, rng)
            texts |= {text, near_miss(text, rng), near_miss(near_miss(text, rng), rng)}
    return sorted(texts)


# --- Tests ----------------------------------------------------------------------------


def test_translations_spell_out_re2_semantics() -> None:
    assert rx.translate(r"^a$") == r"\A(?:\Aa\z)\z"
    assert rx.translate(r"\s") == r"\A(?:[\x{9}-\x{a}\x{c}-\x{d}\x{20}])\z"  # no VT
    assert rx.translate(r"[^\s]") == r"\A(?:[^\x{9}-\x{a}\x{c}-\x{d}\x{20}])\z"
    assert rx.translate(".") == r"\A(?:[^\x{a}])\z"  # RE2's dot: all but LF
    assert rx.translate(r"(a|b){2,3}\d") == r"\A(?:(?:a|b){2,3}[0-9])\z"
    assert rx.translate(r"[]a-]x{,2}") == r"\A(?:[\]a\-]x\{\,2\})\z"  # RE2: literal braces
    assert rx.translate("é😀") == r"\A(?:\x{e9}\x{1f600})\z"


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bword", r"\Bx", "(?i)abc", "a(?=b)", "(?P<n>a)", r"\p{L}", r"\pN", "[[:alpha:]]",
        r"[\D]", r"\Q.\E", r"\C", r"(a)\1", r"\0", r"\Z", "^*", r"\x{110000}",
        # invalid in RE2 too:
        "a**", "a{2}{3}", "*a", "a|*", "([0-9", "a)", "[a", "[z-a]", "x{2,1}", "x{1001}", "\\",
        r"\8", r"[a-\d]", r"\é", r"\xZZ",
    ],
)  # fmt: skip
def test_constructs_outside_the_subset_are_rejected(pattern: str) -> None:
    with pytest.raises(rx.RegexError):
        rx.translate(pattern)


def test_re2_rejects_the_invalid_ones_and_accepts_every_pattern_used() -> None:
    # What RE2 itself rejects must never be accepted here (the C++ would not load it).
    for pattern in ["a**", "a{2}{3}", "*a", "([0-9", "a)", "[a", "[z-a]", "x{1001}", r"\8"]:
        with pytest.raises(re2.error):
            re2_compile(pattern)
    for pattern in PATTERNS:
        re2_compile(pattern)  # everything the subset accepts, RE2 accepts


def test_re2_and_spark_rlike_agree_on_every_string(spark: SparkSession) -> None:
    texts = corpus()
    assert len(texts) > 5000
    frame = spark.createDataFrame([(t,) for t in texts], "t string")
    java = [rx.translate(p) for p in PATTERNS]
    matched = frame.select(*[F.col("t").rlike(j).alias(f"m{i}") for i, j in enumerate(java)])
    rows = matched.collect()
    for i, pattern in enumerate(PATTERNS):
        regexp = re2_compile(pattern)
        expected = [regexp.fullmatch(t) is not None for t in texts]
        got = [row[i] for row in rows]
        wrong = [t for t, g, e in zip(texts, got, expected, strict=True) if g != e]
        assert wrong == [], f"{pattern!r} -> {java[i]!r} differs on {wrong[:5]!r}"
        hits = sum(expected)
        assert 0 < hits < len(texts), f"{pattern!r}: {hits} matches, the corpus is one-sided"
        if pattern in CONTRACT_PATTERNS:
            assert hits > 100, f"{pattern!r}: only {hits} matching strings generated"
