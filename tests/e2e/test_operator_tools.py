"""`sluice query` and `sluice dlq` on a processed lane: what they print matches what was
produced, and replaying a rule's dead letters after the rule was relaxed stores them
while `sluice verify` still balances."""

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    BOOTSTRAP,
    CASSANDRA_PORT,
    RULE_OF_KIND,
    Lane,
    generate,
    produce_json,
    run_processor_to_end,
    stored_ids,
    verify,
)

pytestmark = pytest.mark.usefixtures("stack")


def run(sluice: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(sluice), *args], capture_output=True, text=True, timeout=300, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def query(
    sluice: Path, lane: Lane, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run(
        sluice,
        "query",
        "--keyspace",
        lane.keyspace,
        "--cassandra-port",
        str(CASSANDRA_PORT),
        *args,
        check=check,
    )


def dlq(sluice: Path, lane: Lane, verb: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run(sluice, "dlq", verb, "--dlq-topic", lane.dlq, "--bootstrap", BOOTSTRAP, *args)


@pytest.fixture
def processed(sluice_bin: Path, lane: Lane) -> list[dict]:
    users = generate(sluice_bin, seed=31, count=20_000, bad_ratio=0.1)
    produce_json(lane.raw, users)
    run_processor_to_end(sluice_bin, lane)
    return users


def test_query_finds_users_by_id_latest_and_counts_them(
    sluice_bin: Path, lane: Lane, processed: list[dict]
) -> None:
    good = [u for u in processed if u["_bad_kind"] == "none"]
    counts = json.loads(query(sluice_bin, lane, "--count", "--output", "json").stdout)
    assert counts["rows"] == len(good)
    assert counts["by_gender"] == dict(Counter(u["gender"] for u in good))

    someone = good[123]
    found = query(sluice_bin, lane, "--id", someone["id"], "--output", "json").stdout
    row = json.loads(found.splitlines()[0])
    assert (row["first_name"], row["email"], row["dob"]) == (
        someone["first_name"],
        someone["email"],
        someone["dob"],
    )

    latest = [
        json.loads(line)
        for line in query(sluice_bin, lane, "--latest", "5", "--output", "json").stdout.splitlines()
    ]
    newest = sorted(good, key=lambda u: u["registered_date"], reverse=True)[:5]
    assert [r["id"] for r in latest] == [u["id"] for u in newest]

    table = query(sluice_bin, lane, "--latest", "5").stdout
    assert newest[0]["email"] in table and "(5 rows)" in table


def test_query_rejects_a_bad_id_and_reports_an_unknown_one(
    sluice_bin: Path, lane: Lane, processed: list[dict]
) -> None:
    bad = query(sluice_bin, lane, "--id", "not-a-uuid", check=False)
    assert bad.returncode != 0 and "--id 'not-a-uuid'" in bad.stderr
    unknown = query(sluice_bin, lane, "--id", "00000000-0000-4000-8000-000000000000", check=False)
    assert unknown.returncode == 1 and "no user with id" in unknown.stderr
    both = query(sluice_bin, lane, "--count", "--latest", "3", check=False)
    assert both.returncode != 0 and "exactly one of" in both.stderr


def test_dlq_counts_and_show_match_the_injected_defects(
    sluice_bin: Path, lane: Lane, processed: list[dict]
) -> None:
    bad = [u for u in processed if u["_bad_kind"] != "none"]
    counts = json.loads(dlq(sluice_bin, lane, "counts", "--output", "json").stdout)
    assert counts["distinct"] == len(bad)
    assert counts["by_rule"] == dict(Counter(RULE_OF_KIND[u["_bad_kind"]] for u in bad))

    postcode_ids = {u["id"] for u in bad if u["_bad_kind"] == "bad_postcode"}
    shown = [
        json.loads(line)
        for line in dlq(
            sluice_bin,
            lane,
            "show",
            "--rule",
            "postcode.format",
            "--limit",
            "5000",
            "--output",
            "json",
        ).stdout.splitlines()
    ]
    assert {json.loads(r["value"])["id"] for r in shown} == postcode_ids
    assert all(r["rule"] == "postcode.format" and r["source"]["topic"] == lane.raw for r in shown)


def test_replaying_a_relaxed_rule_stores_its_dead_letters_and_verify_balances(
    sluice_bin: Path, lane: Lane, processed: list[dict], repo: Path, tmp_path: Path
) -> None:
    postcode_ids = {u["id"] for u in processed if u["_bad_kind"] == "bad_postcode"}
    assert postcode_ids, "the sample holds bad postcodes"
    dry = dlq(
        sluice_bin, lane, "replay", "--rule", "postcode.format", "--to", lane.raw, "--dry-run"
    )
    assert f"{len(postcode_ids)} dead letter(s)" in dry.stdout
    assert verify(sluice_bin, lane)["produced"] == len(processed), "a dry run sends nothing"

    replayed = dlq(sluice_bin, lane, "replay", "--rule", "postcode.format", "--to", lane.raw)
    assert f"replayed {len(postcode_ids)} dead letter(s)" in replayed.stdout

    # The operator relaxes the postcode rule, then the processor judges them again.
    rules = (repo / "contract" / "rules.yaml").read_text().splitlines()
    relaxed = tmp_path / "rules.yaml"
    relaxed.write_text("\n".join(line for line in rules if "rule: postcode.format" not in line))
    run_processor_to_end(sluice_bin, lane, "--rules", str(relaxed))

    ids = set(stored_ids(lane))
    assert postcode_ids <= ids
    report = verify(sluice_bin, lane)
    assert report["produced"] == len(processed) + len(postcode_ids)
    assert report["ok"]
