"""A data interval -> the batch it produces. `sluice produce` makes user i of seed s the same
on every run, so a batch is fixed by (seed, start index, count): the seed is the configured
one, and the start index is the interval start in whole seconds since the epoch times
MAX_BATCH. Intervals starting at different seconds thus own disjoint index ranges (and so
different users), and a retry or a re-run of one interval sends exactly the same users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sluice_airflow.config import MAX_BATCH


@dataclass(frozen=True)
class BatchPlan:
    """What one interval produces, and where its manifest lives."""

    key: str
    seed: int
    start_index: int
    count: int
    manifest_path: str

    @property
    def end_index(self) -> int:
        """One past the last user index of the batch."""
        return self.start_index + self.count


def interval_key(start: datetime) -> str:
    """A file-name-safe UTC key of an interval start, to the second: 20261203T101000Z."""
    if start.tzinfo is None:
        raise ValueError(f"interval start {start.isoformat()} has no time zone")
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def start_index(start: datetime) -> int:
    """The first user index of the interval starting at `start`."""
    seconds = int(start.astimezone(UTC).timestamp() // 1)
    if seconds < 0:
        raise ValueError(f"interval start {start.isoformat()} is before 1970")
    return seconds * MAX_BATCH


def manifest_path(state_dir: str, key: str) -> str:
    """Where the manifest of the interval `key` is kept."""
    return str(Path(state_dir) / "manifests" / f"{key}.json")


def plan_batch(start: datetime, *, seed: int, batch_size: int, state_dir: str) -> BatchPlan:
    """The batch of the interval starting at `start`."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch size {batch_size} must be from 1 to {MAX_BATCH}")
    key = interval_key(start)
    return BatchPlan(key, seed, start_index(start), batch_size, manifest_path(state_dir, key))
