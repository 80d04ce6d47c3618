"""The CQL types beyond the basics (varint, decimal, float, smallint, tinyint, time,
duration, tuple, a UDT with a nested UDT field, and Cassandra 5's vector<float, 3>)
against the real Cassandra: rows that `sluice cql --values` binds read back exactly
through the Python cassandra-driver, rows the Python driver writes print through
`sluice cql` as the expected CQL text, and bad values are refused naming the column.

Everything lives in a keyspace of its own, dropped at the end."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from cassandra.cluster import Cluster, Session
from cassandra.util import Duration

from tests.cql_cli import sluice_cql
from tests.endpoints import CASSANDRA_PORT

pytestmark = pytest.mark.usefixtures("stack")

COLUMNS = "id, vi, de, fl, si, ti, tm, du, tu, pl, ve"
NANOS_PER_SECOND = 1_000_000_000


@pytest.fixture(scope="module")
def keyspace() -> Iterator[tuple[str, str, Session]]:
    """A fresh keyspace with UDTs `point` and `place` (which nests a point) and a table
    of every type under test; yields (keyspace, table, driver session)."""
    cluster = Cluster(["127.0.0.1"], port=CASSANDRA_PORT)
    session = cluster.connect()
    version = session.execute("SELECT release_version FROM system.local").one()[0]
    if int(version.split(".")[0]) < 5:
        cluster.shutdown()
        pytest.skip(f"vector<float, 3> needs Cassandra 5, this is {version}")
    name = f"types_{uuid.uuid4().hex[:8]}"
    table = f"alltypes_{uuid.uuid4().hex[:8]}"
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        timeout=60,
    )
    session.set_keyspace(name)
    session.execute("CREATE TYPE point (x int, y int)", timeout=60)
    session.execute("CREATE TYPE place (name text, at frozen<point>, tags list<text>)", timeout=60)
    session.execute(
        f"CREATE TABLE {table} (id int PRIMARY KEY, vi varint, de decimal, fl float, "
        "si smallint, ti tinyint, tm time, du duration, tu tuple<int, text>, "
        "pl frozen<place>, ve vector<float, 3>)",
        timeout=60,
    )
    yield name, table, session
    session.execute(f"DROP TABLE {table}", timeout=60)
    session.execute(f"DROP KEYSPACE {name}", timeout=60)
    cluster.shutdown()


def insert_with_sluice(sluice: Path, keyspace: str, table: str, values: list) -> None:
    marks = ", ".join("?" * len(values))
    sluice_cql(
        sluice,
        keyspace,
        "-e",
        f"INSERT INTO {table} ({COLUMNS}) VALUES ({marks})",
        "--values",
        json.dumps(values),
    )


def hms_nanos(h: int, m: int, s: int, fraction: int = 0) -> int:
    return ((h * 60 + m) * 60 + s) * NANOS_PER_SECOND + fraction


def test_values_bound_by_sluice_read_back_exactly_in_the_python_driver(
    sluice_bin: Path, keyspace: tuple[str, str, Session]
) -> None:
    name, table, session = keyspace
    insert_with_sluice(
        sluice_bin,
        name,
        table,
        [
            1,
            "123456789012345678901234567890123",
            "-123.4500",
            2.5,
            -32768,
            -128,
            "12:34:56.123456789",
            "1y2mo3w4d5h6m7s8ms9us10ns",
            [7, "seven"],
            {"name": "home", "at": {"x": 1, "y": -2}, "tags": ["a", "b"]},
            [1.0, 2.5, -3.25],
        ],
    )
    row = session.execute(f"SELECT {COLUMNS} FROM {table} WHERE id = 1").one()
    assert row.vi == 123456789012345678901234567890123
    assert row.de == Decimal("-123.4500") and str(row.de) == "-123.4500"
    assert (row.fl, row.si, row.ti) == (2.5, -32768, -128)
    assert row.tm.nanosecond_time == hms_nanos(12, 34, 56, 123456789)
    nanos = hms_nanos(5, 6, 7) + 8_000_000 + 9_000 + 10
    assert row.du == Duration(14, 25, nanos)
    assert row.tu == (7, "seven")
    assert (row.pl.name, row.pl.at.x, row.pl.at.y, list(row.pl.tags)) == ("home", 1, -2, ["a", "b"])
    assert list(row.ve) == [1.0, 2.5, -3.25]


def test_big_numbers_iso_durations_and_missing_fields_bind_exactly(
    sluice_bin: Path, keyspace: tuple[str, str, Session]
) -> None:
    name, table, session = keyspace
    big = -(10**40)
    insert_with_sluice(
        sluice_bin,
        name,
        table,
        [
            2,
            str(big),
            "1E+40",
            -0.125,
            32767,
            127,
            "00:00:00",
            "P1Y2M3DT4H5M6S",
            [None, "only text"],
            {"name": "nowhere"},
            [0, -1, 1e-3],
        ],
    )
    row = session.execute(f"SELECT {COLUMNS} FROM {table} WHERE id = 2").one()
    assert row.vi == big
    assert row.de == Decimal("1E+40")
    assert (row.fl, row.si, row.ti) == (-0.125, 32767, 127)
    assert row.tm.nanosecond_time == 0
    assert row.du == Duration(14, 3, hms_nanos(4, 5, 6))
    assert row.tu == (None, "only text")
    assert (row.pl.name, row.pl.at, row.pl.tags) == ("nowhere", None, None)
    assert row.ve[:2] == [0.0, -1.0] and row.ve[2] == pytest.approx(1e-3, rel=1e-6)


def test_rows_written_by_the_python_driver_print_as_cql_text_through_sluice(
    sluice_bin: Path, keyspace: tuple[str, str, Session]
) -> None:
    name, table, session = keyspace
    insert = session.prepare(f"INSERT INTO {table} ({COLUMNS}) VALUES ({', '.join('?' * 11)})")
    session.execute(
        insert,
        (
            3,
            -(10**40) - 1,
            Decimal("-0.000123"),
            0.1,
            12345,
            -7,
            hms_nanos(1, 2, 3, 4),
            Duration(-14, -3, -4 * NANOS_PER_SECOND),
            (3, 'x"y'),
            ("work", (5, 6), ["q"]),
            [0.5, -1.0, 3.0],
        ),
    )
    out = sluice_cql(
        sluice_bin, name, "-e", f"SELECT {COLUMNS} FROM {table} WHERE id = 3", "--output", "json"
    )
    row = json.loads(out.stdout.splitlines()[0])
    assert row["vi"] == "-1" + "0" * 39 + "1"
    assert row["de"] == "-0.000123"
    assert row["fl"] == "0.1"  # the float nearest 0.1, printed shortest
    assert (row["si"], row["ti"]) == ("12345", "-7")
    assert row["tm"] == "01:02:03.000000004"
    assert row["du"] == "-1y2mo3d4s"
    assert row["tu"] == '(3, "x\\"y")'
    assert row["pl"] == '{name: "work", at: {x: 5, y: 6}, tags: ["q"]}'
    assert row["ve"] == "[0.5, -1.0, 3.0]"


def test_rows_bound_by_sluice_print_back_identically_through_sluice(
    sluice_bin: Path, keyspace: tuple[str, str, Session]
) -> None:
    name, table, _ = keyspace
    insert_with_sluice(
        sluice_bin,
        name,
        table,
        [
            4,
            "-42",
            "3.14159",
            -1.5,
            0,
            0,
            "23:59:59.999999999",
            "-90m",
            [1, None],
            {"name": "x", "at": {"x": 0, "y": 0}, "tags": []},
            [1, 2, 3],
        ],
    )
    out = sluice_cql(
        sluice_bin, name, "-e", f"SELECT {COLUMNS} FROM {table} WHERE id = 4", "--output", "json"
    )
    row = json.loads(out.stdout.splitlines()[0])
    assert (row["vi"], row["de"], row["fl"]) == ("-42", "3.14159", "-1.5")
    assert (row["tm"], row["du"], row["tu"]) == ("23:59:59.999999999", "-1h30m", "(1, null)")
    assert row["pl"] == '{name: "x", at: {x: 0, y: 0}, tags: []}'
    assert row["ve"] == "[1.0, 2.0, 3.0]"


@pytest.mark.parametrize(
    ("column", "value", "mentions"),
    [
        ("si", 40000, ["column si", "smallint", "40000"]),
        ("ti", -129, ["column ti", "tinyint", "-129"]),
        ("tm", "24:00:00", ["column tm", "time", "24:00:00"]),
        ("du", "3 fortnights", ["column du", "duration", "3 fortnights"]),
        ("pl", {"name": "a", "city": "b"}, ["column pl", "city"]),
        ("ve", [1, 2], ["column ve", "vector<float, 3>"]),
        ("vi", "12x", ["column vi", "varint", "12x"]),
    ],
)
def test_a_bad_value_is_refused_naming_column_type_and_value(
    sluice_bin: Path,
    keyspace: tuple[str, str, Session],
    column: str,
    value: object,
    mentions: list[str],
) -> None:
    name, table, _ = keyspace
    result = sluice_cql(
        sluice_bin,
        name,
        "-e",
        f"INSERT INTO {table} (id, {column}) VALUES (?, ?)",
        "--values",
        json.dumps([99, value]),
        check=False,
    )
    assert result.returncode != 0
    for text in mentions:
        assert text in result.stderr, result.stderr
