"""Interval -> batch: the same interval always plans the same batch (so a retry or a re-run
sends the same users), different intervals own disjoint user indexes and so disjoint ids."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sluice_airflow.config import MAX_BATCH
from sluice_airflow.interval import interval_key, plan_batch
from sluice_airflow.stream import interval_start

from tests.conftest import SLUICE_BIN

START = datetime(2026, 12, 3, 10, 10, tzinfo=UTC)


def plan(start: datetime, batch_size: int = 10000) -> tuple[int, int, int, str]:
    p = plan_batch(start, seed=1729, batch_size=batch_size, state_dir="/state")
    return p.seed, p.start_index, p.count, p.manifest_path


def test_same_interval_same_batch() -> None:
    assert plan(START) == plan(datetime(2026, 12, 3, 10, 10, tzinfo=UTC))
    # the same instant in another zone is the same interval
    cet = timezone(timedelta(hours=1))
    assert plan(START) == plan(datetime(2026, 12, 3, 11, 10, tzinfo=cet))


def test_batch_is_keyed_by_the_interval_start() -> None:
    seed, first, count, path = plan(START)
    assert (seed, count) == (1729, 10000)
    assert first == int(START.timestamp()) * MAX_BATCH
    assert path == "/state/manifests/20261203T101000Z.json"
    assert interval_key(START) == "20261203T101000Z"


@pytest.mark.parametrize("gap", [timedelta(seconds=1), timedelta(minutes=10), timedelta(days=1)])
def test_different_intervals_have_disjoint_indexes(gap: timedelta) -> None:
    _, a, n, _ = plan(START, MAX_BATCH)
    _, b, _, _ = plan(START + gap, MAX_BATCH)
    assert a + n <= b  # even full-size batches one second apart do not overlap


def test_naive_and_pre_epoch_starts_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        plan(datetime(2026, 12, 3, 10, 10))
    with pytest.raises(ValueError, match="1970"):
        plan(datetime(1969, 12, 31, tzinfo=UTC))
    with pytest.raises(ValueError, match="batch size"):
        plan(START, MAX_BATCH + 1)


def test_manual_run_without_interval_uses_run_after() -> None:
    assert interval_start(None, START) == START
    assert interval_start(START, START + timedelta(hours=1)) == START
    with pytest.raises(ValueError):
        interval_start(None, None)


def generated_ids(seed: int, start: int, count: int) -> list[str]:
    out = subprocess.run(
        [
            str(SLUICE_BIN),
            "gen",
            "--seed",
            str(seed),
            "--start-index",
            str(start),
            "--count",
            str(count),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [json.loads(line)["id"] for line in out.splitlines()]


@pytest.mark.skipif(not SLUICE_BIN.exists(), reason="build/sluice is not built")
def test_real_generator_same_interval_same_ids_other_interval_other_ids() -> None:
    seed, first, _, _ = plan(START)
    _, other, _, _ = plan(START + timedelta(minutes=10))
    ids = generated_ids(seed, first, 2000)
    assert ids == generated_ids(seed, first, 2000)
    assert len(set(ids)) == 2000
    assert not set(ids) & set(generated_ids(seed, other, 2000))
