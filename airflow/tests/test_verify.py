"""`sluice verify --output json` (keys of src/cli/verify.cc) turned into a verdict: a balance
passes; missing records fail without retries, named by id; records not yet processed fail
retryably; an error exit (2, no JSON) is a command error; the command line is as expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from sluice_airflow.config import load_settings
from sluice_airflow.sluice_cli import SluiceCommandError
from sluice_airflow.verify import (
    BatchNotProcessedError,
    VerifyMismatchError,
    VerifyOutputError,
    parse_report,
    problems,
    report_from_json,
    require_balanced,
    run_verify,
)

from tests import fake_sluice
from tests.conftest import DATA


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def test_balanced_report_passes() -> None:
    report = parse_report((DATA / "verify_ok.json").read_text())
    assert report.ok and report.count("stored") == 3180
    assert report.dead_by_rule["postcode.format"] == 144
    require_balanced(report, batch_count=3000)
    assert problems(report) == []


def test_missing_records_fail_without_retry_naming_the_ids() -> None:
    report = report_from_json(load("verify_missing.json"))
    with pytest.raises(VerifyMismatchError) as raised:
        require_balanced(report, batch_count=3000)
    assert isinstance(raised.value, AirflowFailException)  # a definite loss: no retries
    message = str(raised.value)
    assert "3 missing" in message
    assert "d2358d6a-363d-47ae-adbe-369c1c0229bd (partition 0 offset 120)" in message
    assert "f2ca3964-80e4-4f94-bff5-16ad61e940f4 (partition 3 offset 9)" in message
    assert "(no id) (partition 3 offset 10)" in message


def test_more_missing_than_listed_says_how_many_more() -> None:
    data = load("verify_missing.json")
    data["missing"] = 25
    assert "and 22 more" in problems(report_from_json(data))[0]


def test_in_both_and_unexpected_are_mismatches() -> None:
    data = load("verify_ok.json")
    data.update(ok=False, in_both=1, unexpected_rows=2)
    data["in_both_records"] = [{"partition": 1, "offset": 5, "id": "x"}]
    found = problems(report_from_json(data))
    assert found[0] == "1 in both sinks: x (partition 1 offset 5)"
    assert "2 row(s) and 0 dead letter(s)" in found[1]


def test_unprocessed_records_are_retryable() -> None:
    data = load("verify_missing.json")
    data["not_yet_processed"] = 3
    with pytest.raises(BatchNotProcessedError, match="3 record\\(s\\) not yet processed"):
        require_balanced(report_from_json(data))


def test_spans_holding_fewer_records_than_sent_is_a_mismatch() -> None:
    report = report_from_json(load("verify_ok.json"))
    with pytest.raises(VerifyMismatchError, match="fewer than the 5000"):
        require_balanced(report, batch_count=5000)


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"ok": true}'])
def test_output_that_is_not_a_report_is_refused(text: str) -> None:
    with pytest.raises(VerifyOutputError):
        parse_report(text)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    binary, log = fake_sluice.install(tmp_path)
    monkeypatch.setenv("FAKE_SLUICE_MODE", "ok")
    return binary, log


def test_run_verify_passes_the_manifest_and_accepts_exit_1_with_json(
    fake: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    binary, log = fake
    monkeypatch.setenv("FAKE_VERIFY_OUT", (DATA / "verify_missing.json").read_text())
    monkeypatch.setenv("FAKE_EXIT", "1")
    settings = load_settings({"sluice_bin": str(binary), "group_id": "g1"}, environ={})
    data = run_verify(settings, "/state/m.json")
    assert data["missing"] == 3
    argv = fake_sluice.calls(log)[0]
    assert argv[:5] == ["verify", "--manifest", "/state/m.json", "--output", "json"]
    assert argv[argv.index("--group") + 1] == "g1"
    assert argv[argv.index("--cassandra-port") + 1] == "9042"


def test_run_verify_error_exit_is_a_command_error(
    fake: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    binary, _ = fake
    monkeypatch.setenv("FAKE_VERIFY_ERR", "error: Cassandra at 127.0.0.1:9042: connection refused")
    monkeypatch.setenv("FAKE_EXIT", "2")
    settings = load_settings({"sluice_bin": str(binary)}, environ={})
    with pytest.raises(SluiceCommandError, match="connection refused"):
        run_verify(settings, "/state/m.json")


def test_real_verify_output_of_a_dag_batch() -> None:
    # `sluice verify --manifest ... --output json` of a 10,000-user batch the DAG produced
    report = parse_report((DATA / "verify_real.json").read_text())
    assert report.ok and report.count("produced") == 10000
    assert report.count("stored") + report.count("dead_lettered") == 10000
    require_balanced(report, batch_count=10000)
