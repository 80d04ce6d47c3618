"""The run manifest `sluice produce --manifest` writes (src/pipeline/produce.cc): what a batch
sent and the first and last offset acknowledged per partition. A manifest is published at
its interval's path only once its run finished with every record acknowledged, so a
manifest found there marks the interval as done."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice_airflow.interval import BatchPlan


class ManifestError(ValueError):
    """A manifest that cannot be read or does not describe a finished run."""


@dataclass(frozen=True)
class Manifest:
    """The parts of a manifest the DAGs use. Spans are [first, last] offsets, inclusive."""

    path: str
    run_id: str
    topic: str
    seed: int
    start_index: int
    count: int
    acknowledged: int
    good: int
    bad_by_kind: dict[str, int] = field(default_factory=dict)
    partitions: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def injected(self) -> int:
        """Records sent with an injected defect."""
        return sum(self.bad_by_kind.values())

    def spans(self) -> list[list[int]]:
        """[partition, first offset, end offset (exclusive)] per partition, JSON-friendly."""
        return [[p, first, last + 1] for p, (first, last) in sorted(self.partitions.items())]


def _int(data: Mapping[str, Any], key: str, path: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ManifestError(f"manifest {path}: '{key}' is {value!r}, not a whole number")
    return value


def _partitions(data: Mapping[str, Any], path: str) -> dict[int, tuple[int, int]]:
    raw = data.get("partitions")
    if not isinstance(raw, dict):
        raise ManifestError(f"manifest {path}: 'partitions' is missing")
    spans: dict[int, tuple[int, int]] = {}
    for partition, span in raw.items():
        first, last = _int(span, "first_offset", path), _int(span, "last_offset", path)
        if first < 0 or last < first:
            raise ManifestError(f"manifest {path}: partition {partition} has {first}..{last}")
        spans[int(partition)] = (first, last)
    return spans


def parse_manifest(data: Mapping[str, Any], path: str) -> Manifest:
    """A manifest from its JSON object; ManifestError names what is wrong."""
    if not isinstance(data.get("topic"), str):
        raise ManifestError(f"manifest {path}: 'topic' is missing")
    bad = data.get("bad_by_kind") or {}
    return Manifest(
        path=path,
        run_id=str(data.get("run_id", "")),
        topic=data["topic"],
        seed=_int(data, "seed", path),
        start_index=_int(data, "start_index", path),
        count=_int(data, "count", path),
        acknowledged=_int(data, "acknowledged", path),
        good=_int(data, "good", path),
        bad_by_kind={str(k): int(v) for k, v in bad.items()},
        partitions=_partitions(data, path),
    )


def load_manifest(path: str) -> Manifest:
    """Reads and parses the manifest at `path`."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ManifestError(f"manifest {path}: cannot be read: {e}") from e
    if not isinstance(data, dict):
        raise ManifestError(f"manifest {path}: not a JSON object")
    return parse_manifest(data, path)


def incomplete_reason(manifest: Manifest) -> str | None:
    """Why `manifest` is not of a finished run (None: it is)."""
    if manifest.count <= 0:
        return "it sent no record"
    if manifest.acknowledged != manifest.count:
        return f"{manifest.acknowledged} of {manifest.count} records were acknowledged"
    if sum(last - first + 1 for first, last in manifest.partitions.values()) < manifest.count:
        return "its offset spans hold fewer offsets than records sent"
    return None


def mismatch(manifest: Manifest, plan: BatchPlan) -> str | None:
    """How `manifest` differs from `plan`'s batch (None: it is that batch)."""
    sent = (manifest.seed, manifest.start_index, manifest.count)
    if sent == (plan.seed, plan.start_index, plan.count):
        return None
    return (
        f"it holds seed {manifest.seed}, indexes {manifest.start_index}+{manifest.count}; "
        f"the plan is seed {plan.seed}, indexes {plan.start_index}+{plan.count}"
    )


def finished_manifest(plan: BatchPlan) -> Manifest | None:
    """The published manifest of `plan`'s interval, or None when the interval is not done.
    Only finished runs are published, so a broken file there needs a person."""
    if not os.path.exists(plan.manifest_path):
        return None
    manifest = load_manifest(plan.manifest_path)
    reason = incomplete_reason(manifest)
    if reason:
        raise ManifestError(f"manifest {plan.manifest_path} is not a finished run: {reason}")
    return manifest


def publish(partial_path: str, plan: BatchPlan) -> Manifest:
    """Checks the manifest a finished run wrote at `partial_path` and moves it to the
    interval's path (atomically: a reader sees no manifest or a whole one)."""
    manifest = load_manifest(partial_path)
    reason = incomplete_reason(manifest) or mismatch(manifest, plan)
    if reason:
        raise ManifestError(f"manifest {partial_path} is not a finished run: {reason}")
    with open(partial_path, "rb") as f:
        os.fsync(f.fileno())
    os.replace(partial_path, plan.manifest_path)
    return load_manifest(plan.manifest_path)
