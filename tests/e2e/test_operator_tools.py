"""`sluice query` and `sluice dlq` on a processed lane: what they print matches what was
produced, and replaying a rule's dead letters after the rule was relaxed stores them
while `sluice verify` still balances."""

import json
import subprocess
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    BOOTSTRAP,
    CASSANDRA_PORT,
    RULE_OF_KIND,
    Expect,
    Lane,
    RawRecord,
    assert_lane_holds,
    contract_version,
    epoch_ms,
    generate,
    headers_of,
    high_watermarks,
    json_key,
    json_value,
    produce_json,
    read_all,
    read_raw,
    run_processor_to_end,
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
    assert counts["by_contract_version"] == {str(contract_version()): len(good)}
    assert counts["by_source_topic"] == {lane.raw: len(good)}

    someone = good[123]
    found = query(sluice_bin, lane, "--id", someone["id"], "--output", "json").stdout
    assert len(found.splitlines()) == 1
    row = json.loads(found)
    source = next(r for r in read_raw(lane.raw) if r.key == json_key(someone))
    # Every column the query prints: the user's values and the record it came from.
    printed_ms = epoch_ms(datetime.fromisoformat(row.pop("registered_date")))
    assert printed_ms == epoch_ms(datetime.fromisoformat(someone["registered_date"]))
    assert row == {
        **{k: someone[k] for k in ("id", "first_name", "last_name", "email", "username")},
        **{k: someone[k] for k in ("gender", "dob")},
        "contract_version": str(contract_version()),
        "source_partition": str(source.partition),
        "source_offset": str(source.offset),
    }

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
    rules = Counter(RULE_OF_KIND[u["_bad_kind"]] for u in bad)
    # No processor crashed: every letter was sent once, so records == distinct.
    assert counts["records"] == counts["distinct"] == len(bad)
    assert counts["by_rule"] == dict(rules)
    assert counts["by_field"] == dict(Counter(rule.split(".")[0] for rule in rules.elements()))
    assert counts["by_source_topic"] == {lane.raw: len(bad)}

    postcode = [u for u in bad if u["_bad_kind"] == "bad_postcode"]
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
    # Each bad postcode shown once (counted, not as a set), with the record it came from.
    assert sorted(r["value"] for r in shown) == sorted(json_value(u).decode() for u in postcode)
    raw_at = {r.position: r for r in read_raw(lane.raw)}
    for r in shown:
        at = r["source"]
        source = raw_at[(at["topic"], int(at["partition"]), int(at["offset"]))]
        assert (r["key"], r["value"]) == (source.key.decode(), source.value.decode())
        assert (r["rule"], r["field"]) == ("postcode.format", "postcode")
        assert "postcode" in r["reason"] and not r["resent_copy"]
        assert r["contract_version"] == str(contract_version())


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
    assert sum(high_watermarks(lane.raw).values()) == len(processed), "a dry run sends nothing"

    replayed = dlq(sluice_bin, lane, "replay", "--rule", "postcode.format", "--to", lane.raw)
    assert f"replayed {len(postcode_ids)} dead letter(s)" in replayed.stdout

    # The operator relaxes the postcode rule, then the processor judges them again.
    rules = (repo / "contract" / "rules.yaml").read_text().splitlines()
    relaxed = tmp_path / "rules.yaml"
    relaxed.write_text("\n".join(line for line in rules if "rule: postcode.format" not in line))
    run_processor_to_end(sluice_bin, lane, "--rules", str(relaxed))

    # The raw topic: the produced records, then one copy of each postcode letter, marked.
    raw = read_raw(lane.raw)
    originals = [r for r in raw if "sluice.replayed.from" not in r.headers]
    copies = [r for r in raw if "sluice.replayed.from" in r.headers]
    assert Counter((r.key, r.value) for r in originals) == Counter(
        (json_key(u), json_value(u)) for u in processed
    )
    letters = {f"{lane.dlq}/{m.partition()}/{m.offset()}": m for m in read_all(lane.dlq)}
    raw_at = {r.position: r for r in originals}
    replayed_from = Counter(r.headers["sluice.replayed.from"] for r in copies)
    postcode_letters = {
        at for at, m in letters.items() if headers_of(m)["sluice.rule"] == "postcode.format"
    }
    assert set(replayed_from) == postcode_letters and set(replayed_from.values()) == {1}
    for copy in copies:
        letter = headers_of(letters[copy.headers["sluice.replayed.from"]])
        source = (
            letter["sluice.source.topic"],
            int(letter["sluice.source.partition"]),
            int(letter["sluice.source.offset"]),
        )
        assert (copy.key, copy.value) == (raw_at[source].key, raw_at[source].value)
        assert copy.headers == {
            "sluice.replayed.from": copy.headers["sluice.replayed.from"],
            "sluice.replayed.rule": "postcode.format",
        }

    kind = {json_value(u): u["_bad_kind"] for u in processed}
    copied = {r.position for r in copies}

    def expect(record: RawRecord) -> Expect:
        value = record.value or b""
        if record.position in copied or kind[value] == "none":
            return Expect(user=json.loads(value))
        return Expect(rule=RULE_OF_KIND[kind[value]])

    # Each copy is now a row in every column, at the copy's position; the original letters
    # stay (once each) and the second run dead-lettered nothing new.
    assert_lane_holds(lane, raw, expect, letters_may_repeat=False)
    report = verify(sluice_bin, lane)
    assert report["produced"] == len(processed) + len(postcode_ids)
    assert report["ok"]
