"""`sluice cql` against the stack's Cassandra, as README describes it: statements from
`-e` or `-f` (split on `;` outside quotes, `--` and `//` comments dropped), rows as a
table or as JSON lines (`--output json`, one object per row, every cell as its CQL text),
`--values '[...]'` binding `?` markers of one prepared statement, `--protocol-version`
3 or 4, `--local-dc` a data centre to *prefer* (src/cql/policy.cc: its nodes go first,
the others after, so an unknown one still reaches the cluster), and the server's own
message with exit 1 when a statement fails.

Everything lives in a keyspace of its own, dropped at the end."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cassandra.cluster import Cluster, NoHostAvailable, Session

from tests.conftest import port_open
from tests.endpoints import CASSANDRA_PORT

pytestmark = pytest.mark.usefixtures("stack")


def cql(sluice: Path, *args: str, timeout: int = 50) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(sluice), "cql", "--port", str(CASSANDRA_PORT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for_cassandra(seconds: float = 90) -> Session:
    """A driver session once Cassandra answers (another test may be restarting it)."""
    deadline = time.monotonic() + seconds
    while True:
        if port_open(CASSANDRA_PORT):
            try:
                return Cluster(["127.0.0.1"], port=CASSANDRA_PORT).connect()
            except NoHostAvailable:
                pass
        assert time.monotonic() < deadline, f"Cassandra not answering on {CASSANDRA_PORT}"
        time.sleep(2)


@pytest.fixture(scope="module")
def driver() -> Iterator[Session]:
    session = wait_for_cassandra()
    yield session
    session.cluster.shutdown()


# What the `sluice cql -f` run that made each test keyspace printed.
run_output: dict[str, subprocess.CompletedProcess[str]] = {}


@pytest.fixture(scope="module")
def keyspace(
    sluice_bin: Path, driver: Session, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh keyspace with table `people`, made by `sluice cql -f` from one file of DDL
    and inserts (the table test below checks what that run printed)."""
    name = f"cqlcli_{uuid.uuid4().hex[:10]}"
    file = tmp_path_factory.mktemp("cql") / "setup.cql"
    file.write_text(
        f"""-- a comment; with a semicolon that must not split anything
CREATE KEYSPACE {name}
  WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}};
CREATE TABLE {name}.people (id int PRIMARY KEY, name text, born date, tags set<text>);
// another comment style
INSERT INTO {name}.people (id, name, born, tags)
  VALUES (1, 'Ada; Lovelace', '1815-12-10', {{'math', 'poet'}});
INSERT INTO {name}.people (id, name) VALUES (2, 'O''Brien');
SELECT id, name, born, tags FROM {name}.people"""
    )
    run = cql(sluice_bin, "-f", str(file))
    run_output[name] = run
    yield name
    driver.execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)


