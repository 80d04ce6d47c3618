"""sluice's CQL client and the Python cassandra-driver agree on every value: rows that
`sluice cql --values` binds (our codec) read back identically through the Python driver,
and rows the Python driver writes read back identically through `sluice cql`."""

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from ipaddress import ip_address
from pathlib import Path

import pytest
from cassandra.cluster import Cluster, Session

from tests.cql_cli import sluice_cql
from tests.endpoints import CASSANDRA_PORT

pytestmark = pytest.mark.usefixtures("stack")

COLUMNS = "id, t, a, i, b, f, d, day, ts, bl, u, tu, ip, tags, scores, attrs"
TABLE = (
    "CREATE TABLE interop (id int PRIMARY KEY, t text, a ascii, i int, b bigint, f boolean, "
    "d double, day date, ts timestamp, bl blob, u uuid, tu timeuuid, ip inet, "
    "tags list<text>, scores set<int>, attrs map<text, bigint>)"
)
# One row as JSON for `sluice cql --values`, and the Python values it must equal.
ROW_JSON = [
    1,
    'Zoë 山田 😀 "quoted"',
    "plain ascii",
    -2147483648,
    9007199254740993,
    True,
    -0.125,
    "1969-07-20",
    "2024-02-29T23:59:59.123Z",
    "0x00ff10",
    "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab",
    "e0c6a8a0-8d3e-11ef-9f1a-0242ac120002",
    "2001:db8::1",
    ["b", "a", ""],
    [3, 1, 2],
    {"k1": 1, "k2": -(2**40)},
]
ROW_PY = (
    1,
    'Zoë 山田 😀 "quoted"',
    "plain ascii",
    -2147483648,
    9007199254740993,
    True,
    -0.125,
    date(1969, 7, 20),
    datetime(2024, 2, 29, 23, 59, 59, 123000),
    b"\x00\xff\x10",
    uuid.UUID("7f1d2c3a-1b2c-4d5e-8f90-0123456789ab"),
    uuid.UUID("e0c6a8a0-8d3e-11ef-9f1a-0242ac120002"),
    "2001:db8::1",
    ["b", "a", ""],
    {1, 2, 3},
    {"k1": 1, "k2": -(2**40)},
)


@pytest.fixture
def keyspace() -> Iterator[tuple[str, Session]]:
    cluster = Cluster(["127.0.0.1"], port=CASSANDRA_PORT)
    session = cluster.connect()
    name = f"interop_{uuid.uuid4().hex[:8]}"
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        timeout=60,
    )
    session.set_keyspace(name)
    session.execute(TABLE, timeout=60)
    yield name, session
    session.execute(f"DROP KEYSPACE {name}", timeout=60)
    cluster.shutdown()


def test_values_bound_by_sluice_read_back_identically_in_the_python_driver(
    sluice_bin: Path, keyspace: tuple[str, Session]
) -> None:
    name, session = keyspace
    marks = ", ".join("?" * len(ROW_JSON))
    sluice_cql(
        sluice_bin,
        name,
        "-e",
        f"INSERT INTO interop ({COLUMNS}) VALUES ({marks})",
        "--values",
        json.dumps(ROW_JSON),
    )
    row = session.execute(f"SELECT {COLUMNS} FROM interop WHERE id = 1").one()
    got = list(row)
    got[12] = str(ip_address(got[12]))
    got[13] = list(got[13])
    got[14] = set(got[14])
    got[15] = dict(got[15])
    assert tuple(got) == ROW_PY


def test_rows_written_by_the_python_driver_read_back_identically_through_sluice(
    sluice_bin: Path, keyspace: tuple[str, Session]
) -> None:
    name, session = keyspace
    insert = session.prepare(
        f"INSERT INTO interop ({COLUMNS}) VALUES ({', '.join('?' * len(ROW_PY))})"
    )
    session.execute(insert, ROW_PY)
    out = sluice_cql(
        sluice_bin, name, "-e", f"SELECT {COLUMNS} FROM interop WHERE id = 1", "--output", "json"
    )
    row = json.loads(out.stdout.splitlines()[0])
    assert row["t"] == ROW_PY[1] and row["a"] == ROW_PY[2]
    assert (row["i"], row["b"]) == ("-2147483648", "9007199254740993")
    assert (row["f"], row["d"]) == ("true", "-0.125")
    assert row["day"] == "1969-07-20"
    assert row["ts"] == "2024-02-29T23:59:59.123Z"
    assert row["bl"] == "0x00ff10"
    assert row["u"] == str(ROW_PY[10]) and row["tu"] == str(ROW_PY[11])
    assert ip_address(row["ip"]) == ip_address("2001:db8::1")
    assert json.loads(row["tags"]) == ["b", "a", ""]
    assert row["scores"] == "{1, 2, 3}"
    assert json.loads(row["attrs"]) == {"k1": 1, "k2": -(2**40)}


def test_a_value_of_the_wrong_type_is_refused_naming_the_column(
    sluice_bin: Path, keyspace: tuple[str, Session]
) -> None:
    name, _ = keyspace
    result = sluice_cql(
        sluice_bin,
        name,
        "-e",
        "INSERT INTO interop (id, day) VALUES (?, ?)",
        "--values",
        '[2, "29/02/2024"]',
        check=False,
    )
    assert result.returncode != 0
    assert "column day" in result.stderr and "29/02/2024" in result.stderr
