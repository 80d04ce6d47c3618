"""Producing an interval's batch: the manifest is published at the interval's path only after
a run with every record acknowledged; a failed run publishes nothing and its retry sends the
same batch; a finished interval is found by its manifest and not produced again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sluice_airflow.config import Settings, load_settings
from sluice_airflow.interval import BatchPlan, plan_batch
from sluice_airflow.manifest import (
    ManifestError,
    finished_manifest,
    incomplete_reason,
    load_manifest,
)
from sluice_airflow.produce import produce_batch
from sluice_airflow.sluice_cli import SluiceCommandError

from tests import fake_sluice
from tests.conftest import DATA

START = datetime(2026, 12, 3, 10, 10, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, Path]]:
    binary, log = fake_sluice.install(tmp_path)
    monkeypatch.setenv("FAKE_SLUICE_MODE", "ok")
    settings = load_settings(
        {"sluice_bin": str(binary), "state_dir": str(tmp_path / "state"), "batch_size": 500},
        environ={},
    )
    yield settings, log


def plan_for(settings: Settings) -> BatchPlan:
    return plan_batch(START, seed=settings.seed, batch_size=500, state_dir=settings.state_dir)


def test_produce_publishes_the_manifest_with_the_planned_batch(
    setup: tuple[Settings, Path],
) -> None:
    settings, log = setup
    plan = plan_for(settings)
    batch = produce_batch(settings, plan)
    assert not batch.reused
    argv = fake_sluice.calls(log)[0]
    assert argv[0] == "produce"
    for flag, value in [
        ("--seed", str(plan.seed)),
        ("--start-index", str(plan.start_index)),
        ("--count", "500"),
        ("--topic", "users.raw"),
        ("--manifest", plan.manifest_path + ".partial"),
    ]:
        assert argv[argv.index(flag) + 1] == value
    assert json.loads(Path(plan.manifest_path).read_text())["acknowledged"] == 500
    assert not Path(plan.manifest_path + ".partial").exists()
    xcom = batch.to_xcom()
    assert xcom["spans"] == [[0, 100, 351], [3, 7, 258]]
    assert json.loads(json.dumps(xcom)) == xcom  # JSON-able


def test_finished_interval_is_not_produced_again(setup: tuple[Settings, Path]) -> None:
    settings, log = setup
    first = produce_batch(settings, plan_for(settings))
    again = produce_batch(settings, plan_for(settings))
    assert again.reused and again.manifest == first.manifest
    assert len(fake_sluice.calls(log)) == 1


def test_failed_run_publishes_nothing_and_the_retry_sends_the_same_batch(
    setup: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, log = setup
    plan = plan_for(settings)
    monkeypatch.setenv("FAKE_SLUICE_MODE", "fail")
    with pytest.raises(SluiceCommandError, match="exited with 1"):
        produce_batch(settings, plan)
    assert finished_manifest(plan) is None
    monkeypatch.setenv("FAKE_SLUICE_MODE", "ok")
    assert not produce_batch(settings, plan).reused
    first, retry = fake_sluice.calls(log)
    assert first == retry  # the same users, by seed and indexes


def test_run_that_exits_0_with_unacknowledged_records_is_not_published(
    setup: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = setup
    plan = plan_for(settings)
    binary = Path(settings.sluice_bin)
    binary.write_text(
        binary.read_text().replace('sys.exit(0 if mode == "ok" else 1)', "sys.exit(0)")
    )
    monkeypatch.setenv("FAKE_SLUICE_MODE", "fail")
    with pytest.raises(ManifestError, match="250 of 500 records were acknowledged"):
        produce_batch(settings, plan)
    assert finished_manifest(plan) is None


def test_missing_binary_says_how_to_get_one(tmp_path: Path) -> None:
    settings = load_settings(
        {"sluice_bin": str(tmp_path / "nope"), "state_dir": str(tmp_path)}, environ={}
    )
    with pytest.raises(SluiceCommandError, match="./dev build"):
        produce_batch(settings, plan_for(settings))


def test_real_manifest_parses_to_its_spans_and_counts() -> None:
    # the manifest `sluice produce` wrote for a DAG batch of 10,000 users
    manifest = load_manifest(str(DATA / "manifest_real.json"))
    assert (manifest.count, manifest.acknowledged, manifest.seed) == (10000, 10000, 1729)
    assert manifest.injected == 10000 - manifest.good == 494
    assert incomplete_reason(manifest) is None
    spans = manifest.spans()
    assert [s[0] for s in spans] == list(range(6))
    assert sum(end - first for _, first, end in spans) == 10000  # a lane of its own