def table_rows(stdout: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of `print_table` output (columns split on 2+ spaces)."""
    lines = stdout.rstrip("\n").splitlines()
    assert len(lines) >= 3, stdout
    assert lines[-1] == f"({len(lines) - 3} rows)", stdout
    assert set(lines[1].replace(" ", "")) <= {"-"}, stdout

    def cells(line: str) -> list[str]:
        # Split at the column starts of the dashed rule line.
        starts = [
            i for i, c in enumerate(lines[1]) if c == "-" and (i == 0 or lines[1][i - 1] == " ")
        ]
        ends: list[int | None] = [*starts[1:], None]
        return [line[a:b].strip() for a, b in zip(starts, ends, strict=True)]

    return cells(lines[0]), [cells(line) for line in lines[2:-1]]


def test_file_of_ddl_inserts_and_select_runs_each_and_prints_the_rows(keyspace: str) -> None:
    run = run_output[keyspace]
    assert run.returncode == 0, run.stderr
    header, rows = table_rows(run.stdout)
    assert header == ["id", "name", "born", "tags"]
    # A `;` inside quotes and in a comment did not split a statement; '' is one quote.
    assert sorted(rows) == [
        ["1", "Ada; Lovelace", "1815-12-10", '{"math", "poet"}'],
        ["2", "O'Brien", "null", "null"],
    ]


def test_file_statements_reach_cassandra_as_written(keyspace: str, driver: Session) -> None:
    stored = {row.id: row for row in driver.execute(f"SELECT * FROM {keyspace}.people", timeout=30)}
    assert stored.keys() >= {1, 2}
    assert stored[1].name == "Ada; Lovelace"
    assert stored[1].born.date() == date(1815, 12, 10)
    assert set(stored[1].tags) == {"math", "poet"}
    assert stored[2].name == "O'Brien" and stored[2].born is None


def test_control_characters_in_stored_text_print_escaped_in_table_output(
    sluice_bin: Path, keyspace: str, driver: Session
) -> None:
    # Stored data that would recolour the terminal, forge a row, or reverse the text shown.
    hostile = "Eve\x1b[31mRED\nforged  line\rback\u202egnp.exe\x85"
    driver.execute(f"INSERT INTO {keyspace}.people (id, name) VALUES (40, %s)", [hostile])
    run = cql(sluice_bin, "-e", f"SELECT id, name FROM {keyspace}.people WHERE id = 40")
    assert run.returncode == 0, run.stderr
    for raw in ("\x1b", "\r", "\u202e", "\x85"):
        assert raw not in run.stdout, repr(run.stdout)
    header, rows = table_rows(run.stdout)  # one row: the newline did not forge another
    assert header == ["id", "name"]
    assert rows == [["40", "Eve\\x1b[31mRED\\nforged  line\\rback\\u{202e}gnp.exe\\u{0085}"]], repr(
        run.stdout
    )


def test_json_output_is_one_object_per_row_with_each_cell_as_text(
    sluice_bin: Path, keyspace: str
) -> None:
    run = cql(
        sluice_bin,
        "--output",
        "json",
        "-e",
        f"SELECT id, name, born, tags FROM {keyspace}.people WHERE id IN (1, 2)",
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(rows, key=lambda r: r["id"]) == [
        {"id": "1", "name": "Ada; Lovelace", "born": "1815-12-10", "tags": '{"math", "poet"}'},
        {"id": "2", "name": "O'Brien", "born": None, "tags": None},
    ]


@pytest.mark.parametrize("version", ["3", "4"])
def test_protocol_version_3_or_4_reads_the_rows(
    sluice_bin: Path, keyspace: str, version: str
) -> None:
    run = cql(
        sluice_bin,
        "--protocol-version",
        version,
        "--output",
        "json",
        "-e",
        f"SELECT name FROM {keyspace}.people WHERE id = 1",
    )
    assert run.returncode == 0, run.stderr
    assert [json.loads(line) for line in run.stdout.splitlines()] == [{"name": "Ada; Lovelace"}]


@pytest.mark.parametrize("version", ["2", "5", "9"])
def test_protocol_version_outside_3_to_4_is_refused_naming_the_flag(
    sluice_bin: Path, version: str
) -> None:
    run = cql(sluice_bin, "--protocol-version", version, "-e", "SELECT now() FROM system.local")
    assert run.returncode != 0
    assert f"--protocol-version: Value {version} not in range 3 to 4" in run.stderr
    assert run.stdout == ""


def test_speculative_delay_reads_the_rows_and_a_negative_one_is_refused_naming_the_flag(
    sluice_bin: Path, keyspace: str
) -> None:
    select = f"SELECT name FROM {keyspace}.people WHERE id = 2"
    run = cql(sluice_bin, "--speculative-delay-ms", "20", "--output", "json", "-e", select)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"name": "O'Brien"}
    refused = cql(sluice_bin, "--speculative-delay-ms", "-5", "-e", select)
    assert refused.returncode != 0
    assert "--speculative-delay-ms: Value -5 not in range 0 to 600000" in refused.stderr


def test_local_dc_of_the_cluster_reads_the_rows(sluice_bin: Path, keyspace: str) -> None:
    dc = cql(sluice_bin, "--output", "json", "-e", "SELECT data_center FROM system.local")
    assert dc.returncode == 0, dc.stderr
    assert json.loads(dc.stdout) == {"data_center": "datacenter1"}
    run = cql(
        sluice_bin,
        "--local-dc",
        "datacenter1",
        "--output",
        "json",
        "-e",
        f"SELECT name FROM {keyspace}.people WHERE id = 2",
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"name": "O'Brien"}


def test_unknown_local_dc_refuses_local_levels_unless_remote_dcs_are_allowed(
    sluice_bin: Path, keyspace: str
) -> None:
    # LOCAL_QUORUM (the default) never leaves the local data centre: with no node in
    # 'nowhere' the query fails naming it; ONE, or --allow-remote-dc, reads the row.
    select = f"SELECT name FROM {keyspace}.people WHERE id = 2"
    refused = cql(sluice_bin, "--local-dc", "nowhere", "-e", select)
    assert refused.returncode != 0
    assert "local data centre 'nowhere'" in refused.stderr, refused.stderr
    for extra in (["--allow-remote-dc"], ["--consistency", "one"]):
        run = cql(sluice_bin, "--local-dc", "nowhere", *extra, "--output", "json", "-e", select)
        assert run.returncode == 0, f"{extra}: {run.stderr}"
        assert json.loads(run.stdout) == {"name": "O'Brien"}


def test_values_bind_the_markers_of_a_prepared_insert_and_select(
    sluice_bin: Path, keyspace: str, driver: Session
) -> None:
    insert = cql(
        sluice_bin,
        "-e",
        f"INSERT INTO {keyspace}.people (id, name, born, tags) VALUES (?, ?, ?, ?)",
        "--values",
        '[3, "Grace \\"Amazing\\" Hopper", "1906-12-09", ["navy", "cobol"]]',
    )
    assert insert.returncode == 0, insert.stderr
    row = driver.execute(f"SELECT * FROM {keyspace}.people WHERE id = 3", timeout=30).one()
    assert row is not None
    assert row.name == 'Grace "Amazing" Hopper'
    assert row.born.date() == date(1906, 12, 9)
    assert set(row.tags) == {"navy", "cobol"}

    select = cql(
        sluice_bin,
        "--output",
        "json",
        "-e",
        f"SELECT id, name FROM {keyspace}.people WHERE id = ?",
        "--values",
        "[3]",
    )
    assert select.returncode == 0, select.stderr
    assert json.loads(select.stdout) == {"id": "3", "name": 'Grace "Amazing" Hopper'}


def test_values_by_name_leave_the_markers_not_named_unset_and_their_columns_untouched(
    sluice_bin: Path, keyspace: str, driver: Session
) -> None:
    # A partial update through one prepared statement: a marker left out of the object is
    # sent unset (protocol v4), so its column keeps its value and its write time; a null
    # given explicitly deletes the cell, as it should.
    driver.execute(
        f"INSERT INTO {keyspace}.people (id, name, born) VALUES (40, 'Hedy', '1914-11-09') "
        "USING TIMESTAMP 1000",
        timeout=30,
    )
    update = f"UPDATE {keyspace}.people SET name = :name, born = :born WHERE id = :id"
    partial = cql(sluice_bin, "-e", update, "--values", '{"id": 40, "name": "Hedy Lamarr"}')
    assert partial.returncode == 0, partial.stderr
    select = f"SELECT name, born, writetime(born) AS born_at FROM {keyspace}.people WHERE id = 40"
    row = driver.execute(select, timeout=30).one()
    assert row is not None
    assert row.name == "Hedy Lamarr"
    assert row.born.date() == date(1914, 11, 9) and row.born_at == 1000

    cleared = cql(sluice_bin, "-e", update, "--values", '{"id": 40, "name": "H", "born": null}')
    assert cleared.returncode == 0, cleared.stderr
    row = driver.execute(select, timeout=30).one()
    assert row is not None and row.name == "H" and row.born is None

    # Unset needs protocol v4: with v3 the statement is refused before it is sent.
    old = cql(sluice_bin, "--protocol-version", "3", "-e", update, "--values", '{"id": 40}')
    assert old.returncode != 0
    assert "value 1 is unset, which needs protocol v4; this session speaks v3" in old.stderr


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ('["three"]', 'value 1 (column id): expected a 32-bit integer, got "three"'),
        ("[1, 2]", "expected a JSON array of 1 value(s) or an object by marker name, got [1,2]"),
        ('{"idd": 1}', '"idd" is not a bind marker of the statement (its markers: id)'),
        ("[1", "--values #1: not JSON: [1"),
    ],
)
def test_values_of_the_wrong_type_count_or_syntax_are_refused_naming_them(
    sluice_bin: Path, keyspace: str, values: str, message: str
) -> None:
    run = cql(
        sluice_bin, "-e", f"SELECT name FROM {keyspace}.people WHERE id = ?", "--values", values
    )
    assert run.returncode == 2
    assert message in run.stderr
    assert run.stdout == ""


def test_syntax_error_exits_1_with_the_servers_message(sluice_bin: Path) -> None:
    run = cql(sluice_bin, "-e", "SELEC release_version FROM system.local")
    assert run.returncode == 1
    assert "syntax error" in run.stderr
    assert "line 1:0 no viable alternative at input 'SELEC'" in run.stderr
    assert run.stdout == ""


def test_failing_statement_in_a_file_stops_the_run_before_the_next(
    sluice_bin: Path, keyspace: str, driver: Session, tmp_path: Path
) -> None:
    file = tmp_path / "broken.cql"
    file.write_text(
        f"INSERT INTO {keyspace}.people (id, name) VALUES (10, 'before');\n"
        f"INSERT INTO {keyspace}.nosuchtable (id) VALUES (11);\n"
        f"INSERT INTO {keyspace}.people (id, name) VALUES (12, 'after');\n"
    )
    run = cql(sluice_bin, "-f", str(file))
    assert run.returncode == 1
    assert "nosuchtable" in run.stderr
    ids = {r.id for r in driver.execute(f"SELECT id FROM {keyspace}.people", timeout=30)}
    assert 10 in ids
    assert 12 not in ids


def test_values_with_several_statements_are_refused_before_connecting(sluice_bin: Path) -> None:
    run = subprocess.run(
        [
            str(sluice_bin),
            "cql",
            "--port",
            "1",  # nothing listens there: the refusal must come before connecting
            "-e",
            "SELECT ? FROM system.local",
            "-e",
            "SELECT now() FROM system.local",
            "--values",
            "[1]",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 2
    assert "--values binds the markers of exactly one statement" in run.stderr
