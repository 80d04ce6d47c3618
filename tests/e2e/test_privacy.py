"""Personal data: `sluice process --pseudonymise` stores keyed HMAC-SHA-256 pseudonyms of
the chosen fields, so no raw value of them reaches Cassandra, rows stay joinable (one value,
one pseudonym), the row names its key, `verify` still balances, and the key appears in no
output of the processor."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.helpers import (
    Lane,
    generate,
    process_command,
    produce_json,
    read_all,
    run_processor_to_end,
    stored_rows,
    verify,
)
from tests.endpoints import SLUICE_FLAGS

pytestmark = pytest.mark.usefixtures("stack")

KEY = "e2e-pseudonym-key-7f3c9a1be4d2"
CHOSEN = ("email", "phone", "last_name")


def pseudonym(value: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def test_pseudonymised_fields_never_reach_cassandra_raw_and_rows_name_their_key(
    sluice_bin: Path, lane: Lane
) -> None:
    users = generate(sluice_bin, seed=41, count=300, bad_ratio=0.1)
    produce_json(lane.raw, users)
    port = free_port()
    env = os.environ | {"SLUICE_PSEUDONYM_KEY": KEY}
    run = subprocess.run(
        process_command(sluice_bin, lane, "--stop-at-end", "--idle-exit", "4",
                        "--pseudonymise", ",".join(CHOSEN), metrics_port=port),
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    key_id = pseudonym("sluice-pseudonym-key-id")[:16]
    assert f"pseudonymising last_name,email,phone with key id {key_id}" in run.stderr
    assert KEY not in run.stdout + run.stderr

    rows = stored_rows(lane)
    valid = {u["id"]: u for u in users if u["_bad_kind"] == "none"}
    assert rows and set(rows) == set(valid)
    raw_values = {u[f] for u in users for f in CHOSEN if u.get(f)}
    for user_id, row in rows.items():
        user = valid[user_id]
        assert row.pseudonym_key_id == key_id
        for name in CHOSEN:
            assert getattr(row, name) == pseudonym(user[name]), (user_id, name)
        assert row.first_name == user["first_name"], "fields not chosen are stored as sent"
        cells = {str(v) for v in row._asdict().values() if v is not None}
        leaked = cells & raw_values - {user["first_name"]}  # a first name may be a surname
        assert not leaked, f"row {user_id} holds raw values {leaked}"

    report = verify(sluice_bin, lane)
    assert report["missing"] == 0 and report["stored"] == len(valid)
    # Dead letters keep the bytes as received (a dead letter must be replayable); they are
    # the personal data `sluice dlq purge` exists for.
    letters = read_all(lane.dlq)
    assert len(letters) == len(users) - len(valid)
    some_bad = next(u for u in users if u["_bad_kind"] != "none" and u.get("email"))
    assert any(
        json.loads(m.value())["email"] == some_bad["email"]
        for m in letters
        if m.value() and m.value().startswith(b"{")
    )


def test_rows_stored_as_received_have_an_empty_key_id_and_no_tombstone_cell(
    sluice_bin: Path, lane: Lane
) -> None:
    """Avro records (a schema id on every row) with every field set: the scan must meet no
    tombstone cell, so the key id column, written on every row, is written as a value."""
    produce = subprocess.run(
        [str(sluice_bin), "produce", "--topic", lane.raw, "--count", "150", "--seed", "43",
         "--bad-ratio", "0", *SLUICE_FLAGS],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert produce.returncode == 0, produce.stderr[-2000:]
    run_processor_to_end(sluice_bin, lane)
    rows = stored_rows(lane)
    assert rows and all(row.pseudonym_key_id == "" for row in rows.values())
    scan = lane.session.execute(f"SELECT * FROM {lane.keyspace}.users", trace=True, timeout=60)
    assert len(list(scan)) == len(rows)
    events = [e.description for e in scan.get_query_trace(max_wait_sec=20).events]
    counts = [re.search(r"Read (\d+) live rows and (\d+) tombstone cells", e) for e in events]
    found = [(int(m[1]), int(m[2])) for m in counts if m]
    assert found and sum(live for live, _ in found) == len(rows), events
    nulls = sum(v is None for row in rows.values() for v in row._asdict().values())
    assert sum(tombstones for _, tombstones in found) == nulls, (found, nulls)
